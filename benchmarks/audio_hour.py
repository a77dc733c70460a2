"""An hour of voice notes through the ``alibaba`` profile, counting what each provider bills.

Why: the money an hour of audio costs is the measured quantities times list prices
(``benchmarks/prices.py``). The notes go through the real Function Compute handlers
(``entrypoints.fc``) in this process, as FC calls them, with every service a local
protocol fake: the Bot API, Tablestore, MNS (EventBridge's delivery played as in
``tests/e2e/test_function_compute.py``) and DashScope. Counted per note: webhook and
worker invocations and their local wall time, the audio seconds of every ASR request,
the characters of every LLM request and answer, Tablestore and MNS requests, Bot API
calls. Provider latencies are not measured here (the fakes answer at once); the bill adds
them from the stated model in ``LATENCY``.

The same quantities priced the reference bot's way (``/work/shared/reference``): MP3
upload (the encoding's CPU time measured on the same notes), an LLM call on every
transcript over 150 words (as ours), chunks recognized one after another on one
long-running worker invocation (ours: ``ASR_CONCURRENCY`` at once).
"""

from __future__ import annotations

import logging
import math
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import speech_script, voice_note
from domain.policies import AudioEncoding, select_profile
from infrastructure.audio.pyav_converter import convert_blocking, probe_blocking

# Provider latency model (assumptions; the fakes answer at once). An invocation is billed
# for its whole duration, waiting included, so these set the FC GB-seconds.
LATENCY = {
    "asr_base_seconds": 0.8,  # per ASR request
    "asr_seconds_per_audio_second": 0.04,  # qwen3-asr-flash: ~25x faster than real time
    "llm_base_seconds": 0.8,  # per LLM request
    "llm_output_tokens_per_second": 100.0,
    "bot_api_seconds": 0.1,  # per Bot API call (download included)
}
CHARS_PER_TOKEN = 4.0  # English text with Qwen's BPE tokenizer: about 4 characters a token
TOKENS_PER_MESSAGE = 4  # role and separators of each chat message
USER = 4242
SECRET = "audio-hour-webhook-secret_0123456789"


def hour_of_notes(seconds: float, seed: int = 7) -> list[int]:
    """Voice-note lengths (whole seconds; median 20 s, 10 % over 2 min, at most 30 min)
    adding up to at least ``seconds``: the cost benchmark's distribution."""
    rng = random.Random(seed)
    lengths: list[int] = []
    while sum(lengths) < seconds:
        lengths.append(int(min(1800.0, max(1.0, round(rng.lognormvariate(3.0, 1.1))))))
    return lengths


def spoken_words(seconds: float, seed: int) -> str:
    """As many varied words as ``seconds`` of the sample's speaker hold (never a loop,
    which the recognizer's output check rejects)."""
    rate = len(speech_script(10.0).split()) / 9.6
    count = max(1, round(seconds * rate))
    rng = random.Random(seed)
    syllables = ("ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "de", "pu", "an", "el")
    words = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 3))) for _ in range(count)]
    return " ".join(words).capitalize() + "."


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE


@dataclass
class NoteBill:
    """What one note made each provider do."""

    seconds: int
    asr_chunks: list[float] = field(default_factory=list)  # audio seconds per request
    llm_input_tokens: int = 0
    llm_output_tokens: int = 0
    llm_calls: int = 0
    llm_system_tokens: int = 0  # one request's instructions (repeated in every request)
    webhook_wall: float = 0.0
    worker_wall: float = 0.0
    worker_invocations: int = 0
    tablestore_requests: int = 0
    mns_requests: int = 0
    bot_api_calls: int = 0
    bot_api_methods: list[str] = field(default_factory=list)
    mp3_cpu: float = 0.0  # the reference bot's MP3 encoding of the whole note


@dataclass
class HourMeasurement:
    notes: list[NoteBill]

    @property
    def audio_seconds(self) -> int:
        return sum(n.seconds for n in self.notes)

    def per_hour(self, value: float) -> float:
        return value * 3600 / self.audio_seconds


def measure(total_seconds: float, sync_threshold: float = 60.0) -> HourMeasurement:
    """Every note of ``hour_of_notes(total_seconds)`` through the FC handlers on fakes."""
    return measure_notes(hour_of_notes(total_seconds), sync_threshold)


def measure_notes(
    lengths: list[int],
    sync_threshold: float = 60.0,
    latencies: dict[str, float] | None = None,
) -> HourMeasurement:
    """Notes of ``lengths`` seconds, one after another, through the FC handlers on fakes;
    ``latencies``: DashScope's answer delay by request kind (``asr``, ``llm``), else none."""
    from entrypoints import fc
    from tests.e2e.test_alibaba_profile import (
        DASHSCOPE_KEY,
        alibaba_env,
        clean_environment,
        prepared_cloud,
    )
    from tests.fakes.dashscope_server import FakeDashScope
    from tests.fakes.telegram import TelegramFake

    logging.disable(logging.INFO)
    saved = dict(os.environ)
    with (
        tempfile.TemporaryDirectory() as directory,
        TelegramFake() as telegram,
        prepared_cloud() as (tablestore, mns),
        FakeDashScope(api_key=DASHSCOPE_KEY) as dashscope,
    ):
        cloud = _Cloud(telegram, tablestore, mns, dashscope)
        dashscope.transcript = cloud.transcript
        if latencies:
            delays = dict(latencies)
            dashscope.latency = lambda request: delays.get(request.kind, 0.0)
        env = alibaba_env(
            Path(directory) / "var", tablestore, mns, dashscope,
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_API_BASE_URL=telegram.api_base_url,
            TELEGRAM_WEBHOOK_SECRET=SECRET,
            TRIAL_MINUTES="100000",
            RATE_LIMIT_PER_MINUTE="100000",
            SYNC_THRESHOLD_SECONDS=f"{sync_threshold:g}",
        )  # fmt: skip
        os.environ.clear()
        os.environ.update(clean_environment(**env))
        fc.reset_for_tests()
        try:
            return HourMeasurement([cloud.run(i, s) for i, s in enumerate(lengths)])
        finally:
            fc.reset_for_tests()
            os.environ.clear()
            os.environ.update(saved)


@dataclass
class _Cloud:
    """The fakes one note goes through, and what it made each of them do."""

    telegram: Any
    tablestore: Any
    mns: Any
    dashscope: Any
    chunks: list[float] = field(default_factory=list)

    def transcript(self, request: Any) -> str:
        seconds = probe_blocking(request.audio).duration_seconds
        self.chunks.append(seconds)
        return spoken_words(seconds, len(self.chunks))

    def run(self, index: int, seconds: int) -> NoteBill:
        from entrypoints import fc
        from tests.e2e.test_function_compute import (
            WEBHOOK,
            WORKER,
            eventbridge_takes,
            http_event,
            mns_event,
        )

        data = voice_note(float(seconds))
        bill = NoteBill(seconds)
        marks = [
            len(self.tablestore.requests),
            len(self.mns.requests),
            len(self.telegram.calls),
            len(self.dashscope.requests),
        ]
        self.chunks.clear()
        file_id = self.telegram.register_file(data, f"note-{index}")
        update = self.telegram.push_voice(USER, USER, file_id, duration=seconds)
        started = time.perf_counter()
        answer = fc.webhook_handler(http_event(update, secret=SECRET), WEBHOOK)
        bill.webhook_wall = time.perf_counter() - started
        assert answer["statusCode"] == 200, answer
        bodies = eventbridge_takes(self.mns)
        if bodies:
            started = time.perf_counter()
            fc.worker_handler(mns_event(bodies), WORKER)
            bill.worker_wall = time.perf_counter() - started
            bill.worker_invocations = 1
        bill.asr_chunks = list(self.chunks)
        for request in self.dashscope.requests[marks[3] :]:
            if request.kind == "llm":
                bill.llm_calls += 1
                bill.llm_system_tokens = tokens(str(request.message("system")))
                bill.llm_input_tokens += bill.llm_system_tokens
                bill.llm_input_tokens += tokens(str(request.message("user")))
                bill.llm_output_tokens += tokens(str(request.message("user")))  # echoed
        bill.tablestore_requests = len(self.tablestore.requests) - marks[0]
        bill.mns_requests = len(self.mns.requests) - marks[1]
        bill.bot_api_methods = [c.method for c in self.telegram.calls[marks[2] :]]
        bill.bot_api_calls = len(bill.bot_api_methods)
        began = time.thread_time()
        convert_blocking(data, select_profile(float(seconds), AudioEncoding.MP3), None)
        bill.mp3_cpu = time.thread_time() - began
        return bill


# --- the bill -------------------------------------------------------------------------


def _asr_latency(seconds: float) -> float:
    return LATENCY["asr_base_seconds"] + seconds * LATENCY["asr_seconds_per_audio_second"]


def _llm_latency(output_tokens: int, parallel: int) -> float:
    if not output_tokens:
        return 0.0
    rate = LATENCY["llm_output_tokens_per_second"] * max(1, parallel)
    return LATENCY["llm_base_seconds"] + output_tokens / rate


def _waves(chunks: list[float], concurrency: int) -> float:
    """Wall of recognizing ``chunks`` ``concurrency`` at a time, in order."""
    return sum(
        max(_asr_latency(s) for s in chunks[i : i + concurrency])
        for i in range(0, len(chunks), concurrency)
    )


@dataclass(frozen=True)
class Line:
    item: str
    quantity: float  # per audio hour
    unit: str
    ours_usd: float
    reference_usd: float


def bill(hour: HourMeasurement, asr_concurrency: int = 4) -> list[Line]:
    """Per audio hour: each provider's quantity and money, ours and the reference bot's.

    The reference's Tablestore, MNS and Bot API counts are taken as ours (its own are not
    measurable here); its ASR seconds are the same audio; its LLM calls are one per note
    with at least 150 words (same prompt assumed), ours as measured.
    """
    from benchmarks.prices import PRICES, fc_usd

    def price(name: str) -> float:
        return PRICES[name].usd

    per_hour = hour.per_hour
    billed = sum(s for n in hour.notes for s in n.asr_chunks)  # per second, pro rata
    llm_in = sum(n.llm_input_tokens for n in hour.notes)
    llm_out = sum(n.llm_output_tokens for n in hour.notes)
    # The reference sends a long transcript whole: the instructions once per note.
    ref_in = sum(
        n.llm_input_tokens - (n.llm_calls - 1) * n.llm_system_tokens
        for n in hour.notes
        if n.llm_calls
    )
    ours_fc: dict[str, list[float]] = {"webhook": [0.0, 0.0], "worker": [0.0, 0.0]}
    ref_fc: dict[str, list[float]] = {"webhook": [0.0, 0.0], "worker": [0.0, 0.0]}
    for note in hour.notes:
        queued = note.worker_invocations > 0
        bot = note.bot_api_calls * LATENCY["bot_api_seconds"]
        ours_wait = (
            _waves(note.asr_chunks, asr_concurrency)
            + _llm_latency(note.llm_output_tokens, min(note.llm_calls, asr_concurrency))
            + bot
        )
        ref_wait = _waves(note.asr_chunks, 1) + _llm_latency(note.llm_output_tokens, 1) + bot
        for fc, wait, extra in ((ours_fc, ours_wait, 0.0), (ref_fc, ref_wait, note.mp3_cpu)):
            fc["webhook"][1] += 1
            fc["webhook"][0] += note.webhook_wall + (0.0 if queued else wait + extra)
            if queued:
                fc["worker"][1] += 1
                fc["worker"][0] += note.worker_wall + wait + extra
    fc_ours = sum(fc_usd(f, s, int(n)) for f, (s, n) in ours_fc.items())
    fc_ref = sum(fc_usd(f, s, int(n)) for f, (s, n) in ref_fc.items())
    gb_seconds = sum(s * {"webhook": 0.5, "worker": 1.0}[f] for f, (s, _) in ours_fc.items())
    invocations = sum(n for _, n in ours_fc.values())
    tablestore = sum(n.tablestore_requests for n in hour.notes)
    mns = sum(n.mns_requests for n in hour.notes)
    asr = billed * price("asr_audio_second")
    return [
        Line("ASR audio seconds billed", per_hour(billed), "s", per_hour(asr), per_hour(asr)),
        Line(
            "LLM input tokens",
            per_hour(llm_in),
            "tokens",
            per_hour(llm_in * price("llm_input_token")),
            per_hour(ref_in * price("llm_input_token")),
        ),
        Line(
            "LLM output tokens",
            per_hour(llm_out),
            "tokens",
            per_hour(llm_out * price("llm_output_token")),
            per_hour(llm_out * price("llm_output_token")),
        ),
        Line(
            f"FC GB-seconds ({invocations:.0f} invocations measured)",
            per_hour(gb_seconds),
            "GB-s",
            per_hour(fc_ours),
            per_hour(fc_ref),
        ),
        Line(
            "Tablestore requests (1 CU each)",
            per_hour(tablestore),
            "requests",
            per_hour(tablestore * price("tablestore_cu")),
            per_hour(tablestore * price("tablestore_cu")),
        ),
        Line(
            "MNS requests",
            per_hour(mns),
            "requests",
            per_hour(mns * price("mns_request")),
            per_hour(mns * price("mns_request")),
        ),
    ]
