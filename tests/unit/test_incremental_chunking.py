"""Long audio is cut one chunk at a time from the loudness of each search window only.

Folding ``next_cut`` with envelopes that cover nothing but each ``search_window`` (what
the converter measures, a few seconds per cut) must give exactly the spans that
``plan_chunks`` gives with the loudness of the whole file.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.policies import (
    ChunkSpan,
    EnergyEnvelope,
    next_cut,
    plan_chunks,
    search_window,
    steps_between,
)

STEP = 0.1


def window_of(full: EnergyEnvelope, window: ChunkSpan) -> EnergyEnvelope:
    """What a converter measuring only ``window`` reports: the steps starting in it."""
    steps = steps_between(window.start, window.end, full.step_seconds)
    known = range(max(steps.start, 0), min(steps.stop, len(full.values)))
    return EnergyEnvelope(full.step_seconds, [full.values[i] for i in known], known.start)


def fold(duration: float, max_chunk: float, full: EnergyEnvelope | None) -> list[ChunkSpan]:
    spans, start = [], 0.0
    while start < duration:
        window = search_window(start, duration, max_chunk)
        part = None if window is None or full is None else window_of(full, window)
        cut = next_cut(start, duration, max_chunk, part)
        spans.append(ChunkSpan(start, cut))
        start = cut
    return spans


loudness = st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=6000)


@given(
    st.floats(min_value=0.1, max_value=4 * 3600),
    st.floats(min_value=5, max_value=600),
    st.none() | loudness,
)
def test_folding_next_cut_on_windows_gives_the_full_plan(
    duration: float, max_chunk: float, values: list[float] | None
) -> None:
    full = None if values is None else EnergyEnvelope(STEP, values)

    spans = fold(duration, max_chunk, full)

    assert tuple(spans) == plan_chunks(duration, max_chunk, full)
    assert spans[0].start == 0 and spans[-1].end == duration
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    assert all(0 < s.length <= max_chunk + 1e-9 for s in spans)


@given(
    st.floats(min_value=0, max_value=4 * 3600),
    st.floats(min_value=0.1, max_value=4 * 3600),
    st.floats(min_value=5, max_value=600),
)
def test_the_window_lies_just_before_the_limit(start: float, rest: float, max_chunk: float) -> None:
    duration = start + rest
    window = search_window(start, duration, max_chunk)

    if duration - start <= max_chunk:
        assert window is None
    else:
        assert window is not None
        assert window.end == start + max_chunk
        assert 0 < window.length <= min(10.0, max_chunk / 2) + 1e-9


def test_a_window_envelope_is_read_at_its_own_steps() -> None:
    window = EnergyEnvelope(STEP, [0.5, 0.0, 0.5], first_step=1400)  # 140.0 .. 140.2 s

    assert window.quietest_between(0.0, 300.0) == pytest.approx(140.1)
    assert window.quietest_between(140.15, 300.0) == pytest.approx(140.2)
    assert window.quietest_between(0.0, 139.0) is None


def test_the_cut_moves_back_to_the_quiet_point_of_the_window() -> None:
    loud = [1.0] * 101
    loud[50] = 0.0  # 145.0 s
    window = EnergyEnvelope(STEP, loud, first_step=1400)

    assert next_cut(0.0, 300.0, 150.0, window) == pytest.approx(145.0)
    assert next_cut(0.0, 300.0, 150.0) == 150.0
    assert next_cut(200.0, 300.0, 150.0, window) == 300.0
