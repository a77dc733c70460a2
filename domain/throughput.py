"""How fast a recognizer works, learned from the jobs it did, and the wait it predicts.

Why this exists: the status message of a long recording shows an estimate of the time
left. The estimate comes from measured throughput: seconds of recognition per second of
audio (wall time, with the chunks' parallelism in it), kept per recognizer as an
exponential moving average so one slow job moves it only a little and an old
measurement fades. Pure arithmetic; where the averages are kept is the application's.
"""

from __future__ import annotations

import math

EMA_WEIGHT = 0.3  # the weight of the newest measurement


def updated_rate(previous: float | None, measured: float, weight: float = EMA_WEIGHT) -> float:
    """The moving average after one more measurement (seconds per audio second); the
    first measurement is taken as it is. A measurement that is not a finite positive
    number changes nothing."""
    if not math.isfinite(measured) or measured <= 0:
        return previous if previous is not None else 0.0
    if previous is None or not math.isfinite(previous) or previous <= 0:
        return measured
    return weight * measured + (1.0 - weight) * previous


def eta_seconds(
    rate: float | None, audio_seconds: float, elapsed_seconds: float, done: int, total: int
) -> float | None:
    """Seconds left to recognize ``audio_seconds`` of audio, ``elapsed_seconds`` after
    recognition started, ``done`` of ``total`` chunks finished: from this job's own pace
    once a chunk is done (the best measurement there is), before that from the learned
    ``rate``. ``None`` when nothing is known yet."""
    if total <= 0 or audio_seconds <= 0:
        return None
    if done >= total:
        return 0.0
    if done > 0 and elapsed_seconds > 0:
        return elapsed_seconds / done * (total - done)
    if rate is not None and math.isfinite(rate) and rate > 0:
        return max(0.0, rate * audio_seconds - elapsed_seconds)
    return None
