"""The sandbox's HTTP app: a LeadSquared look-alike that behaves like the real thing on the wire.

Every request goes through the same steps, in the order the real service seems to apply them:
routing (unknown path: IIS's HTML 404; wrong method: 405), authentication (401), then either a
queued fault or the rate limiter, then the endpoint. The raw ASGI middleware around it all logs
the request (keys redacted), adds the configured latency and carries out connection drops,
which no HTTP response can express.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import math
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lsq_mcp.sandbox.data import Activity, Row, lead_record, opportunity_details, opportunity_summary
from lsq_mcp.sandbox.state import REDACTED, Fault, RecordedRequest, SandboxConfig, SandboxState

ACTIVITIES_PATH = "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity"
DETAILS_PATH = "/v2/OpportunityManagement.svc/GetOpportunityDetails"
LEAD_OPPORTUNITIES_PATH = "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead"
ACTIVITY_TYPES_PATH = "/v2/ProspectActivity.svc/ActivityTypes.Get"
ACTIVITY_DETAILS_PATH = "/v2/ProspectActivity.svc/GetActivityDetails"
LEAD_BY_EMAIL_PATH = "/v2/LeadManagement.svc/Leads.GetByEmailaddress"
USER_PATH = "/v2/Authentication.svc/UserByAccessKey.Get"

ACCESS_KEY_HEADER = "x-lsq-accesskey"
SECRET_KEY_HEADER = "x-lsq-secretkey"  # noqa: S105 (a header name)
ARRIVAL_KEY = "lsq_sandbox.arrival"

INVALID_INPUT = "MXInvalidInputException"
INVALID_ACCESS = "MXInvalidAccessDetailsException"
ENTITY_REFERENCE = "MXInvalidEntityReferenceException"
RATE_LIMIT = "MXAPIRateLimitExceededException"

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 25
DROP_GRACE_SECONDS = 5.0

NOT_FOUND_HTML = "<html><body><h1>404 - File or directory not found.</h1></body></html>"
METHOD_NOT_ALLOWED_HTML = (
    "<html><head><title>Service</title></head><body><p>Method not allowed. Please see the service "
    "help page for constructing valid requests to the service.</p></body></html>"
)
MAINTENANCE_HTML = (
    "<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>We'll be back soon</h1>"
    "<p>LeadSquared is undergoing scheduled maintenance. Please try again in a few minutes.</p>"
    "</body></html>"
)

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_STANDARD_COLUMNS = (
    "ProspectId",
    "FirstName",
    "LastName",
    "EmailAddress",
    "Phone",
    "DoNotCall",
    "DoNotEmail",
    "LeadName",
    "LeadOwner",
    "ProspectActivityId",
    "ActivityType",
    "ActivityEvent",
    "Score",
    "PACreatedOn",
    "PAModifiedOn",
    "ActivityEvent_Note",
    "IP_Latitude",
    "IP_Longitude",
    "PACreatedByName",
    "Status",
    "O_ProspectActivityId",
    "Total",
    "O_ActivityEventName",
    "O_ActivityEvent",
    "O_mx_Custom_1",
    "O_Status",
    "O_Owner",
    *(f"mx_Custom_{n}" for n in range(1, 51)),
)
_COLUMN_ALIASES = {"CreatedOn": "PACreatedOn", "ModifiedOn": "PAModifiedOn"}

Handler = Callable[[Request, SandboxState], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


# --------------------------------------------------------------------------------------------
# Errors and canned answers
# --------------------------------------------------------------------------------------------


def lsq_error(
    status: int, exception_type: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """LeadSquared's error body, ``{"Status":"Error","ExceptionType":...,"ExceptionMessage":...}``."""
    body = {"Status": "Error", "ExceptionType": exception_type, "ExceptionMessage": message}
    return JSONResponse(body, status_code=status, headers=headers)


class ApiError(Exception):
    """Raised by endpoints for a LeadSquared-style error answer."""

    def __init__(self, status: int, exception_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.exception_type = exception_type
        self.message = message

    def response(self) -> JSONResponse:
        """The error as the API would send it."""
        return lsq_error(self.status, self.exception_type, self.message)


class DropConnection(Exception):
    """Raised by the ``drop`` fault; the middleware closes the socket without answering."""

    def __init__(self, reset: bool) -> None:
        super().__init__("sandbox fault: drop the connection")
        self.reset = reset


def _bad_body() -> ApiError:
    return ApiError(400, INVALID_INPUT, "Invalid request body")


def format_seconds(seconds: float) -> str:
    """5.0 -> "5", 2.5 -> "2.5": how the rate-limit message prints its window."""
    return str(int(seconds)) if float(seconds).is_integer() else repr(float(seconds))


def rate_limit_response(limit: tuple[int, float], status: int, retry_after: float | None) -> JSONResponse:
    """The answer to a request over the limit (429, or 200 as the real API also does)."""
    calls, seconds = limit
    message = f"API calls exceeded the limit of {calls} in {format_seconds(seconds)} second(s)"
    headers = {"Retry-After": str(math.ceil(retry_after))} if retry_after is not None else None
    return lsq_error(status, RATE_LIMIT, message, headers)


# --------------------------------------------------------------------------------------------
# Request parsing helpers
# --------------------------------------------------------------------------------------------


def _query(request: Request, name: str) -> str | None:
    """A query parameter by name, ignoring case (WCF matches query names case-insensitively)."""
    wanted = name.lower()
    for key, value in request.query_params.multi_items():
        if key.lower() == wanted:
            return value
    return None


def _guid_param(request: Request, name: str, message: str) -> str:
    value = (_query(request, name) or "").strip()
    if not _GUID.match(value):
        raise ApiError(400, INVALID_INPUT, message)
    return value.lower()


def _int_param(request: Request, name: str, message: str) -> int | None:
    value = (_query(request, name) or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ApiError(400, INVALID_INPUT, message)
    return int(value)


async def _json_body(request: Request) -> dict[str, Any]:
    """The JSON object body; an empty body means "all defaults" (every part is optional)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise _bad_body()
    try:
        data = json.loads(raw)
    except ValueError as exc:  # includes UnicodeDecodeError
        raise _bad_body() from exc
    if not isinstance(data, dict):
        raise _bad_body()
    return data


def _section(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad_body()
    return value


def _number(value: Any, default: int) -> int:
    """An int given as a JSON number or a numeric string (the real API accepts both)."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise _bad_body()
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise _bad_body()


def _paging(body: dict[str, Any], most: int = MAX_PAGE_SIZE) -> tuple[int, int]:
    """(PageIndex, PageSize) with LeadSquared's limits; PageIndex counts from 1."""
    paging = _section(body, "Paging")
    index = _number(paging.get("PageIndex"), 1)
    size = _number(paging.get("PageSize"), DEFAULT_PAGE_SIZE)
    if size > most:
        raise ApiError(500, INVALID_INPUT, f"PageSize can not be more than {most}")
    if size < 1:
        raise ApiError(500, INVALID_INPUT, "PageSize should be greater than 0")
    if index < 1:
        raise ApiError(500, INVALID_INPUT, "PageIndex should be greater than 0")
    return index, size


def _page(items: Sequence[Any], index: int, size: int) -> list[Any]:
    start = (index - 1) * size
    return list(items[start : start + size])


# --------------------------------------------------------------------------------------------
# GetActivitiesOfOpportunity
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sorting:
    column: str
    descending: bool


def _sorting(body: dict[str, Any], activities: Sequence[Activity]) -> _Sorting:
    """Sorting.ColumnName / Direction (1 newest or largest first, 0 oldest first; default 1)."""
    sorting = _section(body, "Sorting")
    direction = _number(sorting.get("Direction"), 1)
    if direction not in (0, 1):
        raise ApiError(500, INVALID_INPUT, f"Invalid sort direction {direction}")
    requested = sorting.get("ColumnName")
    if requested is not None and not isinstance(requested, str):
        raise _bad_body()
    return _Sorting(_sort_column(requested or "PACreatedOn", activities), direction == 1)


def _sort_column(requested: str, activities: Sequence[Activity]) -> str:
    """The row field to sort on, matched case-insensitively; unknown columns are an error."""
    name = _COLUMN_ALIASES.get(requested, requested)
    known = {column.lower(): column for column in _STANDARD_COLUMNS}
    if name.lower() not in known:
        for activity in activities:
            known.update({column.lower(): column for column in activity.row})
    try:
        return known[name.lower()]
    except KeyError:
        raise ApiError(500, INVALID_INPUT, f"Invalid sort column {requested}") from None


def _value_rank(value: str | None) -> tuple[int, float, str]:
    """Nulls, then numbers by value, then text: a total order over loosely typed columns."""
    if value is None or value == "":
        return (0, 0.0, "")
    try:
        return (1, float(value), "")
    except ValueError:
        return (2, 0.0, value.casefold())


def _sorted(activities: Sequence[Activity], sorting: _Sorting) -> list[Activity]:
    """Dates sort by the true timestamp (the displayed format may be odd); ties by time, then id."""
    key: Callable[[Activity], Any]
    if sorting.column == "PACreatedOn":
        key = lambda a: (a.created, a.id)  # noqa: E731
    elif sorting.column == "PAModifiedOn":
        key = lambda a: (a.modified, a.created, a.id)  # noqa: E731
    else:
        key = lambda a: (_value_rank(a.row.get(sorting.column)), a.created, a.id)  # noqa: E731
    return sorted(activities, key=key, reverse=sorting.descending)


def _include_columns(body: dict[str, Any]) -> list[str]:
    columns = _section(body, "Columns").get("Include_CSV")
    if columns is None:
        return []
    if not isinstance(columns, str):
        raise _bad_body()
    return [name.strip() for name in columns.split(",") if name.strip()]


def _render_row(activity: Activity, include: Iterable[str], total: int) -> Row:
    """A copy of the stored row with Total filled and any extra requested columns (null if unknown)."""
    row = dict(activity.row)
    row["Total"] = str(total)
    for name in include:
        if name not in row:
            row[name] = activity.row.get(_COLUMN_ALIASES.get(name, name))
    return row


async def activities_of_opportunity(request: Request, state: SandboxState) -> Response:
    """POST GetActivitiesOfOpportunity: filter, sort, page; ``{"RecordCount": n, "List": [...]}``."""
    opportunity_id = _guid_param(request, "opportunityId", "Invalid OpportunityId")
    event_code = _int_param(request, "activityEventCode", "Invalid ActivityEventCode")
    body = await _json_body(request)
    index, size = _paging(body, state.config.page_size_limit)
    if state.config.max_page_size is not None:
        size = min(size, state.config.max_page_size)
    include = _include_columns(body)
    opportunity = state.catalog.opportunity(opportunity_id)
    if opportunity is None:
        raise ApiError(500, ENTITY_REFERENCE, "Opportunity does not exist")
    activities = state.catalog.activities_of(opportunity.id)
    sorting = _sorting(body, activities)
    # The catalog never changes: each ordering is worked out once, so that a 5,000-activity
    # timeline answers in milliseconds, as a real API would, and benchmarks measure the client.
    key = (opportunity.id, sorting.column, sorting.descending, event_code)
    ordered = state.orderings.get(key)
    if ordered is None:
        if event_code is not None:
            activities = tuple(a for a in activities if a.row.get("ActivityEvent") == str(event_code))
        ordered = state.orderings[key] = _sorted(activities, sorting)
    rows = [_render_row(activity, include, len(ordered)) for activity in _page(ordered, index, size)]
    return JSONResponse({"RecordCount": len(ordered), "List": rows})


# --------------------------------------------------------------------------------------------
# Companion endpoints
# --------------------------------------------------------------------------------------------


async def activity_types(request: Request, state: SandboxState) -> Response:
    """GET ActivityTypes.Get: the code -> name list."""
    return JSONResponse(list(state.catalog.activity_types))


async def opportunity_details_endpoint(request: Request, state: SandboxState) -> Response:
    """GET GetOpportunityDetails?OpportunityId=ID."""
    opportunity_id = _guid_param(request, "OpportunityId", "Invalid OpportunityId")
    opportunity = state.catalog.opportunity(opportunity_id)
    if opportunity is None:
        raise ApiError(500, ENTITY_REFERENCE, "Opportunity does not exist")
    return JSONResponse(opportunity_details(opportunity))


async def opportunities_of_lead(request: Request, state: SandboxState) -> Response:
    """POST GetOpportunitiesOfLead?leadId=ID[&opportunityType=CODE]: newest first, paged."""
    lead_id = _guid_param(request, "leadId", "Invalid LeadId")
    opportunity_type = _int_param(request, "opportunityType", "Invalid OpportunityType")
    index, size = _paging(await _json_body(request))
    found = state.catalog.opportunities_of_lead(lead_id)
    if opportunity_type is not None:
        found = [opp for opp in found if opp.event_code == opportunity_type]
    items = [opportunity_summary(opp) for opp in _page(found, index, size)]
    return JSONResponse({"RecordCount": len(found), "List": items})


async def leads_by_email(request: Request, state: SandboxState) -> Response:
    """GET Leads.GetByEmailaddress?emailaddress=E: a list, empty when nobody matches."""
    email = (_query(request, "emailaddress") or "").strip()
    if not email:
        raise ApiError(400, INVALID_INPUT, "Invalid Email Address")
    return JSONResponse([lead_record(lead) for lead in state.catalog.leads_by_email(email)])


async def activity_details(request: Request, state: SandboxState) -> Response:
    """GET GetActivityDetails?activityId=ID: one raw activity row."""
    activity_id = _guid_param(request, "activityId", "Invalid ActivityId")
    activity = state.catalog.activity(activity_id)
    if activity is None:
        raise ApiError(500, "MXUnknownProspectActivityException", "Activity does not exist")
    return JSONResponse(_render_row(activity, (), 1))


async def user_by_access_key(request: Request, state: SandboxState) -> Response:
    """GET UserByAccessKey.Get: who the keys belong to."""
    return JSONResponse(dict(state.catalog.user))


# --------------------------------------------------------------------------------------------
# Authentication, faults, rate limit
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """The keys a request carried, from the headers or else from the query string."""

    access: str | None
    secret: str | None

    @classmethod
    def of(cls, request: Request) -> Credentials:
        """Headers win over the query, key by key (the real API accepts either place)."""
        access = request.headers.get(ACCESS_KEY_HEADER)
        secret = request.headers.get(SECRET_KEY_HEADER)
        return cls(
            access if access is not None else _query(request, "accessKey"),
            secret if secret is not None else _query(request, "secretKey"),
        )


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _auth_error(config: SandboxConfig, keys: Credentials, any_region: bool) -> Response | None:
    """401 for wrong keys, or for right keys on the wrong region's host (unless ``any_region``)."""
    if not (_same(keys.access, config.access_key) and _same(keys.secret, config.secret_key)):
        return lsq_error(401, INVALID_ACCESS, "Invalid Access Key or Secret Key")
    if config.region_host and not any_region:
        message = (
            f"Access Key and Secret Key belong to another region. "
            f"Please use {config.region_host} for API calls."
        )
        return lsq_error(401, INVALID_ACCESS, message)
    return None


async def pause(state: SandboxState, seconds: float) -> None:
    """Sleep without blocking the loop, cut short when the server is stopping."""
    deadline = time.monotonic() + seconds
    while not state.closing.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        await asyncio.sleep(min(left, 0.05))


async def _answer(handler: Handler, request: Request, state: SandboxState) -> Response:
    try:
        return await handler(request, state)
    except ApiError as exc:
        return exc.response()


async def _truncated(fault: Fault, handler: Handler, request: Request, state: SandboxState) -> Response:
    """The normal JSON answer cut in half (a strict prefix of an object or list is never valid JSON)."""
    if fault.body is not None:
        cut = fault.body.encode()
    else:
        full = bytes((await _answer(handler, request, state)).body)
        cut = full[: max(1, len(full) // 2)]
    return Response(cut, status_code=fault.status or 200, media_type="application/json")


def _echo_keys(keys: Credentials) -> Response:
    message = f"Bad request for key {keys.access} / {keys.secret}"
    return lsq_error(500, "MXException", message)


async def render_fault(fault: Fault, handler: Handler, request: Request, state: SandboxState) -> Response:
    """The answer a fault gives instead of the normal one (``drop`` raises instead)."""
    if fault.delay:
        await pause(state, fault.delay)
    match fault.kind:
        case "slow":
            return await _answer(handler, request, state)
        case "drop":
            raise DropConnection(fault.reset)
        case "status":
            return Response(
                fault.body if fault.body is not None else "Service Unavailable",
                status_code=fault.status or 503,
                media_type=fault.content_type or "text/plain",
            )
        case "html":
            return HTMLResponse(fault.body or MAINTENANCE_HTML, status_code=fault.status or 200)
        case "truncated":
            return await _truncated(fault, handler, request, state)
        case "ratelimit":
            config = state.config
            limit = fault.limit or config.rate_limit or (25, 5.0)
            retry_after = fault.retry_after if fault.retry_after is not None else config.retry_after
            return rate_limit_response(limit, fault.status or 429, retry_after)
        case "error":
            return lsq_error(fault.status or 500, fault.exception_type, fault.message)
        case "echo_keys":
            return _echo_keys(Credentials.of(request))
        case "wrong_shape":
            return Response(
                fault.body or '{"Result":"OK"}',
                status_code=fault.status or 200,
                media_type=fault.content_type or "application/json",
            )
    raise AssertionError(f"unhandled fault kind {fault.kind}")  # pragma: no cover


def guarded(state: SandboxState, handler: Handler, *, any_region: bool = False) -> Endpoint:
    """Wrap an endpoint with authentication, then a pending fault or the rate limiter."""

    async def endpoint(request: Request) -> Response:
        keys = Credentials.of(request)
        denied = _auth_error(state.config, keys, any_region)
        if denied is not None:
            state.count("unauthorized")
            return denied
        fault = state.faults.take(request.scope["path"])
        if fault is not None:
            state.count("faulted")
            return await render_fault(fault, handler, request, state)
        arrival = request.scope.get(ARRIVAL_KEY, time.monotonic())
        over = state.admit(keys.access or "", arrival)
        if over is not None:
            config = state.config
            return rate_limit_response(over, config.rate_limit_status, config.retry_after)
        return await _answer(handler, request, state)

    return endpoint


# --------------------------------------------------------------------------------------------
# Raw ASGI layer: request log, latency, case-insensitive paths, dropped connections
# --------------------------------------------------------------------------------------------

_ROUTE_TABLE: tuple[tuple[str, Handler, str, bool], ...] = (
    (ACTIVITIES_PATH, activities_of_opportunity, "POST", False),
    (ACTIVITY_TYPES_PATH, activity_types, "GET", False),
    (DETAILS_PATH, opportunity_details_endpoint, "GET", False),
    (LEAD_OPPORTUNITIES_PATH, opportunities_of_lead, "POST", False),
    (LEAD_BY_EMAIL_PATH, leads_by_email, "GET", False),
    (ACTIVITY_DETAILS_PATH, activity_details, "GET", False),
    (USER_PATH, user_by_access_key, "GET", True),  # works on any region's host
)
_CANONICAL_PATHS = {path.lower(): path for path, *_ in _ROUTE_TABLE}


def canonical_path(path: str) -> str:
    """IIS paths are case-insensitive: map any casing of a known endpoint to its documented one."""
    return _CANONICAL_PATHS.get(path.lower(), path)


def _record(scope: Scope, body: bytes, arrival: float) -> RecordedRequest:
    """The log entry for a request, with the key values replaced by ``<redacted>``."""
    headers: dict[str, str] = {}
    for name, value in Headers(scope=scope).raw:
        key = name.decode("latin-1").lower()
        text = REDACTED if key in (ACCESS_KEY_HEADER, SECRET_KEY_HEADER) else value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    query: dict[str, str] = {}
    keys_in_query = False
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        secret = name.lower() in ("accesskey", "secretkey")
        keys_in_query = keys_in_query or secret
        query[name] = REDACTED if secret else value
    parsed: Any = None
    if body.strip():
        with contextlib.suppress(ValueError):
            parsed = json.loads(body)
    return RecordedRequest(
        method=scope["method"],
        path=scope["path"],
        query=query,
        headers=headers,
        had_key_headers=ACCESS_KEY_HEADER in headers or SECRET_KEY_HEADER in headers,
        keys_in_query=keys_in_query,
        body=parsed,
        at=arrival,
    )


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive() that hands the already-read body to the app, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class SandboxMiddleware:
    """Outermost layer: sees every request, including 404s, before Starlette routes it."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state
        self._rng = random.Random()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrival = time.monotonic()
        body = await _read_body(receive)
        self.state.record(_record(scope, body, arrival), canonical_path(scope["path"]))
        scope[ARRIVAL_KEY] = arrival
        scope["path"] = canonical_path(scope["path"])
        await pause(self.state, self._latency())
        try:
            await self.app(scope, _replay(body, receive), send)
        except DropConnection as drop:
            await self._drop(scope, receive, drop)

    def _latency(self) -> float:
        config = self.state.config
        jitter = self._rng.uniform(0.0, config.latency_jitter) if config.latency_jitter > 0 else 0.0
        return max(0.0, config.latency + jitter)

    async def _drop(self, scope: Scope, receive: Receive, drop: DropConnection) -> None:
        """Close the client's socket with no answer, then wait for the server to notice.

        Waiting for ``http.disconnect`` before returning keeps the server from logging an
        "app returned without a response" error. Without a connection closer (the app is not
        running under SandboxServer) the exception goes to the server, which fails the request
        its own way.
        """
        closer = self.state.connection_closer
        client = scope.get("client")
        if closer is None or not closer(tuple(client) if client else None, drop.reset):
            raise drop
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_until_disconnect(receive), timeout=DROP_GRACE_SECONDS)


# --------------------------------------------------------------------------------------------
# The app
# --------------------------------------------------------------------------------------------


async def _not_found(request: Request, exc: Exception) -> Response:
    return HTMLResponse(NOT_FOUND_HTML, status_code=404)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    return HTMLResponse(METHOD_NOT_ALLOWED_HTML, status_code=405, headers=headers)


def create_app(state: SandboxState) -> Starlette:
    """The LeadSquared look-alike as an ASGI app, bound to ``state``."""
    routes = [
        Route(path, guarded(state, handler, any_region=any_region), methods=[method])
        for path, handler, method, any_region in _ROUTE_TABLE
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(SandboxMiddleware, state=state)],
        exception_handlers={404: _not_found, 405: _method_not_allowed},
    )
