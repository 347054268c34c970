"""The connection to LeadSquared: one HTTP exchange per call, paced, bounded in time, retried.

One pooled `httpx2.AsyncClient`; keys travel in headers only. Every call waits for a place
under the rate limit (`lsq_mcp.pacing`), is retried when the failure is worth retrying (rate
limit, transient faults), and comes back either as what `parse` makes of the answer or as one of
the errors in `lsq_mcp.errors`. It knows nothing of MCP, nor of any endpoint: see `endpoints`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any, TypeVar

import anyio
import httpx2

from lsq_mcp import __version__
from lsq_mcp.api.answers import MAX_WAIT_SECONDS, read_answer
from lsq_mcp.errors import (
    AnswerTooLargeError,
    ApiError,
    LeadSquaredError,
    MalformedResponseError,
    NotConfiguredError,
    RateLimitError,
    RateLimitWaitError,
    RedisUnavailableError,
    UnreachableError,
    connection_failure,
)
from lsq_mcp.pacing import Limiter, SlidingWindowLimiter
from lsq_mcp.redaction import scrub
from lsq_mcp.settings import RateLimit, Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
# Beyond LSQ_TIMEOUT (which bounds the exchange), what one attempt may hold a place for: scheduling
# delays, and stamping it as done in a shared limiter.
ATTEMPT_SLACK_SECONDS = 10.0
# The most of one answer this server reads, as sent and once decompressed: a page of 1,000 activities
# with long notes is a few MB; past this, reading stops (an endless body, a gzip bomb).
MAX_ANSWER_BYTES = 32 * 2**20


class Waiting:
    """How many calls made in one context (a tool call, and the tasks it starts: they share it) wait
    for a place under the rate limit right now, for whoever tells the client what is going on."""

    def __init__(self) -> None:
        self.calls = 0


# Set by whoever wants to know (`lsq_mcp.tools.progress`); unset, nobody counts.
WAITING: ContextVar[Waiting | None] = ContextVar("lsq_mcp_waiting", default=None)


def longest_call(settings: Settings) -> float:
    """The bound on one call, queueing, retries and waits included: each attempt gets LSQ_TIMEOUT,
    and each wait between attempts at most MAX_WAIT_SECONDS."""
    retries = settings.max_retries
    return (retries + 1) * settings.timeout + retries * MAX_WAIT_SECONDS


def longest_attempt(settings: Settings) -> float:
    """The longest one attempt holds its place in the rate limiter: LSQ_TIMEOUT bounds the exchange."""
    return settings.timeout + ATTEMPT_SLACK_SECONDS


class Connection:
    """Paced, retried calls to the LeadSquared v2 API; use as `async with` or call `aclose()`.

    `learned` holds what calls have taught about this account's API (see `endpoints`)."""

    def __init__(
        self,
        settings: Settings,
        *,
        limiter: Limiter | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        # The connection owns its limiter (and closes it): in-process, or shared through LSQ_REDIS_URL.
        self.limiter = limiter or SlidingWindowLimiter(settings.rate_limit)
        self.learned: dict[str, str] = {}
        self._transport = transport
        self._http: httpx2.AsyncClient | None = None

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()
        await self.limiter.aclose()

    @property
    def longest_call(self) -> float:
        """The bound on one call, queueing, retries and waits included (see `longest_call`)."""
        return longest_call(self.settings)

    async def call(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> T:
        """Make one API call, paced and retried; `parse` turns the JSON answer into what the caller wants."""
        if not self.settings.has_keys:
            raise NotConfiguredError(self.settings.key_problems)
        progress = _Progress()
        try:
            with anyio.fail_after(self.longest_call):
                return await self._call_with_retries(method, path, parse, params, json, progress)
        except TimeoutError:
            raise _out_of_time(progress, self.longest_call, self.limiter.limit, self.settings.host) from None

    async def _call_with_retries(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        params: Mapping[str, str] | None,
        json: Any,
        progress: _Progress,
    ) -> T:
        retries = self.settings.max_retries
        attempt = 0
        while True:
            try:
                # The slot covers the exchange only: reading the answer is not LeadSquared's time.
                progress.queued = True
                async with _place(self.limiter):
                    progress.queued, progress.sent = False, True
                    status, headers, content = await self._exchange(method, path, params, json)
                return read_answer(
                    status,
                    headers,
                    content,
                    parse,
                    host=self.settings.host,
                    window=self.limiter.limit.seconds,
                    secrets=self.settings.secrets,
                )
            except RateLimitError as exc:
                # Every waiting call holds back, not only this one: the window is the account's.
                await self.limiter.rate_limited(exc.limit, exc.retry_after)
                if attempt >= retries:
                    raise exc.after_retries(retries) from None
                logger.info("Rate limit hit; retry %d/%d in %.1fs", attempt + 1, retries, exc.retry_after)
            except LeadSquaredError as exc:
                if not exc.retryable or attempt >= retries:
                    raise
                delay = _backoff(attempt)
                logger.info("%s; retry %d/%d in %.1fs", _short_reason(exc), attempt + 1, retries, delay)
                await anyio.sleep(delay)
            attempt += 1

    async def _exchange(
        self, method: str, path: str, params: Mapping[str, str] | None, body: Any
    ) -> tuple[int, httpx2.Headers, bytes]:
        """One request and its whole answer: status, headers, body (decompressed, capped)."""
        host = self.settings.host
        try:
            # The whole exchange, not each phase of it, must fit in LSQ_TIMEOUT.
            with anyio.fail_after(self.settings.timeout):
                client = self._client()
                response = await client.send(
                    client.build_request(method, path, params=params, json=body), stream=True
                )
                try:
                    content = await _read_capped(response)
                except httpx2.DecodingError:
                    secrets = self.settings.secrets
                    raise _undecodable(response.status_code, response.headers, secrets) from None
                finally:
                    await response.aclose()
        except TimeoutError:
            raise UnreachableError(host, f"no answer within {self.settings.timeout:g}s") from None
        except httpx2.DecodingError:  # some transports decode before the body is read
            raise _undecodable(0, {}, self.settings.secrets) from None
        except httpx2.ConnectError as exc:
            reason = connection_failure(exc) or "the connection could not be opened"
            raise UnreachableError(host, reason) from None
        except (httpx2.HTTPError, httpx2.InvalidURL) as exc:
            raise UnreachableError(host, f"the exchange failed: {type(exc).__name__}") from None
        return response.status_code, response.headers, content

    def _client(self) -> httpx2.AsyncClient:
        if self._http is None:
            self._http = httpx2.AsyncClient(
                base_url=self.settings.base_url,
                headers={
                    "x-LSQ-AccessKey": self.settings.access_key or "",
                    "x-LSQ-SecretKey": self.settings.secret_key or "",
                    "Accept": "application/json",
                    "User-Agent": f"lsq-mcp/{__version__}",
                },
                timeout=self.settings.timeout,
                transport=self._transport,
                follow_redirects=False,
            )
        return self._http


@asynccontextmanager
async def _place(limiter: Limiter) -> AsyncIterator[None]:
    """A place under the rate limit, held while the call runs; counted in `WAITING` until had."""
    waiting = WAITING.get()
    async with AsyncExitStack() as stack:
        if waiting is not None:
            waiting.calls += 1
        try:
            await stack.enter_async_context(limiter.slot())
        finally:
            if waiting is not None:
                waiting.calls -= 1
        yield


class _Progress:
    """Where one call is, for the error its running out of time amounts to."""

    def __init__(self) -> None:
        self.queued = False  # waiting for a place under the rate limit
        self.sent = False  # an attempt reached the network


async def _read_capped(response: httpx2.Response) -> bytes:
    """The decompressed body, read as it streams in; past MAX_ANSWER_BYTES, as sent or decompressed,
    reading stops with `AnswerTooLargeError` (httpx2 decompresses in pieces of at most 1 MiB)."""
    parts: list[bytes] = []
    size = 0
    async for part in response.aiter_bytes():
        size += len(part)
        if size > MAX_ANSWER_BYTES or response.num_bytes_downloaded > MAX_ANSWER_BYTES:
            compressed = response.num_bytes_downloaded > MAX_ANSWER_BYTES
            raise AnswerTooLargeError(
                status=response.status_code, limit=MAX_ANSWER_BYTES, compressed=compressed
            )
        parts.append(part)
    return b"".join(parts)


def _out_of_time(progress: _Progress, seconds: float, limit: RateLimit, host: str) -> LeadSquaredError:
    """What a call that got no result within `seconds` amounts to, by where its time ran out."""
    if progress.queued:
        # In the rate limiter's queue: LeadSquared is not to blame.
        return RateLimitWaitError(waited=seconds, limit=limit, sent=progress.sent)
    return UnreachableError(host, f"no result within {seconds:g}s, retries and waits included")


def _backoff(attempt: int) -> float:
    """Exponential backoff with jitter, so that many failing calls do not retry in step."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0**attempt)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _short_reason(exc: LeadSquaredError) -> str:
    if isinstance(exc, ApiError):
        return f"HTTP {exc.status}"
    if isinstance(exc, UnreachableError):
        return exc.reason
    if isinstance(exc, RedisUnavailableError):
        return f"Redis at {exc.address}: {exc.reason}"
    return type(exc).__name__


def _undecodable(status: int, headers: Mapping[str, str], secrets: tuple[str, ...]) -> MalformedResponseError:
    encoding = scrub(headers.get("content-encoding", "its Content-Encoding"), secrets, 40)
    return MalformedResponseError(status=status, encoding=encoding)
