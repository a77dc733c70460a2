# voicescribe: every command a newcomer or CI needs. Nothing relies on state left by hand:
# the virtual environment is (re)built from pyproject.toml whenever it changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SAMPLES := $(wildcard samples/*.ogg)

.PHONY: venv run serve test pythons lint typecheck layers unit properties mutation bench bench-quick clean browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: venv
	@for f in $(SAMPLES); do echo "== $$f"; $(BIN)/voicescribe transcribe "$$f" || exit 1; echo; done

serve: venv
	$(BIN)/voicescribe serve

# The benchmarks' quick mode is a smoke test here: every benchmark must run to the end
# offline (a crash fails); its timings are printed, never judged (machines differ).
# Then the fast tests on every other supported Python installed here (pyproject's
# classifiers; pyenv's or on PATH), each in its own .venv-X.Y: pip picks other releases
# there (PyAV 19 from 3.12 on). A version not installed is skipped with a note.
FAST_TESTS := tests/unit tests/integration/test_voice_notes_on_this_python.py \
	tests/integration/test_audio_converter.py

# Hypothesis' `ci` profile (tests/hypothesis_profiles.py): derandomized, a deadline a loaded
# 2-core machine keeps; every step below that runs tests uses it.
test: export HYPOTHESIS_PROFILE = ci
test: lint typecheck layers browser
	$(BIN)/pytest
	$(BIN)/python -m benchmarks --quick
	$(BIN)/python -m tools.pythons $(FAST_TESTS)

pythons: venv
	$(BIN)/python -m tools.pythons $(FAST_TESTS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

layers: venv
	$(BIN)/lint-imports

unit: venv
	$(BIN)/pytest tests/unit tests/application

# Every property and state machine of tests/unit and tests/application under the
# `thorough` profile (10,000 examples a property, state machines of 1,000 steps: hours on
# a 2-core machine; HYPOTHESIS_MAX_EXAMPLES=1000 for a shorter run), Hypothesis' statistics,
# then one line a property and each failure's reproducer. Not part of `make test`.
properties: venv
	HYPOTHESIS_PROFILE=thorough $(BIN)/pytest tests/unit tests/application -m hypothesis \
		--hypothesis-show-statistics --property-summary --timeout=7200 \
		-o faulthandler_timeout=7500

# Mutation testing of domain/ (mutmut, the `mutation` extra) with tests/unit, on a copy
# of the tree in var/mutation: the score and every surviving mutant. Not part of `make test`.
MUTATION_STAMP := $(VENV)/.mutation-stamp
$(MUTATION_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	$(BIN)/python -m tools.mutation

# The Mini App's browser test (tests/e2e/test_mini_app_browser.py) drives Debian's headless
# Chromium through Selenium (the `browser` extra): installed here when missing, so a fresh
# machine needs nothing by hand (apt-get needs root, as on CI).
BROWSER_STAMP := $(VENV)/.browser-stamp
$(BROWSER_STAMP): $(STAMP)
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		chromium chromium-driver; }
	$(BIN)/python -m pip install --quiet -e '.[dev,browser]'
	touch $(BROWSER_STAMP)

browser: $(BROWSER_STAMP)

bench: venv
	$(BIN)/python -m benchmarks

bench-quick: venv
	$(BIN)/python -m benchmarks --quick

clean:
	rm -rf $(VENV) .venv-3.* var .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
