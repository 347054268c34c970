"""The sandbox's HTTP app: a LeadSquared look-alike that behaves like the real thing on the wire.

Every request goes through the same steps, in the order the real service seems to apply them:
routing (unknown path: IIS's HTML 404; wrong method: 405), authentication (401), then either a
queued fault or the rate limiter, then the endpoint. The raw ASGI middleware around it all logs
the request (keys redacted), adds the configured latency and carries out connection drops,
which no HTTP response can express.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from lsq_mcp.sandbox.activities import activities_of_opportunity
from lsq_mcp.sandbox.auth import Credentials, auth_error
from lsq_mcp.sandbox.endpoints import (
    activity_details,
    activity_setting_endpoint,
    activity_types,
    lead_by_id,
    leads_by_email,
    opportunities_of_lead,
    opportunity_details_endpoint,
    tasks_of_opportunity,
    user_by_access_key,
)
from lsq_mcp.sandbox.faults import rate_limit_response, render_fault
from lsq_mcp.sandbox.middleware import ARRIVAL_KEY, SandboxMiddleware
from lsq_mcp.sandbox.search import leads_by_criteria, quick_search
from lsq_mcp.sandbox.state import SandboxState
from lsq_mcp.sandbox.wire import Handler, answer

ACTIVITIES_PATH = "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity"
DETAILS_PATH = "/v2/OpportunityManagement.svc/GetOpportunityDetails"
LEAD_OPPORTUNITIES_PATH = "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead"
TASKS_PATH = "/v2/OpportunityManagement.svc/RetrieveTasksByOpportunityId"
ACTIVITY_TYPES_PATH = "/v2/ProspectActivity.svc/ActivityTypes.Get"
ACTIVITY_SETTING_PATH = "/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting"
ACTIVITY_DETAILS_PATH = "/v2/ProspectActivity.svc/GetActivityDetails"
LEAD_BY_EMAIL_PATH = "/v2/LeadManagement.svc/Leads.GetByEmailaddress"
LEAD_BY_ID_PATH = "/v2/LeadManagement.svc/Leads.GetById"
QUICK_SEARCH_PATH = "/v2/LeadManagement.svc/Leads.GetByQuickSearch"
LEADS_BY_CRITERIA_PATH = "/v2/LeadManagement.svc/Leads.Get"
USER_PATH = "/v2/Authentication.svc/UserByAccessKey.Get"

NOT_FOUND_HTML = "<html><body><h1>404 - File or directory not found.</h1></body></html>"
METHOD_NOT_ALLOWED_HTML = (
    "<html><head><title>Service</title></head><body><p>Method not allowed. Please see the service "
    "help page for constructing valid requests to the service.</p></body></html>"
)

Endpoint = Callable[[Request], Awaitable[Response]]

# (path, handler, method, answers on any region's host)
_ROUTE_TABLE: tuple[tuple[str, Handler, str, bool], ...] = (
    (ACTIVITIES_PATH, activities_of_opportunity, "POST", False),
    (ACTIVITY_TYPES_PATH, activity_types, "GET", False),
    (ACTIVITY_SETTING_PATH, activity_setting_endpoint, "GET", False),
    (DETAILS_PATH, opportunity_details_endpoint, "GET", False),
    (LEAD_OPPORTUNITIES_PATH, opportunities_of_lead, "POST", False),
    (TASKS_PATH, tasks_of_opportunity, "GET", False),
    (LEAD_BY_EMAIL_PATH, leads_by_email, "GET", False),
    (LEAD_BY_ID_PATH, lead_by_id, "GET", False),
    (QUICK_SEARCH_PATH, quick_search, "GET", False),
    (LEADS_BY_CRITERIA_PATH, leads_by_criteria, "POST", False),
    (ACTIVITY_DETAILS_PATH, activity_details, "GET", False),
    (USER_PATH, user_by_access_key, "GET", True),
)


def guarded(state: SandboxState, handler: Handler, *, any_region: bool = False) -> Endpoint:
    """Wrap an endpoint with authentication, then a pending fault or the rate limiter."""

    async def endpoint(request: Request) -> Response:
        keys = Credentials.of(request)
        denied = auth_error(state.config, keys, any_region)
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
        return await answer(handler, request, state)

    return endpoint


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
    paths = [path for path, *_ in _ROUTE_TABLE]
    return Starlette(
        routes=routes,
        middleware=[Middleware(SandboxMiddleware, state=state, paths=paths)],
        exception_handlers={404: _not_found, 405: _method_not_allowed},
    )
