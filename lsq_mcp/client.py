"""The LeadSquared API client. It knows nothing of MCP.

One pooled `httpx2.AsyncClient`; keys travel in headers only. Every call goes
through the shared rate limiter, is retried when the failure is worth retrying
(rate limit, transient faults), and comes back either as parsed pydantic models or
as one of the errors in `lsq_mcp.errors`.
"""

from __future__ import annotations

import json
import logging
import random
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, TypeVar

import anyio
import httpx2
from pydantic import TypeAdapter, ValidationError

from lsq_mcp import __version__
from lsq_mcp.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    EndpointNotFoundError,
    LeadSquaredError,
    MalformedResponseError,
    NotConfiguredError,
    RateLimitError,
    RedisUnavailableError,
    ServerError,
    UnreachableError,
    cause_chain,
    redact,
)
from lsq_mcp.models import (
    RawActivitiesPage,
    RawActivityType,
    RawLead,
    RawLeadOpportunities,
    RawOpportunityDetails,
    SortDirection,
)
from lsq_mcp.ratelimit import Limiter, SlidingWindowLimiter
from lsq_mcp.settings import RateLimit, Settings
from lsq_mcp.values import clip

logger = logging.getLogger(__name__)

T = TypeVar("T")

ACTIVITIES_PATH = "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity"
ACTIVITY_TYPES_PATH = "/v2/ProspectActivity.svc/ActivityTypes.Get"
OPPORTUNITY_PATH = "/v2/OpportunityManagement.svc/GetOpportunityDetails"
OPPORTUNITIES_OF_LEAD_PATH = "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead"
LEADS_BY_EMAIL_PATH = "/v2/LeadManagement.svc/Leads.GetByEmailaddress"
# Opportunities of one lead, in one call: more than any real lead has.
OPPORTUNITIES_PAGE_SIZE = 200
# The request-side name of the activity creation time (the answer calls it PACreatedOn).
DEFAULT_SORT_COLUMN = "CreatedOn"
FALLBACK_SORT_COLUMN = "PACreatedOn"
RATE_LIMIT_EXCEPTION = "MXAPIRateLimitExceededException"
AUTH_EXCEPTION = "MXInvalidAccessDetailsException"
_LIMIT_RE = re.compile(r"limit of (\d+) in (\d+(?:\.\d+)?) ?second", re.IGNORECASE)
_HOST_RE = re.compile(r"\b(api[\w-]*\.leadsquared\.com)\b", re.IGNORECASE)
_TRANSIENT_STATUSES = frozenset({502, 503, 504})
_ACTIVITY_TYPES = TypeAdapter(list[RawActivityType])
_LEADS = TypeAdapter(list[RawLead])
# Waits between attempts never exceed this, whatever Retry-After says.
MAX_WAIT_SECONDS = 60.0
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
# Beyond LSQ_TIMEOUT (which bounds the exchange), what one attempt may hold a place for: scheduling
# delays, and stamping it as done in a shared limiter.
ATTEMPT_SLACK_SECONDS = 10.0


def longest_call(settings: Settings) -> float:
    """The bound on one call, queueing, retries and waits included: each attempt gets LSQ_TIMEOUT,
    and each wait between attempts at most MAX_WAIT_SECONDS."""
    retries = settings.max_retries
    return (retries + 1) * settings.timeout + retries * MAX_WAIT_SECONDS


def longest_attempt(settings: Settings) -> float:
    """The longest one attempt holds its place in the rate limiter: LSQ_TIMEOUT bounds the exchange."""
    return settings.timeout + ATTEMPT_SLACK_SECONDS


@dataclass(frozen=True)
class ActivitiesQuery:
    """The parameters of Get Activities of an Opportunity, in Python's terms."""

    opportunity_id: str
    activity_event_code: int | None = None
    columns: tuple[str, ...] = ()
    page_index: int = 1
    page_size: int = 25
    sort_column: str = DEFAULT_SORT_COLUMN
    sort_direction: SortDirection = "newest_first"

    def params(self) -> dict[str, str]:
        params = {"opportunityId": self.opportunity_id}
        if self.activity_event_code is not None:
            params["activityEventCode"] = str(self.activity_event_code)
        return params

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Paging": {"PageIndex": self.page_index, "PageSize": self.page_size},
            "Sorting": {
                "ColumnName": self.sort_column,
                "Direction": 1 if self.sort_direction == "newest_first" else 0,
            },
        }
        if self.columns:
            body["Columns"] = {"Include_CSV": ",".join(self.columns)}
        return body


class LeadSquaredClient:
    """Async client for the LeadSquared v2 API; use as `async with` or call `aclose()`."""

    def __init__(
        self,
        settings: Settings,
        *,
        limiter: Limiter | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        # The client owns its limiter (and closes it): in-process, or shared through LSQ_REDIS_URL.
        self.limiter = limiter or SlidingWindowLimiter(settings.rate_limit)
        self._transport = transport
        self._http: httpx2.AsyncClient | None = None
        self._creation_column = DEFAULT_SORT_COLUMN

    async def __aenter__(self) -> LeadSquaredClient:
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

    async def get_activities_page(self, query: ActivitiesQuery) -> RawActivitiesPage:
        """One page of an opportunity's activities.

        The request-side name of the creation time is unconfirmed: when LeadSquared refuses the
        default sort column by name, the answer's own name for it is tried, and kept if it works.
        """
        if query.sort_column == DEFAULT_SORT_COLUMN:
            query = replace(query, sort_column=self._creation_column)
        try:
            return await self._activities_page(query)
        except ApiError as exc:
            refused = (exc.upstream_message or "").lower()
            if query.sort_column != DEFAULT_SORT_COLUMN or DEFAULT_SORT_COLUMN.lower() not in refused:
                raise
        page = await self._activities_page(replace(query, sort_column=FALLBACK_SORT_COLUMN))
        logger.info(
            "LeadSquared refused sorting on %s; sorting on %s", DEFAULT_SORT_COLUMN, FALLBACK_SORT_COLUMN
        )
        self._creation_column = FALLBACK_SORT_COLUMN
        return page

    async def _activities_page(self, query: ActivitiesQuery) -> RawActivitiesPage:
        return await self.call(
            "POST",
            ACTIVITIES_PATH,
            RawActivitiesPage.model_validate,
            params=query.params(),
            json=query.body(),
        )

    async def get_activity_types(self) -> list[RawActivityType]:
        """The account's activity types (code → name)."""
        return await self.call("GET", ACTIVITY_TYPES_PATH, _ACTIVITY_TYPES.validate_python)

    async def get_opportunity(self, opportunity_id: str) -> RawOpportunityDetails:
        return await self.call(
            "GET",
            OPPORTUNITY_PATH,
            RawOpportunityDetails.model_validate,
            params={"OpportunityId": opportunity_id},
        )

    async def get_leads_by_email(self, email: str) -> list[RawLead]:
        return await self.call(
            "GET", LEADS_BY_EMAIL_PATH, _LEADS.validate_python, params={"emailaddress": email}
        )

    async def get_opportunities_of_lead(
        self, lead_id: str, opportunity_type: int | None = None
    ) -> RawLeadOpportunities:
        params = {"leadId": lead_id}
        if opportunity_type is not None:
            params["opportunityType"] = str(opportunity_type)
        body = {"Paging": {"PageIndex": 1, "PageSize": OPPORTUNITIES_PAGE_SIZE}}
        return await self.call(
            "POST", OPPORTUNITIES_OF_LEAD_PATH, RawLeadOpportunities.model_validate, params=params, json=body
        )

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
            raise NotConfiguredError(self.settings.missing_keys)
        try:
            with anyio.fail_after(self.longest_call):
                return await self._call_with_retries(method, path, parse, params, json)
        except TimeoutError:
            raise UnreachableError(
                self.settings.host, f"no result within {self.longest_call:g}s, retries and waits included"
            ) from None

    @property
    def longest_call(self) -> float:
        """The bound on one call, queueing, retries and waits included (see `longest_call`)."""
        return longest_call(self.settings)

    async def _call_with_retries(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        params: Mapping[str, str] | None,
        json: Any,
    ) -> T:
        retries = self.settings.max_retries
        attempt = 0
        while True:
            try:
                # The slot covers the exchange only: reading the answer is not LeadSquared's time.
                async with self.limiter.slot():
                    response = await self._exchange(method, path, params, json)
                return interpret(
                    response.status_code,
                    response.headers,
                    response.content,
                    parse,
                    host=self.settings.host,
                    window=self.limiter.limit.seconds,
                    secrets=self.settings.secrets,
                )
            except RateLimitError as exc:
                # Every waiting call holds back, not only this one: the window is the account's.
                await self.limiter.rate_limited(
                    RateLimit(*exc.limit) if exc.limit is not None else None, exc.retry_after
                )
                if attempt >= retries:
                    raise _exhausted(exc, retries) from None
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
    ) -> httpx2.Response:
        host = self.settings.host
        try:
            # The whole exchange, not each phase of it, must fit in LSQ_TIMEOUT.
            with anyio.fail_after(self.settings.timeout):
                client = self._client()
                response = await client.send(
                    client.build_request(method, path, params=params, json=body), stream=True
                )
                try:
                    await response.aread()
                except httpx2.DecodingError:
                    raise _undecodable(response.status_code, response.headers) from None
                finally:
                    await response.aclose()
        except TimeoutError:
            raise UnreachableError(host, f"no answer within {self.settings.timeout:g}s") from None
        except httpx2.DecodingError:  # some transports decode before the body is read
            raise _undecodable(None, {}) from None
        except httpx2.ConnectError as exc:
            raise UnreachableError(host, _connect_reason(exc)) from None
        except (httpx2.HTTPError, httpx2.InvalidURL) as exc:
            raise UnreachableError(host, f"the exchange failed: {type(exc).__name__}") from None
        return response

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


def interpret(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    parse: Callable[[Any], T],
    *,
    host: str,
    window: float,
    secrets: tuple[str, ...],
) -> T:
    """What an answer means: the parsed data, or the `LeadSquaredError` it amounts to.

    Data is parsed as it came; only what an error quotes of the answer is scrubbed of the keys
    (an error page may echo a request back)."""
    raw = content.decode("utf-8", errors="replace")
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = None
    text = redact(raw, secrets)
    exception_type, message = (
        redact(part, secrets) if part is not None else None for part in _error_fields(body, status)
    )

    if status == 429 or exception_type == RATE_LIMIT_EXCEPTION:
        raise _rate_limit_error(status, headers, exception_type, message or clip(text, 300) or None, window)
    if status == 200 and exception_type is None and message is None and body is not None:
        try:
            return parse(body)
        except (ValidationError, ValueError, TypeError):
            pass
    if status == 401 or exception_type == AUTH_EXCEPTION:
        raise _auth_error(status, exception_type, message, host)
    if status == 400:
        raise BadRequestError(
            f"LeadSquared answered 400 (bad request): {_detail(exception_type, message)}. "
            "Check the arguments against LeadSquared's rules.",
            status=status,
            exception_type=exception_type,
            upstream_message=message,
        )
    if status == 404:
        said = _said(" (", exception_type, message, ")")
        raise EndpointNotFoundError(
            f"LeadSquared answered 404: the API was not found on {host}{said}. Check LSQ_HOST: it must be "
            "your account's API host (e.g. api-in21.leadsquared.com), not the web app's address.",
            status=status,
            exception_type=exception_type,
            upstream_message=message,
        )
    if status in _TRANSIENT_STATUSES:
        # A gateway's or a busy server's answer, whatever its body says: worth another try.
        said = _said(": ", exception_type, message)
        raise ServerError(
            f"LeadSquared answered {status} (unavailable){said}. It is usually temporary: "
            "try again in a minute.",
            status=status,
            retryable=True,
            exception_type=exception_type,
            upstream_message=message,
        )
    if message is not None or exception_type is not None:
        # A LeadSquared error body: a logical error, whatever the status (200 included).
        raise ServerError(
            f"LeadSquared answered {status} with an error: {_detail(exception_type, message)}.",
            status=status,
            retryable=False,
            exception_type=exception_type,
            upstream_message=message,
        )
    if status == 500:
        raise ServerError(
            f"LeadSquared answered {status} (server error) with no detail. It is usually temporary: "
            "try again in a minute.",
            status=status,
            retryable=True,
        )
    if status == 200 or 200 <= status < 300:
        raise MalformedResponseError(
            f"LeadSquared answered {status} with a malformed body, not the JSON expected: "
            f"{clip(text, 200)!r}. Check that LSQ_HOST is the API host; if it is, try again later.",
            status=status,
        )
    raise ServerError(
        f"LeadSquared answered an unexpected HTTP {status}: {clip(text, 200)!r}.",
        status=status,
        retryable=False,
    )


def _error_fields(body: Any, status: int) -> tuple[str | None, str | None]:
    """`(ExceptionType, ExceptionMessage)` when the body is a LeadSquared error, else `(None, None)`.
    Under an error status, a bare `{"Message": ...}` (the web framework's own error) counts too."""
    if not isinstance(body, dict):
        return None, None
    is_error = (
        str(body.get("Status", "")).lower() == "error"
        or "ExceptionType" in body
        or (status >= 400 and ("Message" in body or "ExceptionMessage" in body))
    )
    if not is_error:
        return None, None
    exception_type = body.get("ExceptionType")
    message = body.get("ExceptionMessage") or body.get("Message")
    return (
        clip(str(exception_type), 80) if exception_type else None,
        clip(str(message), 300) if message else None,
    )


def _said(before: str, exception_type: str | None, message: str | None, after: str = "") -> str:
    """What LeadSquared said, framed for a sentence; nothing when it said nothing."""
    return f"{before}{_detail(exception_type, message)}{after}" if message or exception_type else ""


def _detail(exception_type: str | None, message: str | None) -> str:
    if message and exception_type:
        return f"{message.rstrip('.')} ({exception_type})"
    return (message or exception_type or "no detail").rstrip(".")


def _rate_limit_error(
    status: int, headers: Mapping[str, str], exception_type: str | None, message: str | None, window: float
) -> RateLimitError:
    limit = None
    match = _LIMIT_RE.search(message or "")
    if match:
        calls, seconds = int(match.group(1)), float(match.group(2))
        if calls > 0 and seconds > 0:
            limit = (calls, seconds)
    retry_after = _retry_after(headers)
    if retry_after is None:
        retry_after = min(limit[1] if limit else window, MAX_WAIT_SECONDS)
    return RateLimitError(
        f"LeadSquared answered {status}: rate limit exceeded ({message or 'no detail'}).",
        status=status,
        retry_after=retry_after,
        limit=limit,
        exception_type=exception_type,
        upstream_message=message,
    )


def _exhausted(exc: RateLimitError, retries: int) -> RateLimitError:
    """The final rate-limit error, once the retries are spent: the limit, and when to try again."""
    limit = f"{exc.limit[0]} calls per {exc.limit[1]:g} seconds" if exc.limit else "unknown"
    tries = f"after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else "with retries off"
    how = "429 Too Many Requests" if exc.status == 429 else f"429 rate limit, sent inside HTTP {exc.status}"
    return RateLimitError(
        f"LeadSquared's rate limit was exceeded ({how}) {tries}; "
        f"the account's limit is {limit}. Try again in {_seconds(exc.retry_after)}, and if this "
        "repeats set LSQ_RATE_LIMIT to your plan's limit (e.g. 10/5).",
        status=exc.status,
        retry_after=exc.retry_after,
        limit=exc.limit,
        exception_type=exc.exception_type,
        upstream_message=exc.upstream_message,
    )


def _auth_error(status: int, exception_type: str | None, message: str | None, host: str) -> ApiError:
    other_hosts = [h for h in _HOST_RE.findall(message or "") if h.lower() != host.lower()]
    detail = _said(": ", exception_type, message)
    if other_hosts:
        hint = (
            f"LeadSquared says the account lives on {other_hosts[0]}: set LSQ_HOST={other_hosts[0]} "
            f"(it is now {host})."
        )
    else:
        hint = (
            "Check LSQ_ACCESS_KEY and LSQ_SECRET_KEY, and that LSQ_HOST is your account's region "
            f"(now {host}; calling another region's host also answers 401)."
        )
    return AuthenticationError(
        f"LeadSquared answered 401, the keys were refused{detail}. {hint}",
        status=status,
        exception_type=exception_type,
        upstream_message=message,
    )


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)  # the other form: an HTTP date
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    return min(max(seconds, 0.0), MAX_WAIT_SECONDS)


def _backoff(attempt: int) -> float:
    """Exponential backoff with jitter, so that many failing calls do not retry in step."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0**attempt)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _connect_reason(exc: httpx2.ConnectError) -> str:
    """Why a connection could not be opened, from the chain of causes (the async stack wraps them)."""
    chain = cause_chain(exc)
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, socket.gaierror) for e in chain) or "name or service" in text or "nodename" in text:
        return "the host name could not be resolved"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
        return "the connection was refused"
    return "the connection could not be opened"


def _short_reason(exc: LeadSquaredError) -> str:
    if isinstance(exc, ApiError):
        return f"HTTP {exc.status}"
    if isinstance(exc, UnreachableError):
        return exc.reason
    if isinstance(exc, RedisUnavailableError):
        return f"Redis at {exc.address}: {exc.reason}"
    return type(exc).__name__


def _seconds(value: float) -> str:
    return "1 second" if value == 1 else f"{value:g} seconds"


def _undecodable(status: int | None, headers: Mapping[str, str]) -> MalformedResponseError:
    encoding = headers.get("content-encoding", "its Content-Encoding")
    answered = f"answered {status}" if status is not None else "answered"
    return MalformedResponseError(
        f"LeadSquared {answered} with a malformed body that could not be decoded ({encoding}). "
        "Check that LSQ_HOST is the API host; if it is, try again later.",
        status=status or 0,
    )
