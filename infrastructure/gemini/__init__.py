"""Text formatting with Google Gemini through the google-genai SDK."""

from infrastructure.gemini.formatter import GeminiFormatter

__all__ = ["GeminiFormatter"]
