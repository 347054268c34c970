"""The companion endpoints: opportunity details, leads, activity types and settings, tasks, user.

Each is a Handler: it runs after authentication, faults and the rate limit, reads the catalog
and answers JSON, or raises SandboxApiError for LeadSquared's error body.
"""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lsq_mcp.sandbox.activities import render_row
from lsq_mcp.sandbox.catalog import Catalog
from lsq_mcp.sandbox.payloads import activity_setting, lead_record, opportunity_details, opportunity_summary
from lsq_mcp.sandbox.records import UTC
from lsq_mcp.sandbox.state import SandboxState
from lsq_mcp.sandbox.wire import (
    ENTITY_REFERENCE,
    INVALID_ENTITY,
    INVALID_INPUT,
    UNAUTHORIZED_ACCESS,
    SandboxApiError,
    guid_param,
    int_param,
    json_body,
    page,
    paging,
    query,
    query_guid,
)


async def activity_types(request: Request, state: SandboxState) -> Response:
    """GET ActivityTypes.Get: the code -> name list."""
    return JSONResponse(list(state.catalog.activity_types))


async def opportunity_details_endpoint(request: Request, state: SandboxState) -> Response:
    """GET GetOpportunityDetails?OpportunityId=ID."""
    opportunity_id = guid_param(request, "OpportunityId", "Invalid OpportunityId")
    opportunity = state.catalog.opportunity(opportunity_id)
    if opportunity is None:
        raise SandboxApiError(500, ENTITY_REFERENCE, "Opportunity does not exist")
    return JSONResponse(opportunity_details(opportunity))


async def opportunities_of_lead(request: Request, state: SandboxState) -> Response:
    """POST GetOpportunitiesOfLead?leadId=ID[&opportunityType=CODE]: newest first, paged."""
    lead_id = guid_param(request, "leadId", "Invalid LeadId")
    opportunity_type = int_param(request, "opportunityType", "Invalid OpportunityType")
    index, size = paging(await json_body(request))
    found = state.catalog.opportunities_of_lead(lead_id)
    if opportunity_type is not None:
        found = [opp for opp in found if opp.event_code == opportunity_type]
    items = [opportunity_summary(opp) for opp in page(found, index, size)]
    return JSONResponse({"RecordCount": len(found), "List": items})


async def leads_by_email(request: Request, state: SandboxState) -> Response:
    """GET Leads.GetByEmailaddress?emailaddress=E: a list, empty when nobody matches."""
    email = (query(request, "emailaddress") or "").strip()
    if not email:
        raise SandboxApiError(400, INVALID_INPUT, "Invalid Email Address")
    return JSONResponse([lead_record(lead) for lead in state.catalog.leads_by_email(email)])


async def lead_by_id(request: Request, state: SandboxState) -> Response:
    """GET Leads.GetById?id=ID: a list of the one lead, empty when there is none."""
    lead = state.catalog.lead(guid_param(request, "id", "Invalid Lead Id"))
    return JSONResponse([lead_record(lead)] if lead else [])


async def activity_details(request: Request, state: SandboxState) -> Response:
    """GET GetActivityDetails?activityId=ID: one raw activity row."""
    activity_id = guid_param(request, "activityId", "Invalid ActivityId")
    activity = state.catalog.activity(activity_id)
    if activity is None:
        raise SandboxApiError(500, "MXUnknownProspectActivityException", "Activity does not exist")
    return JSONResponse(render_row(activity, (), 1))


async def user_by_access_key(request: Request, state: SandboxState) -> Response:
    """GET UserByAccessKey.Get: who the keys belong to."""
    return JSONResponse(dict(state.catalog.user))


async def activity_setting_endpoint(request: Request, state: SandboxState) -> Response:
    """GET CustomActivity/GetActivitySetting?code=N: an activity type's custom field names.

    Only types with custom field names answer; the rest (most system types, custom types
    without custom fields, unknown codes) get a 500, as the real API plausibly does.
    """
    code = int_param(request, "code", "Invalid Activity Event Code")
    if code is None:
        raise SandboxApiError(400, INVALID_INPUT, "Invalid Activity Event Code")
    setting = state.catalog.activity_setting(code)
    if setting is None:
        raise SandboxApiError(500, INVALID_INPUT, _no_setting_message(state.catalog, code))
    return JSONResponse(activity_setting(setting))


def _no_setting_message(catalog: Catalog, code: int) -> str:
    kind = catalog.activity_type(code)
    if kind is None:
        return f"Activity type with code {code} does not exist"
    if not kind.get("IsCustom"):
        return f"Activity settings are not available for system activity type {code}"
    return f"No custom fields are defined for activity type {code}"


async def tasks_of_opportunity(request: Request, state: SandboxState) -> Response:
    """GET RetrieveTasksByOpportunityId?opportunityId=ID: ``{"RecordCount": n, "List": [...]}``.

    Due dates are worked out from the time of the request (see TaskPlan), in creation order.
    """
    given = (query(request, "opportunityId") or "").strip()
    opportunity_id = query_guid(request, "opportunityId")
    if opportunity_id is None:
        raise SandboxApiError(500, INVALID_ENTITY, "Not a valid Opportunity Id")
    if state.catalog.opportunity(opportunity_id) is None:
        message = f"The Opportunity Id '{given}' does not exist in the system"
        raise SandboxApiError(500, INVALID_ENTITY, message)
    if state.catalog.refuses_tasks(opportunity_id):
        message = "You do not have permission to view the tasks of this Opportunity"
        raise SandboxApiError(500, UNAUTHORIZED_ACCESS, message)
    tasks = state.catalog.tasks_of(opportunity_id, datetime.now(UTC))
    return JSONResponse({"RecordCount": len(tasks), "List": [task.row for task in tasks]})
