"""The rate limit and the activity type names, shared through Redis by every process on one account.

LeadSquared counts calls per account. Several processes using the same keys (replicas behind a
load balancer, a few desktop clients) that each paced themselves alone would together exceed the
limit. With LSQ_REDIS_URL set they share one sliding window, one learned limit, one pause after
a rate-limit answer, and one copy of the activity type names. redis-py is imported only then.

Keys, all under `lsq-mcp:{ACCOUNT}:` where ACCOUNT is the first 16 hex digits of the SHA-256 of
the access key (the key itself never reaches Redis; the braces keep an account's keys in one
Redis Cluster slot, and different accounts never share a window):

    finished              sorted set  call id -> when it finished (Redis time, microseconds)
    in-flight             sorted set  call id -> provisional expiry: admitted + hold + window
    limit                 string      CALLS/SECONDS that LeadSquared said is the real limit (1 day)
    paused                string      Redis time (microseconds) until which no call starts
    activity-types        string      ActivityTypes.Get as JSON, with the cache's time-to-live
    activity-types:lock   string      a token of the process looking them up (SET NX PX)

Every decision is one Lua script, run atomically on Redis's own clock (TIME), so that processes
on different hosts agree. ACQUIRE drops finished calls older than the window and in-flight
entries past their expiry, takes the learned limit (else the caller's), and answers "go" (the
call joins in-flight), "wait this long" (a pause, or the finished call that must leave the window
first), or "poll" (every place is held by a call in flight: only one finishing frees a place).
FINISH moves a call from in-flight to finished, stamped with the time it finished, as the
in-process limiter does (LeadSquared counts a call when it arrives, after we send it). A process
that dies mid-call loses nothing but time: its in-flight entries expire by themselves.

Within a process, waiters queue first come first served on a local lock and only the head of the
queue asks Redis: it sleeps exactly as long as the script says, or polls every POLL_SECONDS
(sooner when a call of its own finishes). Between processes, whoever asks first when a place
frees up gets it.

When Redis cannot be used, calls FAIL CLOSED: no API call is made and the tool answers with an
error naming Redis at host:port, and one warning is logged per outage. Falling back to pacing
alone would let N processes send N times the account's allowance, which LeadSquared rejects and
counts against every integration on the account; an outage would turn silently into a storm of
rate-limit errors. The error is retryable, so the client's retries ride out a short blip.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio

from lsq_mcp.errors import RedisUnavailableError, cause_chain, redact
from lsq_mcp.ratelimit import WINDOW_MARGIN
from lsq_mcp.settings import ConfigError, RateLimit, Settings, parse_rate_limit
from lsq_mcp.values import clip

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

logger = logging.getLogger(__name__)

INSTALL = "pip install 'lsq-mcp[redis]'"
KEY_PREFIX = "lsq-mcp"
# Redis answers in well under a millisecond; past this it is not answering.
REDIS_TIMEOUT_SECONDS = 2.0
# How often the head of a process's queue asks again while every place is held by a call in flight.
POLL_SECONDS = 0.025
# How often a process waiting for another's lookup of the activity types looks for the result.
TYPES_POLL_SECONDS = 0.05
# A learned limit outlives the processes that learned it, but not forever: plans change.
LEARNED_LIMIT_TTL_SECONDS = 86400
# Keys of an idle account are removed this long after their last entry could matter.
IDLE_MS = 1000

_EXTEND_TTL = """
local function extend(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
"""

# KEYS: finished, in-flight, limit, paused. ARGV: call id, CALLS/SECONDS of the caller, window margin,
# hold (us). Returns {wait, limit}: wait 0 = admitted, > 0 = microseconds to wait, -1 = poll.
ACQUIRE = (
    _EXTEND_TTL
    + """
local now = now_us()
local limit = redis.call('GET', KEYS[3]) or ARGV[2]
local calls, seconds = string.match(limit, '^(%d+)/(.+)$')
calls, seconds = tonumber(calls), tonumber(seconds)
if not calls or not seconds or calls < 1 or seconds <= 0 then
  limit = ARGV[2]
  calls, seconds = string.match(limit, '^(%d+)/(.+)$')
  calls, seconds = tonumber(calls), tonumber(seconds)
end
local window = math.floor(seconds * (1 + tonumber(ARGV[3])) * 1000000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local wait = (tonumber(redis.call('GET', KEYS[4])) or 0) - now
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
    _EXTEND_TTL
    + """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], string.format('%.0f', now_us()), ARGV[1])
extend(KEYS[1], tonumber(ARGV[2]))
return 0
"""
)

# KEYS: limit, paused. ARGV: CALLS/SECONDS or '', its TTL (s), the pause (us).
RATE_LIMITED = (
    _EXTEND_TTL
    + """
if ARGV[1] ~= '' then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
local pause = tonumber(ARGV[3])
local untl = now_us() + pause
if untl > (tonumber(redis.call('GET', KEYS[2])) or 0) then
  redis.call('SET', KEYS[2], string.format('%.0f', untl), 'PX', math.ceil(pause / 1000) + 1000)
end
return 0
"""
)

# KEYS: activity types, lock. ARGV: token, lock expiry (ms).
# Returns {1, json, ms left} = cached; {2} = claimed, this process looks them up; {0} = another is.
TYPES_GET_OR_CLAIM = """
local value = redis.call('GET', KEYS[1])
if value then return {1, value, redis.call('PTTL', KEYS[1])} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {2} end
return {0}
"""

# KEYS: activity types, lock. ARGV: token, json ('' = the lookup failed), time-to-live (ms).
TYPES_PUBLISH = """
if ARGV[2] ~= '' then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 0
"""


def account_namespace(access_key: str) -> str:
    """A short, one-way name for the account: keys are namespaced by it, never by the key itself."""
    return hashlib.sha256(f"{KEY_PREFIX}:{access_key}".encode()).hexdigest()[:16]


def redis_address(url: str) -> str:
    """`host:port` (or the socket path) of a Redis URL, for messages: never the user or password."""
    try:
        parts = urlsplit(url)
        if parts.scheme == "unix":
            return parts.path or "a unix socket"
        host = parts.hostname or "localhost"
        port = parts.port or 6379
    except ValueError:
        return "LSQ_REDIS_URL"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class RedisStore:
    """One connection pool to Redis and one account's keys; every operation is one atomic round trip."""

    def __init__(
        self,
        redis: Redis | None,
        *,
        address: str,
        namespace: str,
        password: str | None = None,
        problem: RedisUnavailableError | None = None,
    ) -> None:
        self.address = address
        self.namespace = namespace
        self._redis = redis
        self._password = password
        # Set when Redis can never be used (redis-py missing, a URL it cannot read): every call says so.
        self._problem = problem
        self._down = False
        self._scripts: dict[str, AsyncScript] = {}
        self._errors: tuple[type[BaseException], ...] = (OSError,)
        if redis is not None:
            from redis.exceptions import RedisError

            self._errors = (RedisError, OSError)

    @classmethod
    def open(cls, settings: Settings) -> RedisStore:
        """The store for `settings.redis_url` and the account of `settings.access_key`. It connects on
        first use; when it cannot ever work, every use raises an error saying why (the server starts)."""
        url = settings.redis_url or ""
        address = redis_address(url)
        namespace = account_namespace(settings.access_key or "")
        try:
            from redis.asyncio import Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
        except ImportError:
            return cls._unusable(
                address,
                namespace,
                "the redis package is not installed",
                f"Install it with {INSTALL}, or unset LSQ_REDIS_URL to pace each process on its own.",
            )
        try:
            password = urlsplit(url).password
            redis = Redis.from_url(
                url,
                decode_responses=True,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                # One quick retry replaces a pooled connection that Redis closed (a restart); more would
                # only delay the error while Redis is down.
                retry=Retry(NoBackoff(), 1),
            )
        except ValueError:
            # redis-py's message may quote the URL, password included: say what is wanted instead.
            return cls._unusable(
                address,
                namespace,
                "LSQ_REDIS_URL is not a Redis URL",
                "Set it to a URL such as redis://localhost:6379/0 (rediss:// for TLS, "
                "redis://:PASSWORD@HOST:PORT/DB with a password), or unset it.",
            )
        logger.info("Sharing the rate limit through Redis at %s (account %s)", address, namespace)
        return cls(redis, address=address, namespace=namespace, password=password)

    @classmethod
    def _unusable(cls, address: str, namespace: str, reason: str, fix: str) -> RedisStore:
        problem = RedisUnavailableError(address, reason, retryable=False, fix=fix)
        logger.error("%s", problem)
        return cls(None, address=address, namespace=namespace, problem=problem)

    def key(self, name: str) -> str:
        return f"{KEY_PREFIX}:{{{self.namespace}}}:{name}"

    def limiter(self, limit: RateLimit, *, hold: float) -> RedisLimiter:
        return RedisLimiter(self, limit, hold=hold)

    def activity_types(self, *, lock_seconds: float) -> RedisActivityTypes:
        return RedisActivityTypes(self, lock_seconds=lock_seconds)

    async def run(self, script: str, keys: Sequence[str], args: Sequence[str | int | float]) -> Any:
        """Run `script` atomically; raises `RedisUnavailableError` when Redis cannot be used.

        Shielded from cancellation (and bounded in time): a script that ran, its answer lost to a
        cancelled caller, could leave a place taken that nobody gives back."""
        if self._problem is not None:
            raise self._problem
        assert self._redis is not None
        if script not in self._scripts:
            self._scripts[script] = self._redis.register_script(script)
        try:
            with anyio.fail_after(3 * REDIS_TIMEOUT_SECONDS, shield=True):
                result = await self._scripts[script](keys=list(keys), args=list(args))
        except self._errors as exc:
            raise self._unreachable(exc) from None
        if self._down:
            self._down = False
            logger.warning("Redis at %s answers again: API calls go ahead", self.address)
        return result

    def _unreachable(self, exc: BaseException) -> RedisUnavailableError:
        error = RedisUnavailableError(self.address, self._reason(exc))
        if not self._down:
            # One line per outage, not one per call.
            self._down = True
            logger.warning("%s", error)
        return error

    def _reason(self, exc: BaseException) -> str:
        from redis.exceptions import AuthenticationError, ResponseError

        # redis-py wraps the socket's error: read the whole chain.
        chain = cause_chain(exc)
        text = " ".join(str(e) for e in chain).lower()
        if any(isinstance(e, AuthenticationError) for e in chain) or "wrongpass" in text or "noauth" in text:
            return "it refused the user name or password in LSQ_REDIS_URL"
        if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
            return "the connection was refused"
        if any(isinstance(e, socket.gaierror) for e in chain) or "name or service" in text:
            return "the host name could not be resolved"
        if any(isinstance(e, TimeoutError) for e in chain) or "timeout" in text or "timed out" in text:
            return f"no answer within {REDIS_TIMEOUT_SECONDS:g}s"
        if isinstance(exc, ResponseError):
            return f"it answered an error: {clip(redact(str(exc), [self._password or '']), 120)}"
        return f"the connection failed: {type(exc).__name__}"

    async def aclose(self) -> None:
        if self._redis is not None:
            redis, self._redis = self._redis, None
            self._problem = RedisUnavailableError(self.address, "the server is closing", retryable=False)
            await redis.aclose()


class RedisLimiter:
    """The sliding-window limiter of `lsq_mcp.ratelimit`, its window kept in Redis for every process.

    `hold` is the longest one call can hold a place (the client bounds each attempt): an in-flight
    entry whose process died is forgotten `hold` + one window after it was admitted.
    """

    def __init__(self, store: RedisStore, limit: RateLimit, *, hold: float) -> None:
        self._store = store
        self._limit = limit
        self._hold_us = round(hold * 1_000_000)
        self._keys = [store.key(name) for name in ("finished", "in-flight", "limit", "paused")]
        # Call ids: this process's random token and a counter (nothing about the account or the host).
        token = secrets.token_hex(6)
        self._ids = (f"{token}:{n}" for n in itertools.count())
        # anyio's lock queues its waiters in order, and only the head of the queue asks Redis.
        self._lock = anyio.Lock()
        self._changed = anyio.Event()

    @property
    def limit(self) -> RateLimit:
        return self._limit

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        call_id = next(self._ids)
        admitted = False
        try:
            async with self._lock:
                while True:
                    changed = self._changed
                    wait = await self._acquire(call_id)
                    if wait == 0:
                        admitted = True
                        break
                    if wait is None:
                        # Woken by a call of this process finishing, or polling for the others'.
                        with anyio.move_on_after(POLL_SECONDS):
                            await changed.wait()
                    else:
                        await anyio.sleep(wait)
            yield
        finally:
            if admitted:
                await self._finish(call_id)
                self._changed.set()
                self._changed = anyio.Event()

    async def rate_limited(self, limit: RateLimit | None, pause: float) -> None:
        if limit is not None and limit != self._limit:
            logger.warning(
                "LeadSquared's rate limit is %s calls per %gs, not %s: pacing every process sharing "
                "Redis at %s to it now",
                limit.calls,
                limit.seconds,
                self._limit,
                self._store.address,
            )
            self._limit = limit
        await self._store.run(
            RATE_LIMITED,
            self._keys[2:],
            [str(limit) if limit else "", LEARNED_LIMIT_TTL_SECONDS, round(pause * 1_000_000)],
        )

    async def aclose(self) -> None:
        await self._store.aclose()

    async def _acquire(self, call_id: str) -> float | None:
        """0 when admitted, else the seconds to wait, or None to poll."""
        wait_us, limit = await self._store.run(
            ACQUIRE, self._keys, [call_id, str(self._limit), WINDOW_MARGIN, self._hold_us]
        )
        self._adopt(str(limit))
        wait = int(wait_us)
        return None if wait < 0 else wait / 1_000_000

    async def _finish(self, call_id: str) -> None:
        keep_ms = round(self._limit.seconds * (1 + WINDOW_MARGIN) * 1000) + IDLE_MS
        # Never raises: the call has happened. If Redis is gone, its in-flight entry expires on its
        # own, later than its stamp would have: never too early.
        with contextlib.suppress(RedisUnavailableError):
            await self._store.run(FINISH, self._keys[:2], [call_id, keep_ms])

    def _adopt(self, text: str) -> None:
        """Pace to the limit Redis went by: another process may have learned the real one."""
        try:
            limit = parse_rate_limit(text)
        except ConfigError:
            return
        if limit != self._limit:
            logger.warning(
                "LeadSquared's rate limit is %s calls per %gs, not %s: another process sharing Redis at "
                "%s learned it; pacing to it now",
                limit.calls,
                limit.seconds,
                self._limit,
                self._store.address,
            )
            self._limit = limit


class RedisActivityTypes:
    """The activity types as JSON in Redis: every process reads them before asking the API, and while
    one process looks them up the others wait for its answer instead of asking too."""

    def __init__(self, store: RedisStore, *, lock_seconds: float) -> None:
        self._store = store
        self._keys = [store.key("activity-types"), store.key("activity-types:lock")]
        # The lookup's lock outlives the longest lookup, so a process dying mid-lookup blocks no one long.
        self._lock_ms = round(lock_seconds * 1000) + IDLE_MS

    async def get_or_fetch(self, fetch: Callable[[], Awaitable[str]], ttl: float) -> tuple[str, float]:
        token = secrets.token_hex(8)
        while True:
            reply = await self._store.run(TYPES_GET_OR_CLAIM, self._keys, [token, self._lock_ms])
            if reply[0] == 1:
                left_ms = int(reply[2])
                return str(reply[1]), left_ms / 1000 if left_ms > 0 else ttl
            if reply[0] == 2:
                break
            await anyio.sleep(TYPES_POLL_SECONDS)
        text = ""
        try:
            text = await fetch()
        finally:
            # On failure too: the lock goes, and the next process to ask tries for itself.
            with contextlib.suppress(RedisUnavailableError):
                await self._store.run(TYPES_PUBLISH, self._keys, [token, text, round(ttl * 1000)])
        return text, ttl
