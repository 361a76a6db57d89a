"""When to retry a failed request by ourselves, and after how long (no Textual here).

A rate limit is retried after the wait the server asks for, when that is at most MAX_WAIT
(the SDK's own limit; longer waits are left to the user). Server errors, timeouts and refused
connections are retried after a doubling backoff, as often as the ``retries`` setting allows.
Anything else (a bad key, an unknown model, a request too long) needs the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chinwag.failures import CONNECTION, RATE_LIMITED, SERVER, TIMEOUT

if TYPE_CHECKING:
    from chinwag.client import Failed

MAX_WAIT = 120.0
BACKOFF = 2.0  # seconds before the first retry; doubles each time
TRANSIENT = (SERVER, CONNECTION, TIMEOUT)


@dataclass
class RetryPolicy:
    """Counts the automatic retries of one request; ``reset`` when the user acts."""

    retries: int = 2
    done: int = 0

    def wait_for(self, failure: Failed) -> float | None:
        """Seconds to wait before retrying ``failure`` by ourselves, or None to leave it to the user.

        A rate limit is retried at least once even with ``retries = 0``: the server said when.
        """
        if failure.kind == RATE_LIMITED:
            backoff = BACKOFF * 2**self.done
            wait = failure.retry_after if failure.retry_after is not None else backoff
            return wait if wait <= MAX_WAIT and self.done < max(self.retries, 1) else None
        if failure.kind in TRANSIENT and self.done < self.retries:
            return BACKOFF * 2**self.done
        return None

    def next(self, failure: Failed) -> float | None:
        """``wait_for``, counting the retry when there is one."""
        wait = self.wait_for(failure)
        if wait is not None:
            self.done += 1
        return wait

    def reset(self) -> None:
        self.done = 0
