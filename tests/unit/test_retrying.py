"""The retry loop shared by every cloud adapter."""

from __future__ import annotations

import pytest

from application.errors import PortError, RecognitionFailed
from infrastructure.retrying import RetryPolicy, with_retries


class Flaky:
    def __init__(self, failures: list[PortError]) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


async def no_sleep(_: float) -> None:
    return None


async def test_transient_errors_are_retried_until_success() -> None:
    flaky = Flaky([RecognitionFailed("429", transient=True)] * 2)
    assert await with_retries(flaky, RetryPolicy(attempts=3), what="x", sleep=no_sleep) == "ok"
    assert flaky.calls == 3


async def test_attempts_are_bounded() -> None:
    flaky = Flaky([RecognitionFailed("503", transient=True)] * 5)
    with pytest.raises(RecognitionFailed):
        await with_retries(flaky, RetryPolicy(attempts=3), what="x", sleep=no_sleep)
    assert flaky.calls == 3


async def test_permanent_errors_are_not_retried() -> None:
    flaky = Flaky([RecognitionFailed("401", transient=False)])
    with pytest.raises(RecognitionFailed):
        await with_retries(flaky, RetryPolicy(attempts=5), what="x", sleep=no_sleep)
    assert flaky.calls == 1


async def test_the_time_budget_stops_retries_early() -> None:
    flaky = Flaky([RecognitionFailed("429", transient=True)] * 5)
    policy = RetryPolicy(attempts=5, base_delay_seconds=10, max_delay_seconds=10, budget_seconds=1)
    error = RecognitionFailed("429", transient=True)
    error.retry_after = 5.0  # type: ignore[attr-defined]
    flaky.failures.insert(0, error)
    with pytest.raises(RecognitionFailed):
        await with_retries(flaky, policy, what="x", sleep=no_sleep)
    assert flaky.calls == 1


def test_backoff_grows_and_respects_the_ceiling() -> None:
    policy = RetryPolicy(base_delay_seconds=1, max_delay_seconds=4)
    assert all(0 <= policy.delay(1) <= 1 for _ in range(50))
    assert all(0 <= policy.delay(5) <= 4 for _ in range(50))
    assert policy.delay(1, hint=3) == 3
    assert policy.delay(1, hint=30) == 4
