"""How the world reaches voicescribe: the CLI, the bot, the worker, and the DI container."""
