"""Benchmark 6, cost: bytes uploaded to ASR per audio minute, LLM calls per 100 jobs.

Bytes: real notes (the committed sample repeated) go through ChunkedRecognition with the
real PyAvConverter and DashScopeRecognizer against the DashScope wire fake, in both upload
formats (OGG/Opus: the voice note's packets copied; MP3); every byte of every ASR request
is counted (decoded audio, and the base64 data URI actually sent). Beside them: the same
notes encoded by libopus at the Opus profile (what a non-Opus source is sent).
Floor/reference: the reference bot's 32 kbit/s MP3 = 240 KB per minute.

LLM calls: 100 jobs whose lengths follow a fixed, seeded log-normal distribution of voice
note durations (median 20 s, 10 % above 2 min) at the sample's speech rate go through
the real FormattingChain with the real QwenFormatter on the fake; every LLM request is
counted. Beside it: the same jobs with no word threshold (an LLM call for every note).

Cost per audio hour: voice notes of the same distribution adding up to an hour (five
minutes in quick mode, scaled to the hour) go through the ``alibaba`` profile's Function
Compute handlers on protocol fakes (``benchmarks/audio_hour.py``); the measured ASR
seconds, LLM tokens, FC invocations and GB-seconds, Tablestore and MNS requests are
priced with ``benchmarks/prices.py``, beside the same for the reference bot's way (MP3
upload, sequential chunks on one long-running function).
"""

from __future__ import annotations

import asyncio
import random

from application.formatting import FormattingChain
from application.recognition import ChunkedRecognition
from benchmarks.audio_hour import LATENCY, bill, measure, measure_notes
from benchmarks.common import Report, quick_mode, speech_script, voice_note
from benchmarks.prices import PRICES
from domain.jobs import UserStyle
from domain.policies import PCM_16K, AudioEncoding, select_profile
from infrastructure.audio import PyAvConverter
from infrastructure.audio._opus import encode_opus
from infrastructure.dashscope import DashScopeRecognizer
from infrastructure.dashscope.formatter import QwenFormatter
from infrastructure.local.formatter import ParagraphFormatter
from infrastructure.retrying import RetryPolicy
from tests.fakes.dashscope_server import FakeDashScope

REFERENCE_KB_PER_MINUTE = 32_000 / 8 * 60 / 1000  # 240 KB
NO_RETRY = RetryPolicy(attempts=1, base_delay_seconds=0.0, budget_seconds=1.0)


def durations(count: int, seed: int = 7) -> list[float]:
    """Realistic voice-note lengths: log-normal, median 20 s, capped at 30 minutes."""
    rng = random.Random(seed)
    return [min(1800.0, max(1.0, rng.lognormvariate(3.0, 1.1))) for _ in range(count)]


async def upload_bytes(report: Report, lengths: list[float]) -> None:
    converter = PyAvConverter()
    for encoding in (AudioEncoding.OPUS, AudioEncoding.MP3):
        with FakeDashScope() as fake:
            recognizer = DashScopeRecognizer(
                fake.api_key, fake.base_url, retry=NO_RETRY, audio_format=encoding
            )
            recognition = ChunkedRecognition(
                converter,
                recognizer,
                short_audio_seconds=10.0,
                max_chunk_seconds=150.0,
                concurrency=4,
            )
            for seconds in lengths:
                before = len(fake.requests)
                await recognition.recognize(voice_note(seconds), seconds, None)
                sent = fake.requests[before:]
                audio = sum(len(r.audio) for r in sent)
                wire = sum(len(r.audio_uri) for r in sent)
                _record(report, seconds, encoding, requests=len(sent), audio=audio, wire=wire)
            await recognizer.close()
    for seconds in lengths:  # what a non-Opus source would be sent: encoded by libopus
        profile = select_profile(seconds, AudioEncoding.OPUS)
        encoded = len(encode_opus(voice_note(seconds), profile, None))
        report.ratio(
            f"asr audio KB/min, {_label(seconds, AudioEncoding.OPUS)} re-encoded",
            encoded / seconds * 60 / 1000,
            REFERENCE_KB_PER_MINUTE,
            "reference 32k mp3",
        )
    report.figure(
        "local whisper input (PCM 16 kHz, not uploaded)",
        PCM_16K.bytes_per_second * 60 / 1000,
        "KB/min",
    )


def _label(seconds: float, encoding: AudioEncoding) -> str:
    profile = select_profile(seconds, encoding)
    return f"{seconds:g}s {profile.sample_rate // 1000}kHz/{profile.bitrate_kbps}k {encoding}"


def _record(
    report: Report, seconds: float, encoding: AudioEncoding, *, requests: int, audio: int, wire: int
) -> None:
    label = _label(seconds, encoding)
    if encoding is AudioEncoding.OPUS:
        label += " (voice note copied)"
    report.ratio(
        f"asr audio KB/min, {label}",
        audio / seconds * 60 / 1000,
        REFERENCE_KB_PER_MINUTE,
        "reference 32k mp3",
    )
    report.figure(
        f"asr wire KB/min (base64 URI), {label}",
        wire / seconds * 60 / 1000,
        "KB/min",
        f"{requests} request(s)",
    )
    report.figures.setdefault("upload", []).append(
        {
            "seconds": seconds,
            "format": str(encoding),
            "requests": requests,
            "audio_bytes": audio,
            "wire_bytes": wire,
        }
    )


async def llm_calls(report: Report, count: int) -> None:
    speech = speech_script(10.0)
    words_per_second = len(speech.split()) / 9.6
    lengths = durations(count)
    texts = []
    for seconds in lengths:
        words = max(1, round(seconds * words_per_second))
        pool = (speech + " ") * (words // len(speech.split()) + 1)
        texts.append(" ".join(pool.split()[:words]))
    long_notes = sum(1 for t in texts if len(t.split()) >= 150)
    report.figure("jobs", count, "", f"median {sorted(lengths)[count // 2]:.0f} s")
    report.figure("jobs with >= 150 words", long_notes)
    results = {}
    for label, threshold in (("ours (150-word threshold)", 150), ("no threshold", 0)):
        with FakeDashScope() as fake:
            qwen = QwenFormatter(fake.api_key, fake.base_url, retry=NO_RETRY)
            chain = FormattingChain([qwen], ParagraphFormatter(), threshold)
            for text in texts:
                await chain.format(text, UserStyle())
            calls = sum(1 for r in fake.requests if r.kind == "llm")
            await qwen.close()
        results[label] = calls * 100 / count
        report.figure(f"LLM calls per 100 jobs, {label}", results[label])
    report.target(
        "150-word threshold skips most short notes",
        results["ours (150-word threshold)"] < 0.5 * results["no threshold"],
        f"{results['ours (150-word threshold)']:.0f} vs {results['no threshold']:.0f} per 100",
    )


def bot_api_calls_per_job(report: Report) -> None:
    """Bot API calls one note makes (the file's download apart), on the pipeline
    benchmark's fake latencies (recognition 300 ms, LLM 500 ms), through the FC handlers."""
    # The first note warms the instance up (PTB's getMe, once per instance), untimed.
    measured = measure_notes([5, 5, 30, 180], latencies={"asr": 0.3, "llm": 0.5})
    notes = measured.notes[1:]
    for note in notes:
        where = "webhook + worker" if note.worker_invocations else "inline in the webhook"
        report.figure(
            f"Bot API calls per job, {note.seconds} s note",
            note.bot_api_calls,
            "",
            f"{where}: {', '.join(note.bot_api_methods)}",
        )
    five = notes[0].bot_api_calls
    report.ratio("Bot API calls, 5 s note", five, 2, "getFile + the text")
    report.target(
        "5 s note: 2 Bot API calls (getFile + result)",
        five <= 2,
        f"{five} ({', '.join(str(n.bot_api_calls) for n in notes)} for 5/30/180 s)",
    )


def cost_per_audio_hour(report: Report, quick: bool) -> None:
    hour = measure(300.0 if quick else 3600.0)
    report.figure(
        "notes measured for the audio hour",
        len(hour.notes),
        "",
        f"{hour.audio_seconds} s of audio, scaled to 3600 s",
    )
    lines = bill(hour)
    for line in lines:
        report.figure(
            f"per audio hour: {line.item}",
            line.quantity,
            line.unit,
            f"ours ${line.ours_usd:.4f}, reference ${line.reference_usd:.4f}",
        )
    ours = sum(line.ours_usd for line in lines)
    reference = sum(line.reference_usd for line in lines)
    ratio = report.ratio("USD per audio hour", ours, reference, "reference bot's way")
    report.figures["cost_per_audio_hour"] = {
        "ours_usd": ours,
        "reference_usd": reference,
        "lines": [vars(line) for line in lines],
        "latency_model": LATENCY,
        "prices": {name: vars(price) for name, price in PRICES.items()},
    }
    report.target(
        "cost per audio hour stated, <= the reference's",
        ratio <= 1.0,
        f"${ours:.3f} vs ${reference:.3f} ({ratio:.2f}x)",
    )


async def main(quick: bool) -> Report:
    report = Report("cost", "bytes uploaded per audio minute, LLM calls per 100 jobs", quick)
    await upload_bytes(report, [5.0, 30.0] if quick else [5.0, 30.0, 180.0, 600.0])
    await llm_calls(report, 100)
    for encoding in (AudioEncoding.OPUS, AudioEncoding.MP3):
        standard = [
            u
            for u in report.figures["upload"]
            if u["seconds"] >= 10 and u["format"] == str(encoding)
        ]
        worst = max(u["audio_bytes"] / u["seconds"] * 60 / 1000 for u in standard)
        report.figure(
            f"{encoding} standard profile, worst KB/min vs reference 240", worst, "KB/min"
        )
    return report


if __name__ == "__main__":
    quick = quick_mode()
    finished = asyncio.run(main(quick))
    bot_api_calls_per_job(finished)  # the FC handlers run their own event loop
    cost_per_audio_hour(finished, quick)
    finished.write()
