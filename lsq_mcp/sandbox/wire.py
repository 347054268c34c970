"""What every endpoint reads and writes on the wire: query and body parsing, paging, error bodies.

LeadSquared answers bad input with a JSON error body, ``{"Status":"Error","ExceptionType":...,
"ExceptionMessage":...}``; handlers raise SandboxApiError and ``answer`` turns it into that body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lsq_mcp.sandbox.state import SandboxState

INVALID_INPUT = "MXInvalidInputException"
INVALID_ACCESS = "MXInvalidAccessDetailsException"
ENTITY_REFERENCE = "MXInvalidEntityReferenceException"
INVALID_ENTITY = "MXInvalidEntityException"
UNAUTHORIZED_ACCESS = "MXUnAuthorizedAccessException"
RATE_LIMIT = "MXAPIRateLimitExceededException"

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 25

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

Handler = Callable[[Request, SandboxState], Awaitable[Response]]
"""An endpoint's own work, once authentication, faults and the rate limit have let it through."""

T = TypeVar("T")


def lsq_error(
    status: int, exception_type: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """LeadSquared's error body, ``{"Status":"Error","ExceptionType":...,"ExceptionMessage":...}``."""
    body = {"Status": "Error", "ExceptionType": exception_type, "ExceptionMessage": message}
    return JSONResponse(body, status_code=status, headers=headers)


class SandboxApiError(Exception):
    """Raised by endpoints for a LeadSquared-style error answer."""

    def __init__(self, status: int, exception_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.exception_type = exception_type
        self.message = message

    def response(self) -> JSONResponse:
        """The error as the API would send it."""
        return lsq_error(self.status, self.exception_type, self.message)


async def answer(handler: Handler, request: Request, state: SandboxState) -> Response:
    """The endpoint's answer, its SandboxApiError rendered as LeadSquared's error body."""
    try:
        return await handler(request, state)
    except SandboxApiError as exc:
        return exc.response()


def bad_body() -> SandboxApiError:
    """What the API says about a body it cannot read."""
    return SandboxApiError(400, INVALID_INPUT, "Invalid request body")


# --------------------------------------------------------------------------------------------
# Query string
# --------------------------------------------------------------------------------------------


def query(request: Request, name: str) -> str | None:
    """A query parameter by name, ignoring case (WCF matches query names case-insensitively)."""
    wanted = name.lower()
    for key, value in request.query_params.multi_items():
        if key.lower() == wanted:
            return value
    return None


def query_guid(request: Request, name: str) -> str | None:
    """The parameter as a lowercase GUID, or None when it is missing or not a GUID."""
    value = (query(request, name) or "").strip()
    return value.lower() if _GUID.match(value) else None


def guid_param(request: Request, name: str, message: str) -> str:
    """A required GUID parameter; anything else is a 400 with ``message``."""
    value = query_guid(request, name)
    if value is None:
        raise SandboxApiError(400, INVALID_INPUT, message)
    return value


def int_param(request: Request, name: str, message: str) -> int | None:
    """An optional whole-number parameter; present but not a number is a 400 with ``message``."""
    value = (query(request, name) or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise SandboxApiError(400, INVALID_INPUT, message)
    return int(value)


# --------------------------------------------------------------------------------------------
# JSON body
# --------------------------------------------------------------------------------------------


async def json_body(request: Request) -> dict[str, Any]:
    """The JSON object body; an empty body means "all defaults" (every part is optional)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise bad_body()
    try:
        data = json.loads(raw)
    except ValueError as exc:  # includes UnicodeDecodeError
        raise bad_body() from exc
    if not isinstance(data, dict):
        raise bad_body()
    return data


def section(body: dict[str, Any], name: str) -> dict[str, Any]:
    """One optional object of the body (``Paging``, ``Sorting``, ``Columns``)."""
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_body()
    return value


def number(value: Any, default: int) -> int:
    """An int given as a JSON number or a numeric string (the real API accepts both)."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise bad_body()
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise bad_body()


def paging(body: dict[str, Any], most: int = MAX_PAGE_SIZE) -> tuple[int, int]:
    """(PageIndex, PageSize) with LeadSquared's limits; PageIndex counts from 1."""
    given = section(body, "Paging")
    index = number(given.get("PageIndex"), 1)
    size = number(given.get("PageSize"), DEFAULT_PAGE_SIZE)
    if size > most:
        raise SandboxApiError(500, INVALID_INPUT, f"PageSize can not be more than {most}")
    if size < 1:
        raise SandboxApiError(500, INVALID_INPUT, "PageSize should be greater than 0")
    if index < 1:
        raise SandboxApiError(500, INVALID_INPUT, "PageIndex should be greater than 0")
    return index, size


def page(items: Sequence[T], index: int, size: int) -> list[T]:
    """Page ``index`` (from 1) of ``size`` items; empty past the end."""
    start = (index - 1) * size
    return list(items[start : start + size])
