"""The Telegram Bot API fake in its own process, with ``--updates N`` voice-note updates
(120 s each, one user per note) written as a JSON list to ``--out``. Prints the API base
URL and token, serves until stdin closes, then prints the number of calls per method."""

from __future__ import annotations

import argparse
import collections
import json
import sys

from tests.fakes.telegram import TelegramFake


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--duration", type=int, default=120)
    args = parser.parse_args()
    with TelegramFake() as fake:
        file_id = fake.register_file(b"OggS-not-downloaded")
        updates = [
            fake.push_voice(10_000 + i, 10_000 + i, file_id, args.duration, update_id=1 + i)
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
