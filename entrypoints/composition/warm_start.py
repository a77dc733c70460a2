"""Loads the offline speech model when a long-running command starts.

Why this exists: the packaged Whisper model takes a second or two to assemble and load,
and its first recognition pays one-time set-up (the VAD model, CTranslate2's buffers).
Without this, the first user of every process waits for all of it. A model that cannot
be loaded is logged here and does not stop the bot: commands and payments still work,
and a voice note reports the failure as it would have anyway.
"""

from __future__ import annotations

import logging
import time

from application.errors import RecognitionFailed
from entrypoints.composition.container import Container
from infrastructure.whisper import WhisperRecognizer

log = logging.getLogger(__name__)


async def warm_recognizer(container: Container) -> None:
    recognizer = container.recognizer()
    if not isinstance(recognizer, WhisperRecognizer):
        return  # a cloud recognizer has nothing to load
    started = time.monotonic()
    try:
        await recognizer.warm_up()
    except RecognitionFailed as error:
        log.error("offline speech model not loaded: %s", error)
        return
    log.info("offline speech model ready in %.1f s", time.monotonic() - started)
