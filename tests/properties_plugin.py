"""pytest plugin for the property tests (loaded by tests/conftest.py).

- Under the ``thorough`` profile, every property and state machine runs the profile's
  counts even where the test asks for fewer with its own ``@settings``.
- ``--property-summary`` (``make properties``) ends the run with one line a property:
  its result, how many examples it ran and how many were invalid, its time. A property
  that failed is followed by its minimal failing example as ``@example(...)``, ready to
  paste above the test (a state machine's as the steps to replay). Hypothesis keeps the
  failing example in ``.hypothesis/`` as well, and replays it first on the next run.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis.core
import pytest
from hypothesis import is_hypothesis_test, settings
from hypothesis.statistics import collector

from tests import hypothesis_profiles

SUMMARY_OPTION = "--property-summary"


@dataclass
class Outcome:
    nodeid: str
    state_machine: bool
    result: str = "not run"
    passing: int = 0
    invalid: int = 0
    seconds: float = 0.0
    reproducers: list[str] = field(default_factory=list)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        SUMMARY_OPTION,
        action="store_true",
        help="end with one line per Hypothesis property: result, examples, time",
    )


def _is_state_machine(item: pytest.Item) -> bool:
    return getattr(getattr(item, "obj", None), "_hypothesis_state_machine_class", None) is not None


def _is_property(item: pytest.Item) -> bool:
    return isinstance(item, pytest.Function) and is_hypothesis_test(item.obj)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hypothesis_profiles.PROFILE.startswith("thorough"):
        return
    for item in items:
        if _is_state_machine(item):
            case = item.cls  # type: ignore[attr-defined]
            case.settings = hypothesis_profiles.thorough(case.settings, state_machine=True)
        elif _is_property(item):
            test = getattr(item.obj, "__func__", item.obj)  # type: ignore[attr-defined]
            own: settings = test._hypothesis_internal_use_settings
            test._hypothesis_internal_use_settings = hypothesis_profiles.thorough(
                own, state_machine=False
            )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption(SUMMARY_OPTION):
        config.pluginmanager.register(PropertySummary(), "property-summary")
    # A random profile runs from one seed, printed in the header, so that any run can
    # be repeated exactly with --hypothesis-seed.
    default = settings.default
    chosen = config.getoption("--hypothesis-seed")
    if default is not None and not default.derandomize and chosen is None:
        hypothesis.core.global_force_seed = random.SystemRandom().getrandbits(32)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The profile and the seed, printed at the end (pytest's header is hidden by -q)."""
    profile = settings.get_current_profile_name()
    default = settings.default
    if default is None or default.derandomize:
        seed = "derandomized: each test meets the same examples on every run"
    else:
        seed = f"seed {hypothesis.core.global_force_seed} (--hypothesis-seed to repeat the run)"
    terminalreporter.write_line(f"hypothesis profile {profile!r} (HYPOTHESIS_PROFILE), {seed}")


def as_example(failing_call: str) -> str:
    """``test_x(\\n    a=1,\\n)`` as Hypothesis prints a failing example, turned into
    the decorator ``@example(\\n    a=1,\\n)`` that pins it."""
    return re.sub(r"^[\w.]+\(", "@example(", failing_call.strip(), count=1)


def _falsifying_steps(text: str) -> str:
    """A failed state machine's steps as Hypothesis prints them (``state = Books()`` ...
    ``state.teardown()``), and the ``@reproduce_failure`` line that replays them."""
    lines = [re.sub(r"^E\s{0,7}", "", line) for line in text.splitlines()]
    marks = [i for i, line in enumerate(lines) if "<state machine>" in line]
    if not marks:
        return ""
    steps = []
    for line in lines[marks[-1] + 1 :]:
        if line.startswith("You can reproduce"):
            blob = re.search(r"@reproduce_failure\(.*?\)", line)
            steps += [f"# or pin it: {blob.group(0)}"] if blob else []
            break
        if line.strip():
            steps.append(line)
    return "\n".join(steps)


class PropertySummary:
    def __init__(self) -> None:
        self.outcomes: dict[str, Outcome] = {}
        self.started: dict[str, float] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            if _is_property(item):
                self.outcomes[item.nodeid] = Outcome(item.nodeid, _is_state_machine(item))

    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        outcome = self.outcomes.get(item.nodeid)
        if outcome is None:
            yield
            return
        # Hypothesis' own plugin already listens for the statistics (for
        # --hypothesis-show-statistics): hear them too, and pass them on.
        theirs: Callable[[Any], None] | None = collector.value

        def both(stats: dict[str, Any]) -> None:
            for phase in ("explicit", "reuse", "generate"):
                for case in stats.get(f"{phase}-phase", {}).get("test-cases", []):
                    if case["status"] == "valid":
                        outcome.passing += 1
                    elif case["status"] in ("invalid", "overrun"):
                        outcome.invalid += 1
            if theirs is not None:
                theirs(stats)

        started = time.monotonic()
        with collector.with_value(both):
            yield
        outcome.seconds = time.monotonic() - started
        for failing in getattr(item, "_hypothesis_failing_examples", None) or []:
            if not outcome.state_machine:
                outcome.reproducers.append(as_example(failing))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = self.outcomes.get(report.nodeid)
        if outcome is None:
            return
        counts = report.when == "call" or report.outcome != "passed"
        if counts and outcome.result in ("not run", "passed"):
            outcome.result = report.outcome
        if report.failed and outcome.state_machine and not outcome.reproducers:
            steps = _falsifying_steps(report.longreprtext)
            if steps:
                outcome.reproducers.append(steps)

    @pytest.hookimpl(trylast=True)  # after Hypothesis' statistics: the last screen
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        write = terminalreporter.write_line
        profile = settings.get_current_profile_name()
        terminalreporter.section(f"Properties (Hypothesis profile {profile!r})")
        width = max((len(o.nodeid) - 6 for o in self.outcomes.values()), default=10)
        for o in self.outcomes.values():
            name = o.nodeid.removeprefix("tests/").removesuffix("::runTest")
            runs = "runs" if o.state_machine else "examples"
            invalid = f", {o.invalid} invalid" if o.invalid else ""
            write(
                f"{o.result.upper():7} {name:{width}}  "
                f"{o.passing:>6} {runs}{invalid}  {o.seconds:7.1f} s"
            )
        failed = [o for o in self.outcomes.values() if o.result == "failed"]
        total = sum(o.passing for o in self.outcomes.values())
        write(
            f"{len(self.outcomes)} properties and state machines, {total} examples, "
            f"{len(failed)} failed"
        )
        for o in failed:
            write("")
            write(f"{o.nodeid}: minimal failing example, kept in .hypothesis/ too")
            if not o.reproducers:
                write("  (see the failure above)")
            for reproducer in o.reproducers:
                for line in reproducer.splitlines():
                    write(f"    {line}")
