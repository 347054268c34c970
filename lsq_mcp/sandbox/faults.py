"""What a queued fault, or the rate limiter, answers instead of the endpoint.

Faults imitate what the real service and the network do on bad days: slowness, dropped
connections, HTML maintenance pages, truncated JSON, rate-limit answers with 429 or 200.
"""

from __future__ import annotations

import asyncio
import math
import time

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from lsq_mcp.sandbox.auth import Credentials
from lsq_mcp.sandbox.state import Fault, SandboxState
from lsq_mcp.sandbox.wire import RATE_LIMIT, Handler, answer, lsq_error

MAINTENANCE_HTML = (
    "<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>We'll be back soon</h1>"
    "<p>LeadSquared is undergoing scheduled maintenance. Please try again in a few minutes.</p>"
    "</body></html>"
)


class DropConnection(Exception):
    """Raised by the ``drop`` fault; the middleware closes the socket without answering."""

    def __init__(self, reset: bool) -> None:
        super().__init__("sandbox fault: drop the connection")
        self.reset = reset


async def pause(state: SandboxState, seconds: float) -> None:
    """Sleep without blocking the loop, cut short when the server is stopping."""
    deadline = time.monotonic() + seconds
    while not state.closing.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        await asyncio.sleep(min(left, 0.05))


def format_seconds(seconds: float) -> str:
    """5.0 -> "5", 2.5 -> "2.5": how the rate-limit message prints its window."""
    return str(int(seconds)) if float(seconds).is_integer() else repr(float(seconds))


def rate_limit_response(limit: tuple[int, float], status: int, retry_after: float | None) -> JSONResponse:
    """The answer to a request over the limit (429, or 200 as the real API also does)."""
    calls, seconds = limit
    message = f"API calls exceeded the limit of {calls} in {format_seconds(seconds)} second(s)"
    headers = {"Retry-After": str(math.ceil(retry_after))} if retry_after is not None else None
    return lsq_error(status, RATE_LIMIT, message, headers)


async def _truncated(fault: Fault, handler: Handler, request: Request, state: SandboxState) -> Response:
    """The normal JSON answer cut in half (a strict prefix of an object or list is never valid JSON)."""
    if fault.body is not None:
        cut = fault.body.encode()
    else:
        full = bytes((await answer(handler, request, state)).body)
        cut = full[: max(1, len(full) // 2)]
    return Response(cut, status_code=fault.status or 200, media_type="application/json")


def _echo_keys(keys: Credentials) -> Response:
    message = f"Bad request for key {keys.access} / {keys.secret}"
    return lsq_error(500, "MXException", message)


def _ratelimit(fault: Fault, state: SandboxState) -> Response:
    config = state.config
    limit = fault.limit or config.rate_limit or (25, 5.0)
    retry_after = fault.retry_after if fault.retry_after is not None else config.retry_after
    return rate_limit_response(limit, fault.status or 429, retry_after)


def _canned(fault: Fault, body: str, default_status: int, default_type: str) -> Response:
    """A fixed answer whose status and content type the fault may override."""
    return Response(
        body, status_code=fault.status or default_status, media_type=fault.content_type or default_type
    )


async def render_fault(fault: Fault, handler: Handler, request: Request, state: SandboxState) -> Response:
    """The answer a fault gives instead of the normal one (``drop`` raises instead)."""
    if fault.delay:
        await pause(state, fault.delay)
    match fault.kind:
        case "slow":
            return await answer(handler, request, state)
        case "drop":
            raise DropConnection(fault.reset)
        case "status":
            body = fault.body if fault.body is not None else "Service Unavailable"
            return _canned(fault, body, 503, "text/plain")
        case "html":
            return HTMLResponse(fault.body or MAINTENANCE_HTML, status_code=fault.status or 200)
        case "truncated":
            return await _truncated(fault, handler, request, state)
        case "ratelimit":
            return _ratelimit(fault, state)
        case "error":
            return lsq_error(fault.status or 500, fault.exception_type, fault.message)
        case "echo_keys":
            return _echo_keys(Credentials.of(request))
        case "wrong_shape":
            return _canned(fault, fault.body or '{"Result":"OK"}', 200, "application/json")
    raise AssertionError(f"unhandled fault kind {fault.kind}")  # pragma: no cover
