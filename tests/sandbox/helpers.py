"""What the sandbox tests share: the API's paths, the demo keys, and small request helpers."""

from __future__ import annotations

import re
from typing import Any

import httpx2

from lsq_mcp.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY
from lsq_mcp.sandbox.data import OPP_BIG

ACTIVITIES = "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity"
DETAILS = "/v2/OpportunityManagement.svc/GetOpportunityDetails"
LEAD_OPPORTUNITIES = "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead"
TASKS = "/v2/OpportunityManagement.svc/RetrieveTasksByOpportunityId"
ACTIVITY_TYPES = "/v2/ProspectActivity.svc/ActivityTypes.Get"
ACTIVITY_SETTING = "/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting"
ACTIVITY_DETAILS = "/v2/ProspectActivity.svc/GetActivityDetails"
LEAD_BY_EMAIL = "/v2/LeadManagement.svc/Leads.GetByEmailaddress"
LEAD_BY_ID = "/v2/LeadManagement.svc/Leads.GetById"
QUICK_SEARCH = "/v2/LeadManagement.svc/Leads.GetByQuickSearch"
LEADS_BY_CRITERIA = "/v2/LeadManagement.svc/Leads.Get"
USER = "/v2/Authentication.svc/UserByAccessKey.Get"
KEY_HEADERS = {"x-LSQ-AccessKey": SANDBOX_ACCESS_KEY, "x-LSQ-SecretKey": SANDBOX_SECRET_KEY}
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
LSQ_DATE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
UNKNOWN_GUID = "00000000-0000-4000-8000-000000000000"


def activities(
    client: httpx2.Client, opportunity_id: str = OPP_BIG, body: Any = None, **params: Any
) -> httpx2.Response:
    """POST GetActivitiesOfOpportunity."""
    return client.post(ACTIVITIES, params={"opportunityId": opportunity_id, **params}, json=body or {})


def page(client: httpx2.Client, opportunity_id: str = OPP_BIG, **body: Any) -> dict[str, Any]:
    """One page of activities, which must be a 200."""
    response = activities(client, opportunity_id, body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def error_of(response: httpx2.Response) -> tuple[int, str, str]:
    """(status, ExceptionType, ExceptionMessage) of a LeadSquared error answer."""
    body = response.json()
    assert body["Status"] == "Error"
    return response.status_code, body["ExceptionType"], body["ExceptionMessage"]
