"""Decoding on one thread while encoding on another, a few pieces apart.

Why this exists: to MP3, decoding (PyAV) and encoding (lameenc) each take about half the
time and each lets go of the GIL while it works, so doing them one after the other
leaves a core idle. Handing over costs a queue operation and a GIL switch, so it pays
only for pieces of tens of kB (``batched``), not for single frames. The queue between
the two holds at most ``depth`` pieces, so nothing like the decoded file is ever held.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


class _Done:
    """Put after the last item."""


_DONE = _Done()


def read_ahead(source: Iterable[T], depth: int = 4) -> Iterator[T]:
    """The items of ``source``, produced on a thread of their own. An exception in the
    producer is raised here; leaving the loop early stops the producer."""
    handoff: queue.Queue[T | _Done | _Failed] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in source:
                while not stop.is_set():
                    try:
                        handoff.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put(_DONE)
        except BaseException as error:  # handed over, raised in the consumer
            handoff.put(_Failed(error))

    producer = threading.Thread(target=produce, name="audio-read-ahead", daemon=True)
    producer.start()
    try:
        while True:
            item = handoff.get()
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        while producer.is_alive():  # let a producer blocked on a full queue see the stop
            with contextlib.suppress(queue.Empty):
                handoff.get(timeout=0.1)
        producer.join()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def batched(pieces: Iterable[memoryview | bytes], size: int) -> Iterator[bytes]:
    """The bytes of ``pieces`` in runs of at least ``size`` (the last one shorter)."""
    pending = bytearray()
    for piece in pieces:
        pending += piece
        if len(pending) >= size:
            yield bytes(pending)
            pending.clear()
    if pending:
        yield bytes(pending)
