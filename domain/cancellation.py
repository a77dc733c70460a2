"""What a stopped job costs, and the draft shown while a long recording is recognized.

Why this exists: a user may stop a job they sent by mistake (the Stop button). Chunks
already recognized were paid for at the provider and their text is delivered, so they
are charged; chunks abandoned are not. The rule is one pure function, kept apart from
the ledger (which only moves minutes) so it can be checked on its own: never more than
the full price, nothing when nothing was recognized. The draft is the text recognized so
far, in the recording's order: only the chunks from the first on without a gap, so the
user never reads a later passage before an earlier one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

DRAFT_CHARS = 600
SECONDS_PER_MINUTE = 60.0


def cancellation_minutes(recognized_seconds: float, full_price: int) -> int:
    """Minutes charged for a job stopped after ``recognized_seconds`` of its audio were
    recognized: ceil(recognized seconds / 60), never more than ``full_price`` (what the
    whole recording costs), and 0 when nothing was recognized."""
    if recognized_seconds <= 0 or full_price <= 0:
        return 0
    return min(full_price, math.ceil(recognized_seconds / SECONDS_PER_MINUTE))


def draft(chunk_texts: Mapping[int, str], limit: int = DRAFT_CHARS) -> str:
    """The first ``limit`` characters (about: cut at a word) of the text of chunks 0, 1, …
    recognized so far without a gap; empty until chunk 0 is recognized."""
    parts: list[str] = []
    size = 0
    index = 0
    while index in chunk_texts and size <= limit:
        text = chunk_texts[index].strip()
        if text:
            parts.append(text)
            size += len(text) + 1
        index += 1
    joined = " ".join(parts)
    if len(joined) <= limit:
        return joined
    cut = joined[:limit]
    at_word = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return at_word + "…"
