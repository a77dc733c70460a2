"""``voicescribe setup``: create what the configured backends need; safe to run again.

SQLite: the database file and its schema. Tablestore: the tables. MNS: the queue, with
our visibility timeout. The local recognizer: the offline model, assembled and loaded once
so the first voice note does not wait for it.
"""

from __future__ import annotations

import sys

from entrypoints.container import Container
from entrypoints.settings import Settings
from infrastructure.mns import MnsJobQueue
from infrastructure.tablestore import create_tables
from infrastructure.whisper import WhisperRecognizer


async def set_up(container: Container, settings: Settings) -> int:
    backends = settings.backends
    if "sqlite" in (backends["STORAGE_BACKEND"], backends["QUEUE_BACKEND"]):
        await container.sqlite().read(lambda connection: None)
        _done(f"sqlite database ready in {settings.data_dir}")
    if backends["STORAGE_BACKEND"] == "tablestore":
        created = await create_tables(container.tablestore())
        _done(f"tablestore tables ready (created: {', '.join(created) or 'none'})")
    queue = container.queue()
    if isinstance(queue, MnsJobQueue):
        await queue.create_queue()
        _done(f"mns queue {settings.text['MNS_QUEUE']} ready")
    recognizer = container.recognizer()
    if isinstance(recognizer, WhisperRecognizer):
        await recognizer.warm_up()
        _done("offline speech model assembled and loaded")
    return 0


def _done(what: str) -> None:
    print(f"voicescribe setup: {what}", file=sys.stderr)
