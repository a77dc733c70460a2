"""The Mini App's API at the protocol level, in the webhook app against the Bot API fake:
who may call (initData), resuming at every kind of byte boundary, the size cap enforced
while streaming, two users at once, another user's ids, and an upload reaching the chat
with its text and one charge. And the chat's door: a file over the download limit gets
the Mini App button."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from entrypoints.composition.container import Channel, Container, build_container
from entrypoints.composition.settings import load_settings
from entrypoints.http.app import create_webhook_app
from tests.bounded_waits import finish
from tests.e2e.conftest import RunningBot
from tests.e2e.mini_app_harness import WEBAPP_URL, auth, init_data, put_bytes, start_upload
from tests.e2e.test_telegram_bot import USER, scripted, visible
from tests.fakes.telegram import TelegramFake
from tests.media_clips import SAMPLES

OTHER = USER + 1
TEXT = "heard it through the page"


def recording() -> bytes:
    return (SAMPLES / "en-weather.ogg").read_bytes()


@attrs.define
class MiniAppUnderTest:
    client: httpx.AsyncClient
    container: Container
    fake: TelegramFake
    uploads_dir: Path

    def data(self, user_id: int = USER, **kwargs: Any) -> str:
        return init_data(self.fake.token, user_id, **kwargs)

    def stored_files(self) -> list[str]:
        return (
            sorted(p.name for p in self.uploads_dir.glob("*")) if self.uploads_dir.exists() else []
        )


@pytest.fixture
async def mini_app(
    bot_settings: dict[str, str], telegram_fake: TelegramFake
) -> AsyncIterator[Callable[..., Any]]:
    started: list[tuple[Any, httpx.AsyncClient]] = []

    async def start(**env: str) -> MiniAppUnderTest:
        settings = load_settings(
            {**bot_settings, "TELEGRAM_WEBHOOK_SECRET": "mini-app-secret", **env}
        )
        container = build_container(settings, Channel.TELEGRAM)
        _, prepare = scripted(TEXT)
        prepare(container)
        app = create_webhook_app(container, "mini-app-secret")
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://mini-app", timeout=60
        )
        started.append((lifespan, client))
        return MiniAppUnderTest(client, container, telegram_fake, settings.data_dir / "uploads")

    yield start
    for lifespan, client in started:
        await client.aclose()
        await finish(asyncio.ensure_future(lifespan.__aexit__(None, None, None)), 30, "lifespan")


async def test_the_page_is_served_without_credentials(mini_app) -> None:  # type: ignore[no-untyped-def]
    app: MiniAppUnderTest = await mini_app()
    page = await app.client.get("/app")
    assert page.status_code == 200 and '<script src="/app/app.js">' in page.text
    assert (await app.client.get("/app/app.js")).status_code == 200
    assert (await app.client.get("/app/..%2Fapp.py")).status_code == 404
    texts = (await app.client.get("/api/texts", params={"lang": "ru"})).json()
    assert texts["tab.history"] == "История"


@pytest.mark.parametrize(
    "how", ["none", "forged", "tampered_user", "other_bot", "expired", "no_hash"]
)
async def test_calls_without_valid_init_data_get_401_and_store_nothing(  # type: ignore[no-untyped-def]
    mini_app, how: str
) -> None:
    app: MiniAppUnderTest = await mini_app()
    valid = app.data()
    headers = {
        "none": {},
        "forged": auth("user=%7B%22id%22%3A4242%7D&auth_date=1&hash=" + "0" * 64),
        "tampered_user": auth(valid.replace("4242", "4243")),
        "other_bot": auth(init_data("999999:ANOTHERBOTTOKENANOTHERBOT", USER)),
        "expired": auth(app.data(age=86_400 + 600)),
        "no_hash": auth(valid.split("&hash=")[0]),
    }[how]
    body = {"name": "talk.ogg", "size": 10, "type": "audio/ogg"}
    calls = [
        app.client.post("/api/uploads", json=body, headers=headers),
        app.client.get("/api/history", headers=headers),
        app.client.put(
            "/api/uploads/abcdefgh12", params={"offset": 0}, content=b"x", headers=headers
        ),
    ]
    for call in calls:
        assert (await call).status_code == 401
    assert app.stored_files() == []


@pytest.mark.parametrize("first", ["start", "middle", "last_byte"])
async def test_an_upload_resumes_from_any_byte_and_reaches_the_chat_charged_once(  # type: ignore[no-untyped-def]
    mini_app, first: str
) -> None:
    app: MiniAppUnderTest = await mini_app()
    data, audio = app.data(), recording()
    cut = {"start": 1, "middle": len(audio) // 2, "last_byte": len(audio) - 1}[first]
    started = await start_upload(app.client, data, len(audio))
    assert started.status_code == 201
    upload_id = started.json()["upload_id"]

    part = await put_bytes(app.client, data, upload_id, 0, audio[:cut])
    assert part.status_code == 200 and part.json()["received"] == cut
    assert part.json()["job_id"] is None
    # A stale chunk (the page thought less had arrived) is refused with what is stored.
    stale = await put_bytes(app.client, data, upload_id, 0, audio)
    assert stale.status_code == 409 and stale.json()["received"] == cut
    status = await app.client.get(f"/api/uploads/{upload_id}", headers=auth(data))
    assert status.json()["received"] == cut

    done = await put_bytes(app.client, data, upload_id, cut, audio[cut:])
    assert done.status_code == 200, done.text
    assert done.json()["received"] == len(audio) and done.json()["job_id"]

    await app.fake.wait_for_async(lambda: [t for t in _seen(app) if t == TEXT], timeout=60)
    account = await app.container.accounts().get(USER)
    assert account is not None and (account.spent, account.reserved) == (1, 0)
    # Submitted once: the last chunk sent again changes nothing and charges nothing.
    again = await put_bytes(app.client, data, upload_id, cut, audio[cut:])
    assert again.status_code == 409
    history = await app.client.get("/api/history", headers=auth(data))
    [entry] = history.json()["items"]
    assert entry["first_words"] == TEXT
    opened = await app.client.get(f"/api/history/{entry['job_id']}", headers=auth(data))
    assert opened.json()["text"] == TEXT


def _seen(app: MiniAppUnderTest) -> list[str]:
    return visible(RunningBot(app.fake, app.container))


async def test_more_bytes_than_declared_are_refused_while_streaming(mini_app) -> None:  # type: ignore[no-untyped-def]
    app: MiniAppUnderTest = await mini_app()
    data, audio = app.data(), recording()
    upload_id = (await start_upload(app.client, data, 1000)).json()["upload_id"]

    async def endless() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for _ in range(100):
            yield audio[:400]

    answer = await app.client.put(
        f"/api/uploads/{upload_id}", params={"offset": 0}, content=endless(), headers=auth(data)
    )
    assert answer.status_code == 413
    status = (await app.client.get(f"/api/uploads/{upload_id}", headers=auth(data))).json()
    assert status["received"] <= 1000 and status["job_id"] is None
    assert (await app.container.jobs().list_by_user(USER, 10)) == []


async def test_an_upload_over_max_upload_mb_never_starts(mini_app) -> None:  # type: ignore[no-untyped-def]
    app: MiniAppUnderTest = await mini_app(MAX_UPLOAD_MB="1")
    answer = await start_upload(app.client, app.data(), 1024 * 1024 + 1)
    assert answer.status_code == 413
    refused = await app.client.post(
        "/api/uploads",
        json={"name": "notes.pdf", "size": 10, "type": "application/pdf"},
        headers=auth(app.data()),
    )
    assert refused.status_code == 400 and refused.json()["error"] == "not_a_recording"


async def test_two_users_upload_at_once_and_each_gets_their_own_text(mini_app) -> None:  # type: ignore[no-untyped-def]
    app: MiniAppUnderTest = await mini_app()
    audio = recording()

    async def upload(user_id: int) -> str:
        data = app.data(user_id)
        upload_id = (await start_upload(app.client, data, len(audio))).json()["upload_id"]
        half = len(audio) // 2
        await put_bytes(app.client, data, upload_id, 0, audio[:half])
        done = await put_bytes(app.client, data, upload_id, half, audio[half:])
        assert done.status_code == 200, done.text
        return str(done.json()["job_id"])

    first, second = await asyncio.gather(upload(USER), upload(OTHER))
    assert first != second
    for user_id in (USER, OTHER):
        await app.fake.wait_for_async(
            lambda u=user_id: [
                t for t in visible(RunningBot(app.fake, app.container), u) if t == TEXT
            ],
            timeout=60,
        )
        account = await app.container.accounts().get(user_id)
        assert account is not None and account.spent == 1


async def test_another_users_upload_and_transcript_are_not_found(mini_app) -> None:  # type: ignore[no-untyped-def]
    app: MiniAppUnderTest = await mini_app()
    mine, theirs = app.data(USER), app.data(OTHER)
    audio = recording()
    upload_id = (await start_upload(app.client, mine, len(audio))).json()["upload_id"]
    path = f"/api/uploads/{upload_id}"
    assert (await app.client.get(path, headers=auth(theirs))).status_code == 404
    assert (await put_bytes(app.client, theirs, upload_id, 0, audio)).status_code == 404
    assert (await app.client.delete(path, headers=auth(theirs))).status_code == 404
    assert (await app.client.get(path, headers=auth(mine))).json()["received"] == 0

    done = await put_bytes(app.client, mine, upload_id, 0, audio)
    job_id = done.json()["job_id"]
    await app.fake.wait_for_async(lambda: [t for t in _seen(app) if t == TEXT], timeout=60)
    assert (await app.client.get(f"/api/history/{job_id}", headers=auth(theirs))).status_code == 404
    assert (await app.client.get("/api/history", headers=auth(theirs))).json()["items"] == []


async def test_a_cancelled_upload_is_removed(mini_app) -> None:  # type: ignore[no-untyped-def]
    app: MiniAppUnderTest = await mini_app()
    data = app.data()
    upload_id = (await start_upload(app.client, data, 1000)).json()["upload_id"]
    await put_bytes(app.client, data, upload_id, 0, b"x" * 10)
    assert (
        await app.client.delete(f"/api/uploads/{upload_id}", headers=auth(data))
    ).status_code == 204
    assert app.stored_files() == []
    assert (
        await app.client.get(f"/api/uploads/{upload_id}", headers=auth(data))
    ).status_code == 404


async def test_a_file_over_the_download_limit_gets_the_mini_app_button(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot(TELEGRAM_DOWNLOAD_LIMIT_MB="20", WEBAPP_URL=WEBAPP_URL)
    fake = bot.fake
    file_id = fake.register_file(b"x" * 100, file_size=25 * 1024 * 1024)
    fake.push_voice(USER, USER, file_id, duration=1500)
    [offer] = await fake.wait_for_async(
        lambda: [m for m in fake.sent_messages(USER) if m.reply_markup], timeout=30
    )
    assert offer.plain_text == (
        "This file is larger than Telegram lets bots download (20 MB). Upload it here:"
    )
    [[button]] = offer.reply_markup["inline_keyboard"]
    assert button["web_app"] == {"url": WEBAPP_URL}
    fake.push_text(USER, USER, "/upload", language_code="ru")
    [prompt] = await fake.wait_for_async(
        lambda: [m for m in fake.sent_messages(USER) if "Загрузите" in m.plain_text], timeout=30
    )
    assert prompt.reply_markup["inline_keyboard"][0][0]["web_app"] == {"url": WEBAPP_URL}
    assert await bot.container.jobs().list_by_user(USER, 10) == []
    account = await bot.container.accounts().get(USER)
    assert account is None or (account.reserved, account.spent) == (0, 0)
