"""The webhook over HTTP: the ASGI app, acknowledgements first, the bridge to the bot."""
