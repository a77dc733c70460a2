"""Where to cut a recording for a recognizer without times when times are wanted.

Why this exists: qwen3-asr-flash answers text without times, so the only times a cloud
transcript has are the edges of the chunks it was sent in. For plain text those chunks are
as long as a request allows (minutes); for subtitles and timestamped text (the outputs
that ``OutputMode.needs_times``) the recording is cut into cue-sized chunks instead
(``CUE_CHUNK_MIN_SECONDS`` to ``CUE_CHUNK_MAX_SECONDS``), each cut in a pause, so that
each chunk's start is when its speech starts.

The cut after ``start`` falls in ``cue_search_window``: from ``start + 5 s`` up to
``start + 15 s``, but leaving at least 5 s for the rest, so no chunk is a stub. A rest
that fits in one chunk is still cut if it holds a pause there (the last phrases get
times of their own), and otherwise left whole. Within the window, the first pause wins: the earliest
run of at least ``MIN_PAUSE_SECONDS`` of steps no louder than the window's quietest step
plus ``QUIET_SHARE`` of its loudness range; the cut is at the last step of that run, just
before speech resumes, so the next chunk (and the cue it becomes) starts with its first
word. A window without such a pause, when the rest does not fit, is cut at its quietest
step (as ``next_cut`` does for long chunks); without any loudness, at the window's end.
Like ``next_cut``, the decision needs only the window's loudness, so the plan is made one
cut at a time while earlier chunks are recognized.
"""

from __future__ import annotations

from domain.policies import ChunkSpan, EnergyEnvelope, steps_between

CUE_CHUNK_MIN_SECONDS = 5.0
CUE_CHUNK_MAX_SECONDS = 15.0
# A pause: at least this long (a stop consonant's closure inside a word is shorter) ...
MIN_PAUSE_SECONDS = 0.2
# ... no louder than the window's quietest step plus this share of its loudness range.
QUIET_SHARE = 0.1


def cue_search_window(start: float, duration_seconds: float) -> ChunkSpan | None:
    """Where the cut after ``start`` may fall; ``None`` when the rest is too short to cut
    into two chunks of ``CUE_CHUNK_MIN_SECONDS``."""
    rest = duration_seconds - start
    if rest <= 2 * CUE_CHUNK_MIN_SECONDS:
        return None
    latest = min(start + CUE_CHUNK_MAX_SECONDS, duration_seconds - CUE_CHUNK_MIN_SECONDS)
    return ChunkSpan(start + CUE_CHUNK_MIN_SECONDS, latest)


def next_cue_cut(
    start: float, duration_seconds: float, envelope: EnergyEnvelope | None = None
) -> float:
    """The end of the cue-sized chunk from ``start`` (see the module's docstring); the end
    of the audio when the rest fits in one chunk and holds no pause to cut at. ``envelope``
    need only cover the window."""
    window = cue_search_window(start, duration_seconds)
    if window is None:
        return duration_seconds
    fits = duration_seconds - start <= CUE_CHUNK_MAX_SECONDS
    otherwise = duration_seconds if fits else window.end
    steps = range(0) if envelope is None else _known_steps(envelope, window)
    if envelope is None or not steps:
        return otherwise
    loudness = [envelope.values[i - envelope.first_step] for i in steps]
    quietest = min(loudness)
    threshold = quietest + QUIET_SHARE * (max(loudness) - quietest)
    pause_steps = max(1, round(MIN_PAUSE_SECONDS / envelope.step_seconds))
    run = 0
    for index, (step, level) in enumerate(zip(steps, loudness, strict=True)):
        run = run + 1 if level <= threshold else 0
        ends = index + 1 == len(steps) or loudness[index + 1] > threshold
        if run >= pause_steps and ends:
            return _inside(step * envelope.step_seconds, window)
    if fits:
        return duration_seconds  # never cut a rest that fits anywhere but in a pause
    quiet = envelope.quietest_between(window.start, window.end)
    return window.end if quiet is None else _inside(quiet, window)


def plan_cue_chunks(
    duration_seconds: float, envelope: EnergyEnvelope | None = None
) -> tuple[ChunkSpan, ...]:
    """``[0, duration]`` cut into cue-sized chunks: ``next_cue_cut`` folded from 0 s."""
    spans: list[ChunkSpan] = []
    start = 0.0
    while start < duration_seconds:
        cut = next_cue_cut(start, duration_seconds, envelope)
        spans.append(ChunkSpan(start, cut))
        start = cut
    return tuple(spans)


def _known_steps(envelope: EnergyEnvelope, window: ChunkSpan) -> range:
    """The steps starting in ``window`` whose loudness ``envelope`` knows."""
    wanted = steps_between(window.start, window.end, envelope.step_seconds)
    first = max(wanted.start, envelope.first_step)
    last = min(wanted.stop - 1, envelope.first_step + len(envelope.values) - 1)
    return range(first, max(first, last + 1))


def _inside(cut: float, window: ChunkSpan) -> float:
    """``cut`` kept inside the window (a step's start may round a hair outside it)."""
    return min(max(cut, window.start), window.end)
