"""The companion endpoints: details, leads, activity types and details, the user."""

from __future__ import annotations

import httpx2

from lsq_mcp.sandbox.data import (
    CATALOG,
    LEAD_EMILY,
    LEAD_ZOE,
    OPP_BIG,
    OPP_HTML,
    OPP_SUPPORT,
    UNLISTED_EVENT_CODE,
)
from tests.sandbox.helpers import (
    ACTIVITY_DETAILS,
    ACTIVITY_TYPES,
    DETAILS,
    LEAD_BY_EMAIL,
    LEAD_BY_ID,
    LEAD_OPPORTUNITIES,
    USER,
    error_of,
)


def test_activity_types(client: httpx2.Client) -> None:
    types = client.get(ACTIVITY_TYPES).json()
    names = {int(item["ActivityEvent"]): item["ActivityEventName"] for item in types}
    assert names[22] == "Outbound Phone Call Activity"
    assert names[33] == "Opportunity Captured"
    assert names[201] == "Demo Scheduled"
    assert UNLISTED_EVENT_CODE not in names
    assert all({"ActivityEvent", "ActivityEventName", "DisplayName"} <= set(item) for item in types)


def test_opportunity_details(client: httpx2.Client) -> None:
    details = client.get(DETAILS, params={"OpportunityId": OPP_BIG}).json()
    assert details["ID"] == OPP_BIG
    fields = {field["SchemaName"]: field["Value"] for field in details["Fields"]}
    assert fields["mx_Custom_1"] == "Acme Corp – Enterprise renewal"
    assert fields["Status"] == "Open"
    assert fields["mx_Custom_2"] == "Negotiation"
    missing = client.get(DETAILS, params={"OpportunityId": "00000000-0000-4000-8000-000000000000"})
    assert error_of(missing)[:2] == (500, "MXInvalidEntityReferenceException")


def test_opportunities_of_lead(client: httpx2.Client) -> None:
    both = client.post(LEAD_OPPORTUNITIES, params={"leadId": LEAD_ZOE}, json={}).json()
    assert both["RecordCount"] == 2
    assert {item["OpportunityId"] for item in both["List"]} == {OPP_BIG, OPP_SUPPORT}
    support = client.post(LEAD_OPPORTUNITIES, params={"leadId": LEAD_ZOE, "opportunityType": 12003}).json()
    assert [item["OpportunityId"] for item in support["List"]] == [OPP_SUPPORT]
    assert support["List"][0]["OpportunityEvent"] == "12003"
    none = client.post(LEAD_OPPORTUNITIES, params={"leadId": LEAD_EMILY}, json={}).json()
    assert none == {"RecordCount": 0, "List": []}


def test_leads_by_email(client: httpx2.Client) -> None:
    found = client.get(LEAD_BY_EMAIL, params={"emailaddress": "ZOE.Mueller@ACME.example"}).json()
    assert [lead["ProspectID"] for lead in found] == [LEAD_ZOE]
    assert found[0]["OwnerIdName"] == "Rohan Sane"
    assert client.get(LEAD_BY_EMAIL, params={"emailaddress": "nobody@example.com"}).json() == []


def test_lead_by_id(client: httpx2.Client) -> None:
    [found] = client.get(LEAD_BY_ID, params={"id": LEAD_ZOE.upper()}).json()
    assert (found["ProspectID"], found["FirstName"], found["Company"]) == (LEAD_ZOE, "Zoë", "Acme Corp")
    assert client.get(LEAD_BY_ID, params={"id": "00000000-0000-4000-8000-000000000000"}).json() == []
    assert error_of(client.get(LEAD_BY_ID, params={"id": "zoe"}))[:2] == (400, "MXInvalidInputException")


def test_activity_details(client: httpx2.Client) -> None:
    first = CATALOG.activities_of(OPP_HTML)[0]
    assert (
        client.get(ACTIVITY_DETAILS, params={"activityId": first.id}).json()["ProspectActivityId"] == first.id
    )


def test_user_by_access_key(client: httpx2.Client) -> None:
    user = client.get(USER).json()
    assert user["FirstName"] == "Sandbox"
    assert user["EmailAddress"] == "sandbox@example.com"
