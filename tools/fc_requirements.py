"""deploy/requirements.txt, the Function Compute package's dependencies, from pyproject.toml.

Why this exists: the package must ship exactly what the code imports, and a second list
kept by hand drifts (it once left out lameenc, so ``import entrypoints.fc`` failed in
every invocation). The list is ``[project] dependencies`` minus what the ``alibaba``
profile never imports, named in ``[tool.voicescribe.function-compute] leave-out``; a
test fails when the committed file differs from what this prints.

    python -m tools.fc_requirements           # print it
    python -m tools.fc_requirements --write   # rewrite deploy/requirements.txt
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "deploy" / "requirements.txt"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
HEADER = """\
# The Function Compute package's dependencies (deploy/build.sh installs them).
# Generated from pyproject.toml by `python -m tools.fc_requirements --write`: edit the
# dependencies there, or [tool.voicescribe.function-compute] leave-out, never this file.
"""


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(pyproject: Path = ROOT / "pyproject.toml") -> str:
    config = tomllib.loads(pyproject.read_text())
    leave_out = {
        normalized(name) for name in config["tool"]["voicescribe"]["function-compute"]["leave-out"]
    }
    kept: list[str] = []
    for requirement in config["project"]["dependencies"]:
        match = _NAME.match(requirement)
        if match is None:
            raise ValueError(f"cannot read the requirement {requirement!r}")
        if normalized(match.group(1)) not in leave_out:
            kept.append(requirement.strip())
    return HEADER + "".join(f"{line}\n" for line in kept)


def main(arguments: list[str]) -> int:
    text = requirements()
    if arguments == ["--write"]:
        TARGET.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
