"""FakeDashScope in its own process, so the worker's RSS and CPU are the worker's only.

ASR latency is proportional to the audio's length: ``--per-second`` x the duration of
the request's audio, whatever its format (OGG/Opus, MP3), as PyAV reads it from the
container (the last OGG page's granule, the MP3 Info tag): no decoding; plus
``--per-request`` seconds for every request (a round trip's fixed cost). LLM calls take
``--llm`` seconds; ``--fixed-asr`` gives every recognition one latency instead, and
``--transcript-words N`` makes every transcript N words long (varied, not a loop).
Prints the base URL on stdout, then serves until stdin closes.
"""

from __future__ import annotations

import argparse
import io
import random
import sys

import av

from tests.fakes.dashscope_server import FakeDashScope, RecordedRequest

SENTENCE = "today the weather is calm and we will walk along the river"


def varied_words(count: int) -> list[str]:
    """``count`` words drawn from ``SENTENCE`` at random (seeded): they read like speech,
    where one sentence said over and over is rejected as not a transcript."""
    pick = random.Random(count).choice
    vocabulary = SENTENCE.split()
    return [pick(vocabulary) for _ in range(count)]


def audio_seconds(audio: bytes) -> float:
    """The duration the container declares (the fake already checked the format)."""
    with av.open(io.BytesIO(audio), mode="r") as container:
        return (container.duration or 0) / av.time_base


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-second", type=float, required=True)
    parser.add_argument("--per-request", type=float, default=0.0)
    parser.add_argument("--fixed-asr", type=float, default=None)
    parser.add_argument("--llm", type=float, default=0.0)
    parser.add_argument("--transcript-words", type=int, default=0)
    args = parser.parse_args()

    def latency(request: RecordedRequest) -> float:
        if request.kind == "llm":
            return args.llm
        if args.fixed_asr is not None:
            return args.fixed_asr
        return args.per_request + args.per_second * audio_seconds(request.audio)

    fake = FakeDashScope(latency=latency)
    if args.transcript_words:
        text = " ".join(varied_words(args.transcript_words))
        fake.transcript = lambda request: text
    fake.requests = _Discard()  # type: ignore[assignment]  # keep no request bodies
    print(fake.base_url, fake.api_key, flush=True)
    sys.stdin.read()
    fake.close()


class _Discard(list):  # type: ignore[type-arg]
    def append(self, item: object) -> None:
        pass


if __name__ == "__main__":
    main()
