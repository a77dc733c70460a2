"""``voicescribe transcribe FILE...``: the real use cases on local files, text to stdout.

Files are processed at once whatever their length (the CLI has no webhook to keep
responsive, so it does not queue) and the local operator is never charged. Stdout carries
only transcripts; progress, logs and problems go to stderr, one clear line per problem.
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import attrs

from application.commands import AcceptVoiceNote
from application.notices import NoticeReason, describe
from application.reports import AcceptOutcome
from domain.jobs import AudioSource, JobStatus, MediaKind, UserStyle
from entrypoints.composition.container import Container

LOCAL_OPERATOR_ID = 0


def check_file(path: Path) -> str | None:
    """Why the file cannot be read, in a few words, or None if it can."""
    if not path.exists():
        return "no such file"
    if path.is_dir():
        return "is a directory, not a file"
    if path.stat().st_size == 0:
        return "the file is empty"
    return None


async def transcribe_files(
    container: Container, files: list[Path], language: str | None, as_json: bool
) -> int:
    app = container.use_cases()
    messenger = container.messenger()
    failures = 0
    for path in files:
        problem = check_file(path)
        if problem is not None:
            print(f"voicescribe: {path}: {problem}", file=sys.stderr)
            failures += 1
            continue
        outcome = await app.bus.handle(_command(path, language))
        text = messenger.transcripts.get(outcome.job_id or "")
        if text is None:
            print(f"voicescribe: {path}: {_why_not(outcome, messenger)}", file=sys.stderr)
            failures += 1
            continue
        if as_json:
            print(json.dumps(_as_json(path, outcome, text), ensure_ascii=False))
        else:
            print(text + ("\n" if len(files) > 1 else ""))
        sys.stdout.flush()
    return 1 if failures else 0


def _command(path: Path, language: str | None) -> AcceptVoiceNote:
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
        style=UserStyle(language=language),
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


def _as_json(path: Path, outcome: AcceptOutcome, text: str) -> dict[str, object]:
    report = outcome.report
    assert report is not None and report.status is JobStatus.DELIVERED
    return {
        "file": str(path),
        "text": text,
        "language": report.language,
        "duration_seconds": round(report.duration_seconds, 3),
        "formatter": report.formatter,
        "timings": {stage: round(seconds, 3) for stage, seconds in report.timings.items()},
        "job": attrs.asdict(outcome, filter=lambda a, _: a.name in ("acceptance", "job_id")),
    }
