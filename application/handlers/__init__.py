"""One module per use case; each handler is a callable class taking its command."""
