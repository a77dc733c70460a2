"""Properties of shaping a transcript into Telegram messages (domain.text)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.text import (
    TELEGRAM_MESSAGE_LIMIT,
    apply_yo_policy,
    escape_html,
    render_html,
    render_messages,
    split_for_telegram,
)

WRAPPER_LENGTH = len("<code></code>")

WORDS = ["слово", "ёж", "Ёлка", "мир", "word", "a&b", "<i>", "x>y", "&amp;", "😀", "длинноеслово"]
SEPARATORS = [" ", "  ", ". ", "! ", "? ", "… ", "\n", "\n\n", "\n \n", "\t", ".\n", ""]

word = st.sampled_from(WORDS) | st.text(
    st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=12
)
mixed_text = st.lists(st.tuples(word, st.sampled_from(SEPARATORS)), max_size=80).map(
    lambda pairs: "".join(w + sep for w, sep in pairs)
)
any_text = mixed_text | st.text(max_size=300) | st.just("x" * 400) | st.just("&" * 120)
limits = st.integers(min_value=20, max_value=300)


def telegram_length(message: str) -> int:
    """What Telegram counts: UTF-16 code units."""
    return len(message.encode("utf-16-le")) // 2


def fits(piece: str, use_code_tags: bool, limit: int) -> bool:
    return telegram_length(render_html(piece, use_code_tags)) <= limit


def cut_positions(pieces: list[str]) -> list[int]:
    """Where each piece but the first starts in the joined text."""
    positions, offset = [], 0
    for piece in pieces[:-1]:
        offset += len(piece)
        positions.append(offset)
    return positions


# --- splitting: invariants -------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(text=any_text, use_code_tags=st.booleans(), limit=limits)
def test_pieces_rejoin_to_the_exact_text(text: str, use_code_tags: bool, limit: int) -> None:
    assert "".join(split_for_telegram(text, use_code_tags, limit)) == text


@settings(max_examples=400, deadline=None)
@given(text=any_text, use_code_tags=st.booleans(), limit=limits)
def test_every_rendered_piece_fits_the_limit(text: str, use_code_tags: bool, limit: int) -> None:
    for piece in split_for_telegram(text, use_code_tags, limit):
        rendered = render_html(piece, use_code_tags)
        assert len(rendered) <= limit
        assert telegram_length(rendered) <= limit


@settings(max_examples=300, deadline=None)
@given(text=any_text, use_code_tags=st.booleans(), limit=limits)
def test_no_piece_is_empty(text: str, use_code_tags: bool, limit: int) -> None:
    pieces = split_for_telegram(text, use_code_tags, limit)
    assert all(pieces)
    assert bool(pieces) == bool(text)


@settings(max_examples=200, deadline=None)
@given(text=any_text, use_code_tags=st.booleans(), limit=limits)
def test_text_that_fits_is_one_piece(text: str, use_code_tags: bool, limit: int) -> None:
    if text and fits(text, use_code_tags, limit):
        assert split_for_telegram(text, use_code_tags, limit) == [text]


@settings(max_examples=300, deadline=None)
@given(text=any_text, use_code_tags=st.booleans(), limit=limits)
def test_whitespace_at_a_cut_ends_the_earlier_piece(
    text: str, use_code_tags: bool, limit: int
) -> None:
    """A piece starts with whitespace only when the run was too long to keep whole."""
    pieces = split_for_telegram(text, use_code_tags, limit)
    for earlier, later in pairwise(pieces):
        if later[0].isspace():
            assert earlier[-1].isspace() or not fits(earlier + later[0], use_code_tags, limit)


# --- splitting: where the cuts fall ----------------------------------------------------

spaced_words = st.lists(
    st.tuples(st.sampled_from([*WORDS, "x" * 60]), st.sampled_from([" ", "  ", "\t"])),
    min_size=1,
    max_size=60,
).map(lambda pairs: "".join(w + sep for w, sep in pairs).rstrip())


@settings(max_examples=400, deadline=None)
@given(text=spaced_words, use_code_tags=st.booleans(), limit=limits)
def test_word_cuts_are_greedy_and_hard_cuts_only_for_long_words(
    text: str, use_code_tags: bool, limit: int
) -> None:
    word_starts = [
        i for i in range(1, len(text)) if text[i - 1].isspace() and not text[i].isspace()
    ]
    pieces = split_for_telegram(text, use_code_tags, limit)
    start = 0
    for piece in pieces[:-1]:
        end = start + len(piece)
        if end in word_starts:
            following = next((q for q in word_starts if q > end), len(text))
            assert not fits(text[start:following], use_code_tags, limit), "piece not full"
        else:
            assert not any(start < q < end for q in word_starts), "hard cut despite a boundary"
            assert not fits(text[start : end + 1], use_code_tags, limit), "hard cut not full"
        start = end


sentence = st.tuples(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=6),
    st.sampled_from([".", "!", "?", "…", "?!", "...", ".»", '!"', "?)"]),
).map(lambda words_and_end: " ".join(words_and_end[0]) + words_and_end[1])
line = st.lists(sentence, min_size=1, max_size=3).map(" ".join)
paragraph = st.lists(line, min_size=1, max_size=3).map("\n".join)


@pytest.mark.parametrize(
    ("unit", "separator"),
    [(paragraph, "\n\n"), (paragraph, "\n \n"), (line, "\n"), (sentence, " ")],
    ids=["paragraphs", "blank-line-with-space", "lines", "sentences"],
)
@settings(max_examples=200, deadline=None)
@given(data=st.data(), use_code_tags=st.booleans(), limit=limits)
def test_cuts_fall_between_units_that_fit_and_pack_them_fully(
    unit: st.SearchStrategy[str],
    separator: str,
    data: st.DataObject,
    use_code_tags: bool,
    limit: int,
) -> None:
    units = [
        u
        for u in data.draw(st.lists(unit, min_size=1, max_size=15))
        if fits(u + separator, use_code_tags, limit)
    ]
    text = separator.join(units)
    unit_starts, offset = [], 0
    for u in units[:-1]:
        offset += len(u) + len(separator)
        unit_starts.append(offset)

    pieces = split_for_telegram(text, use_code_tags, limit)

    cuts = cut_positions(pieces)
    assert set(cuts) <= set(unit_starts), "a cut fell inside a unit that fits"
    for start, end in zip([0, *cuts], cuts, strict=False):  # every piece but the last
        following = next((q for q in unit_starts if q > end), len(text))
        assert not fits(text[start:following], use_code_tags, limit), "the next unit fitted too"


def test_paragraph_break_wins_over_later_word_boundaries() -> None:
    text = "Один два.\n\nТри четыре пять шесть семь"
    assert split_for_telegram(text, use_code_tags=False, limit=25) == [
        "Один два.\n\n",
        "Три четыре пять шесть ",
        "семь",
    ]


def test_line_break_wins_over_sentence_end() -> None:
    text = "Раз\nдва. Три четыре"
    assert split_for_telegram(text, use_code_tags=False, limit=15) == ["Раз\n", "два. Три четыре"]


def test_sentence_end_wins_over_word_boundary_and_closing_quotes_count() -> None:
    text = "Он сказал «да.» Потом ушёл домой"
    assert split_for_telegram(text, use_code_tags=False, limit=28) == [
        "Он сказал «да.» ",
        "Потом ушёл домой",
    ]


def test_word_boundary_cut_keeps_whitespace_on_the_earlier_piece() -> None:
    assert split_for_telegram("aaa bbb ccc", use_code_tags=False, limit=8) == ["aaa bbb ", "ccc"]


def test_a_word_longer_than_a_message_is_cut_hard() -> None:
    assert split_for_telegram("ab " + "x" * 12, use_code_tags=False, limit=5) == [
        "ab ",
        "xxxxx",
        "xxxxx",
        "xx",
    ]


def test_leading_whitespace_is_not_cut_off_into_a_blank_piece() -> None:
    assert split_for_telegram("   xxxxxxxx", use_code_tags=False, limit=5) == [
        "   xx",
        "xxxxx",
        "x",
    ]


def test_escaping_and_the_code_wrapper_count_towards_the_limit() -> None:
    assert split_for_telegram("&&&&", use_code_tags=False, limit=10) == ["&&", "&&"]
    assert split_for_telegram("<<<", use_code_tags=True, limit=WRAPPER_LENGTH + 8) == ["<<", "<"]
    assert split_for_telegram("ab cde", use_code_tags=True, limit=WRAPPER_LENGTH + 5) == [
        "ab ",
        "cde",
    ]


def test_characters_outside_the_bmp_count_twice_like_telegram_does() -> None:
    assert split_for_telegram("😀😀😀", use_code_tags=False, limit=5) == ["😀😀", "😀"]


def test_empty_text_gives_no_pieces() -> None:
    assert split_for_telegram("", use_code_tags=True) == []


@pytest.mark.parametrize(("use_code_tags", "smallest"), [(False, 5), (True, WRAPPER_LENGTH + 5)])
def test_a_limit_too_small_for_one_escaped_character_is_refused(
    use_code_tags: bool, smallest: int
) -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        split_for_telegram("&", use_code_tags, smallest - 1)
    assert split_for_telegram("&&", use_code_tags, smallest) == ["&", "&"]


RUSSIAN_PARAGRAPH = (
    "Съешь же ещё этих мягких французских булок, да выпей чаю! "
    "Ёлка стояла во дворе & ждала зимы — так <всегда> бывает. "
    "Мы говорили об этом долго, а потом замолчали… "
    "Что будет дальше? Никто не знает."
)


@pytest.mark.parametrize("use_code_tags", [False, True])
def test_a_long_russian_transcript_with_the_default_limit(use_code_tags: bool) -> None:
    text = "\n\n".join(f"{n}. {RUSSIAN_PARAGRAPH}" for n in range(200))

    messages = render_messages(text, use_code_tags)
    pieces = split_for_telegram(text, use_code_tags)

    assert "".join(pieces) == text
    assert len(messages) == len(pieces) > 1
    longest_paragraph = max(len(render_html(p, False)) for p in text.split("\n\n")) + 2
    for piece, message in zip(pieces, messages, strict=True):
        assert telegram_length(message) <= TELEGRAM_MESSAGE_LIMIT
        assert message == render_html(piece, use_code_tags)
    for piece, message in zip(pieces[:-1], messages[:-1], strict=True):
        assert piece.endswith(f"{RUSSIAN_PARAGRAPH}\n\n")
        assert len(message) > TELEGRAM_MESSAGE_LIMIT - longest_paragraph


@pytest.mark.parametrize("limit", [TELEGRAM_MESSAGE_LIMIT, 100])
def test_a_megabyte_splits_losslessly(limit: int) -> None:
    # Its speed is measured by the benchmarks, not asserted here.
    text = ("\n\n".join([RUSSIAN_PARAGRAPH] * 3) + "\n") * 2000
    assert len(text) > 1_000_000
    pieces = split_for_telegram(text, use_code_tags=True, limit=limit)
    assert "".join(pieces) == text
    assert all(len(render_html(p, True)) <= limit for p in pieces)


# --- rendering -------------------------------------------------------------------------


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.data: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        self.tags.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.data.append(data)


@settings(max_examples=300, deadline=None)
@given(text=any_text, use_code_tags=st.booleans())
def test_rendered_html_has_only_the_code_tags_and_reads_back_as_the_text(
    text: str, use_code_tags: bool
) -> None:
    rendered = render_html(text, use_code_tags)
    parser = _TagCollector()
    parser.feed(rendered)
    parser.close()

    assert parser.tags == (["<code>", "</code>"] if use_code_tags else [])
    assert "".join(parser.data) == text
    inner = rendered.removeprefix("<code>").removesuffix("</code>") if use_code_tags else rendered
    assert "<" not in inner
    assert ">" not in inner
    assert re.fullmatch(r"(?:[^&]|&(?:amp|lt|gt);)*", inner, flags=re.DOTALL)


def test_escape_html_escapes_exactly_ampersand_and_angle_brackets() -> None:
    assert escape_html("a & b < c > d \"e\" 'f'") == "a &amp; b &lt; c &gt; d \"e\" 'f'"
    assert escape_html("&amp;") == "&amp;amp;"


def test_render_html_wraps_in_code_only_when_asked() -> None:
    assert render_html("1 < 2", use_code_tags=True) == "<code>1 &lt; 2</code>"
    assert render_html("1 < 2", use_code_tags=False) == "1 &lt; 2"


@settings(max_examples=200, deadline=None)
@given(text=any_text, use_code_tags=st.booleans(), limit=limits)
def test_render_messages_renders_every_piece_that_is_not_blank(
    text: str, use_code_tags: bool, limit: int
) -> None:
    pieces = split_for_telegram(text, use_code_tags, limit)
    expected = [render_html(p, use_code_tags) for p in pieces if p.strip()]
    assert render_messages(text, use_code_tags, limit) == expected


def test_render_messages_drops_whitespace_only_pieces() -> None:
    text = "a" + " " * 20 + "b"
    assert len(split_for_telegram(text, use_code_tags=False, limit=5)) == 5
    assert render_messages(text, use_code_tags=False, limit=5) == ["a    ", " b"]
    assert render_messages(" \n\n\t", use_code_tags=True) == []
    assert render_messages("", use_code_tags=True) == []


# --- ё ---------------------------------------------------------------------------------


@given(text=st.text(alphabet=st.sampled_from("ёЁеЕжЖ &<.\n") | st.characters()))
def test_yo_policy_off_replaces_only_yo_and_keeps_length(text: str) -> None:
    result = apply_yo_policy(text, use_yo=False)
    assert len(result) == len(text)
    assert "ё" not in result
    assert "Ё" not in result
    for before, after in zip(text, result, strict=True):
        assert after == {"ё": "е", "Ё": "Е"}.get(before, before)


@given(text=st.text())
def test_yo_policy_on_leaves_text_unchanged(text: str) -> None:
    assert apply_yo_policy(text, use_yo=True) == text


def test_yo_policy_example() -> None:
    assert apply_yo_policy("Ёжик ёлку нашёл", use_yo=False) == "Ежик елку нашел"
    assert apply_yo_policy("Ёжик ёлку нашёл", use_yo=True) == "Ёжик ёлку нашёл"
