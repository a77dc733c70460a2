"""Hypothesis strategies for transcripts: the words recognizers produce, timed segments.

Shared by the transcript, subtitle and timed-text properties. Texts mix ordinary words with
punctuation, words longer than a subtitle line, Chinese and Japanese written without
spaces, markup characters and ``-->``; times include touching, overlapping and zero-length
segments, because recognizers produce all of them.
"""

from __future__ import annotations

from hypothesis import strategies as st

from domain.transcript import Segment, Transcript

latin_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzабвгдеёжз", min_size=1, max_size=12)
punctuated = st.builds(
    lambda word, mark: word + mark,
    latin_words,
    st.sampled_from([".", ",", "!", "?", "…", ";", ":", '."', "?»", ")", "—"]),
)
spaceless = st.text(
    alphabet="今天天气很好我们去公园散步吧日本語のテキストです。，、！？「」", min_size=1
)
long_words = st.text(alphabet="abcdefghijklmnop", min_size=43, max_size=130)
odd_words = st.sampled_from(["<b>", "&amp;", "-->", "a&b", "1", "00:00:01,000", "<", ">"])
any_words = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=20
).filter(lambda word: not word.isspace() and word.split() == [word])

words = st.one_of(
    latin_words, latin_words, punctuated, punctuated, spaceless, long_words, odd_words, any_words
)
plain_words = st.one_of(latin_words, latin_words, punctuated)


def segment_texts(word_strategy: st.SearchStrategy[str] = words) -> st.SearchStrategy[str]:
    """A segment's text as a recognizer gives it: words, maybe padded with spaces."""
    return st.builds(
        lambda ws, before, after: before + " ".join(ws) + after,
        st.lists(word_strategy, max_size=30),
        st.sampled_from(["", " ", "  "]),
        st.sampled_from(["", " ", "\n"]),
    )


def _timed(pieces: list[tuple[float, float, str]]) -> Transcript:
    segments = []
    clock = 0.0
    for gap, duration, text in pieces:
        start = max(0.0, clock + gap)
        segments.append(Segment(start, start + duration, text))
        clock = start + duration
    return Transcript(tuple(segments))


def timed_transcripts(
    word_strategy: st.SearchStrategy[str] = words,
    gaps: st.SearchStrategy[float] | None = None,
    max_segments: int = 12,
) -> st.SearchStrategy[Transcript]:
    """Timed transcripts; by default segments may overlap (negative gaps) or touch."""
    gap = gaps if gaps is not None else st.floats(-2.0, 4.0)
    duration = st.one_of(st.just(0.0), st.floats(0.0, 30.0))
    return st.lists(
        st.tuples(gap, duration, segment_texts(word_strategy)), max_size=max_segments
    ).map(_timed)


# Pauses clearly on one side of the 1 s rule, so which segments belong together is known.
short_or_long_gaps = st.one_of(st.floats(0.0, 0.9), st.floats(1.2, 5.0))


def squeeze(text: str) -> str:
    """The text with every whitespace character removed."""
    return "".join(text.split())
