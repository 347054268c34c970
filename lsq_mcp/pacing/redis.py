"""The sliding window of `lsq_mcp.pacing.local`, kept in Redis for every process on one account.

LeadSquared counts calls per account. Several processes using the same keys (replicas behind a
load balancer, a few desktop clients) that each paced themselves alone would together exceed the
limit. With LSQ_REDIS_URL set they share one sliding window, one learned limit and one pause after
a rate-limit answer. Keys, under the account's prefix (see `lsq_mcp.redis_store`):

    finished              sorted set  call id -> when it finished (Redis time, microseconds)
    in-flight             sorted set  call id -> provisional expiry: admitted + hold + window
    limit                 string      CALLS/SECONDS that LeadSquared said is the real limit (1 day)
    paused                string      Redis time (microseconds) until which no call starts

Every decision is one Lua script, run atomically on Redis's own clock (TIME), so that processes
on different hosts agree. ACQUIRE drops finished calls older than the window and in-flight
entries past their expiry, paces to the learned limit within the caller's own (else to the
caller's), and answers "go" (the
call joins in-flight), "wait this long" (a pause, or the finished call that must leave the window
first), or "poll" (every place is held by a call in flight: only one finishing frees a place).
FINISH moves a call from in-flight to finished, stamped with the time it finished, as the
in-process limiter does (LeadSquared counts a call when it arrives, after we send it). A process
that dies mid-call loses nothing but time: its in-flight entries expire by themselves.

Redis may be shared with others, so what it holds is data, not truth: a limit that would let this
process exceed LSQ_RATE_LIMIT, or that is slower than any account's (SLOWEST_LIMIT), is not paced
to; a pause further off than LeadSquared ever asks, a place held longer than any call holds one, a
stamp ahead of Redis's clock, or a key of another type, was set by no process of ours and is not
waited for.

Within a process, waiters queue first come first served on a local lock and only the head of the
queue asks Redis: it sleeps exactly as long as the script says, or polls every POLL_SECONDS
(sooner when a call of its own finishes). Between processes, whoever asks first when a place
frees up gets it. When Redis cannot be used, calls fail closed (see `lsq_mcp.redis_store`), and
when the head of the queue finds Redis down, every call that was waiting behind it fails at once
with the same error rather than each asking a silent Redis in turn.
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from lsq_mcp.api.answers import MAX_WAIT_SECONDS
from lsq_mcp.errors import RedisUnavailableError
from lsq_mcp.pacing.limiter import LEARNED_FOR_SECONDS, SLOWEST_LIMIT, WINDOW_MARGIN, QueuedLimiter
from lsq_mcp.redis_store import IDLE_MS, RedisStore
from lsq_mcp.settings import ConfigError, RateLimit, parse_rate_limit

# How often the head of a process's queue asks again while every place is held by a call in flight.
POLL_SECONDS = 0.025
# No pause a process of ours sets is longer than LeadSquared's longest wait: a longer one in Redis is
# no pause of ours, and is not waited for.
_LONGEST_PAUSE_US = round(MAX_WAIT_SECONDS * 1_000_000)

_COMMON = """
local function extend(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
-- A key of ours holding another type was written by no process of ours: it is dropped.
local function own(key, kind)
  local t = redis.call('TYPE', key).ok
  if t ~= 'none' and t ~= kind then redis.call('DEL', key) end
end
-- Until when (us) no call starts: 0 unless the value is one a process of ours could have set (a
-- number at most `most` us from now).
local function paused_until(key, now, most)
  own(key, 'string')
  local untl = tonumber(redis.call('GET', key) or '')
  if not untl or untl ~= untl or untl > now + most then return 0 end
  return untl
end
"""

# KEYS: finished, in-flight, limit, paused. ARGV: call id, CALLS/SECONDS of the caller, window margin,
# hold (us), the longest pause (us), the slowest rate (calls a second), the longest hold (us).
# Returns {wait, limit}: wait 0 = admitted, > 0 = microseconds to wait, -1 = poll.
ACQUIRE = (
    _COMMON
    + """
local now = now_us()
own(KEYS[1], 'zset')
own(KEYS[2], 'zset')
own(KEYS[3], 'string')
local limit = ARGV[2]
local calls, seconds = string.match(limit, '^(%d+)/(.+)$')
calls, seconds = tonumber(calls), tonumber(seconds)
-- The limit another process learned, within this one's own (the fewer calls in the longer window),
-- unless it is unreadable or slower than any account's.
local c, s = string.match(redis.call('GET', KEYS[3]) or '', '^(%d%d?%d?%d?%d?%d?)/([%d.]+)$')
c, s = tonumber(c), tonumber(s)
if c and s and c >= 1 and s > 0 then
  c, s = math.min(c, calls), math.max(s, seconds)
  if c / s >= tonumber(ARGV[6]) then calls, seconds, limit = c, s, c .. '/' .. s end
end
local window = math.floor(seconds * (1 + tonumber(ARGV[3])) * 1000000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
-- Stamps ahead of now, and places held longer than any hold, were set by no process of ours.
redis.call('ZREMRANGEBYSCORE', KEYS[1], string.format('(%.0f', now + window), '+inf')
redis.call('ZREMRANGEBYSCORE', KEYS[2], string.format('(%.0f', now + tonumber(ARGV[7]) + window), '+inf')
local wait = paused_until(KEYS[4], now, tonumber(ARGV[5])) - now
local finished = redis.call('ZCARD', KEYS[1])
local excess = redis.call('ZCARD', KEYS[2]) + finished - calls
if excess >= 0 then
  if excess >= finished then
    -- Every place is held by a call in flight: only one finishing frees a place.
    if wait > 0 then return {wait, limit} end
    return {-1, limit}
  end
  -- The window frees up when the finished call `excess` places from the oldest leaves it.
  local frees = redis.call('ZRANGE', KEYS[1], excess, excess, 'WITHSCORES')
  wait = math.max(wait, tonumber(frees[2]) + window - now)
end
if wait > 0 then return {wait, limit} end
local hold = tonumber(ARGV[4]) + window
redis.call('ZADD', KEYS[2], string.format('%.0f', now + hold), ARGV[1])
extend(KEYS[2], math.ceil(hold / 1000) + 1000)
return {0, limit}
"""
)

# KEYS: finished, in-flight. ARGV: call id, how long to keep the key (ms).
FINISH = (
    _COMMON
    + """
own(KEYS[1], 'zset')
own(KEYS[2], 'zset')
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], string.format('%.0f', now_us()), ARGV[1])
extend(KEYS[1], tonumber(ARGV[2]))
return 0
"""
)

# KEYS: limit, paused. ARGV: CALLS/SECONDS or '', its TTL (s), the pause (us), the longest pause (us).
RATE_LIMITED = (
    _COMMON
    + """
if ARGV[1] ~= '' then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
local now = now_us()
local pause = tonumber(ARGV[3])
if now + pause > paused_until(KEYS[2], now, tonumber(ARGV[4])) then
  redis.call('SET', KEYS[2], string.format('%.0f', now + pause), 'PX', math.ceil(pause / 1000) + 1000)
end
return 0
"""
)
# No call holds a place longer than this (LSQ_TIMEOUT plus slack, at most): a place held longer in
# Redis was taken by no process of ours, and is given back.
LONGEST_HOLD_SECONDS = 600.0


class RedisLimiter(QueuedLimiter):
    """The sliding-window limiter of `lsq_mcp.pacing.local`, its window kept in Redis for every process.

    `hold` is the longest one call can hold a place (the client bounds each attempt): an in-flight
    entry whose process died is forgotten `hold` + one window after it was admitted.
    """

    def __init__(self, store: RedisStore, limit: RateLimit, *, hold: float) -> None:
        super().__init__(limit)
        self._store = store
        self._hold_us = round(min(hold, LONGEST_HOLD_SECONDS) * 1_000_000)
        self._keys = [store.key(name) for name in ("finished", "in-flight", "limit", "paused")]
        # Call ids: this process's random token and a counter (nothing about the account or the host).
        token = secrets.token_hex(6)
        self._ids = (f"{token}:{n}" for n in itertools.count())
        # Redis failures so far, and the last: a waiter that sees the count move fails with it.
        self._failures = 0
        self._last_failure: RedisUnavailableError | None = None

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        call_id = next(self._ids)
        admitted = False
        failures = self._failures
        try:
            async with self._lock:
                if self._failures != failures and self._last_failure is not None:
                    failed = self._last_failure  # while this call waited: Redis is down
                    raise RedisUnavailableError(failed.address, failed.reason, retryable=failed.retryable)
                admitted = await self._admit(call_id)
            yield
        finally:
            if admitted:
                await self._finish(call_id)
                self._wake()

    async def _admit(self, call_id: str) -> bool:
        """Wait for a place for `call_id` in the shared window (the head of this process's queue)."""
        while True:
            changed = self._changed
            try:
                wait = await self._acquire(call_id)
            except RedisUnavailableError as exc:
                self._failures += 1
                self._last_failure = exc
                raise
            if wait == 0:
                return True
            if wait is None:
                # Woken by a call of this process finishing, or polling for the others'.
                with anyio.move_on_after(POLL_SECONDS):
                    await changed.wait()
            else:
                await anyio.sleep(wait)

    async def rate_limited(self, limit: RateLimit | None, pause: float) -> None:
        if limit is not None:
            # What is shared is what this process paces to: within its own limit, and sane.
            limit = self._limit.adopt(limit, f"every process sharing Redis at {self._store.address}")
        await self._store.run(
            RATE_LIMITED,
            self._keys[2:],
            [str(limit) if limit else "", LEARNED_FOR_SECONDS, round(pause * 1_000_000), _LONGEST_PAUSE_US],
        )

    async def aclose(self) -> None:
        await self._store.aclose()

    async def _acquire(self, call_id: str) -> float | None:
        """0 when admitted, else the seconds to wait, or None to poll."""
        wait_us, limit = await self._store.run(
            ACQUIRE,
            self._keys,
            [
                call_id,
                str(self.limit),
                WINDOW_MARGIN,
                self._hold_us,
                _LONGEST_PAUSE_US,
                SLOWEST_LIMIT.calls / SLOWEST_LIMIT.seconds,
                round(LONGEST_HOLD_SECONDS * 1_000_000),
            ],
        )
        self._adopt(str(limit))
        wait = int(wait_us)
        return None if wait < 0 else wait / 1_000_000

    async def _finish(self, call_id: str) -> None:
        keep_ms = round(self.limit.seconds * (1 + WINDOW_MARGIN) * 1000) + IDLE_MS
        # Never raises: the call has happened. If Redis is gone, its in-flight entry expires on its
        # own, later than its stamp would have: never too early.
        with contextlib.suppress(RedisUnavailableError):
            await self._store.run(FINISH, self._keys[:2], [call_id, keep_ms])

    def _adopt(self, text: str) -> None:
        """Pace to the limit Redis went by: another process may have learned the real one."""
        with contextlib.suppress(ConfigError):
            self._limit.adopt(
                parse_rate_limit(text), f"(another process sharing Redis at {self._store.address} learned it)"
            )
