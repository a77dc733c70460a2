"""``voicescribe config``: the resolved configuration and the adapters it selects."""

from __future__ import annotations

import json

from entrypoints.composition.container import Container

PORTS = ("jobs", "accounts", "queue", "recognizer", "converter", "files")


async def show_config(container: Container) -> int:
    adapters = {port: type(getattr(container, port)()).__name__ for port in PORTS}
    adapters["formatters"] = " -> ".join(
        [*(f.name for f in container.llm_formatters()), container.local_formatter().name]
    )
    print(json.dumps({"settings": container.settings().masked(), "adapters": adapters}, indent=2))
    return 0
