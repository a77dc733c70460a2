"""The webhook answers 503 when the store cannot take the update (its write lock held by
another process past the busy timeout), so Telegram delivers it again; once the store
takes it, it is answered 200 and handled."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

from application.inbox import Inbox
from entrypoints.http.ack_first import AckFirstAdmission, IngressActivity
from entrypoints.http.app import WEBHOOK_PATH, WebhookEndpoint
from entrypoints.telegram.update_bridge import PtbBridge
from infrastructure.sqlite import SqliteDatabase
from infrastructure.sqlite.updates import SqliteProcessedUpdates
from tests.entrypoints.test_webhook_inbox import RecordingAlerts, RecordingBot

SECRET = "s3cret"


async def post(endpoint: WebhookEndpoint, payload: dict[str, Any]) -> int:
    body = json.dumps(payload).encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": WEBHOOK_PATH,
        "headers": [
            (b"x-telegram-bot-api-secret-token", SECRET.encode()),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await endpoint(scope, receive, send)
    return int(sent[0]["status"])


async def test_a_locked_store_answers_503_and_the_redelivery_is_taken(tmp_path: Path) -> None:
    path = tmp_path / "inbox.sqlite3"
    db = SqliteDatabase(path, busy_timeout_ms=200)
    store = SqliteProcessedUpdates(db)
    ptb = RecordingBot()
    activity = IngressActivity()
    inbox = Inbox(
        PtbBridge(ptb),
        store,
        AckFirstAdmission(activity, gap_seconds=0.0),
        alerts=RecordingAlerts(),
        concurrency=2,
    )
    endpoint = WebhookEndpoint(SECRET, inbox, activity, 1_000_000)
    assert await post(endpoint, {"update_id": 1}) == 200  # opens and migrates the file
    other_process = sqlite3.connect(path, isolation_level=None)
    try:
        other_process.execute("BEGIN IMMEDIATE")  # holds the write lock
        assert await post(endpoint, {"update_id": 2}) == 503
        assert inbox.held == 0 or ptb.handled == [1], "nothing held for update 2"
    finally:
        other_process.execute("ROLLBACK")
        other_process.close()
    assert await post(endpoint, {"update_id": 2}) == 200, "Telegram's redelivery"
    assert await inbox.drain(30)
    assert sorted(ptb.handled) == [1, 2]
    await asyncio.wait_for(db.close(), 30)
