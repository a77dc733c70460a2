"""Mutation testing of the domain: do the domain's tests catch a wrong domain?

    python -m tools.mutation        # what `make mutation` runs

mutmut (the ``mutation`` extra, configured under ``[tool.mutmut]`` in pyproject.toml)
changes ``domain/`` one small edit at a time (a ``<`` for a ``<=``, a constant, a
dropped call) and runs the tests of ``tests/unit`` that reach the changed function; a
mutant the tests fail on is *killed*, one they pass on *survived*.

It works on a snapshot: the working tree's packages, tests and samples are copied to
``var/mutation`` first, so edits made during the run (it takes a while) change nothing,
and mutmut's own mutated copy lives in ``var/mutation/mutants``. The tests run under
Hypothesis' ``mutation`` profile: derandomized (every mutant meets the same examples)
and without a deadline (mutmut's trampolines slow each call).

It prints the share of mutants killed and every survivor as file, line and the edit
(``mutmut show NAME`` inside ``var/mutation`` for the whole diff), and writes the same to
``var/mutation/report.txt``. ``MUTATION_JOBS`` sets how many mutants run at once (the
CPU count by default).

    python -m tools.mutation --again [domain/chats.py ...]

After a full run, a test written to kill a survivor is checked in minutes, not an hour:
``--again`` copies the working tree's packages and tests over the snapshot, keeps mutmut's
results, and runs again only the mutants that were not killed (of the modules named, or
all), then prints the score of the whole domain as before. A mutant once killed stays
killed, as in any mutmut re-run: new tests only add kills; a changed domain function's
mutants are made afresh and run too (they are not killed yet). A score to record comes
from a full run (no ``--again``) or a full run followed by ``--again`` over every module.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "var" / "mutation"
COPIED = ("pyproject.toml", "domain", "application", "infrastructure", "entrypoints", "tests")
ALSO_COPIED = ("samples",)  # data the tests read
TARGET = 0.90
DETECTED = {"killed", "timeout", "caught by type check", "segfault"}
_RESULT = re.compile(r"^\s*(\S+__mutmut_\d+): (.+)$")


@dataclass(frozen=True)
class Survivor:
    name: str
    status: str
    file: str
    line: int
    before: str
    after: str

    def describe(self) -> str:
        change = f"{self.before.strip()}  ->  {self.after.strip() or '(removed)'}"
        return f"{self.file}:{self.line}  {change}  [{self.name}, {self.status}]"


def snapshot(*, keep_results: bool = False) -> None:
    """Copy the tree to ``WORK``; with ``keep_results``, over the last run's copy, keeping
    mutmut's mutants and results (``WORK/mutants``)."""
    if WORK.exists() and not keep_results:
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True, exist_ok=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
    for name in COPIED + ALSO_COPIED:
        source, target = ROOT / name, WORK / name
        if target.is_dir():
            shutil.rmtree(target)
        if source.is_dir():
            shutil.copytree(source, target, ignore=skip)
        elif source.exists():
            shutil.copy2(source, target)


def module_of(name: str) -> str:
    """``domain/chats.py`` for a mutant named ``domain.chats.x_charge__mutmut_3``."""
    return name.split("__mutmut_", maxsplit=1)[0].rsplit(".", 1)[0].replace(".", "/") + ".py"


def mutmut(*args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    # mutmut first runs every test once under its tracer to learn which tests reach which
    # function: several times slower than a plain run, so on a loaded 2-core machine a big
    # property outlives the suite's 240 s per-test timeout and the run ends with no score.
    # mutmut bounds each mutant's run itself (by CPU time); the pytest bounds are raised.
    addopts = f"{os.environ.get('PYTEST_ADDOPTS', '')} --timeout=3600 -o faulthandler_timeout=3700"
    env = {**os.environ, "HYPOTHESIS_PROFILE": "mutation", "PYTEST_ADDOPTS": addopts.strip()}
    env.pop("HYPOTHESIS_MAX_EXAMPLES", None)
    command = [str(Path(sys.executable).parent / "mutmut"), *args]
    return subprocess.run(
        command, check=False, cwd=WORK, env=env, text=True, capture_output=capture
    )


def statuses() -> dict[str, str]:
    listed = mutmut("results", "--all", "true", capture=True)
    found = {}
    for line in listed.stdout.splitlines():
        match = _RESULT.match(line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def _function_lines(path: Path, name: str) -> range:
    """The lines of the function (or method) a mutant name such as
    ``domain.ledger.xǁMinutesAccountǁreserve__mutmut_3`` points at."""
    key = name.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]
    parts = [p for p in key.split("ǁ") if p and p != "x"]
    function = parts[-1].removeprefix("x_") if len(parts) == 1 else parts[-1]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bodies = [tree.body]
    if len(parts) > 1:
        bodies = [
            n.body for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == parts[0]
        ]
    for body in bodies:
        for child in body:
            is_function = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_function and child.name == function:
                return range(child.lineno, (child.end_lineno or child.lineno) + 1)
    return range(1, len(path.read_text(encoding="utf-8").splitlines()) + 1)


def locate(name: str, status: str) -> Survivor:
    """The file, line and edit of one mutant, from its diff (``mutmut show``)."""
    diff = mutmut("show", name, capture=True).stdout.splitlines()
    file = next((d[4:].strip() for d in diff if d.startswith("--- ")), "?")
    removed = [d[1:] for d in diff if d.startswith("-") and not d.startswith("---")]
    added = [d[1:] for d in diff if d.startswith("+") and not d.startswith("+++")]
    before, after = (removed[0] if removed else ""), (added[0] if added else "")
    line = 0
    path = WORK / file
    if path.is_file() and before:
        source = path.read_text(encoding="utf-8").splitlines()
        lines = _function_lines(path, name)
        line = next((n for n in lines if source[n - 1].strip() == before.strip()), lines[0])
    return Survivor(name, status, file, line, before, after)


def report(found: dict[str, str]) -> list[str]:
    counts = Counter(found.values())
    counted = sum(n for status, n in counts.items() if status != "skipped")
    detected = sum(n for status, n in counts.items() if status in DETECTED)
    score = detected / counted if counted else 0.0
    lines = [
        f"Mutation score of domain/ on {date.today().isoformat()}: {detected} of {counted} "
        f"mutants killed ({score:.1%}); target {TARGET:.0%}: "
        + ("met" if score >= TARGET else "not met"),
        "  " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())),
    ]
    survivors = sorted(
        (locate(name, status) for name, status in found.items() if status not in DETECTED),
        key=lambda s: (s.file, s.line, s.name),
    )
    if survivors:
        lines.append(f"Survivors ({len(survivors)}): file:line  original  ->  mutant")
        lines += [f"  {s.describe()}" for s in survivors]
    return lines


def main(argv: list[str]) -> int:
    jobs = os.environ.get("MUTATION_JOBS", str(os.cpu_count() or 2))
    if argv[:1] == ["--again"]:
        return again(argv[1:], jobs)
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    print(f"Snapshot of the tree in {WORK.relative_to(ROOT)}; mutmut runs there.", flush=True)
    snapshot()
    run = mutmut("run", "--max-children", jobs)
    return finish(run)


def again(modules: list[str], jobs: str) -> int:
    """Run again the mutants a previous run did not kill, with the tree's current tests."""
    if not (WORK / "mutants").is_dir():
        print("No previous run in var/mutation: run `make mutation` first.", file=sys.stderr)
        return 2
    wanted = {m.removeprefix("./") for m in modules}
    names = sorted(
        name
        for name, status in statuses().items()
        if status not in DETECTED and (not wanted or module_of(name) in wanted)
    )
    print(f"{len(names)} mutants not killed yet are run again, on the tree as it is now.")
    snapshot(keep_results=True)
    if not names:
        return finish(subprocess.CompletedProcess([], 0))
    return finish(mutmut("run", "--max-children", jobs, *names))


def finish(run: subprocess.CompletedProcess[str]) -> int:
    found = statuses()
    if run.returncode != 0 or not found:
        print(f"mutmut run failed (exit {run.returncode}): no score.", file=sys.stderr)
        return run.returncode or 1
    lines = report(found)
    (WORK / "report.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
