"""One tool call's MCP progress notifications: a walk's pages as they are read, and a word every
HEARTBEAT_SECONDS while the call waits (its turn under the rate limit, or LeadSquared's answer).

Some clients give up on a call that says nothing for a few seconds (the OpenAI Agents SDK, after
5 s by default), while a call may wait its turn under the rate limit far longer. Notifications are
sent only when the client gave a progress token (the SDK drops them otherwise), and each one's
progress is higher than the one before, as MCP asks: a word while on page `done` says
`done + k/(k+1)` (k words so far), below the next page's.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from functools import partial
from typing import TypeVar

import anyio

from lsq_mcp.api.connection import WAITING, Waiting
from lsq_mcp.concurrency import run_beside
from lsq_mcp.tools.context import ToolContext, deps_of

T = TypeVar("T")

# Silence longer than this is broken by a word of what the call waits for.
HEARTBEAT_SECONDS = 2.0

_CURRENT: ContextVar[CallProgress | None] = ContextVar("lsq_mcp_call_progress", default=None)


class CallProgress:
    """The progress notifications of one tool call (see the module's docstring)."""

    def __init__(self, ctx: ToolContext) -> None:
        self._ctx = ctx
        self.waiting = Waiting()
        self._done = 0
        self._planned: int | None = None
        self._words = 0
        self._said = time.monotonic()

    async def page(self, done: int, planned: int) -> None:
        """A walk has read `done` of the `planned` pages."""
        self._done, self._planned, self._words = max(done, self._done), planned, 0
        await self._say(self._done, f"page {done} of {planned}")

    async def keep_talking(self) -> None:
        """Break every silence of HEARTBEAT_SECONDS with what the call waits for (until cancelled)."""
        while True:
            await anyio.sleep(max(self._said + HEARTBEAT_SECONDS - time.monotonic(), 0))
            if time.monotonic() - self._said >= HEARTBEAT_SECONDS:
                self._words += 1
                await self._say(self._done + self._words / (self._words + 1), self._waiting_for())

    def _waiting_for(self) -> str:
        if self.waiting.calls:
            limit = deps_of(self._ctx).conn.limiter.limit
            return f"waiting for a turn under the rate limit ({limit.words})"
        return "waiting for LeadSquared's answer"

    async def _say(self, progress: float, message: str) -> None:
        self._said = time.monotonic()
        await self._ctx.report_progress(progress, self._planned, message)


async def with_progress(ctx: ToolContext, call: Callable[[], Awaitable[T]]) -> T:
    """`call()`'s result, its progress told to the client as it goes (see `CallProgress`)."""
    progress = CallProgress(ctx)
    current, waiting = _CURRENT.set(progress), WAITING.set(progress.waiting)
    try:
        return await run_beside(call, progress.keep_talking)
    finally:
        WAITING.reset(waiting)
        _CURRENT.reset(current)


def page_progress(ctx: ToolContext) -> Callable[[int, int], Awaitable[None]]:
    """Report a walk's progress to the client, a page at a time (MCP progress notifications)."""
    current = _CURRENT.get()
    if current is not None:
        return current.page
    return partial(_report_page, ctx)


async def _report_page(ctx: ToolContext, done: int, planned: int) -> None:
    await ctx.report_progress(done, planned, f"page {done} of {planned}")
