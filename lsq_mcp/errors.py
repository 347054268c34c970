"""What can go wrong when talking to LeadSquared.

The exception tree:

* LeadSquaredError            every failure of an API call; `str()` is the message for people
  + NotConfiguredError        no keys: names LSQ_ACCESS_KEY / LSQ_SECRET_KEY
  + UnreachableError          timeout, refused connection, DNS: the host could not be reached
  + RedisUnavailableError     LSQ_REDIS_URL is set but Redis cannot be used (unreachable, refused,
                              redis-py missing): no API call is made, the shared limit fails closed
  + ApiError                  LeadSquared answered, and the answer is a failure
    - AuthenticationError     401 (or MXInvalidAccessDetailsException): the keys were refused
    - BadRequestError         400: LeadSquared's ExceptionMessage says what it disliked
    - EndpointNotFoundError   404: the path does not exist on LSQ_HOST
    - RateLimitError          429 or MXAPIRateLimitExceededException, after the retries
    - ServerError             500 (with LeadSquared's message when there is one), 502/503/504, other codes
    - MalformedResponseError  a body that is not the JSON expected

Each carries its context as attributes (`status`, `exception_type`, `upstream_message`,
`host`...), and each message says what happened and what to do, in one or two
sentences. Upstream text is quoted after the keys have been scrubbed out of it
(see `redact`), since an error page may echo a request back.
"""

from __future__ import annotations

from collections.abc import Iterable


def cause_chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what caused it, outermost first: async stacks wrap the socket's own error."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of a secret in `text` with a placeholder."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


class LeadSquaredError(Exception):
    """A LeadSquared API call failed; the message is written for the person or model reading it."""

    retryable = False


class NotConfiguredError(LeadSquaredError):
    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        names = " and ".join(missing)
        super().__init__(
            f"LeadSquared keys are not configured: set {names} in the MCP server's environment "
            "(LeadSquared → My Profile → Settings → API and Webhooks), "
            "or run it with --demo to try the sandbox."
        )


class UnreachableError(LeadSquaredError):
    """No answer: timeout, refused connection, DNS failure, dropped connection."""

    retryable = True

    def __init__(self, host: str, reason: str) -> None:
        self.host = host
        self.reason = reason
        super().__init__(
            f"Could not reach LeadSquared at {host} ({reason}). Check LSQ_HOST and the network, "
            "then try again; raise LSQ_TIMEOUT if the account is slow to answer."
        )


class RedisUnavailableError(LeadSquaredError):
    """The rate limit is shared through Redis (LSQ_REDIS_URL) and Redis cannot be used, so no call is
    made: pacing alone could exceed the account's limit (see `lsq_mcp.redis_store`).

    `address` is `host:port` (or the socket path), never the URL: it may hold a password."""

    def __init__(self, address: str, reason: str, *, retryable: bool = True, fix: str | None = None) -> None:
        self.address = address
        self.reason = reason
        self.retryable = retryable
        super().__init__(
            f"Could not use Redis at {address} to share the LeadSquared rate limit ({reason}), so no API "
            "call was made. "
            + (
                fix
                or "Check that Redis is running and that LSQ_REDIS_URL points at it, then try again "
                "(unset LSQ_REDIS_URL to pace each process on its own)."
            )
        )


class ApiError(LeadSquaredError):
    """LeadSquared answered, and the answer is a failure."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        exception_type: str | None = None,
        upstream_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.exception_type = exception_type
        self.upstream_message = upstream_message


class AuthenticationError(ApiError):
    pass


class BadRequestError(ApiError):
    pass


class EndpointNotFoundError(ApiError):
    pass


class RateLimitError(ApiError):
    """The account's rate limit was hit; `retry_after` says when to try again."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        retry_after: float,
        limit: tuple[int, float] | None,
        exception_type: str | None = None,
        upstream_message: str | None = None,
    ) -> None:
        super().__init__(
            message, status=status, exception_type=exception_type, upstream_message=upstream_message
        )
        self.retry_after = retry_after
        self.limit = limit


class ServerError(ApiError):
    """A failure on LeadSquared's side; `retryable` when it looks transient."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        retryable: bool,
        exception_type: str | None = None,
        upstream_message: str | None = None,
    ) -> None:
        super().__init__(
            message, status=status, exception_type=exception_type, upstream_message=upstream_message
        )
        self.retryable = retryable


class MalformedResponseError(ApiError):
    """The body is not the JSON expected (an HTML page, cut-off JSON, another shape)."""
