"""Telegram adapters on python-telegram-bot: the messenger and the file source.

Entrypoints own the PTB ``Application``; these adapters only need its ``Bot``.
"""

from infrastructure.telegram.files import TelegramFileSource
from infrastructure.telegram.messenger import TelegramMessenger
from infrastructure.telegram.stars import TelegramStarsGateway

__all__ = ["TelegramFileSource", "TelegramMessenger", "TelegramStarsGateway"]
