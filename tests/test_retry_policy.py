"""The retry policy on its own: what is retried by itself, after how long, how often."""

from __future__ import annotations

import pytest

from chinwag import client as api
from chinwag.retry import MAX_WAIT, RetryPolicy


def failed(kind: str, retry_after: float | None = None) -> api.Failed:
    return api.Failed(kind, "it failed", retry_after=retry_after)


@pytest.mark.parametrize("kind", [api.SERVER, api.CONNECTION, api.TIMEOUT])
def test_transient_failures_back_off_doubling_then_stop(kind):
    policy = RetryPolicy(retries=3)
    assert [policy.next(failed(kind)) for _ in range(4)] == [2.0, 4.0, 8.0, None]


@pytest.mark.parametrize("kind", [api.AUTH, api.NOT_FOUND, api.CONTEXT_LENGTH, api.BAD_REQUEST, api.CUT_OFF,
                                  api.MALFORMED, api.UNKNOWN])
def test_failures_that_need_the_user_are_never_retried(kind):
    assert RetryPolicy(retries=5).next(failed(kind)) is None


def test_rate_limit_waits_as_long_as_the_server_asks_even_with_retries_off():
    policy = RetryPolicy(retries=0)
    assert policy.next(failed(api.RATE_LIMITED, retry_after=7)) == 7
    assert policy.next(failed(api.RATE_LIMITED, retry_after=7)) is None


def test_rate_limit_longer_than_the_limit_is_left_to_the_user():
    assert RetryPolicy(retries=2).next(failed(api.RATE_LIMITED, retry_after=MAX_WAIT + 1)) is None


def test_rate_limit_without_retry_after_backs_off():
    policy = RetryPolicy(retries=2)
    assert [policy.next(failed(api.RATE_LIMITED)) for _ in range(3)] == [2.0, 4.0, None]


def test_reset_starts_counting_again():
    policy = RetryPolicy(retries=1)
    assert policy.next(failed(api.SERVER)) == 2.0
    assert policy.next(failed(api.SERVER)) is None
    policy.reset()
    assert policy.next(failed(api.SERVER)) == 2.0


def test_wait_for_does_not_count():
    policy = RetryPolicy(retries=1)
    assert policy.wait_for(failed(api.SERVER)) == policy.wait_for(failed(api.SERVER)) == 2.0
