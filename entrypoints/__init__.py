"""How the world reaches voicescribe, one subpackage per way of running it: ``cli`` (every
``voicescribe`` command), ``telegram`` (the bot's handlers, built once by
``telegram.bot``), ``http`` (the webhook's ASGI app) and ``fc`` (Function Compute); all
built from ``composition`` (typed settings, the DI container)."""
