"""Running one task beside another: the little the server needs beyond anyio's task groups."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


async def run_beside(main: Callable[[], Awaitable[T]], beside: Callable[[], Coroutine[Any, Any, None]]) -> T:
    """`main()`'s result, with `beside()` running meanwhile (cancelled once `main` is done). A failure
    of `main` is raised as it is, not wrapped in the task group's ExceptionGroup, so that callers
    catch it by its own type."""
    failure: Exception | None = None
    result: T | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(beside)
        try:
            result = await main()
        except Exception as exc:
            failure = exc
        group.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return result  # type: ignore[return-value]  # set whenever main() returned
