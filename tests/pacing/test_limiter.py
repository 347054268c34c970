"""The limit paced to: what LeadSquared says, within the configured limit, sane, and for a day."""

from __future__ import annotations

import logging

import pytest

from lsq_mcp.pacing import SlidingWindowLimiter
from lsq_mcp.pacing.limiter import LEARNED_FOR_SECONDS, LearnedLimit
from lsq_mcp.settings import RateLimit

pytestmark = pytest.mark.anyio

CONFIGURED = RateLimit(25, 5)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("told", "paced"),
    [
        (RateLimit(20, 5), RateLimit(20, 5)),  # stricter: taken as told
        (RateLimit(10, 2), RateLimit(10, 5)),  # fewer calls in a shorter window: both kept
        (RateLimit(30, 60), RateLimit(25, 60)),  # a longer window: both kept
        (RateLimit(100, 1), CONFIGURED),  # looser: never faster than configured
        (RateLimit(50, 10), RateLimit(25, 10)),
    ],
)
def test_what_leadsquared_says_is_paced_to_within_the_configured_limit(
    told: RateLimit, paced: RateLimit
) -> None:
    limit = LearnedLimit(CONFIGURED)
    learned = limit.adopt(told)
    assert limit.current == paced
    assert learned == (None if paced == CONFIGURED else paced), "only a real lesson is shared"


@pytest.mark.parametrize("told", [RateLimit(10000, 86400), RateLimit(1, 61), RateLimit(25, 3600)])
def test_a_limit_slower_than_one_call_a_minute_is_refused(
    told: RateLimit, caplog: pytest.LogCaptureFixture
) -> None:
    limit = LearnedLimit(CONFIGURED)
    limit.adopt(RateLimit(20, 5))
    with caplog.at_level(logging.WARNING, logger="lsq_mcp"):
        assert limit.adopt(told) is None
    assert limit.current == RateLimit(20, 5), "the limit paced to stays as it was"
    assert "too slow to pace to" in caplog.text


def test_one_call_a_minute_is_still_a_limit() -> None:
    limit = LearnedLimit(CONFIGURED)
    assert limit.adopt(RateLimit(1, 60)) == RateLimit(1, 60)


def test_a_learned_limit_lasts_a_day_and_hearing_it_again_does_not_extend_it() -> None:
    clock = Clock()
    limit = LearnedLimit(CONFIGURED, clock=clock)
    limit.adopt(RateLimit(10, 5))
    clock.now += LEARNED_FOR_SECONDS - 1
    limit.adopt(RateLimit(10, 5))  # as Redis echoes it back on every call
    assert limit.current == RateLimit(10, 5)
    clock.now += 1
    assert limit.current == CONFIGURED
    limit.adopt(RateLimit(10, 5))  # said again after it lapsed: learned again
    assert limit.current == RateLimit(10, 5)


async def test_a_limiter_told_a_daily_cap_keeps_pacing() -> None:
    limiter = SlidingWindowLimiter(CONFIGURED)
    await limiter.rate_limited(RateLimit(10000, 86400), 0)
    assert limiter.limit == CONFIGURED
