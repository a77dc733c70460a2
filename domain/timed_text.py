"""Text with times: paragraphs, each opening with when it was said.

Why this exists: people transcribe lectures, interviews and meetings and then need to find
the moment something was said. Subtitles are too choppy to read, plain text has no times;
this output is readable paragraphs, each starting ``[mm:ss]`` (``[h:mm:ss]`` throughout
when the recording reaches an hour), so a reader can jump to it in the recording.

Paragraphs are made of whole segments, because only segment boundaries carry the
recognizer's own times: a new paragraph starts after a pause of ``PARAGRAPH_PAUSE_SECONDS``,
and a long paragraph (``PARAGRAPH_SECONDS`` or ``PARAGRAPH_CHARACTERS``) ends at the next
segment that ends a sentence, or in any case at twice that length. Joined together, the
paragraphs are exactly the transcript's plain text; no word is changed.
"""

from __future__ import annotations

from domain.transcript import Transcript, UntimedTranscript, ends_sentence, join_pieces

PARAGRAPH_PAUSE_SECONDS = 2.0
PARAGRAPH_SECONDS = 60.0
PARAGRAPH_CHARACTERS = 500


def timestamped_text(transcript: Transcript) -> str:
    """Paragraphs separated by a blank line, each ``[mm:ss] text`` or ``[h:mm:ss] text``.
    Raises UntimedTranscript for a transcript without times; empty for no speech."""
    if not transcript.timed:
        raise UntimedTranscript("timestamped text needs a transcript with times")
    paragraphs: list[tuple[float, list[str]]] = []
    paragraph_start = previous_end = 0.0
    size = 0
    for segment in transcript.segments:
        text = segment.text.strip()
        if not text or segment.start is None or segment.end is None:
            continue
        start = max(segment.start, previous_end)
        long = start - paragraph_start >= PARAGRAPH_SECONDS or size >= PARAGRAPH_CHARACTERS
        very_long = (
            start - paragraph_start >= 2 * PARAGRAPH_SECONDS or size >= 2 * PARAGRAPH_CHARACTERS
        )
        after_sentence = bool(paragraphs) and ends_sentence(paragraphs[-1][1][-1])
        if (
            not paragraphs
            or start - previous_end >= PARAGRAPH_PAUSE_SECONDS
            or (long and after_sentence)
            or very_long
        ):
            paragraphs.append((start, []))
            paragraph_start, size = start, 0
        paragraphs[-1][1].append(text)
        size += len(text) + 1
        previous_end = max(segment.end, start)
    with_hours = any(start >= 3600 for start, _ in paragraphs)
    return "\n\n".join(
        f"[{stamp(start, with_hours=with_hours)}] {join_pieces(texts)}"
        for start, texts in paragraphs
    )


def stamp(seconds: float, *, with_hours: bool = False) -> str:
    """``mm:ss``, or ``h:mm:ss`` with hours (minutes then always two digits); the second
    the moment falls in, never rounded up past it."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if with_hours or hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"
