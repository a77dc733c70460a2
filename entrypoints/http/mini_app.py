"""The Mini App: the page at ``/app`` and the API it calls, in the webhook's HTTP app.

Every ``/api/`` call carries Telegram's ``initData`` (``Authorization: tma <initData>``),
checked by ``domain.init_data`` against the bot token and ``WEBAPP_AUTH_MAX_AGE_SECONDS``;
the user id is taken from it and nowhere else, and data that fails gets 401 with nothing
stored. Uploads (``application.handlers.uploads``) are streamed: a ``PUT`` body goes from
the socket to storage in chunks, counted as it arrives (the declared size is the cap,
whatever the headers say), and a dropped connection keeps what arrived, so the page
resumes from the offset ``GET`` reports. The page itself is static files in
``mini_app_page/`` (no build step); its wording comes from ``application.wording``.

  POST   /api/uploads               {name, size, type} -> 201 {upload_id, received, size}
  GET    /api/uploads/{id}          -> {received, size, job_id, job_status}
  PUT    /api/uploads/{id}?offset=N body: bytes from N -> {received, size, job_id, ...}
  DELETE /api/uploads/{id}          -> 204
  GET    /api/history               -> {items: [...]}
  GET    /api/history/{job_id}      -> {text, srt, ...}
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from application.errors import UploadError
from application.handlers.uploads import (
    Submitted,
    UploadNotFound,
    UploadRefused,
    Uploads,
    UploadTooLarge,
)
from application.history import HistoryEntry, TranscriptHistory
from application.notices import describe
from application.ports import JobRepository, UploadRecord
from application.reports import Acceptance
from application.wording import LANGUAGES, language_of
from domain.init_data import InitDataRejected, WebAppUser, validate

log = logging.getLogger(__name__)

PAGE_DIR = Path(__file__).parent / "mini_app_page"
PAGE_FILES = {"app.js": "text/javascript", "style.css": "text/css"}
PAGE_TEXT_PREFIX = "app."


@attrs.frozen
class MiniAppConfig:
    bot_token: str
    auth_max_age_seconds: float


class MiniApp:
    """The routes of the page and its API, for ``create_webhook_app`` to mount."""

    def __init__(
        self,
        config: MiniAppConfig,
        uploads: Uploads,
        history: TranscriptHistory,
        jobs: JobRepository,
        now: Callable[[], float],
    ) -> None:
        self._config = config
        self._uploads = uploads
        self._history = history
        self._jobs = jobs
        self._now = now

    def routes(self) -> list[Route]:
        return [
            Route("/app", self.page, methods=["GET"]),
            Route("/app/{name}", self.asset, methods=["GET"]),
            Route("/api/texts", self.texts, methods=["GET"]),
            Route("/api/uploads", self.start, methods=["POST"]),
            Route("/api/uploads/{upload_id}", self.status, methods=["GET"]),
            Route("/api/uploads/{upload_id}", self.receive, methods=["PUT"]),
            Route("/api/uploads/{upload_id}", self.cancel, methods=["DELETE"]),
            Route("/api/history", self.recent, methods=["GET"]),
            Route("/api/history/{job_id}", self.transcript, methods=["GET"]),
        ]

    async def page(self, request: Request) -> Response:
        return FileResponse(PAGE_DIR / "index.html", headers=_PAGE_HEADERS)

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in PAGE_FILES:  # a fixed list: a request names no path
            return Response(status_code=404)
        return FileResponse(PAGE_DIR / name, media_type=PAGE_FILES[name], headers=_PAGE_HEADERS)

    async def texts(self, request: Request) -> Response:
        """The page's wording in the asked language (English when unknown)."""
        language = request.query_params.get("lang")
        return JSONResponse(page_texts(language))

    def _user(self, request: Request) -> WebAppUser | None:
        header = request.headers.get("authorization", "")
        scheme, _, data = header.partition(" ")
        if scheme.lower() != "tma" or not data:
            return None
        try:
            return validate(
                data, self._config.bot_token, self._now(), self._config.auth_max_age_seconds
            )
        except InitDataRejected as error:
            log.info("Mini App call refused: %s", error)
            return None

    async def start(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return _UNAUTHORIZED()
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "bad_request")
        if not isinstance(body, dict):
            return _error(400, "bad_request")
        name, size, kind = body.get("name"), body.get("size"), body.get("type")
        if not isinstance(name, str) or not isinstance(size, int) or isinstance(size, bool):
            return _error(400, "bad_request")
        try:
            record = await self._uploads.start(
                user.user_id, name, size, kind if isinstance(kind, str) else None
            )
        except UploadRefused as refusal:
            return _refusal(refusal)
        except UploadError:
            return _error(503, "storage_unavailable")
        return JSONResponse(
            {**_record(record), "max_bytes": self._uploads.max_bytes}, status_code=201
        )

    async def status(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return _UNAUTHORIZED()
        try:
            record = await self._uploads.status(user.user_id, request.path_params["upload_id"])
        except UploadRefused as refusal:
            return _refusal(refusal)
        except UploadError:
            return _error(503, "storage_unavailable")
        return JSONResponse(await self._with_job(record))

    async def receive(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return _UNAUTHORIZED()
        offset = request.query_params.get("offset", "")
        if not offset.isdigit() or len(offset) > 15:
            return _error(400, "bad_offset")
        upload_id = request.path_params["upload_id"]
        try:
            submitted = await self._uploads.receive(
                user.user_id, upload_id, int(offset), _body(request), user.language_code
            )
        except UploadRefused as refusal:
            if refusal.reason == "offset":  # the page resumes from what is stored
                return await self._conflict(user.user_id, upload_id)
            return _refusal(refusal)
        except UploadError:
            return _error(503, "storage_unavailable")
        return JSONResponse(await self._submitted(submitted, user.language_code))

    async def _conflict(self, user_id: int, upload_id: str) -> Response:
        record = await self._uploads.status(user_id, upload_id)
        return JSONResponse({"error": "offset", **_record(record)}, status_code=409)

    async def cancel(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return _UNAUTHORIZED()
        try:
            await self._uploads.cancel(user.user_id, request.path_params["upload_id"])
        except UploadRefused as refusal:
            return _refusal(refusal)
        except UploadError:
            return _error(503, "storage_unavailable")
        return Response(status_code=204)

    async def recent(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return _UNAUTHORIZED()
        items = await self._history.recent(user.user_id)
        return JSONResponse(
            {"items": [_entry(item) for item in items]},
            headers={"x-max-upload-bytes": str(self._uploads.max_bytes)},
        )

    async def transcript(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return _UNAUTHORIZED()
        stored = await self._history.transcript(user.user_id, request.path_params["job_id"])
        if stored is None:
            return _error(404, "not_found")
        return JSONResponse({**_entry(stored.entry), "text": stored.text, "srt": stored.srt})

    async def _with_job(self, record: UploadRecord) -> dict[str, Any]:
        shown = _record(record)
        if record.job_id is not None:
            job = await self._jobs.get(record.job_id)
            shown["job_status"] = job.status.value if job is not None else None
        return shown

    async def _submitted(self, submitted: Submitted, language: str | None) -> dict[str, Any]:
        shown = await self._with_job(submitted.record)
        outcome = submitted.outcome
        if outcome is not None:
            shown["acceptance"] = outcome.acceptance.value
            if outcome.acceptance is Acceptance.REJECTED and outcome.notice is not None:
                shown["refusal"] = describe(outcome.notice, language)
        return shown


def page_texts(language: str | None) -> dict[str, str]:
    """The page's texts (keys ``app.*``), placeholders left for the page to fill."""
    texts = LANGUAGES[language_of(language)]
    return {
        key.removeprefix(PAGE_TEXT_PREFIX): value
        for key, value in texts.items()
        if key.startswith(PAGE_TEXT_PREFIX)
    }


async def _body(request: Request) -> AsyncIterator[bytes]:
    """The request's body as it arrives; a dropped connection simply ends it (what came
    is kept, and the page resumes from there)."""
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect:
        log.info("an upload's connection dropped; it resumes from what arrived")


def _record(record: UploadRecord) -> dict[str, Any]:
    return {
        "upload_id": record.upload_id,
        "name": record.file_name,
        "size": record.size,
        "received": record.received,
        "job_id": record.job_id,
    }


def _entry(entry: HistoryEntry) -> dict[str, Any]:
    return attrs.asdict(entry)


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


def _UNAUTHORIZED() -> JSONResponse:  # noqa: N802 - reads as the status it is
    return _error(401, "unauthorized")


def _refusal(refusal: UploadRefused) -> JSONResponse:
    if isinstance(refusal, UploadNotFound):
        return _error(404, "not_found")
    if isinstance(refusal, UploadTooLarge):
        return _error(413, "too_large")
    return _error(409 if refusal.reason in ("offset", "submitted") else 400, refusal.reason)


# The page is small and changes with releases: always revalidated.
_PAGE_HEADERS = {"cache-control": "no-cache"}
