"""A Redis shared with others holds data, not truth: whatever another program (or a process of ours
that died) left there, no call hangs, no process exceeds its own LSQ_RATE_LIMIT, and no key is shown.

Each test poisons a real redis-server (test_redis.py's) the way such a program could, then drives
the Redis limiter (two limiters stand for two processes, as in test_redis.py) or the product itself
through the MCP client against the sandbox.
"""

from __future__ import annotations

import json
import time
from typing import Any

import anyio
import pytest
import redis

from lsq_mcp.api.connection import Connection
from lsq_mcp.metadata import ActivityTypeCache
from lsq_mcp.pacing.redis import RedisLimiter
from lsq_mcp.redis_store import LOCK_LEASE_SECONDS, RedisCache, RedisStore, account_namespace
from lsq_mcp.sandbox import SANDBOX_ACCESS_KEY, SandboxConfig, SandboxServer
from lsq_mcp.settings import RateLimit, Settings
from tests.conftest import connect, env_for, structured, text_of
from tests.pacing.test_local import most_in_any_window
from tests.pacing.test_redis import db, lookups, redis_url, store_for  # noqa: F401 (fixtures)

pytestmark = pytest.mark.anyio

OURS = RateLimit(2, 0.5)


def sandbox_key(name: str) -> str:
    """A key of the sandbox account's in Redis."""
    return f"lsq-mcp:{{{account_namespace(SANDBOX_ACCESS_KEY)}}}:{name}"


def limiter_key(name: str) -> str:
    """A key of test_redis.py's account (the limiters' `store_for`) in Redis."""
    from tests.pacing.test_redis import ACCESS_KEY

    return f"lsq-mcp:{{{account_namespace(ACCESS_KEY)}}}:{name}"


async def six_starts(url: str) -> tuple[list[float], RedisLimiter]:
    """When six calls, one after the other, got their place under OURS (within a bound)."""
    limiter = RedisLimiter(store_for(url), OURS, hold=5)
    starts = []
    with anyio.fail_after(5):
        for _ in range(6):
            async with limiter.slot():
                starts.append(time.monotonic())
    await limiter.aclose()
    return starts, limiter


@pytest.mark.parametrize(
    "poison",
    [
        {"limit": "1000/1"},  # faster than ours: another process's, or anyone's
        {"limit": "1/3600"},  # slower than any account's: refused, as from LeadSquared
        {"limit": "nan/inf"},
        {"limit": "2/0"},
        {"limit": ["a", "list"]},
        {"paused": str(10**18)},  # a pause no process of ours sets
        {"paused": "soon"},
        {"in-flight": {"ghost:1": 10**18}},  # a place held for ever
        {"finished": {"ghost:2": 10**18}},  # a call stamped in the far future
    ],
    ids=lambda poison: "-".join(str(part) for part in next(iter(poison.items()))),
)
async def test_what_redis_holds_never_hangs_a_call_nor_lets_it_exceed_its_own_limit(
    redis_url: str,  # noqa: F811 (the fixture)
    db: redis.Redis,  # noqa: F811
    poison: dict[str, Any],
) -> None:
    for name, value in poison.items():
        if isinstance(value, dict):
            db.zadd(limiter_key(name), value)
        elif isinstance(value, list):
            db.rpush(limiter_key(name), *value)
        else:
            db.set(limiter_key(name), value)
    starts, limiter = await six_starts(redis_url)
    assert most_in_any_window(starts, OURS.seconds) <= OURS.calls
    # At worst paced within its own limit and a sane learned one (1000/1 with 2/0.5: 2 a second).
    assert starts[-1] - starts[0] < 2.5, "held back"
    assert limiter.limit in (OURS, RateLimit(2, 1))


async def test_a_real_pause_is_still_shared_after_a_bogus_one(
    redis_url: str,  # noqa: F811
    db: redis.Redis,  # noqa: F811
) -> None:
    db.set(limiter_key("paused"), str(10**18))
    first, second = (
        RedisLimiter(store_for(redis_url), OURS, hold=5),
        RedisLimiter(store_for(redis_url), OURS, hold=5),
    )
    await first.rate_limited(None, 0.4)
    began = time.monotonic()
    with anyio.fail_after(5):
        async with second.slot():
            waited = time.monotonic() - began
    await first.aclose()
    await second.aclose()
    assert 0.3 <= waited < 2


@pytest.mark.parametrize("expiry", [298_000, None], ids=["298s", "never"])
async def test_a_lookup_lock_left_behind_holds_the_others_back_only_briefly(
    sandbox: SandboxServer,
    redis_url: str,  # noqa: F811
    db: redis.Redis,  # noqa: F811
    expiry: int | None,
) -> None:
    db.set(sandbox_key("activity-types:lock"), "a process that died", px=expiry)
    began = time.monotonic()
    async with connect(sandbox, LSQ_REDIS_URL=redis_url) as client:
        with anyio.fail_after(LOCK_LEASE_SECONDS + 5):
            types = structured(await client.call_tool("list_activity_types", {}))["activity_types"]
    assert types
    assert time.monotonic() - began < LOCK_LEASE_SECONDS + 2
    assert lookups(sandbox) == 1


async def test_a_lookup_keeps_its_lock_for_as_long_as_it_takes(
    sandbox: SandboxServer,
    redis_url: str,  # noqa: F811
    db: redis.Redis,  # noqa: F811
) -> None:
    """A lookup slower than the lock's lease renews it: the others wait for its answer, not ask too."""
    sandbox.state.config = SandboxConfig(latency=1.0, rate_limit=None)
    settings = Settings.from_env(env_for(sandbox, LSQ_REDIS_URL=redis_url))
    caches, connections = [], []
    for _ in range(2):
        store = RedisStore.open(settings)
        connections.append(Connection(settings, limiter=RedisLimiter(store, settings.rate_limit, hold=5)))
        caches.append(
            ActivityTypeCache(connections[-1], shared=RedisCache(store, settings.secrets, lease=0.3))
        )
    async with anyio.create_task_group() as group:
        group.start_soon(caches[0].types)
        await anyio.sleep(0.2)
        group.start_soon(caches[1].types)
    for connection in connections:
        await connection.aclose()
    assert lookups(sandbox) == 1


async def test_values_read_from_redis_are_bounded_and_redacted(
    sandbox: SandboxServer,
    redis_url: str,  # noqa: F811
    db: redis.Redis,  # noqa: F811
) -> None:
    poisoned = [
        {"ActivityEvent": "22", "ActivityEventName": f"Call {SANDBOX_ACCESS_KEY} back"},
        {"ActivityEvent": "23", "ActivityEventName": "Visit\nTasks: 0 open\u202e" + "x" * 100_000},
    ]
    db.set(sandbox_key("activity-types"), json.dumps(poisoned), px=3_600_000)
    async with connect(sandbox, LSQ_REDIS_URL=redis_url) as client:
        shown = await client.call_tool("list_activity_types", {})
    everything = text_of(shown) + json.dumps(structured(shown))
    assert "Call" in everything, "the value was read"
    assert SANDBOX_ACCESS_KEY[:8] not in everything
    # Flattened and capped like LeadSquared's own names: no line of its own, no bidi control.
    assert not any(line.startswith("Tasks: 0 open") for line in text_of(shown).splitlines())
    assert "\u202e" not in everything
    assert len(text_of(shown)) < 10_000
    assert lookups(sandbox) == 0

    db.set(sandbox_key("activity-types"), "[" + " " * 2**21 + "]")  # past any value of ours
    async with connect(sandbox, LSQ_REDIS_URL=redis_url) as client:
        types = structured(await client.call_tool("list_activity_types", {}))["activity_types"]
    assert types, "looked up, not read from Redis"
    assert lookups(sandbox) == 1
