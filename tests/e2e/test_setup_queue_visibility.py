"""``voicescribe setup`` and FC start-up on an MNS queue whose visibility timeout is short.

Why this exists: a queue created by hand, or changed in the console, with a visibility
timeout shorter than QUEUE_VISIBILITY_SECONDS hands a running job's message to another
worker. Setup reads the queue's attributes (GetQueueAttributes), reports them, and raises a
shorter timeout (SetQueueAttributes) while leaving a longer one; the FC initializer warns.
All through the real SDK against the MNS fake.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from entrypoints.fc.runtime import report_queue_visibility
from infrastructure.mns import MnsJobQueue
from tests.e2e.test_alibaba_profile import (
    QUEUE,
    alibaba_env,
    open_mns,
    open_tablestore,
    voicescribe,
)


def test_setup_raises_a_shorter_visibility_timeout_and_says_so(tmp_path: Path) -> None:
    with open_tablestore() as tablestore, open_mns() as mns:
        mns.add_queue(QUEUE, visibility_timeout=30)  # made by hand
        result = voicescribe("setup", env=alibaba_env(tmp_path / "var", tablestore, mns))

        assert result.returncode == 0, result.stderr
        assert mns.attributes(QUEUE)["VisibilityTimeout"] == 120
        assert "visibility timeout was 30 s" in result.stderr
        assert f"mns queue {QUEUE} ready (visibility timeout 120 s)" in result.stderr
        called = [r.operation for r in mns.requests]
        assert "GetQueueAttributes" in called and "SetQueueAttributes" in called


def test_setup_leaves_a_longer_visibility_timeout_and_reports_it(tmp_path: Path) -> None:
    with open_tablestore() as tablestore, open_mns() as mns:
        mns.add_queue(QUEUE, visibility_timeout=600)
        result = voicescribe("setup", env=alibaba_env(tmp_path / "var", tablestore, mns))

        assert result.returncode == 0, result.stderr
        assert mns.attributes(QUEUE)["VisibilityTimeout"] == 600
        assert f"mns queue {QUEUE} ready (visibility timeout 600 s)" in result.stderr
        assert "SetQueueAttributes" not in [r.operation for r in mns.requests]


def test_the_fc_start_up_warns_of_a_short_visibility_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def check(mns_endpoint: str, key: str, secret: str) -> None:
        queue = MnsJobQueue(mns_endpoint, key, secret, QUEUE, visibility_timeout_seconds=120)
        try:
            await report_queue_visibility(queue)
        finally:
            await queue.close()

    with open_mns() as mns:
        mns.add_queue(QUEUE, visibility_timeout=30)
        with caplog.at_level(logging.WARNING, logger="entrypoints.fc.runtime"):
            asyncio.run(check(mns.endpoint, mns.access_key_id, mns.access_key_secret))
        mns.add_queue(QUEUE, visibility_timeout=120)
        with caplog.at_level(logging.WARNING, logger="entrypoints.fc.runtime"):
            asyncio.run(check(mns.endpoint, mns.access_key_id, mns.access_key_secret))
    warnings = [r.getMessage() for r in caplog.records if "voicescribe setup" in r.getMessage()]
    assert warnings == [
        "the MNS queue's visibility timeout is 30 s, shorter than QUEUE_VISIBILITY_SECONDS "
        "(120 s): run `voicescribe setup` to correct it"
    ]
