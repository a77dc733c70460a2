"""Audio conversion in-process with PyAV (bundled FFmpeg): probe, envelope, convert."""

from infrastructure.audio.pyav_converter import PyAvConverter

__all__ = ["PyAvConverter"]
