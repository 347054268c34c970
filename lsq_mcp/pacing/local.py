"""Pacing the calls of one process: a sliding window log.

A sliding window log lets a burst use the whole allowance at once
(unlike a fixed sleep between calls) while no window of the limit's length ever sees
more calls than it allows.

LeadSquared counts a call when it arrives, which is some time after it leaves here
(a new connection, a slow network). So a call holds its place in the window from the
moment it is let through until it has finished, and only then is it stamped, with
the time it finished: never earlier than LeadSquared's own count.

With LSQ_REDIS_URL, `lsq_mcp.pacing.redis` gives the same guarantee to every process
sharing the account instead.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio

from lsq_mcp.pacing.limiter import WINDOW_MARGIN, QueuedLimiter
from lsq_mcp.settings import RateLimit


class SlidingWindowLimiter(QueuedLimiter):
    """First come, first served: `async with limiter.slot():` waits for a place, then holds it."""

    def __init__(self, limit: RateLimit, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(limit)
        self._clock = clock
        self._finished: deque[float] = deque()
        self._in_flight = 0
        self._paused_until = 0.0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for a free place in the window, hold it while the call runs, stamp it when done."""
        async with self._lock:
            while (delay := self._delay(self._clock())) > 0:
                # Woken by the window moving on, or by a call finishing (its place may free up).
                with anyio.move_on_after(delay):
                    await self._changed.wait()
            self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._finished.append(self._clock())
            self._wake()

    def pause(self, seconds: float) -> None:
        """A call was rejected for the rate limit: start no call for `seconds`."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def rate_limited(self, limit: RateLimit | None, pause: float) -> None:
        if limit is not None:
            self._limit.adopt(limit)
        self.pause(pause)

    async def aclose(self) -> None:
        pass

    def _delay(self, now: float) -> float:
        """How long until a call may start: 0 now, `inf` until a call in flight finishes."""
        limit = self._limit.current
        window = limit.seconds * (1 + WINDOW_MARGIN)
        while self._finished and self._finished[0] <= now - window:
            self._finished.popleft()
        wait = self._paused_until - now
        excess = self._in_flight + len(self._finished) - limit.calls
        if excess >= 0:
            # The window frees up when the finished call `excess` places from its oldest leaves it;
            # if every place is held by a call in flight, only a call finishing frees one.
            expiry = self._finished[excess] + window - now if excess < len(self._finished) else float("inf")
            wait = max(wait, expiry)
        return wait
