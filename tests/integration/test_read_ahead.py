"""The decoder running a thread ahead of the encoder: order kept, bounded, errors surface,
and a consumer that stops early leaves no thread behind."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infrastructure.audio._read_ahead import batched, read_ahead


@given(st.lists(st.binary(max_size=50), max_size=60), st.integers(1, 200))
def test_batches_keep_every_byte_in_order_in_runs_of_at_least_size(
    pieces: list[bytes], size: int
) -> None:
    runs = list(batched(pieces, size))
    assert b"".join(runs) == b"".join(pieces)
    assert all(len(run) >= size for run in runs[:-1])
    assert all(runs), "no empty run"


def test_items_arrive_in_order() -> None:
    assert list(read_ahead(range(1000), depth=3)) == list(range(1000))


def test_the_producer_never_runs_more_than_depth_ahead() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for i in range(100):
            produced.append(i)
            yield i

    depth = 4
    items = read_ahead(source(), depth=depth)
    for taken in range(1, 101):
        assert next(items) == taken - 1
        # The producer fills up to its bound whatever the load; then the bound is read. A
        # producer that ran further ahead would have produced all of it by now.
        most = min(100, taken + depth + 1)  # taken, `depth` queued, one waiting to be put
        _wait_for(lambda most=most: len(produced) >= most, f"filling up after {taken}")
        assert len(produced) <= most, f"{len(produced)} produced with {taken} taken"
    assert list(items) == []


def test_an_error_in_the_producer_is_raised_to_the_consumer() -> None:
    def source() -> Iterator[int]:
        yield 1
        raise ValueError("corrupt frame")

    items = read_ahead(source())
    assert next(items) == 1
    with pytest.raises(ValueError, match="corrupt frame"):
        next(items)


def test_stopping_early_stops_the_producer() -> None:
    before = set(threading.enumerate())
    items = read_ahead(iter(range(10**9)), depth=2)
    assert next(items) == 0
    (producer,) = [
        thread
        for thread in threading.enumerate()
        if thread.name == "audio-read-ahead" and thread not in before
    ]
    assert producer.is_alive()
    items.close()
    assert not producer.is_alive(), "the producer thread ended"


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    """Poll ``condition`` on this thread; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.001)
