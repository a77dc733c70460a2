"""``voicescribe config``: the resolved configuration and the adapters it selects."""

from __future__ import annotations

import json

from entrypoints.composition.container import Container

PORTS = ("jobs", "accounts", "queue", "recognizer", "converter")
RULES = (
    "OSS_ENDPOINT and OSS_BUCKET are required in the alibaba profile when WEBAPP_URL is set "
    "(the Mini App's uploads go to OSS); without OSS_BUCKET uploads stay in "
    "VOICESCRIBE_DATA_DIR/uploads/",
)


async def show_config(container: Container) -> int:
    adapters = {port: type(getattr(container, port)()).__name__ for port in PORTS}
    # A chat's files (uploaded recordings are read from the upload storage before it).
    adapters["files"] = type(container.chat_files()).__name__
    adapters["uploads"] = type(container.upload_storage()).__name__
    adapters["formatters"] = " -> ".join(
        [*(f.name for f in container.llm_formatters()), container.local_formatter().name]
    )
    shown = {"settings": container.settings().masked(), "adapters": adapters, "rules": RULES}
    print(json.dumps(shown, indent=2))
    return 0
