"""The Telegram bot: PTB handlers that translate updates into application commands."""
