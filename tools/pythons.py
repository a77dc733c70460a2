"""The supported Pythons: which they are, where this machine has them, and the fast tests
on each one the default virtual environment is not.

Why this exists: pip resolves different releases on different Pythons (PyAV 19 only from
3.12 on), so a suite run on one interpreter says nothing about the others. The supported
versions are the classifiers in ``pyproject.toml`` (one list, also what PyPI shows);
each is looked for as pyenv's newest install of it, then as ``pythonX.Y`` on PATH, and
must actually run (a pyenv shim for a version not selected does not). For each found
version other than the default venv's, ``.venv-X.Y`` is made (or refreshed when
``pyproject.toml`` changed, like ``.venv``) and the given tests are run in it; a version
this machine does not have is skipped with a note.

    python -m tools.pythons [pytest arguments]   # what `make test` runs
    python -m tools.pythons --find 3.12          # the interpreter's path, or exit 1
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_CLASSIFIER = re.compile(r"Programming Language :: Python :: (3\.\d+)$")


def supported_versions() -> list[str]:
    """``["3.11", "3.12", ...]`` from pyproject.toml's classifiers."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = (_CLASSIFIER.match(line) for line in project.get("classifiers", []))
    return sorted((m.group(1) for m in found if m), key=lambda v: tuple(map(int, v.split("."))))


def find_python(version: str) -> Path | None:
    """A working interpreter of ``version`` (``"3.12"``): pyenv's newest, else PATH's."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    installs = sorted(
        root.glob(f"versions/{version}.*/bin/python{version}"),
        key=lambda path: [int(part) for part in re.findall(r"\d+", path.parts[-3])],
        reverse=True,
    )
    on_path = shutil.which(f"python{version}")
    for candidate in [*installs, *([Path(on_path)] if on_path else [])]:
        if _version_of(candidate) == version:
            return candidate
    return None


def _version_of(python: Path) -> str | None:
    try:
        done = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def venv_for(version: str, python: Path) -> Path:
    """``.venv-X.Y`` with the project and its dev extras, (re)installed when pyproject
    changed since the last install."""
    venv = ROOT / f".venv-{version}"
    stamp = venv / ".installed-stamp"
    pyproject = ROOT / "pyproject.toml"
    if stamp.exists() and stamp.stat().st_mtime >= pyproject.stat().st_mtime:
        return venv
    print(f"== .venv-{version}: installing the project with {python}", flush=True)
    if not (venv / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", venv], check=True)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True, cwd=ROOT)
    subprocess.run([*pip, "-e", ".[dev]"], check=True, cwd=ROOT)
    stamp.touch()
    return venv


def main(arguments: list[str]) -> int:
    if arguments[:1] == ["--find"]:
        found = find_python(arguments[1])
        print(found or "", end="\n" if found else "")
        return 0 if found else 1
    default = f"{sys.version_info[0]}.{sys.version_info[1]}"
    failed: list[str] = []
    for version in supported_versions():
        if version == default:
            continue  # the default venv runs the whole suite
        python = find_python(version)
        if python is None:
            print(f"== Python {version}: not installed here (pyenv or PATH), its tests skipped")
            continue
        venv = venv_for(version, python)
        print(f"== Python {version} ({python}): pytest {' '.join(arguments)}", flush=True)
        done = subprocess.run([venv / "bin" / "pytest", *arguments], cwd=ROOT, check=False)
        if done.returncode != 0:
            failed.append(version)
    if failed:
        print(f"== failed on Python {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
