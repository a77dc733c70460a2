"""The offline recognizer's segments on the committed voice notes: ordered, inside the
audio, joined into exactly the text it answers (which reads as it did before segments
were kept), and good subtitles: the SRT parses, the last cue ends within 1 s of the audio's
end, and the cues' words score the same word error rate as the plain text."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import srt as srt_parser  # type: ignore[import-untyped]

from domain.policies import PCM_16K
from domain.subtitle_files import srt
from domain.subtitles import cues
from infrastructure.audio import PyAvConverter
from infrastructure.whisper import WhisperRecognizer
from tests.media_clips import SAMPLES
from tests.word_error_rate import word_error_rate

pytestmark = pytest.mark.slow

NOTES = [("en-weather", "en"), ("en-short", "en"), ("ru-greeting", "ru"), ("ru-short", "ru")]


@pytest.fixture(scope="module")
def recognizer(shared_models_dir: Path) -> WhisperRecognizer:
    return WhisperRecognizer("base", models_dir=shared_models_dir)


async def _note(name: str) -> tuple[bytes, float, str]:
    data = (SAMPLES / f"{name}.ogg").read_bytes()
    converter = PyAvConverter()
    duration = (await converter.probe(data)).duration_seconds
    return await converter.convert(data, PCM_16K), duration, (SAMPLES / f"{name}.txt").read_text()


@pytest.mark.parametrize(("name", "language"), NOTES)
async def test_segments_are_ordered_inside_the_audio_and_make_the_text(
    recognizer: WhisperRecognizer, name: str, language: str
) -> None:
    pcm, duration, _ = await _note(name)

    heard = await recognizer.transcribe(pcm, PCM_16K, language)
    answered = await recognizer.recognize(pcm, PCM_16K, language)

    segments = heard.transcript.segments
    assert segments and heard.transcript.timed
    starts: list[float] = []
    for segment in segments:
        assert segment.start is not None and segment.end is not None
        assert 0 <= segment.start <= segment.end <= duration + 0.5
        starts.append(segment.start)
    assert starts == sorted(starts)
    assert heard.transcript.text == answered.text
    assert heard.language == answered.language == language


@pytest.mark.parametrize(("name", "language"), NOTES)
async def test_the_text_reads_as_it_did_before_segments_were_kept(
    recognizer: WhisperRecognizer, name: str, language: str
) -> None:
    pcm, _, _ = await _note(name)
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    # What recognize_blocking did before: faster-whisper's segment texts joined with "".
    raw, _ = recognizer.load().transcribe(
        samples,
        language=language,
        beam_size=1,
        temperature=0.0,
        condition_on_previous_text=False,
        vad_filter=True,
    )
    before = "".join(segment.text for segment in raw).strip()

    assert (await recognizer.recognize(pcm, PCM_16K, language)).text == before


@pytest.mark.parametrize(("name", "language"), NOTES)
async def test_subtitles_of_a_voice_note(
    recognizer: WhisperRecognizer, name: str, language: str
) -> None:
    pcm, duration, script = await _note(name)
    heard = await recognizer.transcribe(pcm, PCM_16K, language)

    made = cues(heard.transcript, duration)
    parsed = list(srt_parser.parse(srt(made)))

    assert len(parsed) == len(made) >= 1
    for earlier, later in itertools.pairwise(parsed):
        assert earlier.end <= later.start
    assert abs(parsed[-1].end.total_seconds() - duration) <= 1.0
    cue_text = " ".join(s.content.replace("\n", " ") for s in parsed)
    assert word_error_rate(script, cue_text) == word_error_rate(script, heard.transcript.text)
