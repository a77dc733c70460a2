"""The Hypothesis profiles, registered in one place and chosen with HYPOTHESIS_PROFILE.

- ``dev`` (the default): Hypothesis' own defaults, 100 examples a property, random.
- ``ci`` (``make test``): the same examples every run (derandomized, no example database,
  so a failure on CI fails the same way on a laptop), a deadline a loaded 2-core machine
  keeps, no too-slow health check, and the ``@reproduce_failure`` blob printed.
- ``thorough`` (``make properties``): 10,000 examples a property and state machines of
  1,000 steps, no deadline; failing examples are kept in ``.hypothesis/`` and replayed
  first next time. It overrides a test's own smaller ``@settings`` (see ``thorough``).
- ``mutation`` (``make mutation``): ``ci`` without a deadline. Each mutant must meet the
  same examples, or a mutant would be killed or spared by luck; mutmut's tracing slows
  every call, so no deadline.

``HYPOTHESIS_MAX_EXAMPLES`` replaces the profile's example count (for a shorter
``thorough`` run: ``make properties HYPOTHESIS_MAX_EXAMPLES=1000``).
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

#: State machines are runs of many steps each: this many runs of 1,000 steps under
#: ``thorough`` (10,000 would take hours on the application's state machine).
THOROUGH_STATE_MACHINE_RUNS = 300
THOROUGH_STEPS = 1000

settings.register_profile("dev", print_blob=True)
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "thorough",
    max_examples=10_000,
    stateful_step_count=THOROUGH_STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile("mutation", settings.get_profile("ci"), deadline=None)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
_examples = os.environ.get("HYPOTHESIS_MAX_EXAMPLES")
if _examples:
    settings.register_profile(
        f"{PROFILE}-{_examples}", settings.get_profile(PROFILE), max_examples=int(_examples)
    )
    settings.load_profile(f"{PROFILE}-{_examples}")
else:
    settings.load_profile(PROFILE)


def thorough(own: settings, *, state_machine: bool) -> settings:
    """A test's own settings raised to the ``thorough`` profile's counts: a test that
    asks for 400 examples gets 10,000 here, a state machine of 30 steps gets 1,000."""
    default = settings.default
    assert default is not None
    if state_machine:
        runs = min(default.max_examples, THOROUGH_STATE_MACHINE_RUNS)
        return settings(
            own,
            max_examples=max(own.max_examples, runs),
            stateful_step_count=max(own.stateful_step_count, default.stateful_step_count),
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    return settings(
        own,
        max_examples=max(own.max_examples, default.max_examples),
        deadline=None,
        suppress_health_check={*own.suppress_health_check, *default.suppress_health_check},
    )
