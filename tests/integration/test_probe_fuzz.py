"""``PyAvConverter.probe`` on hostile bytes: a finite duration or ``AudioUnreadable``, quickly.

Whatever a user uploads reaches the probe first (a Telegram duration of 0 or a document
without one is measured here), so random bytes and damaged real clips must give either a
finite, non-negative duration or the port's ``AudioUnreadable``: never an av exception,
never a crash, never a hang.
"""

from __future__ import annotations

import asyncio
import math
import threading
from functools import cache

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from application.errors import AudioUnreadable
from infrastructure.audio import PyAvConverter
from tests.media_clips import SAMPLES, make_clips

HANG_SECONDS = 10.0  # far above any honest probe; a thread still busy then is a hang
FUZZ = settings(
    max_examples=100,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def seed_clips() -> dict[str, bytes]:
    """The sample voice note in every accepted container (encoded once per session)."""
    return make_clips((SAMPLES / "en-weather.ogg").read_bytes())


def probe_outcome(data: bytes) -> float | AudioUnreadable:
    """The probed duration or the AudioUnreadable raised; anything else propagates.

    The probe runs in a daemon thread so that a hang fails the test instead of the run."""
    outcome: list[float | BaseException] = []

    def run() -> None:
        try:
            probed = asyncio.run(PyAvConverter().probe(data))
            outcome.append(probed.duration_seconds)
        except BaseException as error:  # handed to the test thread
            outcome.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG_SECONDS)
    if worker.is_alive():
        pytest.fail(f"probe of {len(data)} bytes still running after {HANG_SECONDS} s")
    [result] = outcome
    if isinstance(result, AudioUnreadable):
        return result
    if isinstance(result, BaseException):
        raise AssertionError(
            f"probe raised {type(result).__name__}, not AudioUnreadable: {result}"
        ) from result
    return result


def assert_well_behaved(data: bytes) -> None:
    result = probe_outcome(data)
    if isinstance(result, AudioUnreadable):
        assert not result.transient, "a broken file never gets better by retrying"
        assert str(result), "the reason is named"
        return
    assert isinstance(result, float | int) and not isinstance(result, bool)
    assert math.isfinite(result) and result >= 0, result


@st.composite
def mutated_clip(draw: st.DrawFn) -> bytes:
    """A real clip with random damage: flipped bytes, cuts, insertions, a zeroed stretch."""
    name = draw(st.sampled_from(sorted(seed_clips())))
    data = bytearray(seed_clips()[name])
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "zero", "delete"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            for offset in range(draw(st.integers(1, 64))):
                if at + offset < len(data):
                    data[at + offset] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=256))
        elif kind == "zero":
            length = draw(st.integers(1, 4096))
            data[at : at + length] = bytes(len(data[at : at + length]))
        else:
            del data[at : at + draw(st.integers(1, 4096))]
    return bytes(data)


@FUZZ
@given(st.binary(max_size=4096))
@example(b"")
@example(b"\x00")
@example(b"OggS")
@example(b"OggS" + bytes(60))
@example(b"ID3" + bytes(64))
@example(b"RIFF\xff\xff\xff\x7fWAVEfmt ")
@example(b"\x00\x00\x00\x18ftypmp42")
@example(b"this is a text file renamed to .ogg\n" * 20)
def test_random_bytes_are_measured_or_refused(data: bytes) -> None:
    assert_well_behaved(data)


@FUZZ
@given(mutated_clip())
def test_damaged_real_clips_are_measured_or_refused(data: bytes) -> None:
    assert_well_behaved(data)


@pytest.mark.parametrize("name", ["ogg", "mp3", "wav", "m4a", "mp4"])
def test_every_cut_of_a_real_clip_is_measured_or_refused(name: str) -> None:
    """Truncations at a spread of points, header-only to one byte short."""
    clip = seed_clips()[name]
    for cut in sorted({1, 4, 16, 64, 256, 1024, *range(0, len(clip), max(1, len(clip) // 12))}):
        assert_well_behaved(clip[: len(clip) - cut] if cut < len(clip) else clip[:1])


def test_the_undamaged_clips_are_measured_close_to_their_length() -> None:
    """The seeds themselves probe as the ~10 s recording they are (the fuzz starts from
    files the probe does read)."""
    for name, clip in seed_clips().items():
        duration = probe_outcome(clip)
        assert isinstance(duration, float) and 9 < duration < 10.6, (name, duration)
