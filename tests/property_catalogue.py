"""What tests/PROPERTIES.md must list, found in the test files, and what it does list.

A *property* is a test function decorated with Hypothesis' ``@given``; a *state machine*
is a class built on ``RuleBasedStateMachine``, and each of its ``@invariant`` methods is
listed too (as ``Machine.invariant``). Only the pure layers' tests count: tests/unit
and tests/application. Files are read, not imported, so a module that does not import
(yet) is still checked.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "tests" / "PROPERTIES.md"
SCANNED = ("tests/unit", "tests/application")


def _decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> set[str]:
    names = set()
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, ast.Attribute):
            names.add(target.attr)
    return names


def _base_names(node: ast.ClassDef) -> set[str]:
    names = set()
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.add(base.id)
        elif isinstance(base, ast.Attribute):
            names.add(base.attr)
    return names


def properties_in(source: str) -> list[str]:
    """The properties, state machines and invariants one test module defines."""
    tree = ast.parse(source)
    found: list[str] = []
    machines = {"RuleBasedStateMachine"}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if "given" in _decorator_names(node):
                found.append(node.name)
        elif isinstance(node, ast.ClassDef):
            is_machine = bool(_base_names(node) & machines)
            if is_machine:
                machines.add(node.name)
                found.append(node.name)
            for member in node.body:
                if not isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                decorators = _decorator_names(member)
                if "given" in decorators or (is_machine and "invariant" in decorators):
                    found.append(f"{node.name}.{member.name}")
    return found


def properties_in_tree(root: Path = ROOT) -> dict[str, list[str]]:
    """Every test module under tests/unit and tests/application that defines a property
    or state machine (path relative to the project), with what it defines."""
    tree: dict[str, list[str]] = {}
    for folder in SCANNED:
        for path in sorted((root / folder).rglob("test_*.py")):
            found = properties_in(path.read_text(encoding="utf-8"))
            if found:
                tree[path.relative_to(root).as_posix()] = found
    return tree


_HEADING = re.compile(r"^#{2,}\s.*?`(tests/[^`]+\.py)`")
_ROW = re.compile(r"^\|\s*`([A-Za-z_][\w.]*)`\s*\|")


def catalogued(text: str) -> dict[str, list[str]]:
    """The catalogue's entries: under each heading that names a test module in
    backquotes, the table rows whose first cell is a test's name in backquotes."""
    entries: dict[str, list[str]] = {}
    module: str | None = None
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            module = heading.group(1)
            entries.setdefault(module, [])
        elif line.startswith("#"):
            module = None
        elif module is not None and (row := _ROW.match(line)):
            entries[module].append(row.group(1))
    return entries


def differences(
    found: dict[str, list[str]], listed: dict[str, list[str]]
) -> tuple[list[str], list[str]]:
    """(properties the catalogue misses, catalogue entries no test defines any more)."""
    have = {f"{module}::{name}" for module, names in found.items() for name in names}
    said = {f"{module}::{name}" for module, names in listed.items() for name in names}
    return sorted(have - said), sorted(said - have)
