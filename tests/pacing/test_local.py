"""The limiter's guarantee on its own: no window sees more starts than allowed, first come first served."""

from __future__ import annotations

import time

import anyio
import pytest

from lsq_mcp.pacing import Limiter, SlidingWindowLimiter
from lsq_mcp.settings import RateLimit

pytestmark = pytest.mark.anyio


def most_in_any_window(starts: list[float], window: float) -> int:
    starts = sorted(starts)
    return max((sum(1 for t in starts[i:] if t < s + window) for i, s in enumerate(starts)), default=0)


async def test_bursts_use_the_whole_allowance_and_never_exceed_it() -> None:
    limiter = SlidingWindowLimiter(RateLimit(5, 0.2))
    starts: list[float] = []

    async def call() -> None:
        async with limiter.slot():
            starts.append(time.monotonic())

    began = time.monotonic()
    async with anyio.create_task_group() as group:
        for _ in range(16):
            group.start_soon(call)
    elapsed = time.monotonic() - began
    assert most_in_any_window(starts, 0.2) <= 5
    # The whole allowance is used at once: 5 start in the first window (not one per 0.04 s). How
    # close the rest come to the bound is bench/rate_limit.py's to measure.
    assert sum(1 for start in starts if start < min(starts) + 0.2) == 5
    assert elapsed >= 3 * 0.2


async def order_of_six_calls(limiter: Limiter) -> list[int]:
    """Six calls queued one millisecond apart: the order in which they got their place."""
    order: list[int] = []

    async def call(n: int) -> None:
        async with limiter.slot():
            order.append(n)

    async with anyio.create_task_group() as group:
        for n in range(6):
            group.start_soon(call, n)
            await anyio.sleep(0.001)
    return order


async def test_first_come_first_served() -> None:
    assert await order_of_six_calls(SlidingWindowLimiter(RateLimit(1, 0.05))) == list(range(6))


# The limit of the cancelled-waiter scenario: a window long enough that a loaded machine's delays
# (hundredths of a second, tenths at worst) cannot make half a window's wait look like a whole one.
ONE_CALL_PER_WINDOW = RateLimit(1, 1.0)


async def windows_waited_after_a_cancelled_waiter(first: Limiter, second: Limiter) -> float:
    """Under ONE_CALL_PER_WINDOW: `first` calls, `second` queues and is cancelled half a window later,
    then `first` calls again. How many windows that last call waited: half (the rest of the first
    call's window) when the cancelled call took no place, a whole one or more when it took one."""
    async with first.slot():
        pass
    with anyio.move_on_after(ONE_CALL_PER_WINDOW.seconds / 2):
        async with second.slot():  # would wait a window: cancelled in the queue
            pass
    began = time.monotonic()
    async with first.slot():
        pass
    return (time.monotonic() - began) / ONE_CALL_PER_WINDOW.seconds


async def test_a_cancelled_waiter_gives_its_place_back() -> None:
    limiter = SlidingWindowLimiter(ONE_CALL_PER_WINDOW)
    # The next caller waits out the first call's window only, not a second one for the cancelled call.
    assert await windows_waited_after_a_cancelled_waiter(limiter, limiter) < 0.75


async def test_learning_a_stricter_limit_repaces() -> None:
    limiter = SlidingWindowLimiter(RateLimit(10, 0.2))
    await limiter.rate_limited(RateLimit(2, 0.2), 0)
    assert limiter.limit == RateLimit(2, 0.2)
    starts = []
    for _ in range(4):
        async with limiter.slot():
            starts.append(time.monotonic())
    assert most_in_any_window(starts, 0.2) <= 2


async def test_pause_holds_every_call_back() -> None:
    limiter = SlidingWindowLimiter(RateLimit(100, 1))
    limiter.pause(0.15)
    began = time.monotonic()
    async with limiter.slot():
        assert time.monotonic() - began >= 0.14


async def two_slow_then_a_quick_call(slow: Limiter, quick: Limiter) -> tuple[list[float], list[float]]:
    """Two calls through `slow` that take 0.3 s each, then one through `quick`: when each call
    started, and when the slow ones finished."""
    finished: list[float] = []
    started: list[float] = []

    async def slow_call() -> None:
        async with slow.slot():
            started.append(time.monotonic())
            await anyio.sleep(0.3)
            finished.append(time.monotonic())

    async def quick_call() -> None:
        await anyio.sleep(0.01)
        async with quick.slot():
            started.append(time.monotonic())

    async with anyio.create_task_group() as group:
        group.start_soon(slow_call)
        group.start_soon(slow_call)
        group.start_soon(quick_call)
    return started, finished


async def test_a_call_holds_its_place_until_it_finishes() -> None:
    """LeadSquared counts a call when it arrives: a slow call must not free its place early."""
    limiter = SlidingWindowLimiter(RateLimit(2, 0.1))
    started, finished = await two_slow_then_a_quick_call(limiter, limiter)
    # The third call waited for a slow one to finish and for that stamp's window to pass.
    assert started[2] >= min(finished) + 0.1
