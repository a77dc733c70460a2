"""Audio from the local disk, for the CLI: the source's ``file_id`` is a path."""

from __future__ import annotations

import asyncio
from pathlib import Path

from application.errors import FileTooLarge, FileUnavailable
from domain.jobs import AudioSource


class LocalFileSource:
    def __init__(self, max_bytes: int = 2_000_000_000) -> None:
        self._max_bytes = max_bytes

    async def fetch(self, source: AudioSource) -> bytes:
        return await asyncio.to_thread(self._read, Path(source.file_id))

    def _read(self, path: Path) -> bytes:
        try:
            size = path.stat().st_size
            if size > self._max_bytes:
                raise FileTooLarge(f"{path} is {size} bytes", limit_bytes=self._max_bytes)
            return path.read_bytes()
        except FileTooLarge:
            raise
        except FileNotFoundError:
            raise FileUnavailable(f"{path}: no such file", transient=False) from None
        except IsADirectoryError:
            raise FileUnavailable(f"{path} is a directory", transient=False) from None
        except OSError as error:
            raise FileUnavailable(f"{path}: {error.strerror}", transient=False) from None
