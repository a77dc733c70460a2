"""``voicescribe transcribe FILE...``: the real use cases on local files, text to stdout.

Files are processed at once whatever their length (the CLI has no webhook to keep
responsive, so it does not queue) and the local operator is never charged. Stdout carries
only transcripts (or, with ``-o DIR``, the paths of the files written there); progress,
logs and problems go to stderr, one clear line per problem.

``--format`` picks the output: ``text`` (the formatted text, as Telegram users get it),
``timed`` (paragraphs opening with ``[mm:ss]``), ``srt`` and ``vtt`` (subtitles), ``json``
(the text, its segments with their times, and the job's report). The timed outputs are made
from the stored job's segments, the recognizer's own times, never from formatted text; a
recognizer without times is sent cue-sized chunks for them (``OutputFormat.mode``).
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Any

import attrs

from application.commands import AcceptVoiceNote
from application.notices import NoticeReason, describe
from application.reports import AcceptOutcome
from domain.jobs import AudioSource, JobStatus, MediaKind, OutputMode, UserStyle, VoiceJob
from domain.subtitle_files import srt, webvtt
from domain.subtitles import cues
from domain.timed_text import timestamped_text
from domain.transcript import Segment, UntimedTranscript
from entrypoints.composition.container import Container

LOCAL_OPERATOR_ID = 0


class OutputFormat(StrEnum):
    TEXT = "text"
    TIMED = "timed"
    SRT = "srt"
    VTT = "vtt"
    JSON = "json"

    @property
    def mode(self) -> OutputMode:
        """What the job is recognized for: the timed formats (``json`` carries the segments)
        want fine times, which a recognizer without them gets from cue-sized chunks."""
        if self is OutputFormat.TEXT:
            return OutputMode.MESSAGES
        if self is OutputFormat.JSON:
            return OutputMode.TIMED
        return OutputMode(self.value)

    @property
    def extension(self) -> str:
        """The file name's ending with ``-o DIR``."""
        return ".txt" if self in (OutputFormat.TEXT, OutputFormat.TIMED) else f".{self.value}"


def check_file(path: Path) -> str | None:
    """Why the file cannot be read, in a few words, or None if it can."""
    if not path.exists():
        return "no such file"
    if path.is_dir():
        return "is a directory, not a file"
    if path.stat().st_size == 0:
        return "the file is empty"
    return None


def output_paths(files: list[Path], output_dir: Path, output: OutputFormat) -> dict[Path, Path]:
    """Where ``-o DIR`` writes each file's output: ``DIR/NAME.srt`` and so on. Raises
    ValueError when two files would write the same path."""
    written: dict[Path, Path] = {}
    for path in files:
        target = output_dir / (path.stem + output.extension)
        if target in written.values():
            raise ValueError(f"two files would both be written to {target}")
        written[path] = target
    return written


async def transcribe_files(
    container: Container,
    files: list[Path],
    language: str | None,
    output: OutputFormat = OutputFormat.TEXT,
    output_dir: Path | None = None,
) -> int:
    try:
        targets = output_paths(files, output_dir, output) if output_dir is not None else {}
    except ValueError as error:
        print(f"voicescribe: {error}", file=sys.stderr)
        return 2
    app = container.use_cases()
    messenger = container.messenger()
    failures = 0
    for path in files:
        problem = check_file(path)
        if problem is not None:
            print(f"voicescribe: {path}: {problem}", file=sys.stderr)
            failures += 1
            continue
        outcome = await app.bus.handle(_command(path, language, output.mode))
        text = messenger.transcripts.get(outcome.job_id or "")
        if text is None:
            print(f"voicescribe: {path}: {_why_not(outcome, messenger)}", file=sys.stderr)
            failures += 1
            continue
        job = await container.jobs().get(outcome.job_id or "")
        assert job is not None, "a delivered job is stored"
        try:
            rendered = _rendered(output, path, outcome, text, job)
        except UntimedTranscript:
            print(f"voicescribe: {path}: no times were kept for this transcript", file=sys.stderr)
            failures += 1
            continue
        if path in targets:
            try:
                targets[path].parent.mkdir(parents=True, exist_ok=True)
                targets[path].write_text(rendered + "\n", encoding="utf-8")
            except OSError as error:
                print(f"voicescribe: {targets[path]}: {error.strerror}", file=sys.stderr)
                failures += 1
                continue
            print(targets[path])
        else:
            print(rendered + ("\n" if len(files) > 1 and output is not OutputFormat.JSON else ""))
        sys.stdout.flush()
    return 1 if failures else 0


def _rendered(
    output: OutputFormat, path: Path, outcome: AcceptOutcome, text: str, job: VoiceJob
) -> str:
    """The file's output in ``output``; raises UntimedTranscript for a timed output of a
    transcript without times."""
    if output is OutputFormat.TEXT:
        return text
    if output is OutputFormat.JSON:
        return json.dumps(_as_json(path, outcome, text, job), ensure_ascii=False)
    if output is OutputFormat.TIMED:
        return timestamped_text(job.recognized)
    subtitles = cues(job.recognized, job.duration_seconds)
    return (srt(subtitles) if output is OutputFormat.SRT else webvtt(subtitles)).rstrip("\n")


def _command(path: Path, language: str | None, mode: OutputMode) -> AcceptVoiceNote:
    resolved = path.resolve()
    source = AudioSource(
        kind=MediaKind.LOCAL_FILE,
        file_id=str(resolved),
        file_unique_id=_content_id(resolved),
        file_size=resolved.stat().st_size,
        file_name=path.name,
    )
    return AcceptVoiceNote(
        request_id=f"cli-{uuid.uuid4().hex}",
        user_id=LOCAL_OPERATOR_ID,
        chat_id=LOCAL_OPERATOR_ID,
        source=source,
        style=UserStyle(language=language, output=mode),
        charge=False,
    )


def _content_id(path: Path) -> str:
    """Identifies the bytes, not the name: an edited file is transcribed anew."""
    with path.open("rb") as content:
        return "sha256:" + hashlib.file_digest(content, "sha256").hexdigest()


def _why_not(outcome: AcceptOutcome, messenger: Any) -> str:
    notice = outcome.notice or messenger.notices.get(outcome.job_id or "")
    if notice is None:
        return f"no transcript ({outcome.acceptance})"
    error = outcome.report.error if outcome.report is not None else None
    if notice.reason in (NoticeReason.INTERNAL, NoticeReason.SERVICE_BUSY) and error:
        # The operator, unlike a Telegram user, needs the cause: a key, a quota, an outage.
        return "failed: " + error.split(": ", 1)[-1]
    return describe(notice, "en").rstrip(".").lower().replace("this recording", "the recording")


def _as_json(path: Path, outcome: AcceptOutcome, text: str, job: VoiceJob) -> dict[str, object]:
    report = outcome.report
    assert report is not None and report.status is JobStatus.DELIVERED
    return {
        "file": str(path),
        "text": text,
        "segments": [_segment_json(s) for s in job.recognized.segments],
        "language": report.language,
        "duration_seconds": round(report.duration_seconds, 3),
        "formatter": report.formatter,
        "timings": {stage: round(seconds, 3) for stage, seconds in report.timings.items()},
        "job": attrs.asdict(outcome, filter=lambda a, _: a.name in ("acceptance", "job_id")),
    }


def _segment_json(segment: Segment) -> dict[str, object]:
    """A segment as JSON: seconds to the millisecond (``null`` when unknown), its text,
    and the speaker when one is named."""
    item: dict[str, object] = {
        "start": None if segment.start is None else round(segment.start, 3),
        "end": None if segment.end is None else round(segment.end, 3),
        "text": segment.text,
    }
    if segment.speaker:
        item["speaker"] = segment.speaker
    return item
