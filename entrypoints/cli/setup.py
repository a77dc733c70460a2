"""``voicescribe setup``: create what the configured backends need; safe to run again.

SQLite: the database file and its schema. Tablestore: the tables. MNS: the queue, with
our visibility timeout; an existing queue's is reported, and raised to
QUEUE_VISIBILITY_SECONDS when shorter. The local recognizer: the offline model, assembled
and loaded once so the first voice note does not wait for it.
"""

from __future__ import annotations

import sys

from entrypoints.composition.container import Container
from infrastructure.mns import MnsJobQueue
from infrastructure.tablestore import create_tables
from infrastructure.whisper import WhisperRecognizer


async def set_up(container: Container) -> int:
    settings = container.settings()
    if "sqlite" in (settings.storage_backend, settings.queue_backend):
        await container.sqlite().read(lambda connection: None)
        _done(f"sqlite database ready in {settings.data_dir}")
    if settings.storage_backend == "tablestore":
        created = await create_tables(container.tablestore())
        _done(f"tablestore tables ready (created: {', '.join(created) or 'none'})")
    queue = container.queue()
    if isinstance(queue, MnsJobQueue):
        visibility = await queue.create_queue()
        if visibility.corrected_from is not None:
            _done(
                f"mns queue {settings.mns_queue}: visibility timeout was "
                f"{visibility.corrected_from} s, shorter than QUEUE_VISIBILITY_SECONDS: "
                f"raised to {visibility.seconds} s"
            )
        _done(f"mns queue {settings.mns_queue} ready (visibility timeout {visibility.seconds} s)")
    recognizer = container.recognizer()
    if isinstance(recognizer, WhisperRecognizer):
        await recognizer.warm_up()
        _done("offline speech model assembled and loaded")
    return 0


def _done(what: str) -> None:
    print(f"voicescribe setup: {what}", file=sys.stderr)
