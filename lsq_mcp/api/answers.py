"""Reading one answer of LeadSquared's: the data it holds, or the `LeadSquaredError` it amounts to.

LeadSquared's errors come in several guises: an HTTP error status with its error body, an
error body inside HTTP 200 (`"Status":"Error"`), a rate-limit answer with any status, or a web
server's HTML page. The body decides, not only the status.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from lsq_mcp.errors import (
    TRANSIENT_STATUSES,
    ApiError,
    AuthenticationError,
    BadRequestError,
    EndpointNotFoundError,
    MalformedResponseError,
    RateLimitError,
    ServerError,
)
from lsq_mcp.redaction import redact_answer, scrub
from lsq_mcp.settings import RateLimit

T = TypeVar("T")

RATE_LIMIT_EXCEPTION = "MXAPIRateLimitExceededException"
AUTH_EXCEPTION = "MXInvalidAccessDetailsException"
_LIMIT_RE = re.compile(r"limit of (\d+) in (\d+(?:\.\d+)?) ?second", re.IGNORECASE)
# Waits between attempts never exceed this, whatever Retry-After says.
MAX_WAIT_SECONDS = 60.0


def read_answer(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    parse: Callable[[Any], T],
    *,
    host: str,
    window: float,
    secrets: tuple[str, ...],
) -> T:
    """The parsed data of a successful answer; otherwise raises the `LeadSquaredError` it amounts to.

    No answer brings a key into our results: one that holds a piece of one (an error page echoing
    the request, a note someone typed a key into) is redacted before it is read, which costs one
    quick look at answers that hold none. `window` is the rate limit's, the wait after a rate-limit
    answer that says nothing better."""
    raw = redact_answer(content, secrets)
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = None
    exception_type, message = _error_fields(body, status, secrets)
    if status == 429 or exception_type == RATE_LIMIT_EXCEPTION:
        said = message or scrub(raw, secrets, 300) or None
        raise rate_limit_error(status, headers, exception_type, said, window)
    if status == 200 and exception_type is None and message is None and body is not None:
        try:
            return parse(body)
        except ValidationError as exc:
            if (where := _inside(exc)) is not None:
                # The answer has the shape expected: it is LeadSquared's, one value in it is odd.
                value = scrub(repr(exc.errors()[0].get("input")), secrets, 120)
                raise MalformedResponseError(status=status, excerpt=value, field=where) from None
        except (ValueError, TypeError):
            pass
    # Clipped only now: a successful answer (a page of 1,000 rows is 1 MB) needs no excerpt.
    raise _failure(status, exception_type, message, excerpt=scrub(raw, secrets, 200), host=host)


def _inside(error: ValidationError) -> str | None:
    """Where the first unreadable value is (`List[3].Note`), when it lies inside the answer's
    structure (two levels down or more); None when the answer's shape itself is not the one expected."""
    loc = error.errors()[0]["loc"]
    if len(loc) < 2:
        return None
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def _failure(
    status: int, exception_type: str | None, message: str | None, *, excerpt: str, host: str
) -> ApiError:
    """The error an answer amounts to, other than a rate limit."""
    if status == 401 or exception_type == AUTH_EXCEPTION:
        return AuthenticationError(
            status=status, host=host, exception_type=exception_type, upstream_message=message
        )
    if status == 400:
        return BadRequestError(status=status, exception_type=exception_type, upstream_message=message)
    if status == 404:
        return EndpointNotFoundError(
            status=status, host=host, exception_type=exception_type, upstream_message=message
        )
    if status in TRANSIENT_STATUSES or status >= 300 or message is not None or exception_type is not None:
        return ServerError(
            status=status, exception_type=exception_type, upstream_message=message, excerpt=excerpt
        )
    return MalformedResponseError(status=status, excerpt=excerpt)


def _error_fields(body: Any, status: int, secrets: tuple[str, ...]) -> tuple[str | None, str | None]:
    """`(ExceptionType, ExceptionMessage)`, scrubbed of the keys, when the body is a LeadSquared error,
    else `(None, None)`. Under an error status, a bare `{"Message": ...}` (the web framework's own
    error) counts too."""
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
        scrub(str(exception_type), secrets, 80) if exception_type else None,
        scrub(str(message), secrets, 300) if message else None,
    )


def rate_limit_error(
    status: int, headers: Mapping[str, str], exception_type: str | None, message: str | None, window: float
) -> RateLimitError:
    """A rate-limit answer: the account's real limit when the message tells it, and when to try again."""
    limit = None
    match = _LIMIT_RE.search(message or "")
    if match:
        calls, seconds = int(match.group(1)), float(match.group(2))
        if calls > 0 and seconds > 0:
            limit = RateLimit(calls, seconds)
    retry_after = _retry_after(headers)
    if retry_after is None:
        retry_after = min(limit.seconds if limit else window, MAX_WAIT_SECONDS)
    return RateLimitError(
        status=status,
        retry_after=retry_after,
        limit=limit,
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
