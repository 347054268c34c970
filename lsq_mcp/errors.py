"""What can go wrong when talking to LeadSquared.

The exception tree:

* LeadSquaredError            every failure of an API call; `str()` is the message for people
  + NotConfiguredError        no keys: names LSQ_ACCESS_KEY / LSQ_SECRET_KEY
  + UnreachableError          timeout, refused connection, DNS: the host could not be reached
  + RedisUnavailableError     LSQ_REDIS_URL is set but Redis cannot be used (unreachable, refused,
                              redis-py missing): no API call is made, the shared limit fails closed
  + RateLimitWaitError        the call waited its whole time for a place under the rate limit: the
                              local queue, not LeadSquared, is why it failed
  + ApiError                  LeadSquared answered, and the answer is a failure
    - AuthenticationError     401 (or MXInvalidAccessDetailsException): the keys were refused
    - BadRequestError         400: LeadSquared's ExceptionMessage says what it disliked
    - EndpointNotFoundError   404: the path does not exist on LSQ_HOST
    - RateLimitError          429 or MXAPIRateLimitExceededException
    - ServerError             500 (with LeadSquared's message when there is one), 502/503/504, other codes
    - MalformedResponseError  a body that is not the JSON expected (or one value in it unreadable)
    - AnswerTooLargeError     a body past MAX_ANSWER_BYTES, read or decompressed: reading stopped there

Each carries its context as attributes (`status`, `exception_type`, `upstream_message`,
`host`...) and builds its own message from them: what happened and what to do, in one or
two sentences. Upstream text reaches an error only after the keys have been scrubbed out
of it (`lsq_mcp.redaction.scrub`: redacted, then clipped), since an error page may echo a
request back.
"""

from __future__ import annotations

import re
import socket

from lsq_mcp.reader import MODEL, Reader
from lsq_mcp.settings import RateLimit

# An API host named in LeadSquared's 401 message: where the account really lives.
_API_HOST_RE = re.compile(r"\b(api[\w-]*\.leadsquared\.com)\b", re.IGNORECASE)
# 502, 503, 504: a gateway's or a busy server's answer, worth another try whatever its body says.
TRANSIENT_STATUSES = frozenset({502, 503, 504})


def cause_chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what caused it, outermost first: async stacks wrap the socket's own error."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def connection_failure(exc: BaseException) -> str | None:
    """Why a connection could not be opened, when the chain of causes says (a name not resolved, a
    connection refused); None when it does not. Both LeadSquared's connection and Redis's read it."""
    chain = cause_chain(exc)
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, socket.gaierror) for e in chain) or "name or service" in text or "nodename" in text:
        return "the host name could not be resolved"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
        return "the connection was refused"
    return None


def _detail(exception_type: str | None, message: str | None) -> str:
    """What LeadSquared said: its message, then its exception type."""
    if message and exception_type:
        return f"{message.rstrip('.')} ({exception_type})"
    return (message or exception_type or "no detail").rstrip(".")


def _seconds(value: float) -> str:
    return "1 second" if value == 1 else f"{value:g} seconds"


class LeadSquaredError(Exception):
    """A LeadSquared API call failed; the message is written for the person or model reading it.

    Each kind sets its attributes, then `super().__init__(self.describe())`: the message is built
    from the attributes in one place, `describe`."""

    retryable = False

    def describe(self) -> str:
        raise NotImplementedError

    def for_reader(self, reader: Reader) -> str:
        """The message as `reader` reads it: the same, unless it names a tool or an argument."""
        return str(self)


class NotConfiguredError(LeadSquaredError):
    """`problems`: each key variable not set, and why (`Settings.key_problems`)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(self.describe())

    def describe(self) -> str:
        return (
            f"LeadSquared keys are not configured: {'; '.join(self.problems)}. Set them in the MCP "
            "server's environment (LeadSquared → My Profile → Settings → API and Webhooks), "
            "or run it with --demo to try the sandbox."
        )


class UnreachableError(LeadSquaredError):
    """No answer: timeout, refused connection, DNS failure, dropped connection."""

    retryable = True

    def __init__(self, host: str, reason: str) -> None:
        self.host = host
        self.reason = reason
        super().__init__(self.describe())

    def describe(self) -> str:
        return (
            f"Could not reach LeadSquared at {self.host} ({self.reason}). Check LSQ_HOST and the "
            "network, then try again; raise LSQ_TIMEOUT if the account is slow to answer."
        )


class RedisUnavailableError(LeadSquaredError):
    """The rate limit is shared through Redis (LSQ_REDIS_URL) and Redis cannot be used, so no call is
    made: pacing alone could exceed the account's limit (see `lsq_mcp.pacing.redis`).

    `address` is `host:port` (or the socket path), never the URL: it may hold a password."""

    def __init__(self, address: str, reason: str, *, retryable: bool = True, fix: str | None = None) -> None:
        self.address = address
        self.reason = reason
        self.retryable = retryable
        self.fix = fix or (
            "Check that Redis is running and that LSQ_REDIS_URL points at it, then try again "
            "(unset LSQ_REDIS_URL to pace each process on its own)."
        )
        super().__init__(self.describe())

    def describe(self) -> str:
        return (
            f"Could not use Redis at {self.address} to share the LeadSquared rate limit ({self.reason}), "
            f"so no API call was made. {self.fix}"
        )


class ApiError(LeadSquaredError):
    """LeadSquared answered, and the answer is a failure; `host` is the host that answered."""

    def __init__(
        self,
        *,
        status: int,
        exception_type: str | None = None,
        upstream_message: str | None = None,
        host: str = "",
    ) -> None:
        self.host = host
        self.status = status
        self.exception_type = exception_type
        self.upstream_message = upstream_message
        super().__init__(self.describe())

    @property
    def said(self) -> str:
        """What LeadSquared said, for a sentence ("no detail" when it said nothing)."""
        return _detail(self.exception_type, self.upstream_message)

    @property
    def said_anything(self) -> bool:
        return bool(self.exception_type or self.upstream_message)

    def describe(self) -> str:
        return f"LeadSquared answered {self.status}: {self.said}."


class AuthenticationError(ApiError):
    @property
    def right_host(self) -> str | None:
        """Another API host that LeadSquared's message names: where the account really lives."""
        named = _API_HOST_RE.findall(self.upstream_message or "")
        return next((h for h in named if h.lower() != self.host.lower()), None)

    def describe(self) -> str:
        said = f": {self.said}" if self.said_anything else ""
        if self.right_host:
            hint = (
                f"LeadSquared says the account lives on {self.right_host}: set "
                f"LSQ_HOST={self.right_host} (it is now {self.host})."
            )
        else:
            hint = (
                "Check LSQ_ACCESS_KEY and LSQ_SECRET_KEY, and that LSQ_HOST is your account's region "
                f"(now {self.host}; calling another region's host also answers 401)."
            )
        return f"LeadSquared answered 401, the keys were refused{said}. {hint}"


class BadRequestError(ApiError):
    def describe(self) -> str:
        return (
            f"LeadSquared answered 400 (bad request): {self.said}. "
            "Check the arguments against LeadSquared's rules."
        )


class EndpointNotFoundError(ApiError):
    def describe(self) -> str:
        said = f" ({self.said})" if self.said_anything else ""
        return (
            f"LeadSquared answered 404: the API was not found on {self.host}{said}. Check LSQ_HOST: it "
            "must be your account's API host (e.g. api-in21.leadsquared.com), not the web app's address."
        )


class RateLimitError(ApiError):
    """The account's rate limit was hit; `retry_after` says when to try again. `retries` is set once the
    client has spent its retries: the message then says the limit and when to try again."""

    def __init__(
        self,
        *,
        status: int,
        retry_after: float,
        limit: RateLimit | None,
        exception_type: str | None = None,
        upstream_message: str | None = None,
        retries: int | None = None,
    ) -> None:
        self.retry_after = retry_after
        self.limit = limit
        self.retries = retries
        super().__init__(status=status, exception_type=exception_type, upstream_message=upstream_message)

    def after_retries(self, retries: int) -> RateLimitError:
        """The same answer, as the final error once `retries` retries are spent."""
        return RateLimitError(
            status=self.status,
            retry_after=self.retry_after,
            limit=self.limit,
            exception_type=self.exception_type,
            upstream_message=self.upstream_message,
            retries=retries,
        )

    def describe(self) -> str:
        if self.retries is None:
            said = self.upstream_message or "no detail"
            return f"LeadSquared answered {self.status}: rate limit exceeded ({said})."
        limit = self.limit.words if self.limit else "unknown"
        retries = self.retries
        tries = f"after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else "with retries off"
        how = (
            "429 Too Many Requests"
            if self.status == 429
            else f"429 rate limit, sent inside HTTP {self.status}"
        )
        return (
            f"LeadSquared's rate limit was exceeded ({how}) {tries}; the account's limit is {limit}. "
            f"Try again in {_seconds(self.retry_after)}, and if this repeats set LSQ_RATE_LIMIT to your "
            "plan's limit (e.g. 10/5)."
        )


# What to do about LeadSquared's logical errors, by exception type.
_LOGICAL_FIX = "Check the arguments and that the keys' user may see this record; if it persists, try later."
_LOGICAL_FIXES = {
    "MXUnAuthorizedAccessException": "The user of these keys may not see this: ask a LeadSquared "
    "administrator for the permission, or use the keys of a user who has it.",
    "MXInvalidInputException": "Check the arguments against LeadSquared's rules.",
}
# LeadSquared's answers to an id that is not one of the account's records.
UNKNOWN_ID = frozenset({"MXInvalidEntityException", "MXInvalidEntityReferenceException"})


def _check_id(reader: Reader) -> str:
    find = reader.call("find_opportunities")
    return "Check the id: it must be one of this account's records" + (
        f" ({find} finds them)." if find else "."
    )


class ServerError(ApiError):
    """A failure on LeadSquared's side. `retryable` when it looks transient: a 502/503/504, or a 500
    that says nothing. `excerpt` is the start of a body that is not LeadSquared's error shape."""

    def __init__(
        self,
        *,
        status: int,
        exception_type: str | None = None,
        upstream_message: str | None = None,
        excerpt: str | None = None,
    ) -> None:
        self.excerpt = excerpt
        super().__init__(status=status, exception_type=exception_type, upstream_message=upstream_message)
        self.retryable = status in TRANSIENT_STATUSES or (status == 500 and not self.said_anything)

    def for_reader(self, reader: Reader) -> str:
        return self.describe(reader)

    def describe(self, reader: Reader = MODEL) -> str:
        if self.status in TRANSIENT_STATUSES:
            said = f": {self.said}" if self.said_anything else ""
            return (
                f"LeadSquared answered {self.status} (unavailable){said}. It is usually temporary: "
                "try again in a minute."
            )
        if self.said_anything:
            # A LeadSquared error body: a logical error, whatever the status (200 included).
            kind = self.exception_type or ""
            fix = _check_id(reader) if kind in UNKNOWN_ID else _LOGICAL_FIXES.get(kind, _LOGICAL_FIX)
            return f"LeadSquared answered {self.status} with an error: {self.said}. {fix}"
        if self.status == 500:
            return (
                "LeadSquared answered 500 (server error) with no detail. It is usually temporary: "
                "try again in a minute."
            )
        return f"LeadSquared answered an unexpected HTTP {self.status}: {self.excerpt or ''!r}."


class MalformedResponseError(ApiError):
    """The body is not the JSON expected (an HTML page, cut-off JSON, another shape), or could not be
    decoded (`encoding`, its Content-Encoding); `excerpt` is its start. When the answer has the shape
    expected but one value in it cannot be read, `field` says where (`List[3].Note`): that answer is
    LeadSquared's, so LSQ_HOST is not in question."""

    def __init__(
        self,
        *,
        status: int,
        excerpt: str | None = None,
        encoding: str | None = None,
        field: str | None = None,
    ) -> None:
        self.excerpt = excerpt
        self.encoding = encoding
        self.field = field
        super().__init__(status=status)

    def describe(self) -> str:
        answered = f"answered {self.status}" if self.status else "answered"
        if self.field is not None:
            return (
                f"LeadSquared {answered} with a value this server cannot read, at {self.field}: "
                f"{self.excerpt or ''!r}. Try a narrower question (another page, fewer columns); "
                "please report it to the lsq-mcp maintainers."
            )
        what = (
            f"that could not be decoded ({self.encoding})"
            if self.encoding is not None
            else f"not the JSON expected: {self.excerpt or ''!r}"
        )
        return (
            f"LeadSquared {answered} with a malformed body, {what}. "
            "Check that LSQ_HOST is the API host; if it is, try again later."
        )


class AnswerTooLargeError(ApiError):
    """The body went past `limit` bytes (`compressed`: as sent, else once decompressed): reading
    stopped there, so that no answer can take the process's memory (an endless body, a gzip bomb)."""

    def __init__(self, *, status: int, limit: int, compressed: bool) -> None:
        self.limit = limit
        self.compressed = compressed
        super().__init__(status=status)

    def for_reader(self, reader: Reader) -> str:
        return self.describe(reader)

    def describe(self, reader: Reader = MODEL) -> str:
        size = f"{self.limit / 2**20:g} MiB" + (" as sent" if self.compressed else "")
        return (
            f"LeadSquared answered {self.status} with a body larger than {size}, more than this server "
            f"reads: it stopped reading there. Ask for less at a time (a smaller {reader.name('page_size')}, "
            "fewer columns); "
            "if this repeats, check that LSQ_HOST is your account's API host."
        )


class RateLimitWaitError(LeadSquaredError):
    """The call spent its whole time (`waited` seconds) waiting for a place under the rate limit
    (`limit`), in this process or shared through Redis: `sent` says whether LeadSquared was asked
    at all (an earlier attempt may have been rejected)."""

    def __init__(self, *, waited: float, limit: RateLimit, sent: bool) -> None:
        self.waited = waited
        self.limit = limit
        self.sent = sent
        super().__init__(self.describe())

    def describe(self) -> str:
        asked = "after an earlier attempt failed" if self.sent else "so LeadSquared was never asked"
        return (
            f"The call waited {_seconds(self.waited)} for a place under the rate limit "
            f"({self.limit.words}) and ran out of time, {asked}: other calls were using the account's "
            "allowance. Try again in a moment, ask for fewer, larger pages, or raise LSQ_TIMEOUT if calls "
            "often queue this long."
        )
