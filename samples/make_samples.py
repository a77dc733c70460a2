"""Re-create the bundled sample voice notes from the texts beside them.

Why this exists: ``make run`` and the integration tests need real speech, and CI has no
speech synthesizer, so the voice notes are made once here and committed. Each ``NAME.txt``
holds the exact words of ``NAME.ogg``.

Needs Debian's ``espeak-ng`` (English) and ``festival`` + ``festvox-ru`` (Russian), plus
PyAV from the project's venv. CI never runs it::

    .venv/bin/python samples/make_samples.py [NAME ...]   # all of them by default

The output is encoded like a Telegram voice note: OGG/Opus, 48 kHz, mono, 32 kbit/s,
with a short pause before and after the speech.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).resolve().parent
RATE = 48_000
BITRATE = 32_000
PAD_SECONDS = (0.4, 0.6)

# name -> command that writes a WAV of the text file (placeholders: {txt}, {wav})
VOICES: dict[str, list[str]] = {
    "en-weather": ["espeak-ng", "-v", "en-us", "-s", "160", "-f", "{txt}", "-w", "{wav}"],
    "ru-greeting": [
        "text2wave",
        "-eval",
        "(voice_msu_ru_nsh_clunits)",
        "{txt}",
        "-o",
        "{wav}",
    ],
    # short notes (3-6 s): too little audio for Whisper to be sure of the language
    "en-short": ["espeak-ng", "-v", "en-us", "-s", "160", "-f", "{txt}", "-w", "{wav}"],
    "ru-short": [
        "text2wave",
        "-eval",
        "(voice_msu_ru_nsh_clunits)",
        "{txt}",
        "-o",
        "{wav}",
    ],
}


def synthesize(command: list[str], txt: Path, wav: Path) -> None:
    args = [part.format(txt=txt, wav=wav) for part in command]
    subprocess.run(args, check=True)


def read_mono_48k(wav: Path) -> np.ndarray:
    """The WAV as 48 kHz mono float32 samples."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    chunks: list[np.ndarray] = []
    with av.open(str(wav)) as container:
        for frame in container.decode(audio=0):
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
    chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    return np.concatenate(chunks)


def encode_voice_note(samples: np.ndarray, target: Path) -> None:
    before, after = (np.zeros(int(s * RATE), dtype=np.float32) for s in PAD_SECONDS)
    audio = np.concatenate([before, samples, after]).astype(np.float32)
    # bitexact: fixed stream serial and no encoder version tag, so reruns give equal bytes
    with av.open(
        str(target), mode="w", format="ogg", container_options={"fflags": "+bitexact"}
    ) as out:
        stream = out.add_stream("libopus", rate=RATE, layout="mono")
        stream.bit_rate = BITRATE
        stream.options = {"application": "voip"}
        frame = av.AudioFrame.from_ndarray(audio.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = RATE
        frame.pts = 0
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def main(names: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for name in names or list(VOICES):
            command = VOICES[name]
            txt = HERE / f"{name}.txt"
            wav = Path(tmp) / f"{name}.wav"
            synthesize(command, txt, wav)
            target = HERE / f"{name}.ogg"
            encode_voice_note(read_mono_48k(wav), target)
            print(f"{target.name}: {target.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
