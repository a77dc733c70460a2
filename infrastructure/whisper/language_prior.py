"""Which language to decode in when Whisper's detection is unsure: the user's own.

Why this exists: with the language on auto, Whisper guesses from the first 30 s of speech,
and on a few seconds or noisy audio it guesses badly; a 5 s Russian note from a user whose
Telegram language is ``ru`` came back as a French-looking loop. The user's Telegram
language is a strong prior, but not proof (people speak other languages), so it decides
only when detection is unsure and does not rule it out:

- unsure: the best language's probability is under ``UNSURE_BELOW``, or the speech is
  shorter than ``SHORT_SPEECH_SECONDS`` and the best is under ``SHORT_SURE``;
- not ruled out: the hint's own probability is at least ``PLAUSIBLE_HINT``.

Measured with Whisper base on the committed samples (synthetic voices, white noise added):
clean and moderately noisy speech is detected at 0.5-1.0, the other language of the pair
at 0.0001-0.007; Russian under heavy noise (sigma 0.3) was detected as English at 0.50,
Russian itself at 0.028, and English under that noise gave Russian 0.013-0.029. So a
hint under 0.02 is overruled; in the heavy-noise band the hint wins either way.
"""

from __future__ import annotations

from collections.abc import Sequence

UNSURE_BELOW = 0.8
SHORT_SPEECH_SECONDS = 3.0
SHORT_SURE = 0.95
PLAUSIBLE_HINT = 0.02


def choose_language(
    ranked: Sequence[tuple[str, float]], hint: str | None, speech_seconds: float
) -> tuple[str, float]:
    """The language (and its probability) to decode in, from detection's ``ranked``
    (language, probability) pairs, best first, and the user's language ``hint``."""
    best, probability = ranked[0]
    if hint is None or hint == best:
        return best, probability
    unsure = probability < UNSURE_BELOW or (
        speech_seconds < SHORT_SPEECH_SECONDS and probability < SHORT_SURE
    )
    hinted = next((p for language, p in ranked if language == hint), 0.0)
    if unsure and hinted >= PLAUSIBLE_HINT:
        return hint, hinted
    return best, probability
