"""tests/PROPERTIES.md lists every property and state-machine invariant, and nothing
else: a new ``@given`` test or invariant needs its row, a renamed one its row renamed."""

from __future__ import annotations

from tests.property_catalogue import (
    CATALOGUE,
    catalogued,
    differences,
    properties_in,
    properties_in_tree,
)


def test_every_property_is_catalogued_and_every_entry_exists() -> None:
    missing, stale = differences(properties_in_tree(), catalogued(CATALOGUE.read_text()))
    assert not missing, (
        "properties without a row in tests/PROPERTIES.md (add one under the file's "
        "heading, in plain words):\n  " + "\n  ".join(missing)
    )
    assert not stale, "rows in tests/PROPERTIES.md for tests that no longer exist:\n  " + (
        "\n  ".join(stale)
    )


def test_the_scan_finds_given_tests_machines_and_invariants() -> None:
    source = """
import hypothesis
from hypothesis import given
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

@given(st.integers())
def test_a(n): ...

@hypothesis.given(st.integers())
async def test_b(n): ...

@pytest.mark.parametrize("x", [1])
def test_plain(x): ...

class TestGroup:
    @given(st.integers())
    def test_c(self, n): ...

class Machine(RuleBasedStateMachine):
    @rule()
    def step(self): ...

    @invariant()
    def holds(self): ...

class Deeper(Machine):
    @invariant()
    def also(self): ...

TestMachine = Machine.TestCase
"""
    assert properties_in(source) == [
        "test_a",
        "test_b",
        "TestGroup.test_c",
        "Machine",
        "Machine.holds",
        "Deeper",
        "Deeper.also",
    ]


def test_the_catalogue_is_read_by_heading_and_first_cell() -> None:
    text = """
# Catalogue
| `not_under_a_module` | ignored |
### `tests/unit/test_x.py`: things
| Test | What always holds |
| --- | --- |
| `test_a` | a holds |
| `Machine.holds` | it holds |
## Another section
| `ignored_too` | x |
"""
    assert catalogued(text) == {"tests/unit/test_x.py": ["test_a", "Machine.holds"]}
    found = {"tests/unit/test_x.py": ["test_a", "test_b"]}
    assert differences(found, catalogued(text)) == (
        ["tests/unit/test_x.py::test_b"],
        ["tests/unit/test_x.py::Machine.holds"],
    )
