"""Benchmark 8, Mini App upload: one large upload streamed to ``voicescribe webhook`` (a
real subprocess, the local upload storage) over loopback, against writing the same bytes
to a file on the same disk in this process (the floor), in the same run.

The body is sent as one ``PUT /api/uploads/ID?offset=0`` with raw asyncio streams, 1 MB
at a time, for an upload declared one byte larger than what is sent: the server streams
it to ``VOICESCRIBE_DATA_DIR/uploads/`` and answers, and no job starts (a job would read
the recording whole: that is the pipeline's memory, not the upload's). The server's RSS
is sampled every 20 ms from ``/proc`` while it receives. Targets: throughput >= 0.8x the
floor's; peak RSS while receiving a 1 GB upload < 50 MB above the server's idle RSS.
Quick mode sends 64 MB.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import ROOT, Report, quick_mode
from benchmarks.webhook_ingest import start_server, stop
from domain.init_data import sign

CHUNK = 1 << 20
SECRET = "bench-secret-0123456789"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self._stop.wait(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb(self.pid))


async def request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "Connection: close\r\n\r\n"
    writer.write(head.encode() + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return int(answer[9:12]), answer.split(b"\r\n\r\n", 1)[1]


async def stream(port: int, path: str, headers: dict[str, str], total: int) -> tuple[int, float]:
    """PUT ``total`` zero bytes, 1 MB a write; returns the status and the seconds taken."""
    block = bytes(CHUNK)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {total}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "Connection: close\r\n\r\n"
    started = time.perf_counter()
    writer.write(head.encode())
    sent = 0
    while sent < total:
        piece = block if total - sent >= CHUNK else block[: total - sent]
        writer.write(piece)
        await writer.drain()
        sent += len(piece)
    answer = await reader.read()
    took = time.perf_counter() - started
    writer.close()
    return int(answer[9:12]), took


def floor_seconds(directory: Path, total: int) -> float:
    """Writing the same bytes to a file on the same disk, 1 MB a write, then fsync."""
    block = bytes(CHUNK)
    started = time.perf_counter()
    with (directory / "floor.bin").open("wb") as out:
        written = 0
        while written < total:
            piece = block if total - written >= CHUNK else block[: total - written]
            out.write(piece)
            written += len(piece)
        out.flush()
        os.fsync(out.fileno())
    took = time.perf_counter() - started
    (directory / "floor.bin").unlink()
    return took


def run(report: Report, total: int, directory: Path) -> None:
    telegram = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.telegram_process", "--updates", "0",
         "--out", str(directory / "updates.json")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, text=True,
    )  # fmt: skip
    assert telegram.stdout is not None and telegram.stdin is not None
    api_base_url, token = telegram.stdout.readline().split()
    env = {
        **os.environ,
        "VOICESCRIBE_DATA_DIR": str(directory / "var"),
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": api_base_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "MAX_UPLOAD_MB": str(total // (1 << 20) + 1),
    }
    command = [str(Path(sys.executable).parent / "voicescribe"), "webhook"]
    command += ["--host", "127.0.0.1", "--workers", "0", "--port"]
    user = json.dumps({"id": 77, "first_name": "Bench"})
    data = sign({"user": user, "auth_date": str(int(time.time()))}, token)
    headers = {"Authorization": f"tma {data}"}
    with (directory / "webhook.log").open("wb") as log:
        server, port = start_server(command, env, log)
        try:
            body = json.dumps({"name": "big.wav", "size": total + 1, "type": "audio/wav"})
            status, answer = asyncio.run(
                request(
                    port,
                    "POST",
                    "/api/uploads",
                    {**headers, "Content-Type": "application/json"},
                    body.encode(),
                )
            )
            assert status == 201, (status, answer)
            upload_id = json.loads(answer)["upload_id"]
            time.sleep(1.0)  # settle after start-up before the idle figure
            idle = rss_mb(server.pid)
            with RssSampler(server.pid) as sampler:
                status, took = asyncio.run(
                    stream(port, f"/api/uploads/{upload_id}?offset=0", headers, total)
                )
            assert status == 200, status
            stored = (directory / "var" / "uploads" / f"{upload_id}.part").stat().st_size
            assert stored == total, (stored, total)
        finally:
            stop(server)
            telegram.stdin.close()
            telegram.wait(30)
    floor = floor_seconds(directory, total)
    megabytes = total / (1 << 20)
    report.figure("upload size", megabytes, "MB")
    ratio = report.ratio(
        "upload throughput (MB/s)", megabytes / took, megabytes / floor, "disk write in-process"
    )
    report.figure("server RSS idle", idle, "MB")
    report.figure("server RSS peak while receiving", sampler.peak, "MB")
    report.target(">= 0.8x writing the bytes to disk", ratio >= 0.8, f"{ratio:.2f}x")
    growth = sampler.peak - idle
    report.target("peak RSS < 50 MB above idle (1 GB upload)", growth < 50, f"+{growth:.1f} MB")


def main() -> None:
    quick = quick_mode()
    report = Report("mini_app_upload", "Mini App upload: streamed to disk, memory-flat", quick)
    total = (64 if quick else 1024) * (1 << 20)
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as directory:
        run(report, total, Path(directory))
    report.write()


if __name__ == "__main__":
    main()
