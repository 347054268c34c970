"""LSQ_REDIS_URL: one rate limit and one copy of the type names for every process on the account.

Through the product: two `lsq-mcp` processes over stdio against the sandbox's strict limit,
sharing a redis-server this module starts on a free loopback port. Then the Redis limiter on its
own, two stores standing for two processes, as tests/pacing/test_local.py does for the in-process one.
Skipped only when the `redis-server` binary is absent (.ci/run installs it).
"""

from __future__ import annotations

import contextlib
import logging
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import pytest
import redis

from lsq_mcp.api.connection import Connection
from lsq_mcp.errors import LeadSquaredError, RedisUnavailableError
from lsq_mcp.metadata import ActivityTypeCache
from lsq_mcp.pacing.redis import RedisLimiter
from lsq_mcp.redis_store import RedisCache, RedisStore, account_namespace
from lsq_mcp.sandbox import SandboxConfig, SandboxServer
from lsq_mcp.sandbox.data import OPP_BIG
from lsq_mcp.settings import RateLimit, Settings
from tests.conftest import LSQ_MCP, TOOL, connect, env_for, structured, text_of
from tests.pacing.test_local import (
    ONE_CALL_PER_WINDOW,
    most_in_any_window,
    order_of_six_calls,
    two_slow_then_a_quick_call,
    windows_waited_after_a_cancelled_waiter,
)
from tests.test_stdio import stdio

pytestmark = pytest.mark.anyio

REDIS_SERVER = shutil.which("redis-server")
ACCESS_KEY = "u$rLEAKCHECK-redis-access-7d3e"
SECRET_KEY = "LEAKCHECK-redis-secret-4b1a9c"
PASSWORD = "LEAKCHECK-redis-password-55e1"
TYPES_PATH = "ActivityTypes.Get"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def redis_server(port: int | None = None, password: str | None = None) -> Iterator[str]:
    """A throw-away redis-server on 127.0.0.1 (no persistence); yields its URL, kills it on exit."""
    with redis_process(port, password) as (url, _):
        yield url


@contextmanager
def redis_process(
    port: int | None = None, password: str | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`redis_server`, with its process (to stop and continue it)."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    port = port or free_port()
    args = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    args += ["--dir", tempfile.mkdtemp(prefix="lsq-mcp-redis-")]
    if password:
        args += ["--requirepass", password]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://{f':{password}@' if password else ''}127.0.0.1:{port}/0"
    try:
        probe = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                probe.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"redis-server on port {port} did not start") from None
                time.sleep(0.02)
        probe.close()
        yield url, process
    finally:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
def db(redis_url: str) -> Iterator[redis.Redis]:
    """The session's Redis, emptied: tests share the sandbox's keys, so each starts afresh."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushall()
    yield client
    client.close()


def everything_in(db: redis.Redis) -> str:
    """Every key and every value in Redis, as text."""
    seen = []
    for key in db.scan_iter():
        seen.append(str(key))
        kind = db.type(key)
        if kind == "string":
            seen.append(str(db.get(key)))
        elif kind == "zset":
            seen.extend(str(entry) for entry in db.zrange(key, 0, -1, withscores=True))
        else:
            seen.append(f"unexpected {kind!r}")
    return "\n".join(seen)


def assert_keys_never_in_redis(db: redis.Redis) -> None:
    stored = everything_in(db)
    assert account_namespace(ACCESS_KEY) in stored
    assert ACCESS_KEY not in stored
    assert SECRET_KEY not in stored
    assert "unexpected" not in stored


def leak_check_sandbox(sandbox: SandboxServer, limit: tuple[int, float]) -> None:
    sandbox.state.config = SandboxConfig(access_key=ACCESS_KEY, secret_key=SECRET_KEY, rate_limit=limit)


def server_env(sandbox: SandboxServer, url: str, rate_limit: str) -> dict[str, str]:
    return env_for(
        sandbox,
        LSQ_ACCESS_KEY=ACCESS_KEY,
        LSQ_SECRET_KEY=SECRET_KEY,
        LSQ_REDIS_URL=url,
        LSQ_RATE_LIMIT=rate_limit,
        LSQ_MAX_RETRIES="5",
    )


def lookups(sandbox: SandboxServer) -> int:
    return sum(1 for r in sandbox.state.requests if r.path.endswith(TYPES_PATH))


# ---- through the product: two lsq-mcp processes over stdio -------------------------------------


async def test_two_processes_share_the_limit_the_names_and_never_the_keys(
    sandbox: SandboxServer, redis_url: str, db: redis.Redis
) -> None:
    calls, window, per_process = 10, 0.5, 40
    leak_check_sandbox(sandbox, (calls, window))
    env = server_env(sandbox, redis_url, f"{calls}/{window}")
    failed: list[str] = []
    async with stdio(env) as (first, _), stdio(env) as (second, _):
        # The names looked up as the first process started hold a place for one window: let it pass.
        await anyio.sleep(window * 1.1)

        async def one(client: Any) -> None:
            result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 2})
            if result.is_error:
                failed.append(text_of(result))

        async with anyio.create_task_group() as group:
            for _ in range(per_process):
                group.start_soon(one, first)
                group.start_soon(one, second)
        names = [
            structured(await client.call_tool("list_activity_types", {}))["activity_types"]
            for client in (first, second)
        ]
    stats = sandbox.state.stats_snapshot()
    assert failed == []
    assert stats.rejected == 0
    # Both processes asked for names as they started; one of them asked LeadSquared, for both.
    assert lookups(sandbox) == 1
    assert names[0] == names[1] != []
    arrivals = sorted(r.at for r in sandbox.state.requests if not r.path.endswith(TYPES_PATH))
    ideal = (math.ceil(len(arrivals) / calls) - 1) * window
    assert ideal / (arrivals[-1] - arrivals[0]) >= 0.85, "the two processes left the window unused"
    assert_keys_never_in_redis(db)


async def test_a_limit_learned_by_one_process_paces_the_other(
    sandbox: SandboxServer, redis_url: str, db: redis.Redis
) -> None:
    """Both configured 20/0.5 against a real 10/0.5: the first process's burst learns the real limit,
    and the second paces to it from its first call, with no rejection of its own."""
    leak_check_sandbox(sandbox, (10, 0.5))
    env = server_env(sandbox, redis_url, "20/0.5")
    failed: list[str] = []

    async def burst(client: Any, count: int) -> None:
        async def one() -> None:
            result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 1})
            if result.is_error:
                failed.append(text_of(result))

        async with anyio.create_task_group() as group:
            for _ in range(count):
                group.start_soon(one)

    async with stdio(env) as (first, _), stdio(env) as (second, second_log):
        await burst(first, 20)
        rejected_by_first = sandbox.state.stats_snapshot().rejected
        await burst(second, 20)
    assert failed == []
    assert 0 < rejected_by_first <= 10, "at most one window's worth, across both processes"
    assert sandbox.state.stats_snapshot().rejected == rejected_by_first
    assert db.get(f"lsq-mcp:{{{account_namespace(ACCESS_KEY)}}}:limit") == "10/0.5"
    assert "another process sharing Redis" in second_log.read_text()
    assert_keys_never_in_redis(db)


async def test_redis_down_is_a_clear_tool_error_and_the_server_lives_on(sandbox: SandboxServer) -> None:
    port = free_port()
    with redis_server(port, PASSWORD) as url:
        env = env_for(sandbox, LSQ_REDIS_URL=url, LSQ_MAX_RETRIES="1")
        async with stdio(env) as (client, log):
            structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 1}))
            stop_redis(url)
            down = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 1})
            assert down.is_error
            assert f"Redis at 127.0.0.1:{port}" in text_of(down)
            assert "LSQ_REDIS_URL" in text_of(down)
            assert (await client.list_tools()).tools, "the server is still serving"
            with redis_server(port, PASSWORD):
                structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 1}))
    stderr = log.read_text()
    assert PASSWORD not in stderr + text_of(down)
    warnings = [line for line in stderr.splitlines() if "WARNING" in line and f"127.0.0.1:{port}" in line]
    assert len(warnings) == 2, warnings  # one as Redis went away, one as it came back
    assert f"Could not use Redis at 127.0.0.1:{port}" in warnings[0]
    assert "answers again" in warnings[1]


def stop_redis(url: str) -> None:
    """Shut the server down from inside (the context manager's kill then finds it gone)."""
    probe = redis.Redis.from_url(url)
    with contextlib.suppress(redis.ConnectionError):
        probe.shutdown(nosave=True)
    with pytest.raises(redis.ConnectionError):
        probe.ping()


def test_a_malformed_url_stops_start_up_naming_the_variable() -> None:
    env = {"PATH": "/usr/bin:/bin", "LSQ_REDIS_URL": f"http://:{PASSWORD}@127.0.0.1:6379"}
    done = subprocess.run(
        [LSQ_MCP, "serve"], capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 2
    assert "LSQ_REDIS_URL" in done.stderr
    assert PASSWORD not in done.stderr
    assert done.stdout == ""


async def test_without_the_redis_package_the_error_names_the_extra(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)  # `import redis.asyncio` now fails
    async with connect(sandbox, LSQ_REDIS_URL="redis://127.0.0.1:6379/0") as client:
        result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG})
    assert result.is_error
    assert "pip install 'lsq-mcp[redis]'" in text_of(result)


def test_serving_without_redis_never_imports_it() -> None:
    code = (
        "import sys, lsq_mcp.cli as c; c.build_parser(); from lsq_mcp.server import create_server; "
        "from lsq_mcp.settings import Settings; create_server(Settings.from_env({})); "
        "print('redis' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


# ---- the Redis limiter itself: two stores stand for two processes ------------------------------


def store_for(url: str, access_key: str = ACCESS_KEY) -> RedisStore:
    return RedisStore.open(
        Settings.from_env({"LSQ_ACCESS_KEY": access_key, "LSQ_SECRET_KEY": SECRET_KEY, "LSQ_REDIS_URL": url})
    )


def limiters(url: str, limit: RateLimit, hold: float = 5.0) -> tuple[RedisLimiter, RedisLimiter]:
    return RedisLimiter(store_for(url), limit, hold=hold), RedisLimiter(store_for(url), limit, hold=hold)


async def test_two_processes_use_the_whole_allowance_and_never_exceed_it(
    redis_url: str, db: redis.Redis
) -> None:
    a, b = limiters(redis_url, RateLimit(5, 0.2))
    starts: list[float] = []

    async def call(limiter: RedisLimiter) -> None:
        async with limiter.slot():
            starts.append(time.monotonic())

    began = time.monotonic()
    async with anyio.create_task_group() as group:
        for n in range(16):
            group.start_soon(call, (a, b)[n % 2])
    elapsed = time.monotonic() - began
    await a.aclose()
    await b.aclose()
    assert most_in_any_window(starts, 0.2) <= 5
    assert sum(1 for start in starts if start < min(starts) + 0.2) == 5
    assert elapsed >= 3 * 0.2


async def test_first_come_first_served_within_a_process(redis_url: str, db: redis.Redis) -> None:
    limiter = RedisLimiter(store_for(redis_url), RateLimit(1, 0.05), hold=5)
    order = await order_of_six_calls(limiter)
    await limiter.aclose()
    assert order == list(range(6))


async def test_a_cancelled_waiter_gives_its_place_back(redis_url: str, db: redis.Redis) -> None:
    a, b = limiters(redis_url, ONE_CALL_PER_WINDOW)
    assert await windows_waited_after_a_cancelled_waiter(a, b) < 0.75
    assert db.zcard(f"lsq-mcp:{{{account_namespace(ACCESS_KEY)}}}:in-flight") == 0
    await a.aclose()
    await b.aclose()


async def test_a_call_holds_its_place_until_it_finishes(redis_url: str, db: redis.Redis) -> None:
    a, b = limiters(redis_url, RateLimit(2, 0.1))
    started, finished = await two_slow_then_a_quick_call(a, b)
    await a.aclose()
    await b.aclose()
    # The other process's call waited for a slow one to finish and for that stamp's window to pass.
    assert started[2] >= min(finished) + 0.1


async def test_a_learned_limit_and_a_pause_reach_the_other_process(redis_url: str, db: redis.Redis) -> None:
    a, b = limiters(redis_url, RateLimit(10, 0.2))
    await a.rate_limited(RateLimit(2, 0.2), 0.15)
    began = time.monotonic()
    starts = []
    for _ in range(4):
        async with b.slot():
            starts.append(time.monotonic())
    assert starts[0] - began >= 0.14, "b waited out a's pause"
    assert b.limit == RateLimit(2, 0.2)
    assert most_in_any_window(starts, 0.2) <= 2
    await a.aclose()
    await b.aclose()


async def test_a_dead_process_does_not_hold_its_places_forever(redis_url: str, db: redis.Redis) -> None:
    a, b = limiters(redis_url, RateLimit(1, 0.1), hold=0.2)
    assert await a._acquire("dead:1") == 0  # admitted, and its process dies before finishing
    began = time.monotonic()
    async with b.slot():
        waited = time.monotonic() - began
    # Its place is given up `hold` plus one window after it was taken.
    assert 0.25 <= waited < 0.6
    await a.aclose()
    await b.aclose()


async def test_accounts_do_not_share_a_window(redis_url: str, db: redis.Redis) -> None:
    ours = RedisLimiter(store_for(redis_url), RateLimit(1, 5), hold=5)
    theirs = RedisLimiter(store_for(redis_url, access_key="u$r-another-account"), RateLimit(1, 5), hold=5)
    with anyio.fail_after(1):
        async with ours.slot():
            pass
        async with theirs.slot():
            pass
    await ours.aclose()
    await theirs.aclose()
    assert "another-account" not in everything_in(db)


async def test_unreachable_redis_fails_closed_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    limiter = RedisLimiter(store_for(f"redis://:{PASSWORD}@127.0.0.1:{port}/0"), RateLimit(5, 1), hold=5)
    with caplog.at_level(logging.WARNING, logger="lsq_mcp"):
        for _ in range(3):
            with pytest.raises(RedisUnavailableError) as caught:
                async with limiter.slot():
                    pytest.fail("no call may go ahead without Redis")
    await limiter.aclose()
    message = str(caught.value)
    assert f"Redis at 127.0.0.1:{port}" in message
    assert "connection was refused" in message
    assert caught.value.retryable
    assert PASSWORD not in message + caplog.text
    assert len([r for r in caplog.records if "Could not use Redis" in r.getMessage()]) == 1


async def test_processes_look_activity_types_up_once_between_them(
    sandbox: SandboxServer, redis_url: str, db: redis.Redis
) -> None:
    sandbox.state.config = SandboxConfig(latency=0.2, rate_limit=None)
    settings = Settings.from_env(env_for(sandbox, LSQ_REDIS_URL=redis_url))
    clients, caches = [], []
    for _ in range(3):  # three processes, each with its own connection and cache
        store = RedisStore.open(settings)
        client = Connection(settings, limiter=RedisLimiter(store, settings.rate_limit, hold=5))
        clients.append(client)
        caches.append(ActivityTypeCache(client, shared=RedisCache(store, settings.secrets)))
    answers: list[int] = []

    async def ask(cache: ActivityTypeCache) -> None:
        answers.append(len(await cache.types()))

    async with anyio.create_task_group() as group:
        for cache in caches * 2:
            group.start_soon(ask, cache)
    for client in clients:
        await client.aclose()
    assert lookups(sandbox) == 1
    assert len(set(answers)) == 1
    assert answers[0] > 0


async def test_a_failed_lookup_lets_the_next_process_try(
    sandbox: SandboxServer, redis_url: str, db: redis.Redis
) -> None:
    settings = Settings.from_env(env_for(sandbox, LSQ_REDIS_URL=redis_url, LSQ_SECRET_KEY="wrong"))
    store = RedisStore.open(settings)
    client = Connection(settings, limiter=RedisLimiter(store, settings.rate_limit, hold=5))
    cache = ActivityTypeCache(client, shared=RedisCache(store, settings.secrets))
    with pytest.raises(LeadSquaredError):
        await cache.types()
    await client.aclose()
    # No names stored, and no lock left behind to hold the others back.
    assert everything_in(db).count("activity-types") == 0
    right = Settings.from_env(env_for(sandbox, LSQ_REDIS_URL=redis_url))
    store = RedisStore.open(right)
    client = Connection(right, limiter=RedisLimiter(store, right.rate_limit, hold=5))
    with anyio.fail_after(2):
        assert await ActivityTypeCache(client, shared=RedisCache(store, settings.secrets)).types()
    await client.aclose()
