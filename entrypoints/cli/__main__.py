"""``python -m entrypoints.cli``: the ``voicescribe`` command."""

import sys

from entrypoints.cli.main import main

sys.exit(main())
