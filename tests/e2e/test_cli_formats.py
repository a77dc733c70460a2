"""``voicescribe transcribe --format srt|vtt|timed|json`` and ``-o DIR`` as a person runs
them: a real process, the offline model on the committed samples, the outputs parsed back
with the ``srt`` and ``webvtt-py`` libraries."""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import srt as srt_parser  # type: ignore[import-untyped]
import webvtt

from infrastructure.audio import PyAvConverter
from tests.e2e.test_cli import voicescribe
from tests.media_clips import SAMPLES

NOTES = sorted(SAMPLES.glob("*.ogg"))


def words(text: str) -> list[str]:
    """The words of ``text``, without punctuation or case (formatting may change those)."""
    return re.findall(r"\w+", text.lower())


def duration_of(path: Path) -> float:
    return asyncio.run(PyAvConverter().probe(path.read_bytes())).duration_seconds


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="module")
def plain_texts(data_dir: Path) -> dict[str, dict[str, object]]:
    """Every sample's ``--format json`` report, by file name (recognized once; the other
    formats are answered from the stored transcript and its segments)."""
    result = voicescribe("transcribe", "--format", "json", *map(str, NOTES), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    return {Path(str(report["file"])).name: report for report in reports}


@pytest.mark.slow
def test_json_has_the_segments_ordered_within_the_audio(
    plain_texts: dict[str, dict[str, object]],
) -> None:
    assert set(plain_texts) == {note.name for note in NOTES}
    for note in NOTES:
        report = plain_texts[note.name]
        segments = report["segments"]
        assert isinstance(segments, list) and segments, report
        starts = [s["start"] for s in segments]
        assert starts == sorted(starts)
        assert all(0 <= s["start"] <= s["end"] <= duration_of(note) + 0.001 for s in segments)
        assert words(" ".join(s["text"] for s in segments)) == words(str(report["text"]))


@pytest.mark.slow
def test_srt_files_for_many_notes_parse_and_end_with_the_audio(
    tmp_path: Path, data_dir: Path, plain_texts: dict[str, dict[str, object]]
) -> None:
    out = tmp_path / "subtitles"
    result = voicescribe(
        "transcribe", "--format", "srt", "-o", str(out), *map(str, NOTES), data_dir=data_dir
    )

    assert result.returncode == 0, result.stderr
    written = [out / f"{note.stem}.srt" for note in NOTES]
    assert result.stdout.splitlines() == [str(path) for path in written]
    for note, path in zip(NOTES, written, strict=True):
        cues = list(srt_parser.parse(path.read_text(encoding="utf-8")))
        assert cues, path
        assert [cue.index for cue in cues] == list(range(1, len(cues) + 1))
        for before, after in itertools.pairwise(cues):
            assert before.start < before.end <= after.start < after.end, (before, after)
        audio_end = timedelta(seconds=duration_of(note))
        assert abs(cues[-1].end - audio_end) <= timedelta(seconds=1), (cues[-1], audio_end)
        shown = " ".join(cue.content for cue in cues)
        assert words(shown) == words(str(plain_texts[note.name]["text"])), note.name


@pytest.mark.slow
def test_vtt_and_timed_text_to_stdout(
    data_dir: Path, plain_texts: dict[str, dict[str, object]]
) -> None:
    note = SAMPLES / "en-weather.ogg"
    expected = words(str(plain_texts[note.name]["text"]))

    vtt = voicescribe("transcribe", "--format", "vtt", str(note), data_dir=data_dir)
    timed = voicescribe("transcribe", "--format", "timed", str(note), data_dir=data_dir)

    assert vtt.returncode == 0, vtt.stderr
    captions = webvtt.from_string(vtt.stdout).captions
    assert captions and words(" ".join(html.unescape(c.text) for c in captions)) == expected
    assert timed.returncode == 0, timed.stderr
    assert timed.stdout.startswith("[00:00] ")
    assert words(timed.stdout) == ["00", "00", *expected]


def test_two_files_that_would_write_one_path_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "note.ogg", tmp_path / "b" / "note.ogg"
    for path in (first, second):
        path.write_bytes(b"not read: refused before any work")
    out = tmp_path / "out"

    result = voicescribe(
        "transcribe",
        "--format",
        "srt",
        "-o",
        str(out),
        str(first),
        str(second),
        data_dir=tmp_path / "var",
    )

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"voicescribe: two files would both be written to {out}/note.srt\n"
    assert not out.exists()


def test_json_and_another_format_disagree(tmp_path: Path) -> None:
    result = voicescribe(
        "transcribe",
        "--json",
        "--format",
        "srt",
        str(tmp_path / "x.ogg"),
        data_dir=tmp_path / "var",
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert "--json" in result.stderr
