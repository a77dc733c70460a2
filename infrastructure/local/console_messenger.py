"""The CLI's messenger: progress and notices to stderr, transcripts kept for stdout.

The CLI prints the text itself once every file is done, so stdout carries transcripts and
nothing else, whatever the order in which jobs finish.
"""

from __future__ import annotations

import sys
from typing import TextIO

from application.notices import Notice, describe
from application.progress import Progress
from domain.jobs import VoiceJob


class ConsoleMessenger:
    def __init__(self, progress_stream: TextIO | None = None, verbose: bool = False) -> None:
        self._stream = progress_stream or sys.stderr
        self._verbose = verbose
        self.transcripts: dict[str, str] = {}
        self.notices: dict[str, Notice] = {}

    async def report_progress(self, job: VoiceJob, progress: Progress) -> None:
        if not self._verbose:
            return
        counter = f" {progress.done}/{progress.total}" if progress.total > 1 else ""
        print(
            f"[{job.source.file_name or job.job_id}] {progress.stage}{counter}", file=self._stream
        )

    async def deliver(self, job: VoiceJob, text: str) -> None:
        self.transcripts[job.job_id] = text

    async def notify(self, job: VoiceJob, notice: Notice) -> None:
        self.notices[job.job_id] = notice

    @staticmethod
    def wording(notice: Notice) -> str:
        return describe(notice, "en")
