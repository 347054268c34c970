"""Pacing API calls under the account's rate limit, shared by every call in the process.

LeadSquared counts calls per account in a window of a few seconds and says so only
by rejecting calls. A sliding window log lets a burst use the whole allowance at once
(unlike a fixed sleep between calls) while no window of the limit's length ever sees
more starts than it allows.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

import anyio

from lsq_mcp.settings import RateLimit

logger = logging.getLogger(__name__)

# Calls leave here a little before LeadSquared counts them; a window this much longer than the
# account's absorbs the spread of network delays between one call and the next.
WINDOW_MARGIN = 0.02


class SlidingWindowLimiter:
    """First come, first served: each `acquire()` waits until a call may start, then counts it."""

    def __init__(self, limit: RateLimit, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._clock = clock
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        # anyio's lock queues its waiters in order, and only the head of the queue sleeps:
        # no busy loop, and a waiter cancelled in the queue simply leaves it.
        self._lock = anyio.Lock()

    @property
    def limit(self) -> RateLimit:
        return self._limit

    async def acquire(self) -> None:
        """Wait for a free place in the window, then take it."""
        async with self._lock:
            # Sleeping is right here: the wait ends at a known time, not on another task's signal.
            while (delay := self._delay(self._clock())) > 0:  # noqa: ASYNC110
                await anyio.sleep(delay)
            self._starts.append(self._clock())

    def learn(self, limit: RateLimit) -> None:
        """LeadSquared said what the account's real limit is: pace to it from now on."""
        if limit != self._limit:
            logger.warning(
                "LeadSquared's rate limit is %s calls per %gs, not the configured %s: pacing to it now",
                limit.calls,
                limit.seconds,
                self._limit,
            )
            self._limit = limit

    def pause(self, seconds: float) -> None:
        """A call was rejected for the rate limit: start no call for `seconds`."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _delay(self, now: float) -> float:
        window = self._limit.seconds * (1 + WINDOW_MARGIN)
        while self._starts and self._starts[0] <= now - window:
            self._starts.popleft()
        wait = self._paused_until - now
        excess = len(self._starts) - self._limit.calls
        if excess >= 0:
            # The window frees up when the start `excess` places from its oldest leaves it.
            wait = max(wait, self._starts[excess] + window - now)
        return wait
