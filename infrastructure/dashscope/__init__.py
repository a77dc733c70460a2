"""DashScope (Alibaba Model Studio) adapters: qwen3-asr-flash speech recognition and the
qwen-turbo text formatter, both through the async ``dashscope`` SDK."""

from infrastructure.dashscope._calls import INTL_BASE_URL, close_dashscope_sessions
from infrastructure.dashscope.formatter import QwenFormatter
from infrastructure.dashscope.recognizer import DashScopeRecognizer

__all__ = ["INTL_BASE_URL", "DashScopeRecognizer", "QwenFormatter", "close_dashscope_sessions"]
