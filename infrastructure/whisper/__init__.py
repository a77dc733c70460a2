"""Offline speech recognition with faster-whisper and the packaged Whisper base model."""

from infrastructure.whisper.model_files import ModelUnavailable, resolve_model
from infrastructure.whisper.recognizer import WhisperRecognizer

__all__ = ["ModelUnavailable", "WhisperRecognizer", "resolve_model"]
