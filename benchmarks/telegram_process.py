"""The Telegram Bot API fake in its own process, with ``--updates N`` voice-note updates
(``--duration`` s each, one user per note, each its own copy of the file ``--file``)
written as a JSON list to ``--out``. Prints the API base URL and token, serves until
stdin closes, then prints the number of calls per method."""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

from tests.fakes.telegram import TelegramFake


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--duration", type=int, default=120)
    parser.add_argument("--file", default=None, help="the voice note's bytes (else a stub)")
    args = parser.parse_args()
    with TelegramFake() as fake:
        data = Path(args.file).read_bytes() if args.file else b"OggS-not-downloaded"
        updates = [  # one file each: the same file twice would be answered from the cache
            fake.push_voice(
                10_000 + i, 10_000 + i, fake.register_file(data), args.duration, update_id=1 + i
            )
            for i in range(args.updates)
        ]
        with open(args.out, "w") as out:
            json.dump(updates, out)
        print(fake.api_base_url, fake.token, flush=True)
        sys.stdin.read()
        counts = collections.Counter(call.method for call in fake.calls)
        print(json.dumps(dict(counts)), flush=True)


if __name__ == "__main__":
    main()
