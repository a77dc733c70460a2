"""The ``voicescribe`` command line: one module per subcommand, ``main`` parses and runs."""

from entrypoints.cli.main import main

__all__ = ["main"]
