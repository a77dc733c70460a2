"""The ``voicescribe`` command: parses arguments, loads settings, runs one subcommand.

Problems are reported as one clear line on stderr with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from entrypoints.cli.config import show_config
from entrypoints.cli.serve import serve
from entrypoints.cli.setup import set_up
from entrypoints.cli.transcribe import OutputFormat, transcribe_files
from entrypoints.cli.webhook import (
    EVENT_LOOPS,
    HTTP_PARSERS,
    register_webhook,
    serve_webhook,
    webhook_workers,
)
from entrypoints.cli.worker import run_worker
from entrypoints.composition.container import Channel, Container, build_container
from entrypoints.composition.settings import ConfigurationError, Settings, load_settings

# The commands that talk to Telegram, and the settings each needs beyond the profile's.
TELEGRAM_COMMANDS = {
    "serve": ("TELEGRAM_BOT_TOKEN",),
    "worker": ("TELEGRAM_BOT_TOKEN",),
    "webhook": ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"),
    "set-webhook": ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"),
}


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="voicescribe", description="Turn voice notes, audio and video into formatted text."
    )
    root.add_argument("-v", "--verbose", action="store_true", help="progress and logs on stderr")
    commands = root.add_subparsers(dest="command", required=True)
    transcribe = commands.add_parser("transcribe", help="transcribe local files to stdout")
    transcribe.add_argument("files", nargs="+", type=Path, metavar="FILE")
    transcribe.add_argument("--language", help="language code of the speech, e.g. en or ru")
    transcribe.add_argument(
        "--format",
        choices=[output.value for output in OutputFormat],
        default=None,
        help="text (default), timed ([mm:ss] paragraphs), srt or vtt (subtitles), or json "
        "(one object per file, with the segments' times)",
    )
    transcribe.add_argument("--json", action="store_true", help="the same as --format json")
    transcribe.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="write NAME.txt / .srt / .vtt / .json into DIR for each FILE (their paths to stdout)",
    )
    commands.add_parser("config", help="show the resolved configuration, secrets masked")
    commands.add_parser("serve", help="run the Telegram bot (long polling) with workers")
    webhook = commands.add_parser("webhook", help="serve Telegram's webhook (ASGI, uvicorn)")
    webhook.add_argument("--host", default="127.0.0.1")
    webhook.add_argument("--port", type=int, default=8080)
    webhook.add_argument(
        "--workers",
        type=int,
        default=None,
        help="queue workers in this process (default: 1 with the SQLite queue, 0 with MNS, "
        "whose jobs Function Compute's worker runs; 0 when a separate worker runs)",
    )
    webhook.add_argument(
        "--http",
        choices=HTTP_PARSERS,
        default=HTTP_PARSERS[0],
        help="uvicorn's HTTP parser (default: httptools, the faster; benchmarks/README.md)",
    )
    webhook.add_argument(
        "--loop",
        choices=EVENT_LOOPS,
        default=EVENT_LOOPS[0],
        help="the event loop (default: uvloop, the faster; benchmarks/README.md)",
    )
    set_webhook = commands.add_parser("set-webhook", help="register the webhook URL with Telegram")
    set_webhook.add_argument("url")
    commands.add_parser("setup", help="create tables, queue and the offline model (idempotent)")
    worker = commands.add_parser("worker", help="take jobs off the queue until SIGTERM")
    worker.add_argument("--concurrency", type=int, default=None, help="jobs in flight")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # A local command speaks in one line per problem; servers keep an operator's log.
    quiet = args.command in ("transcribe", "config", "setup", "set-webhook")
    logging.basicConfig(
        level=logging.INFO if args.verbose else (logging.CRITICAL if quiet else logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = load_settings()
    except ConfigurationError as error:
        print(f"voicescribe: {error}", file=sys.stderr)
        return 2
    if args.command in TELEGRAM_COMMANDS:
        missing = [name for name in TELEGRAM_COMMANDS[args.command] if not settings.value(name)]
        if missing:
            print(f"voicescribe: {args.command} needs {', '.join(missing)}", file=sys.stderr)
            return 2
    container = _container_for(args.command, settings, verbose=args.verbose)
    if args.command == "config":
        return run(container, lambda: show_config(container))
    if args.command == "transcribe":
        output = _output_format(args.format, as_json=args.json)
        if output is None:
            print("voicescribe: --json and --format other than json disagree", file=sys.stderr)
            return 2
        return run(
            container,
            lambda: transcribe_files(container, args.files, args.language, output, args.output_dir),
        )
    if args.command == "serve":
        return run(container, lambda: serve(container))
    if args.command == "webhook":
        workers = webhook_workers(args.workers, settings.queue_backend)
        return serve_webhook(
            container, args.host, args.port, workers, http=args.http, loop=args.loop
        )
    if args.command == "worker":
        concurrency = args.concurrency or settings.worker_concurrency
        return run(container, lambda: run_worker(container, max(1, concurrency)))
    if args.command == "setup":
        return run(container, lambda: set_up(container))
    if args.command == "set-webhook":
        return run(container, lambda: register_webhook(container, args.url))
    raise AssertionError(f"unhandled command {args.command}")


def _output_format(chosen: str | None, *, as_json: bool) -> OutputFormat | None:
    """``--format``, with ``--json`` as its old spelling; ``None`` when they disagree."""
    if as_json and chosen not in (None, OutputFormat.JSON.value):
        return None
    return OutputFormat.JSON if as_json else OutputFormat(chosen or OutputFormat.TEXT.value)


def _container_for(command: str, settings: Settings, *, verbose: bool) -> Container:
    if command in TELEGRAM_COMMANDS:
        return build_container(settings, Channel.TELEGRAM)
    # The CLI has no webhook to keep responsive and no worker: every file at once.
    return build_container(settings, inline_everything=command == "transcribe", verbose=verbose)


def run(container: Container, job: Callable[[], Awaitable[int]]) -> int:
    async def with_cleanup() -> int:
        try:
            return await job()
        finally:
            await container.closing().close_all()

    try:
        return asyncio.run(with_cleanup())
    except KeyboardInterrupt:
        print("voicescribe: interrupted", file=sys.stderr)
        return 130
