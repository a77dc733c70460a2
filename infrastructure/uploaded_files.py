"""``FileSource`` for recordings uploaded through the Mini App, in front of the chat's.

An uploaded recording's job names its upload (``upload:ID``, see
``application.handlers.uploads``): its bytes come from upload storage (local disk or
OSS); every other job's file from the source it came with (Telegram, a local path).
"""

from __future__ import annotations

from application.errors import FileUnavailable, UploadError
from application.handlers.uploads import UPLOADED
from application.ports import FileSource, UploadStorage
from domain.jobs import AudioSource


class UploadedFileSource:
    def __init__(self, uploads: UploadStorage, others: FileSource) -> None:
        self._uploads = uploads
        self._others = others

    async def fetch(self, source: AudioSource) -> bytes:
        if not source.file_id.startswith(UPLOADED):
            return await self._others.fetch(source)
        try:
            return await self._uploads.read(source.file_id.removeprefix(UPLOADED))
        except UploadError as error:
            raise FileUnavailable(str(error), transient=error.transient) from error
