"""One connection pool to Redis for one account's keys, and values cached there for every process.

With LSQ_REDIS_URL set, the processes that use the same keys share the rate limit
(`lsq_mcp.pacing.redis`) and the account's metadata (`RedisCache`: activity type names...).
redis-py is imported only then.

Keys, all under `lsq-mcp:{ACCOUNT}:` where ACCOUNT is the first 16 hex digits of the SHA-256 of
the access key (the key itself never reaches Redis; the braces keep an account's keys in one
Redis Cluster slot, and different accounts never share a window). A cached value NAME is kept
under `NAME`, and `NAME:lock` holds a token of the process looking it up (SET NX PX, a lease that
process renews).

When Redis cannot be used, calls FAIL CLOSED: no API call is made and the tool answers with an
error naming Redis at host:port, and one warning is logged per outage. Falling back to pacing
alone would let N processes send N times the account's allowance, which LeadSquared rejects and
counts against every integration on the account; an outage would turn silently into a storm of
rate-limit errors. A refused connection is retryable, so the connection's retries ride out a
restart; a Redis that does not answer (stopped, partitioned) is not: every operation is bounded by
REDIS_TIMEOUT_SECONDS (LSQ_TIMEOUT if shorter), and retrying would only multiply the wait.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio

from lsq_mcp.concurrency import run_beside
from lsq_mcp.errors import RedisUnavailableError, cause_chain, connection_failure
from lsq_mcp.redaction import redact
from lsq_mcp.settings import Settings
from lsq_mcp.text import clip

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

logger = logging.getLogger(__name__)

INSTALL = "pip install 'lsq-mcp[redis]'"
KEY_PREFIX = "lsq-mcp"
# Redis answers in well under a millisecond; past this it is not answering.
REDIS_TIMEOUT_SECONDS = 2.0
# A health check wants a quick verdict: a Redis this slow to PING is as good as down.
PING_SECONDS = 1.0
# How often a process waiting for another's lookup looks for the result.
CACHE_POLL_SECONDS = 0.05
# A lookup's lock lasts this long unless its holder, still looking up, renews it.
LOCK_LEASE_SECONDS = 3.0
# No value this server stores is longer (the account's activity types, a type's field names).
MAX_VALUE_BYTES = 2**20
# Keys of an idle account are removed this long after their last entry could matter.
IDLE_MS = 1000

# Redis may be shared with others: what it holds is data, not truth. A value that is no text of ours
# (another type, or longer than any we store) is not read, and a lock that would outlive its lease
# (left by a process that died, or set by none of ours) is cut back to it.
# KEYS: the value, its lock. ARGV: token, lease (ms), the longest value (bytes).
# Returns {1, text, ms left} = cached; {2} = claimed, this process looks it up; {0} = another is.
GET_OR_CLAIM = """
if redis.call('TYPE', KEYS[1]).ok == 'string' and redis.call('STRLEN', KEYS[1]) <= tonumber(ARGV[3]) then
  return {1, redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {2} end
local left = redis.call('PTTL', KEYS[2])
if left < 0 or left > tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return {0}
"""

# KEYS: the lock. ARGV: token, lease (ms). The holder, still looking up, extends its lease.
RENEW = """
if redis.call('TYPE', KEYS[1]).ok == 'string' and redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: the value, its lock. ARGV: token, text ('' = the lookup failed), time-to-live (ms).
PUBLISH = """
if ARGV[2] ~= '' then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
if redis.call('TYPE', KEYS[2]).ok == 'string' and redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
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
        timeout: float = REDIS_TIMEOUT_SECONDS,
    ) -> None:
        self.address = address
        self.namespace = namespace
        # The most any one operation may take, connecting included.
        self.timeout = timeout
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
    def open(cls, settings: Settings, *, announce: bool = True) -> RedisStore:
        """The store for `settings.redis_url` and the account of `settings.access_key`. It connects on
        first use; when it cannot ever work, every use raises an error saying why (the server starts).
        `announce` logs where Redis is (once per process: a health check's store stays quiet)."""
        url = settings.redis_url or ""
        timeout = min(REDIS_TIMEOUT_SECONDS, settings.timeout)
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
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
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
        if announce:
            logger.info("Sharing the rate limit through Redis at %s (account %s)", address, namespace)
        return cls(redis, address=address, namespace=namespace, password=password, timeout=timeout)

    @classmethod
    def _unusable(cls, address: str, namespace: str, reason: str, fix: str) -> RedisStore:
        problem = RedisUnavailableError(address, reason, retryable=False, fix=fix)
        logger.error("%s", problem)
        return cls(None, address=address, namespace=namespace, problem=problem)

    def key(self, name: str) -> str:
        return f"{KEY_PREFIX}:{{{self.namespace}}}:{name}"

    async def run(self, script: str, keys: Sequence[str], args: Sequence[str | int | float]) -> Any:
        """Run `script` atomically; raises `RedisUnavailableError` when Redis cannot be used.

        Shielded from cancellation (and bounded by `timeout`): a script that ran, its answer lost to a
        cancelled caller, could leave a place taken that nobody gives back."""
        if self._problem is not None:
            raise self._problem
        assert self._redis is not None
        if script not in self._scripts:
            self._scripts[script] = self._redis.register_script(script)
        try:
            with anyio.fail_after(self.timeout, shield=True):
                result = await self._scripts[script](keys=list(keys), args=list(args))
        except self._errors as exc:
            raise self._unreachable(exc) from None
        if self._down:
            self._down = False
            logger.warning("Redis at %s answers again: API calls go ahead", self.address)
        return result

    async def ping(self) -> bool:
        """Whether Redis answers a PING within PING_SECONDS (for /healthz)."""
        if self._redis is None or self._problem is not None:
            return False
        try:
            with anyio.fail_after(min(PING_SECONDS, self.timeout)):
                return bool(await self._redis.ping())
        except self._errors:
            return False

    def _unreachable(self, exc: BaseException) -> RedisUnavailableError:
        reason = self._reason(exc)
        # No answer in time: Redis is stopped or cut off, and a retry would only wait as long again.
        error = RedisUnavailableError(self.address, reason, retryable=reason != self._no_answer)
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
        if failure := connection_failure(exc):
            return failure
        if any(isinstance(e, TimeoutError) for e in chain) or "timeout" in text or "timed out" in text:
            return self._no_answer
        if isinstance(exc, ResponseError):
            return f"it answered an error: {clip(redact(str(exc), [self._password or '']), 120)}"
        return f"the connection failed: {type(exc).__name__}"

    @property
    def _no_answer(self) -> str:
        return f"no answer within {self.timeout:g}s"

    async def aclose(self) -> None:
        if self._redis is not None:
            redis, self._redis = self._redis, None
            self._problem = RedisUnavailableError(self.address, "the server is closing", retryable=False)
            await redis.aclose()


class RedisCache:
    """Values as text in Redis: every process reads one before asking the API for it, and while one
    process looks it up the others wait for its answer instead of asking too.

    The lookup's lock is a lease of LOCK_LEASE_SECONDS that its holder renews while it looks up: a
    process that dies mid-lookup holds the others back no longer than that. A value read from Redis
    is bounded (MAX_VALUE_BYTES) and redacted (`shared_text`) before anything reads it."""

    def __init__(
        self, store: RedisStore, hidden: Sequence[str], *, lease: float = LOCK_LEASE_SECONDS
    ) -> None:
        self._store = store
        # What no value read from Redis may show: the keys, the MCP token.
        self._hidden = tuple(hidden)
        self._lease_ms = max(round(lease * 1000), 1)

    async def get_or_fetch(
        self, name: str, fetch: Callable[[], Awaitable[str]], ttl: float
    ) -> tuple[str, float]:
        """The value `name` and the seconds it stays fresh (at most `ttl`): another process's, or else
        `fetch()`'s, stored for `ttl`."""
        keys = [self._store.key(name), self._store.key(f"{name}:lock")]
        token = secrets.token_hex(8)
        while True:
            reply = await self._store.run(GET_OR_CLAIM, keys, [token, self._lease_ms, MAX_VALUE_BYTES])
            if reply[0] == 1:
                left_ms = int(reply[2])
                fresh_for = min(left_ms / 1000, ttl) if left_ms > 0 else ttl
                return shared_text(str(reply[1]), self._hidden), fresh_for
            if reply[0] == 2:
                break
            await anyio.sleep(CACHE_POLL_SECONDS)
        text = ""
        try:
            text = await self._fetch_leased(fetch, keys[1], token)
        finally:
            # On failure too: the lock goes, and the next process to ask tries for itself.
            with contextlib.suppress(RedisUnavailableError):
                await self._store.run(PUBLISH, keys, [token, text, round(ttl * 1000)])
        return text, ttl

    async def _fetch_leased(self, fetch: Callable[[], Awaitable[str]], lock: str, token: str) -> str:
        """`fetch()`, its lock's lease renewed meanwhile."""
        return await run_beside(fetch, partial(self._renew, lock, token))

    async def _renew(self, lock: str, token: str) -> None:
        """Extend the lease on `lock` while this process looks the value up."""
        while True:
            await anyio.sleep(self._lease_ms / 3000)
            with contextlib.suppress(RedisUnavailableError):
                await self._store.run(RENEW, [lock], [token, self._lease_ms])


def shared_text(text: str, hidden: Sequence[str]) -> str:
    """A value another process stored in Redis, as this one may read it: what anyone with access to
    that Redis wrote, so redacted like LeadSquared's answers (its length is bounded by the script
    that read it; the reader validates its shape)."""
    return redact(text, hidden)
