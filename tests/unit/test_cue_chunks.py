"""Cue-sized chunks for a recognizer without times: 5-15 s, cut in pauses, each chunk
starting where its speech starts (a rest that fits in one chunk is cut only in a pause),
planned one window at a time."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.cue_chunks import (
    CUE_CHUNK_MAX_SECONDS,
    CUE_CHUNK_MIN_SECONDS,
    cue_search_window,
    next_cue_cut,
    plan_cue_chunks,
)
from domain.jobs import OutputMode
from domain.policies import ChunkSpan, EnergyEnvelope, steps_between

STEP = 0.1
SILENT = 0.01  # a pause's loudness is at most this ...
SPEECH = 0.3  # ... and speech's at least this, so every pause counts as quiet
EPSILON = 1e-9


def window_of(full: EnergyEnvelope, window: ChunkSpan) -> EnergyEnvelope:
    """What a converter measuring only ``window`` reports: the steps starting in it."""
    steps = steps_between(window.start, window.end, full.step_seconds)
    known = range(max(steps.start, 0), min(steps.stop, len(full.values)))
    return EnergyEnvelope(full.step_seconds, [full.values[i] for i in known], known.start)


@st.composite
def speech_with_pauses(draw: st.DrawFn) -> list[float]:
    """Loudness per 100 ms: phrases (loud) and pauses of 0-3 s (silent) one after another,
    each at a level of its own (as a recording's phrases are)."""
    values: list[float] = []
    for _ in range(draw(st.integers(min_value=1, max_value=40))):
        phrase = draw(st.integers(min_value=1, max_value=120))
        values += [draw(st.floats(SPEECH, 1.0))] * phrase
        pause = draw(st.integers(min_value=0, max_value=30))
        values += [draw(st.floats(0.0, SILENT))] * pause
    return values


def has_pause(values: list[float], window: ChunkSpan) -> bool:
    """Whether ``window`` holds two silent steps in a row (a pause of 0.2 s)."""
    steps = [i for i in steps_between(window.start, window.end, STEP) if i < len(values)]
    return any(
        values[a] <= SILENT and values[b] <= SILENT and b == a + 1
        for a, b in itertools.pairwise(steps)
    )


durations = st.floats(min_value=0.1, max_value=2 * 3600)


@given(durations, st.none() | speech_with_pauses())
def test_the_plan_covers_the_recording_in_cue_sized_chunks(
    duration: float, values: list[float] | None
) -> None:
    envelope = None if values is None else EnergyEnvelope(STEP, values)

    spans = plan_cue_chunks(duration, envelope)

    assert spans[0].start == 0 and spans[-1].end == duration
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    assert all(0 < s.length <= CUE_CHUNK_MAX_SECONDS + EPSILON for s in spans)
    if len(spans) > 1:
        assert all(s.length >= CUE_CHUNK_MIN_SECONDS - EPSILON for s in spans)


@given(durations, speech_with_pauses())
def test_a_window_with_a_pause_is_cut_in_it_where_speech_resumes(
    duration: float, values: list[float]
) -> None:
    envelope = EnergyEnvelope(STEP, values)

    spans = plan_cue_chunks(duration, envelope)
    last = cue_search_window(spans[-1].start, duration)
    assert last is None or not has_pause(values, last), "a rest with a pause is cut in it"
    for span in spans[:-1]:
        window = cue_search_window(span.start, duration)
        assert window is not None
        if not has_pause(values, window):
            continue
        step = round(span.end / STEP)
        assert step < len(values) and values[step] <= SILENT, "never inside a phrase"
        following = step + 1
        if following in steps_between(window.start, window.end, STEP) and following < len(values):
            assert values[following] > SILENT, "the next chunk starts with its speech"
        inside = [i for i in steps_between(window.start, span.end, STEP) if i < len(values)]
        earlier = [
            a
            for a, b in itertools.pairwise(inside[:-1])
            if values[a] <= SILENT and values[b] <= SILENT and values[b + 1] > SILENT
        ]
        assert not earlier, "the first pause of the window wins: chunks stay short"


@given(durations, st.none() | speech_with_pauses())
def test_folding_on_windows_gives_the_full_plan(
    duration: float, values: list[float] | None
) -> None:
    full = None if values is None else EnergyEnvelope(STEP, values)
    spans, start = [], 0.0
    while start < duration:
        window = cue_search_window(start, duration)
        part = None if window is None or full is None else window_of(full, window)
        cut = next_cue_cut(start, duration, part)
        spans.append(ChunkSpan(start, cut))
        start = cut

    assert tuple(spans) == plan_cue_chunks(duration, full)


def test_speech_without_a_pause_is_cut_at_its_quietest_step() -> None:
    loud = [1.0] * 200
    loud[80] = 0.5  # 8.0 s: a dip, not a pause (one step)

    assert next_cue_cut(0.0, 60.0, EnergyEnvelope(STEP, loud)) == pytest.approx(8.0)
    assert next_cue_cut(0.0, 60.0) == CUE_CHUNK_MAX_SECONDS
    assert next_cue_cut(50.0, 60.0, EnergyEnvelope(STEP, loud)) == 60.0


def test_the_rest_is_never_left_a_stub() -> None:
    assert cue_search_window(0.0, 16.0) == ChunkSpan(5.0, 11.0)
    assert cue_search_window(0.0, 12.0) == ChunkSpan(5.0, 7.0)
    assert cue_search_window(0.0, 10.0) is None


def test_a_rest_that_fits_is_cut_only_in_a_pause() -> None:
    speech = [1.0] * 150
    speech[60] = 0.5  # 6.0 s: a dip, not a pause
    paused = speech[:70] + [0.0] * 5 + speech[75:]  # 7.0-7.4 s: a pause

    assert next_cue_cut(0.0, 14.0, EnergyEnvelope(STEP, speech)) == 14.0
    assert next_cue_cut(0.0, 14.0) == 14.0
    assert next_cue_cut(0.0, 14.0, EnergyEnvelope(STEP, paused)) == pytest.approx(7.4)


@pytest.mark.parametrize(
    ("mode", "timed"),
    [
        (OutputMode.MESSAGES, False),
        (OutputMode.FILE, False),
        (OutputMode.TIMED, True),
        (OutputMode.SRT, True),
        (OutputMode.VTT, True),
    ],
)
def test_only_timed_outputs_want_times(mode: OutputMode, timed: bool) -> None:
    assert mode.needs_times is timed
