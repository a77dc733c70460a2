"""Benchmark 1, webhook ingest: a load generator on loopback posts voice-note updates to
``voicescribe webhook`` (a real subprocess, SQLite state and queue, no queue workers, so
recognition is not involved; the Bot API fake runs in a third process).

The load generator keeps ``CONNECTIONS`` HTTP/1.1 keep-alive connections busy (as Telegram
does, up to 40) with raw asyncio streams: far cheaper per request than an HTTP client
library, so the generator is not what is measured. 2 % of the updates are posted twice
(Telegram redelivers). Floor: the same load against a bare ASGI endpoint on the same
uvicorn (``benchmarks/bare_asgi.py``), on each server stack (``STACKS``: uvicorn's HTTP
parser and event loop; the first is ``voicescribe webhook``'s default). Three rounds of
5,000, each: the floor, then
ours, then ours left to queue every job of the round (so the floor never shares the
machine with our background work); the medians of the rounds are judged, since one
round's p99 on a shared 2-core machine moves by 2x from run to run. After the last
round, every update must be exactly one queued job (checked in the SQLite file).
Targets (#19, on the default stack against the floor on the same stack): throughput
>= 0.85x the floor's, p99 ack latency <= 1.5x; the default stack faster than the other;
>= 1,000 updates/s; zero lost or duplicated jobs.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

from benchmarks.common import RESULTS, ROOT, Report, median, percentile, quick_mode

CONNECTIONS = 40
SECRET = "bench-secret-0123456789"
PATH = "/telegram/webhook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_for_port(
    port: int, process: subprocess.Popen[bytes], limit_seconds: float = 60.0
) -> None:
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise TimeoutError("server did not start")


def request_bytes(port: int, body: bytes) -> bytes:
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nX-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def load(port: int, bodies: list[bytes]) -> tuple[float, list[float], dict[int, int]]:
    """Posts every body once over CONNECTIONS keep-alive connections; latencies in s."""
    requests = [request_bytes(port, body) for body in bodies]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    cursor = 0

    async def connection() -> None:
        nonlocal cursor
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while cursor < len(requests):
                payload = requests[cursor]
                cursor += 1
                sent = time.perf_counter()
                writer.write(payload)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                latencies.append(time.perf_counter() - sent)
                status = int(head[9:12])
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    return time.perf_counter() - start, latencies, statuses


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    report: Report, label: str, port: int, bodies: list[bytes], server: int
) -> dict[str, float]:
    cpu0 = process_cpu(server)
    wall, latencies, statuses = asyncio.run(load(port, bodies))
    server_cpu = process_cpu(server) - cpu0
    figures = {
        "throughput": len(bodies) / wall,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "server_cpu_ms_per_update": server_cpu / len(bodies) * 1000,
    }
    report.figure(
        f"{label} throughput",
        figures["throughput"],
        "updates/s",
        f"{len(bodies)} posts in {wall:.2f} s, statuses {statuses}",
    )
    report.figure(f"{label} ack latency p50", figures["p50_ms"], "ms")
    report.figure(f"{label} ack latency p99", figures["p99_ms"], "ms")
    report.figure(f"{label} server CPU per update", figures["server_cpu_ms_per_update"], "ms")
    return figures


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident set (``VmRSS``) or its peak (``VmHWM``), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def count_jobs(database: Path) -> tuple[int, int, int]:
    with sqlite3.connect(database, timeout=30) as conn:
        jobs = conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
        queued = conn.execute("SELECT COUNT(*) FROM queue_messages").fetchone()[0]
        distinct = conn.execute("SELECT COUNT(DISTINCT job_id) FROM queue_messages").fetchone()[0]
    return jobs, queued, distinct


def wait_until_queued(database: Path, count: int) -> float:
    """Seconds until ``count`` queue messages exist (or nothing moved for 3 s)."""
    start = time.perf_counter()
    drained = 0.0
    deadline = time.monotonic() + 120
    last, settled_at = (-1, -1, -1), time.monotonic()
    while time.monotonic() < deadline:
        now = count_jobs(database)
        if now != last:
            last, settled_at = now, time.monotonic()
            drained = time.perf_counter() - start
        if now[1] >= count or time.monotonic() - settled_at > 3:
            break
        time.sleep(0.1)
    return drained


def start_server(
    command: list[str], env: dict[str, str] | None, log: BinaryIO | None
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen([*command, str(port)], cwd=ROOT, env=env, stderr=log)
    asyncio.run(wait_for_port(port, process))
    return process, port


def keep_server_log(report: Report, path: Path) -> None:
    log = path.read_text(errors="replace")
    problems = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    if problems:
        kept = RESULTS / "webhook_ingest-server.log"
        RESULTS.mkdir(parents=True, exist_ok=True)
        kept.write_text(log)
        report.figure(
            "server log warnings/errors",
            len(problems),
            "",
            f"first: {problems[0][:160]!r}; full log in {kept}",
        )


# uvicorn's parser and loop: what ``voicescribe webhook`` runs by default first, then
# uvicorn's pure-Python pair it ran before #19.
STACKS = {"httptools/uvloop": ("httptools", "uvloop"), "h11/asyncio": ("h11", "asyncio")}


def run(report: Report, count: int, rounds: int, directory: Path) -> None:
    updates_file = directory / "updates.json"
    telegram = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.telegram_process",
            "--updates",
            str(count * rounds),
            "--out",
            str(updates_file),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    assert telegram.stdout is not None and telegram.stdin is not None
    api_base_url, token = telegram.stdout.readline().split()
    bodies = [json.dumps(update).encode() for update in json.loads(updates_file.read_text())]
    report.figure(
        "updates",
        count,
        "",
        f"a round, +{len(bodies[:count:50])} redelivered, {CONNECTIONS} connections, "
        f"{rounds} round(s): floor, ours, ours drained, in turn; each server stack",
    )
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": api_base_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "RATE_LIMIT_PER_MINUTE": "10",
    }
    results = {
        name: run_stack(
            report,
            name,
            count=count,
            rounds=rounds,
            bodies=bodies,
            env=env,
            directory=directory / name.replace("/", "-"),
        )
        for name in STACKS
    }
    telegram.stdin.close()
    calls = telegram.stdout.readline().strip()
    telegram.wait(30)
    report.figure("Bot API calls (all stacks)", calls)
    chosen, before = list(STACKS)
    ours, floor = results[chosen]
    old_ours, old_floor = results[before]
    p99_ratio = report.ratio(
        f"{chosen}: p99 ack latency / floor (medians of rounds)",
        ours["p99_ms"],
        floor["p99_ms"],
        f"bare ASGI on {chosen} p99",
    )
    throughput_ratio = report.ratio(
        f"{chosen}: throughput / floor (medians of rounds)",
        ours["throughput"],
        floor["throughput"],
        f"bare ASGI on {chosen}",
    )
    old_p99 = report.ratio(
        f"{before}: p99 ack latency / floor", old_ours["p99_ms"], old_floor["p99_ms"], "bare"
    )
    old_throughput = report.ratio(
        f"{before}: throughput / floor", old_ours["throughput"], old_floor["throughput"], "bare"
    )
    report.ratio(
        f"ours on {chosen} / ours on {before}, throughput",
        ours["throughput"],
        old_ours["throughput"],
        before,
    )
    report.ratio(
        f"ours on {chosen} / ours on {before}, p99",
        ours["p99_ms"],
        old_ours["p99_ms"],
        before,
    )
    report.ratio(
        f"ours on {chosen} / bare ASGI on {before}, throughput",
        ours["throughput"],
        old_floor["throughput"],
        f"bare on {before}",
    )
    report.target(
        f"throughput >= 0.85x floor ({chosen})",
        throughput_ratio >= 0.85,
        f"{throughput_ratio:.2f}x ({before}: {old_throughput:.2f}x)",
    )
    report.target(
        f"p99 ack latency <= 1.5x floor ({chosen})",
        p99_ratio <= 1.5,
        f"{p99_ratio:.2f}x ({before}: {old_p99:.2f}x)",
    )
    report.target(
        f"default stack {chosen} wins on throughput",
        ours["throughput"] > old_ours["throughput"],
        f"{ours['throughput']:.0f}/s vs {old_ours['throughput']:.0f}/s",
    )
    report.target(">= 1,000 updates/s", ours["throughput"] >= 1000, f"{ours['throughput']:.0f}/s")


def run_stack(
    report: Report,
    name: str,
    *,
    count: int,
    rounds: int,
    bodies: list[bytes],
    env: dict[str, str],
    directory: Path,
) -> tuple[dict[str, float], dict[str, float]]:
    """The rounds on one server stack: the medians of ours and of the floor."""
    http, loop = STACKS[name]
    directory.mkdir(parents=True)
    data_dir = directory / "var"
    bare_command = [sys.executable, "-m", "benchmarks.bare_asgi", http, loop]
    ours_command = [str(Path(sys.executable).parent / "voicescribe"), "webhook"]
    ours_command += ["--host", "127.0.0.1", "--workers", "0", "--http", http, "--loop", loop]
    ours_command += ["--port"]
    floors: list[dict[str, float]] = []
    ourses: list[dict[str, float]] = []
    drains: list[float] = []
    database = data_dir / "voicescribe.sqlite3"
    stack_env = {**env, "VOICESCRIBE_DATA_DIR": str(data_dir)}
    with (directory / "webhook.log").open("wb") as server_log:
        bare, bare_port = start_server(bare_command, None, None)
        webhook, port = start_server(ours_command, stack_env, server_log)
        idle_rss = rss_mb(webhook.pid)
        try:
            for index in range(rounds):
                batch = bodies[index * count : (index + 1) * count]
                load_bodies = batch + batch[::50]  # 2 % redelivered, as Telegram does
                label = f"{name}{f' round {index + 1}' if rounds > 1 else ''}"
                floors.append(
                    measure(report, f"floor (bare ASGI) {label}", bare_port, load_bodies, bare.pid)
                )
                ourses.append(
                    measure(report, f"voicescribe webhook {label}", port, load_bodies, webhook.pid)
                )
                drains.append(wait_until_queued(database, (index + 1) * count))
            peak_rss = rss_mb(webhook.pid, "VmHWM")
        finally:
            stop(webhook)
            stop(bare)
    jobs, queued, distinct = count_jobs(database)
    keep_server_log(report, directory / "webhook.log")
    total = count * rounds
    report.figure(
        f"{name}: jobs stored / queue messages / distinct", f"{jobs} / {queued} / {distinct}"
    )
    report.figure(f"{name}: all jobs queued after the last ack (median)", median(drains), "s")
    ours = {key: median([r[key] for r in ourses]) for key in ourses[0]}
    floor = {key: median([r[key] for r in floors]) for key in floors[0]}
    report.figure(
        f"{name}: end-to-end ingest rate (ack + queued)",
        count / (count * 1.02 / ours["throughput"] + median(drains)),
        "jobs/s",
    )
    report.ratio(
        f"{name}: server CPU per update / floor",
        ours["server_cpu_ms_per_update"],
        floor["server_cpu_ms_per_update"],
        "bare ASGI",
    )
    report.figure(f"{name}: webhook RSS idle / peak", f"{idle_rss:.0f} / {peak_rss:.0f}", "MB")
    if name == next(iter(STACKS)):
        report.target(
            "webhook RSS idle < 120 MB (sqlite profile, not alibaba)",
            idle_rss < 120,
            f"{idle_rss:.0f} MB",
        )
        report.target(
            f"webhook peak RSS < 200 MB over {total} updates (sqlite profile)",
            peak_rss < 200,
            f"{peak_rss:.0f} MB",
        )
    lost, duplicated = total - distinct, queued - distinct
    report.target(
        f"zero lost or duplicated jobs ({name})",
        lost == duplicated == 0 and jobs == total,
        f"lost {lost}, duplicated {duplicated}",
    )
    return ours, floor


def main(quick: bool) -> Report:
    report = Report("webhook_ingest", "voicescribe webhook vs a bare ASGI endpoint", quick)
    with tempfile.TemporaryDirectory() as directory:
        run(report, 300 if quick else 5000, 1 if quick else 3, Path(directory))
    report.write()
    return report


if __name__ == "__main__":
    main(quick_mode())
