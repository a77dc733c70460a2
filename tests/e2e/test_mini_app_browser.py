"""The Mini App in a real browser: Debian's headless Chromium, driven by Selenium, opens
``/app`` as Telegram would (initData in the URL fragment), uploads a 25 MB recording
through the page's own file picker, shows its progress, survives a connection dropped
mid-way (a TCP proxy cuts it; the page resumes from what the server stored), and shows
the transcript in History once the job is done; the text reaches the chat, charged once.
Forged initData shows "open this from Telegram" and uploads nothing. A screenshot of each
screen is saved in ``var/test-output/mini-app/`` for people to look at.

The server is the real webhook app under uvicorn in a thread of its own; every wait is on
a condition the page or the server shows, with generous limits (a loaded machine is slow,
never wrong). ``make browser`` (a step of ``make test``) installs Chromium and Selenium.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import uvicorn
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from entrypoints.composition.container import Channel, Container, build_container
from entrypoints.composition.settings import load_settings
from entrypoints.http.app import create_webhook_app
from tests.e2e.mini_app_harness import init_data, padded_wav
from tests.e2e.test_telegram_bot import USER, scripted
from tests.fakes.dropping_proxy import DroppingProxy
from tests.fakes.telegram import TelegramFake

TEXT = "the weather report heard through the upload page"
SIZE = 25 * 1024 * 1024
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "test-output" / "mini-app"
WAIT = 120  # seconds: a loaded 2-core machine, a 25 MB upload, a job


class ServedApp:
    """The webhook app under uvicorn, behind the dropping proxy, on its own loop."""

    def __init__(self, env: dict[str, str], prepare: Callable[[Container], None]) -> None:
        self.container = build_container(load_settings(env), Channel.TELEGRAM)
        prepare(self.container)
        self._app_socket = _loopback_socket()
        self._proxy_socket = _loopback_socket()
        self.port = self._proxy_socket.getsockname()[1]
        self.proxy = DroppingProxy(
            self._proxy_socket, self._app_socket.getsockname()[1], drop_after_bytes=SIZE // 2
        )
        self._started = threading.Event()
        self._server: uvicorn.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="mini-app-server", daemon=True)

    def __enter__(self) -> ServedApp:
        self._thread.start()
        assert self._started.wait(WAIT), "the app did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.proxy.let_through.set()
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(WAIT)
        assert not self._thread.is_alive(), "the app did not stop"

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        app = create_webhook_app(self.container, "browser-test-secret")
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        await self.proxy.start()
        serving = asyncio.create_task(self._server.serve(sockets=[self._app_socket]))
        while not self._server.started and not serving.done():  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.05)
        self._started.set()
        try:
            await serving
        finally:
            await self.proxy.close()

    def url(self, data: str) -> str:
        theme = json.dumps({"bg_color": "#ffffff", "button_color": "#2a7ad5"})
        return f"http://127.0.0.1:{self.port}/app#tgWebAppData={quote(data)}" + (
            f"&tgWebAppThemeParams={quote(theme)}"
        )


def _loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "Chromium is missing: `make browser` installs it"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=412,915",  # a phone
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--no-pings",
        # Nothing leaves this machine: every host but the loopback resolves to nothing.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(argument)
    session = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    session.set_page_load_timeout(WAIT)
    try:
        yield session
    finally:
        session.quit()


@pytest.fixture
def screenshots() -> Callable[[WebDriver, str], None]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(session: WebDriver, name: str) -> None:
        assert session.save_screenshot(str(SCREENSHOTS / f"{name}.png"))

    return take


def _uploads_stored(app: ServedApp) -> list[Path]:
    folder = app.container.settings().data_dir / "uploads"
    return sorted(folder.glob("*")) if folder.exists() else []


def test_a_25_mb_upload_survives_a_dropped_connection_and_lands_in_history(
    bot_settings: dict[str, str],
    telegram_fake: TelegramFake,
    browser: WebDriver,
    screenshots: Callable[[WebDriver, str], None],
    tmp_path: Path,
) -> None:
    recording = tmp_path / "meeting.wav"
    recording.write_bytes(padded_wav(SIZE))
    _, prepare = scripted(TEXT)
    env = {**bot_settings, "TELEGRAM_WEBHOOK_SECRET": "browser-test-secret"}
    wait = WebDriverWait(browser, WAIT, poll_frequency=0.2)
    with ServedApp(env, prepare) as app:
        browser.get(app.url(init_data(telegram_fake.token, USER)))
        wait.until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "yes"
        screenshots(browser, "1-upload-page")

        browser.find_element(By.ID, "files").send_keys(str(recording))
        assert app.proxy.dropped.wait(WAIT), "the upload never reached the middle"
        row = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#uploads li")))
        wait.until(lambda _: "resuming" in row.find_element(By.CLASS_NAME, "status").text)
        progress = int(row.find_element(By.TAG_NAME, "progress").get_attribute("value") or 0)
        assert 0 < progress < 100, progress
        screenshots(browser, "2-progress-connection-dropped")

        app.proxy.let_through.set()  # the network is back: the page resumes by itself
        wait.until(lambda _: row.get_attribute("data-state") == "delivered")
        screenshots(browser, "3-uploaded")
        telegram_fake.wait_for(
            lambda: [m for m in telegram_fake.sent_messages(USER) if m.plain_text == TEXT],
            timeout=WAIT,
        )
        account = asyncio.run(_account(app))
        assert account is not None and (account.spent, account.reserved) == (1, 0)

        browser.find_element(By.ID, "tab-history").click()
        # The list may be drawn twice (the finished upload and the tab both load it): an
        # entry found just before a redraw is looked up again, never used stale.
        settled = WebDriverWait(
            browser, WAIT, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException]
        )
        settled.until(lambda b: TEXT in b.find_element(By.CSS_SELECTOR, "#history li button").text)
        screenshots(browser, "4-history")
        settled.until(lambda b: b.find_element(By.CSS_SELECTOR, "#history li button").click() or 1)
        shown = wait.until(ec.visibility_of_element_located((By.ID, "transcript-text")))
        assert shown.text == TEXT
        screenshots(browser, "5-transcript")


async def _account(app: ServedApp):  # type: ignore[no-untyped-def]
    return await app.container.accounts().get(USER)


def test_forged_init_data_asks_to_open_the_page_from_telegram(
    bot_settings: dict[str, str],
    telegram_fake: TelegramFake,
    browser: WebDriver,
    screenshots: Callable[[WebDriver, str], None],
) -> None:
    _, prepare = scripted(TEXT)
    env = {**bot_settings, "TELEGRAM_WEBHOOK_SECRET": "browser-test-secret"}
    with ServedApp(env, prepare) as app:
        forged = init_data("123456:NOTTHISBOTSTOKENNOTTHISBOTS", USER)
        browser.get(app.url(forged))
        WebDriverWait(browser, WAIT, poll_frequency=0.2).until(
            lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready")
        )
        notice = browser.find_element(By.ID, "auth-error")
        assert notice.is_displayed() and "Open this from Telegram" in notice.text
        assert not browser.find_element(By.ID, "files").is_displayed()
        screenshots(browser, "6-forged-init-data")
        assert _uploads_stored(app) == []
