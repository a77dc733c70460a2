"""Shaping a transcript into Telegram messages.

A transcript can be far longer than one Telegram message, it may contain ``&``, ``<`` and
``>`` that Telegram's HTML parse mode would read as markup, and some users prefer ``е`` to
``ё``. The rules for all three live here, as pure functions, so that the delivery adapter
only sends what it is given and every rule can be checked with property tests.

Lengths are measured the way Telegram measures them, in UTF-16 code units of the *rendered*
HTML (escapes and the optional ``<code>`` wrapper included). That is never less than Python's
``len``, and it is conservative: Telegram applies its limit after parsing the entities.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from itertools import accumulate

TELEGRAM_MESSAGE_LIMIT = 4096

_YO_TO_YE = str.maketrans("ёЁ", "еЕ")

# Only these three are special in Telegram's HTML parse mode; quotes matter only inside
# attribute values, which we never produce, so they are left as they are.
_HTML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_HTML_ESCAPE_TABLE = str.maketrans(_HTML_ESCAPES)

_CODE_OPEN = "<code>"
_CODE_CLOSE = "</code>"

# The most any single character can cost once rendered ("&" -> "&amp;").
_MAX_CHARACTER_COST = max(len(escaped) for escaped in _HTML_ESCAPES.values())

# A run of whitespace that follows a non-space character, optionally preceded by the end of
# a sentence: ". ", "?! ", "…» ", '." '. A cut goes right after the run, so the whitespace
# stays at the end of the earlier piece.
_GAP = re.compile(r"(?P<sentence_end>[.!?…][\"'»”’)\]]*)?\s+")

# Boundary kinds, best first.
_PARAGRAPH, _LINE, _SENTENCE, _WORD = range(4)


def apply_yo_policy(text: str, use_yo: bool) -> str:
    """Keep ``ё``/``Ё`` when ``use_yo``, otherwise write them as ``е``/``Е``.

    Nothing else changes, so the length is preserved.
    """
    return text if use_yo else text.translate(_YO_TO_YE)


def escape_html(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` for Telegram's HTML parse mode (quotes are kept)."""
    return text.translate(_HTML_ESCAPE_TABLE)


def render_html(text: str, use_code_tags: bool) -> str:
    """Escape ``text`` and, if asked, wrap it in ``<code>…</code>``."""
    escaped = escape_html(text)
    return f"{_CODE_OPEN}{escaped}{_CODE_CLOSE}" if use_code_tags else escaped


def split_for_telegram(
    text: str, use_code_tags: bool, limit: int = TELEGRAM_MESSAGE_LIMIT
) -> list[str]:
    """Cut plain ``text`` into pieces whose rendered HTML each fits in ``limit``.

    ``"".join(pieces) == text`` always holds and no piece is empty. Each cut is made at the
    last place that still fits, preferring, in order: a paragraph break (blank line), a line
    break, a sentence end, a word boundary, and only when one word alone does not fit, any
    character. Whitespace at a cut stays at the end of the earlier piece. Pieces are rendered
    one by one, so no tag or entity is ever cut in half.

    Raises ``ValueError`` if ``limit`` cannot hold one escaped character plus the wrapper.
    """
    budget = _text_budget(limit, use_code_tags)
    if not text:
        return []
    if len(escape_html(text).encode("utf-16-le")) // 2 <= budget:
        return [text]  # the common case, measured at C speed: it all fits
    # rendered_before[i] is the rendered length of text[:i]; it strictly increases, so the
    # furthest end that fits is one binary search away (linear overall, not quadratic).
    rendered_before = array("q", accumulate(map(_rendered_length, text), initial=0))
    boundaries = _boundaries_by_kind(text)
    pieces: list[str] = []
    start = 0
    while True:
        furthest = bisect_right(rendered_before, rendered_before[start] + budget, lo=start) - 1
        if furthest >= len(text):
            pieces.append(text[start:])
            return pieces
        end = _best_cut(boundaries, start, furthest)
        pieces.append(text[start:end])
        start = end


def render_messages(
    text: str, use_code_tags: bool, limit: int = TELEGRAM_MESSAGE_LIMIT
) -> list[str]:
    """The Telegram messages (HTML parse mode) that carry ``text``, each within ``limit``.

    Telegram refuses empty and whitespace-only messages, so pieces holding nothing but
    whitespace are dropped: empty or blank text gives no messages. Such a piece only appears
    when whitespace itself had to be cut (a run longer than the room left in a message), so
    nothing visible is lost, but there may be fewer messages than pieces.
    """
    return [
        render_html(piece, use_code_tags)
        for piece in split_for_telegram(text, use_code_tags, limit)
        if not piece.isspace()
    ]


def _text_budget(limit: int, use_code_tags: bool) -> int:
    """How much rendered text fits in one message once the wrapper is paid for."""
    wrapper = len(_CODE_OPEN) + len(_CODE_CLOSE) if use_code_tags else 0
    budget = limit - wrapper
    if budget < _MAX_CHARACTER_COST:
        raise ValueError(
            f"a message limit of {limit} cannot hold one escaped character"
            f"{' inside <code></code>' if use_code_tags else ''};"
            f" at least {wrapper + _MAX_CHARACTER_COST} is needed"
        )
    return budget


def _rendered_length(character: str) -> int:
    """UTF-16 code units that ``character`` takes once escaped."""
    if character > "\uffff":
        return 2
    return len(_HTML_ESCAPES.get(character, character))


def _boundaries_by_kind(text: str) -> tuple[list[int], ...]:
    """Sorted cut positions for each boundary kind, best kind first.

    A position is where the next piece would start: right after a run of whitespace. Leading
    whitespace is not a boundary, so it never becomes a blank piece of its own.
    """
    boundaries: tuple[list[int], ...] = ([], [], [], [])
    for gap in _GAP.finditer(text):
        if gap.start() == 0:
            continue
        newlines = gap.group().count("\n")
        if newlines >= 2:
            kind = _PARAGRAPH
        elif newlines == 1:
            kind = _LINE
        elif gap.group("sentence_end"):
            kind = _SENTENCE
        else:
            kind = _WORD
        boundaries[kind].append(gap.end())
    return boundaries


def _best_cut(boundaries: tuple[list[int], ...], start: int, furthest: int) -> int:
    """The last boundary of the best kind in ``(start, furthest]``, else a hard cut."""
    for positions in boundaries:
        index = bisect_right(positions, furthest) - 1
        if index >= 0 and positions[index] > start:
            return positions[index]
    return furthest
