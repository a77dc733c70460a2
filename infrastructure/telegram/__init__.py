"""Telegram adapters on python-telegram-bot: the messenger and the file source.

Entrypoints own the PTB ``Application``; these adapters only need its ``Bot``.
"""

from infrastructure.telegram.files import TelegramFileSource
from infrastructure.telegram.messenger import TelegramMessenger

__all__ = ["TelegramFileSource", "TelegramMessenger"]
