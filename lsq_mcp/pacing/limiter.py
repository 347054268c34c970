"""What the connection needs of a limiter, and the limit it paces to.

LeadSquared counts calls per account in a window of a few seconds and says so only by
rejecting calls; its message tells the account's real limit, which may be stricter than the
configured one. Every limiter paces to a `LearnedLimit`: the configured limit until then, and
within it after (with sanity bounds, for a day).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import anyio

from lsq_mcp.settings import RateLimit

logger = logging.getLogger(__name__)

# A window this much longer than the account's absorbs small differences between clocks.
WINDOW_MARGIN = 0.01
# How long a limit LeadSquared named is paced to (in this process, and in Redis for all of them).
LEARNED_FOR_SECONDS = 86400
# The slowest limit a message may teach (see `LearnedLimit`): 1 call per minute.
SLOWEST_LIMIT = RateLimit(1, 60)


class Limiter(Protocol):
    """What the connection needs of a limiter, in one process or shared by many."""

    @property
    def limit(self) -> RateLimit:
        """The limit paced to now: the configured one, or the real one once LeadSquared said it."""
        ...

    def slot(self) -> AbstractAsyncContextManager[None]:
        """`async with limiter.slot():` waits for a place, first come first served, and holds it
        while the call runs; a waiter cancelled before it gets a place takes none."""
        ...

    async def rate_limited(self, limit: RateLimit | None, pause: float) -> None:
        """LeadSquared rejected a call: pace to `limit` (its real limit, when it said) from now on,
        and start no call for `pause` seconds."""
        ...

    async def aclose(self) -> None:
        """Let go of what the limiter holds (a connection to Redis)."""
        ...


class LearnedLimit:
    """The limit to pace to: the configured one, until LeadSquared tells the account's real one.

    What LeadSquared says is combined with the configured limit, not taken in its place: pacing
    keeps to both, at most the fewer calls per the longer window (told 30 in 60 s with 25/5
    configured, it paces to 25 per 60 s). So it never goes faster than LSQ_RATE_LIMIT, which may
    leave room for the account's other integrations: "100 in 1 second" changes nothing. Bounds:

    - A combination slower than SLOWEST_LIMIT is refused, and the limit paced to stays as it is:
      no account is that slow per window, so the message is a daily cap ("10000 in 86400
      seconds") or garbled, and pacing to it would hold every call past its time. Each
      rate-limit answer is still honoured by its own pause.
    - What is learned lasts LEARNED_FOR_SECONDS (a day, as Redis keeps it): plans change, and
      LeadSquared says it again if it still holds. Hearing the same limit again does not extend
      it, so a copy echoed back by Redis cannot keep it alive.
    """

    def __init__(self, configured: RateLimit, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.configured = configured
        self._clock = clock
        self._learned: RateLimit | None = None
        self._expires = 0.0

    @property
    def current(self) -> RateLimit:
        if self._learned is not None and self._clock() < self._expires:
            return self._learned
        return self.configured

    def adopt(self, limit: RateLimit, source: str = "") -> RateLimit | None:
        """Pace to what `limit` (LeadSquared's word) and the configured limit allow together, from now
        on; `source` says who learned it, for the log line. Returns what is learned: None when the
        message is refused or allows no less than the configured limit (nothing to share)."""
        configured = self.configured
        paced = RateLimit(min(limit.calls, configured.calls), max(limit.seconds, configured.seconds))
        if paced.calls / paced.seconds < SLOWEST_LIMIT.calls / SLOWEST_LIMIT.seconds:
            logger.warning(
                "LeadSquared named a rate limit of %s: too slow to pace to (a daily cap?), pacing to %s "
                "still",
                limit.words,
                self.current.words,
            )
            return None
        if paced != self.current:
            logger.warning(
                "LeadSquared's rate limit is %s, not %s: pacing %sto %s now",
                limit.words,
                self.current.words,
                f"{source} " if source else "",
                "it" if paced == limit else f"{paced.words} (within it and LSQ_RATE_LIMIT)",
            )
            self._learned = None if paced == configured else paced
            self._expires = self._clock() + LEARNED_FOR_SECONDS
        return None if paced == configured else paced


class QueuedLimiter:
    """What every limiter shares: the limit it paces to, and a first-come-first-served queue.

    anyio's lock queues its waiters in order, and only the head of the queue waits for a place
    (asking Redis, for a shared limiter): no busy loop, and a waiter cancelled in the queue simply
    leaves it. `_wake()` tells the head that a call finished, so a place may have freed up.
    """

    def __init__(self, limit: RateLimit) -> None:
        self._limit = LearnedLimit(limit)
        self._lock = anyio.Lock()
        self._changed = anyio.Event()

    @property
    def limit(self) -> RateLimit:
        return self._limit.current

    def _wake(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()
