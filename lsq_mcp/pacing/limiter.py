"""What the connection needs of a limiter, and the limit it paces to.

LeadSquared counts calls per account in a window of a few seconds and says so only by
rejecting calls; its message tells the account's real limit, which may be stricter than the
configured one. Every limiter paces to a `LearnedLimit`: the configured limit until then.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from lsq_mcp.settings import RateLimit

logger = logging.getLogger(__name__)

# A window this much longer than the account's absorbs small differences between clocks.
WINDOW_MARGIN = 0.01


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
    """The limit to pace to: the configured one, until LeadSquared tells the account's real one."""

    def __init__(self, configured: RateLimit) -> None:
        self.current = configured

    def adopt(self, limit: RateLimit, source: str = "") -> None:
        """Pace to `limit` from now on; `source` says who learned it, for the log line."""
        if limit == self.current:
            return
        logger.warning(
            "LeadSquared's rate limit is %s calls per %gs, not %s: pacing %sto it now",
            limit.calls,
            limit.seconds,
            self.current,
            f"{source} " if source else "",
        )
        self.current = limit
