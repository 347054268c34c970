"""The LeadSquared sandbox, exercised over real loopback HTTP the way the client will use it."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from lsq_mcp.sandbox import (
    SAMPLE_OPPORTUNITIES,
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    Fault,
    SandboxConfig,
    SandboxServer,
    SandboxState,
    build_catalog,
)
from lsq_mcp.sandbox.data import (
    CATALOG,
    LEAD_EMILY,
    LEAD_ZOE,
    OPP_BIG,
    OPP_EMPTY,
    OPP_HTML,
    OPP_ODD,
    OPP_SUPPORT,
    OPP_UNICODE,
    UNLISTED_EVENT_CODE,
)

ACTIVITIES = "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity"
DETAILS = "/v2/OpportunityManagement.svc/GetOpportunityDetails"
LEAD_OPPORTUNITIES = "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead"
ACTIVITY_TYPES = "/v2/ProspectActivity.svc/ActivityTypes.Get"
ACTIVITY_DETAILS = "/v2/ProspectActivity.svc/GetActivityDetails"
LEAD_BY_EMAIL = "/v2/LeadManagement.svc/Leads.GetByEmailaddress"
USER = "/v2/Authentication.svc/UserByAccessKey.Get"
KEY_HEADERS = {"x-LSQ-AccessKey": SANDBOX_ACCESS_KEY, "x-LSQ-SecretKey": SANDBOX_SECRET_KEY}
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DOCUMENTED_FIELDS = [
    "ProspectId", "FirstName", "LastName", "EmailAddress", "Phone", "DoNotCall", "DoNotEmail",
    "LeadName", "LeadOwner", "ProspectActivityId", "ActivityType", "ActivityEvent", "Score",
    "PACreatedOn", "PAModifiedOn", "ActivityEvent_Note", "IP_Latitude", "IP_Longitude",
    "PACreatedByName", "Status", "O_ProspectActivityId", "Total", "O_ActivityEventName",
    "O_ActivityEvent", "O_mx_Custom_1", "O_Status", "O_Owner",
]  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(server: SandboxServer) -> SandboxServer:
    """The shared server with fresh config, stats, log, window and fault queue."""
    server.state.config = SandboxConfig()
    server.state.reset()
    return server


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=sandbox.url, headers=KEY_HEADERS, timeout=10.0) as http:
        yield http


def activities(
    client: httpx2.Client, opportunity_id: str = OPP_BIG, body: Any = None, **params: Any
) -> httpx2.Response:
    return client.post(ACTIVITIES, params={"opportunityId": opportunity_id, **params}, json=body or {})


def page(client: httpx2.Client, opportunity_id: str = OPP_BIG, **body: Any) -> dict[str, Any]:
    response = activities(client, opportunity_id, body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def error_of(response: httpx2.Response) -> tuple[int, str, str]:
    body = response.json()
    assert body["Status"] == "Error"
    return response.status_code, body["ExceptionType"], body["ExceptionMessage"]


# --------------------------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------------------------


def test_auth_by_headers(client: httpx2.Client) -> None:
    assert activities(client).status_code == 200


def test_auth_header_names_are_case_insensitive(sandbox: SandboxServer) -> None:
    headers = {"X-LSQ-ACCESSKEY": SANDBOX_ACCESS_KEY, "x-lsq-secretkey": SANDBOX_SECRET_KEY}
    response = httpx2.get(sandbox.url + ACTIVITY_TYPES, headers=headers)
    assert response.status_code == 200


def test_auth_by_query(sandbox: SandboxServer) -> None:
    params = {"accessKey": SANDBOX_ACCESS_KEY, "secretKey": SANDBOX_SECRET_KEY, "opportunityId": OPP_HTML}
    response = httpx2.post(sandbox.url + ACTIVITIES, params=params, json={})
    assert response.status_code == 200
    assert response.json()["RecordCount"] == 7


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-LSQ-AccessKey": SANDBOX_ACCESS_KEY},
        {"x-LSQ-AccessKey": SANDBOX_ACCESS_KEY, "x-LSQ-SecretKey": "wrong"},
        {"x-LSQ-AccessKey": "wrong", "x-LSQ-SecretKey": SANDBOX_SECRET_KEY},
    ],
)
def test_bad_keys_get_401(sandbox: SandboxServer, headers: dict[str, str]) -> None:
    response = httpx2.post(
        sandbox.url + ACTIVITIES, params={"opportunityId": OPP_BIG}, headers=headers, json={}
    )
    assert response.status_code == 401
    assert response.json() == {
        "Status": "Error",
        "ExceptionType": "MXInvalidAccessDetailsException",
        "ExceptionMessage": "Invalid Access Key or Secret Key",
    }
    assert sandbox.state.stats.unauthorized == 1


def test_wrong_region_names_the_right_host(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.config.region_host = "api-in21.leadsquared.com"
    assert error_of(activities(client)) == (
        401,
        "MXInvalidAccessDetailsException",
        "Access Key and Secret Key belong to another region. "
        "Please use api-in21.leadsquared.com for API calls.",
    )
    # UserByAccessKey.Get answers on any region's host.
    assert client.get(USER).status_code == 200


# --------------------------------------------------------------------------------------------
# GetActivitiesOfOpportunity
# --------------------------------------------------------------------------------------------


def test_default_page_is_25_newest_first(client: httpx2.Client) -> None:
    result = page(client)
    assert result["RecordCount"] == 640
    assert isinstance(result["RecordCount"], int)
    rows = result["List"]
    assert len(rows) == 25
    created = [row["PACreatedOn"] for row in rows]
    assert created == sorted(created, reverse=True)


def test_row_has_the_documented_raw_shape(client: httpx2.Client) -> None:
    rows = page(client, Paging={"PageIndex": 1, "PageSize": 1000})["List"]
    for row in rows:
        assert list(row)[: len(DOCUMENTED_FIELDS)] == DOCUMENTED_FIELDS
        assert all(value is None or isinstance(value, str) for value in row.values())
        assert row["Total"] == "640"
        assert row["ProspectId"] == LEAD_ZOE
        assert row["LeadName"] == "Zoë Müller"
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["PACreatedOn"])
    assert len({row["PACreatedByName"] for row in rows}) == 4
    assert any(row["ActivityEvent_Note"] is None for row in rows)
    assert any(row["ActivityEvent_Note"] == "" for row in rows)
    assert any("mx_Custom_1" in row for row in rows)
    assert any("SourceTrackingId" in row for row in rows)
    assert any(row["O_mx_Custom_1"] == "" for row in rows)


def test_paging_walks_every_row_once(client: httpx2.Client) -> None:
    seen: list[str] = []
    for index in range(1, 8):
        result = page(client, Paging={"PageIndex": index, "PageSize": 100})
        assert result["RecordCount"] == 640
        seen += [row["ProspectActivityId"] for row in result["List"]]
    assert len(seen) == len(set(seen)) == 640
    beyond = page(client, Paging={"PageIndex": 8, "PageSize": 100})
    assert beyond == {"RecordCount": 640, "List": []}


def test_paging_accepts_numeric_strings(client: httpx2.Client) -> None:
    result = page(client, Paging={"PageIndex": "2", "PageSize": "10"})
    assert len(result["List"]) == 10
    assert result["List"][0] == page(client, Paging={"PageIndex": 2, "PageSize": 10})["List"][0]


@pytest.mark.parametrize(
    ("paging", "message"),
    [
        ({"PageIndex": 1, "PageSize": 1001}, "PageSize can not be more than 1000"),
        ({"PageIndex": 1, "PageSize": 0}, "PageSize should be greater than 0"),
        ({"PageIndex": 0, "PageSize": 10}, "PageIndex should be greater than 0"),
    ],
)
def test_paging_limits(client: httpx2.Client, paging: dict[str, int], message: str) -> None:
    assert error_of(activities(client, body={"Paging": paging})) == (500, "MXInvalidInputException", message)


def test_sort_directions(client: httpx2.Client) -> None:
    newest = page(client, Paging={"PageSize": 1000}, Sorting={"ColumnName": "CreatedOn", "Direction": 1})[
        "List"
    ]
    oldest = page(client, Paging={"PageSize": 1000}, Sorting={"ColumnName": "CreatedOn", "Direction": "0"})[
        "List"
    ]
    assert [row["ProspectActivityId"] for row in newest] == [row["ProspectActivityId"] for row in oldest][
        ::-1
    ]
    assert oldest[0]["ActivityEvent"] == "33"  # the opportunity's creation comes first


def test_sort_by_other_columns(client: httpx2.Client) -> None:
    rows = page(client, Paging={"PageSize": 1000}, Sorting={"ColumnName": "Score", "Direction": 0})["List"]
    scores = [int(row["Score"]) for row in rows]
    assert scores == sorted(scores)
    by_owner = page(client, OPP_UNICODE, Sorting={"ColumnName": "PACreatedByName", "Direction": 1})["List"]
    assert by_owner[-1]["PACreatedByName"] in (None, "")


def test_sort_uses_true_time_for_odd_date_formats(client: httpx2.Client) -> None:
    rows = page(client, OPP_ODD, Sorting={"ColumnName": "PACreatedOn", "Direction": 0})["List"]
    created = [row["PACreatedOn"] for row in rows]
    assert created.index("4/6/2023 3:23:31 PM") < created.index("/Date(1681810200000+0000)/")
    assert created.index("/Date(1681810200000+0000)/") < created.index("sometime in May")


def test_unknown_sort_column(client: httpx2.Client) -> None:
    response = activities(client, body={"Sorting": {"ColumnName": "Shoe_Size"}})
    assert error_of(response) == (500, "MXInvalidInputException", "Invalid sort column Shoe_Size")


def test_event_code_filter(client: httpx2.Client) -> None:
    response = activities(client, body={"Paging": {"PageSize": 1000}}, activityEventCode=22)
    result = response.json()
    expected = sum(1 for a in CATALOG.activities_of(OPP_BIG) if a.row["ActivityEvent"] == "22")
    assert result["RecordCount"] == expected == len(result["List"]) > 100
    assert {row["ActivityEvent"] for row in result["List"]} == {"22"}
    assert {row["Total"] for row in result["List"]} == {str(expected)}
    assert error_of(activities(client, activityEventCode="x"))[0] == 400


def test_include_csv(client: httpx2.Client) -> None:
    rows = page(client, OPP_HTML, Columns={"Include_CSV": "CreatedOn, Status,mx_Custom_9"})["List"]
    for row in rows:
        assert row["CreatedOn"] == row["PACreatedOn"]
        assert row["mx_Custom_9"] is None
        assert set(DOCUMENTED_FIELDS) <= set(row)


def test_sample_content(client: httpx2.Client) -> None:
    html = page(client, OPP_HTML, Sorting={"Direction": 0})["List"]
    assert html[1]["ActivityEvent_Note"] == "<p>Called &amp; discussed <b>pricing</b></p><br>Next: demo"
    odd = page(client, OPP_ODD)["List"]
    assert max(len(row["ActivityEvent_Note"] or "") for row in odd) > 5000
    json_notes = [
        row["ActivityEvent_Note"] for row in odd if (row["ActivityEvent_Note"] or "").startswith("{")
    ]
    assert json.loads(json_notes[0])["channel"] == "email"
    assert page(client, OPP_EMPTY) == {"RecordCount": 0, "List": []}
    unicode_rows = page(client, OPP_UNICODE)["List"]
    assert any(row["ActivityEvent"] == str(UNLISTED_EVENT_CODE) for row in unicode_rows)
    assert any("✅" in (row["ActivityEvent_Note"] or "") for row in unicode_rows)


@pytest.mark.parametrize(
    ("params", "message"),
    [({"opportunityId": "not-a-guid"}, "Invalid OpportunityId"), ({}, "Invalid OpportunityId")],
)
def test_bad_opportunity_id(client: httpx2.Client, params: dict[str, str], message: str) -> None:
    assert error_of(client.post(ACTIVITIES, params=params, json={})) == (
        400,
        "MXInvalidInputException",
        message,
    )


def test_unknown_opportunity(client: httpx2.Client) -> None:
    response = activities(client, "00000000-0000-4000-8000-000000000000")
    assert error_of(response) == (500, "MXInvalidEntityReferenceException", "Opportunity does not exist")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"{not json", "application/json"), (b'{"Paging":{}}', "text/plain"), (b"[1,2]", "application/json")],
)
def test_bad_body(client: httpx2.Client, content: bytes, content_type: str) -> None:
    response = client.post(
        ACTIVITIES, params={"opportunityId": OPP_BIG}, content=content, headers={"content-type": content_type}
    )
    assert error_of(response) == (400, "MXInvalidInputException", "Invalid request body")


def test_empty_body_means_defaults(client: httpx2.Client) -> None:
    response = client.post(ACTIVITIES, params={"opportunityId": OPP_BIG})
    assert response.status_code == 200
    assert len(response.json()["List"]) == 25


def test_get_is_405(client: httpx2.Client) -> None:
    response = client.get(ACTIVITIES, params={"opportunityId": OPP_BIG})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("path", ["/v2/OpportunityManagement.svc/NoSuchThing", "/", "/favicon.ico"])
def test_unknown_path_is_iis_404(client: httpx2.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == "<html><body><h1>404 - File or directory not found.</h1></body></html>"


def test_paths_are_case_insensitive(client: httpx2.Client) -> None:
    assert client.get(ACTIVITY_TYPES.lower()).status_code == 200


# --------------------------------------------------------------------------------------------
# Companion endpoints
# --------------------------------------------------------------------------------------------


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


def test_activity_details(client: httpx2.Client) -> None:
    first = CATALOG.activities_of(OPP_HTML)[0]
    assert (
        client.get(ACTIVITY_DETAILS, params={"activityId": first.id}).json()["ProspectActivityId"] == first.id
    )


def test_user_by_access_key(client: httpx2.Client) -> None:
    user = client.get(USER).json()
    assert user["FirstName"] == "Sandbox"
    assert user["EmailAddress"] == "sandbox@example.com"


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


def test_fault_slow(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("slow", delay=0.3))
    started = time.monotonic()
    response = activities(client)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert response.json()["RecordCount"] == 640


@pytest.mark.parametrize("reset", [False, True])
def test_fault_drop_is_a_transport_error(sandbox: SandboxServer, client: httpx2.Client, reset: bool) -> None:
    sandbox.state.push_fault(Fault("drop", reset=reset))
    with pytest.raises(httpx2.TransportError):
        activities(client)
    assert activities(client).status_code == 200  # the next call is normal again


def test_fault_status(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("status"))
    sandbox.state.push_fault(Fault("status", status=502, body="Bad Gateway"))
    first, second = activities(client), activities(client)
    assert (first.status_code, first.text) == (503, "Service Unavailable")
    assert (second.status_code, second.text) == (502, "Bad Gateway")


def test_fault_html(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("html"))
    response = activities(client)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html><html><head><title>Maintenance</title>")


def test_fault_truncated(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("truncated"))
    response = activities(client)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text.startswith('{"RecordCount":640,"List":[')
    with pytest.raises(ValueError, match=r".+"):
        response.json()


def test_fault_ratelimit(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("ratelimit"))
    sandbox.state.push_fault(Fault("ratelimit", status=200, limit=(20, 5.0)))
    assert error_of(activities(client)) == (
        429,
        "MXAPIRateLimitExceededException",
        "API calls exceeded the limit of 25 in 5 second(s)",
    )
    assert error_of(activities(client)) == (
        200,
        "MXAPIRateLimitExceededException",
        "API calls exceeded the limit of 20 in 5 second(s)",
    )


@pytest.mark.parametrize("status", [200, 400, 404, 500])
def test_fault_error(sandbox: SandboxServer, client: httpx2.Client, status: int) -> None:
    fault = Fault("error", status=status, exception_type="MXUnknownProspectActivityException", message="boom")
    sandbox.state.push_fault(fault)
    assert error_of(activities(client)) == (status, "MXUnknownProspectActivityException", "boom")


def test_fault_echo_keys(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("echo_keys"))
    response = activities(client)
    assert response.status_code == 500
    assert SANDBOX_ACCESS_KEY in response.text
    assert SANDBOX_SECRET_KEY in response.text


def test_fault_wrong_shape(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("wrong_shape"))
    sandbox.state.push_fault(Fault("wrong_shape", body="[1, 2, 3]"))
    assert activities(client).json() == {"Result": "OK"}
    assert activities(client).json() == [1, 2, 3]


def test_fault_count_and_order(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("status", count=2))
    sandbox.state.push_fault(Fault("html"))
    assert len(sandbox.state.faults) == 3
    codes = [activities(client).headers["content-type"].split(";")[0] for _ in range(4)]
    assert codes == ["text/plain", "text/plain", "text/html", "application/json"]
    assert sandbox.state.stats.faulted == 3


def test_fault_aimed_at_one_endpoint(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("status", path="GetActivitiesOfOpportunity"))
    sandbox.state.push_fault(Fault("html"))
    assert client.get(ACTIVITY_TYPES).headers["content-type"].startswith("text/html")  # skips the aimed one
    assert client.get(ACTIVITY_TYPES).status_code == 200
    assert activities(client).status_code == 503
    assert len(sandbox.state.faults) == 0


def test_faults_wait_for_an_authenticated_request(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("status"))
    assert httpx2.get(sandbox.url + ACTIVITY_TYPES).status_code == 401
    assert client.get("/nowhere").status_code == 404
    assert client.get(ACTIVITY_TYPES).status_code == 503


def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="count"):
        Fault("drop", count=0)


def test_latency(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.config.latency = 0.2
    started = time.monotonic()
    assert client.get(ACTIVITY_TYPES).status_code == 200
    assert time.monotonic() - started >= 0.2


# --------------------------------------------------------------------------------------------
# Rate limit
# --------------------------------------------------------------------------------------------


def test_rate_limit_rejects_the_call_over_the_limit(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.config.rate_limit = (3, 5.0)
    assert [client.get(ACTIVITY_TYPES).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(ACTIVITY_TYPES)
    assert error_of(response) == (
        429,
        "MXAPIRateLimitExceededException",
        "API calls exceeded the limit of 3 in 5 second(s)",
    )
    assert "retry-after" not in response.headers
    stats = sandbox.state.stats_snapshot()
    assert (stats.accepted, stats.rejected) == (3, 1)


def test_rate_limit_with_status_200_and_retry_after(sandbox: SandboxServer, client: httpx2.Client) -> None:
    config = sandbox.state.config
    config.rate_limit, config.rate_limit_status, config.retry_after = (1, 2.5), 200, 1.2
    assert client.get(ACTIVITY_TYPES).status_code == 200
    response = client.get(ACTIVITY_TYPES)
    assert error_of(response) == (
        200,
        "MXAPIRateLimitExceededException",
        "API calls exceeded the limit of 1 in 2.5 second(s)",
    )
    assert response.headers["retry-after"] == "2"


def test_rate_limit_window_slides(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.config.rate_limit = (2, 1.0)
    assert client.get(ACTIVITY_TYPES).status_code == 200
    first_done = time.monotonic()
    time.sleep(0.5)
    assert client.get(ACTIVITY_TYPES).status_code == 200
    assert client.get(ACTIVITY_TYPES).status_code == 429  # rejected calls do not count...
    time.sleep(max(0.0, first_done + 1.05 - time.monotonic()))
    assert client.get(ACTIVITY_TYPES).status_code == 200  # ...so the first call leaving frees a slot
    assert client.get(ACTIVITY_TYPES).status_code == 429


def test_sliding_window_arithmetic() -> None:
    state = SandboxState(SandboxConfig(rate_limit=(2, 5.0)))
    assert state.admit("k", 100.0) is None
    assert state.admit("k", 103.0) is None
    assert state.admit("k", 104.9) == (2, 5.0)
    assert state.admit("other-key", 104.9) is None  # one window per access key
    assert state.admit("k", 105.1) is None  # 100.0 has left the window; the rejection never counted
    assert state.admit("k", 107.9) == (2, 5.0)
    assert state.admit("k", 108.1) is None
    stats = state.stats_snapshot()
    assert (stats.accepted, stats.rejected) == (5, 2)


def test_rate_limit_counts_every_endpoint_but_not_faults(
    sandbox: SandboxServer, client: httpx2.Client
) -> None:
    sandbox.state.config.rate_limit = (2, 5.0)
    sandbox.state.push_fault(Fault("slow", count=3))
    assert [client.get(ACTIVITY_TYPES).status_code for _ in range(3)] == [200, 200, 200]
    assert client.get(USER).status_code == 200
    assert activities(client).status_code == 200
    assert client.get(ACTIVITY_TYPES).status_code == 429


def test_rate_limit_off(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.config.rate_limit = None
    assert {client.get(USER).status_code for _ in range(40)} == {200}


# --------------------------------------------------------------------------------------------
# Request log
# --------------------------------------------------------------------------------------------


def test_request_log_redacts_keys(sandbox: SandboxServer, client: httpx2.Client) -> None:
    activities(client, body={"Paging": {"PageIndex": 1, "PageSize": 5}})
    query = {"accessKey": SANDBOX_ACCESS_KEY, "secretKey": SANDBOX_SECRET_KEY}
    httpx2.get(sandbox.url + ACTIVITY_TYPES, params=query)
    with_headers, with_query = sandbox.state.requests
    assert with_headers.method == "POST"
    assert with_headers.path == ACTIVITIES
    assert with_headers.query == {"opportunityId": OPP_BIG}
    assert with_headers.headers["x-lsq-accesskey"] == with_headers.headers["x-lsq-secretkey"] == "<redacted>"
    assert (with_headers.had_key_headers, with_headers.keys_in_query) == (True, False)
    assert with_headers.body == {"Paging": {"PageIndex": 1, "PageSize": 5}}
    assert with_query.query == {"accessKey": "<redacted>", "secretKey": "<redacted>"}
    assert (with_query.had_key_headers, with_query.keys_in_query) == (False, True)
    assert with_query.body is None
    logged = repr(sandbox.state.requests)
    assert SANDBOX_ACCESS_KEY not in logged
    assert SANDBOX_SECRET_KEY not in logged


def test_stats_and_reset(sandbox: SandboxServer, client: httpx2.Client) -> None:
    client.get(ACTIVITY_TYPES)
    client.get(ACTIVITY_TYPES.upper())
    client.get("/nowhere")
    stats = sandbox.state.stats_snapshot()
    assert stats.requests == 3
    assert stats.by_path == {ACTIVITY_TYPES: 2, "/nowhere": 1}
    sandbox.state.push_fault(Fault("drop"))
    sandbox.state.reset()
    assert sandbox.state.requests == []
    assert sandbox.state.stats_snapshot().requests == 0
    assert len(sandbox.state.faults) == 0


# --------------------------------------------------------------------------------------------
# Server lifecycle
# --------------------------------------------------------------------------------------------


def test_start_stop_is_fast_and_leaves_no_threads() -> None:
    before = set(threading.enumerate())
    started = time.monotonic()
    with SandboxServer() as one, SandboxServer() as two:
        assert one.port != two.port
        assert httpx2.get(one.url + USER, headers=KEY_HEADERS).status_code == 200
        assert httpx2.get(two.url + USER, headers=KEY_HEADERS).status_code == 200
    assert time.monotonic() - started < 1.0
    assert set(threading.enumerate()) == before


def test_stop_does_not_wait_for_slow_faults() -> None:
    sandbox = SandboxServer().start()
    sandbox.state.push_fault(Fault("slow", delay=30))
    results: list[int] = []

    def call() -> None:
        results.append(httpx2.get(sandbox.url + USER, headers=KEY_HEADERS, timeout=10).status_code)

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.2)
    started = time.monotonic()
    sandbox.stop()
    caller.join(5)
    assert time.monotonic() - started < 0.5
    assert results == [200]
    sandbox.stop()  # idempotent


def test_busy_port_fails_fast(server: SandboxServer) -> None:
    with pytest.raises(OSError, match=r".+"):
        SandboxServer(port=server.port).start()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_forever_prints_one_line_and_stops_on_ctrl_c() -> None:
    port = _free_port()
    code = f"from lsq_mcp.sandbox import serve_forever; serve_forever({port})"
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.startswith(
            f"LeadSquared sandbox on http://127.0.0.1:{port} (access key {SANDBOX_ACCESS_KEY}"
        )
        assert httpx2.get(f"http://127.0.0.1:{port}{USER}", headers=KEY_HEADERS).status_code == 200
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0
    assert stdout == ""
    assert stderr == ""


# --------------------------------------------------------------------------------------------
# Sample data
# --------------------------------------------------------------------------------------------


def test_sample_data_is_deterministic() -> None:
    assert build_catalog() == CATALOG


def test_sample_opportunities() -> None:
    ids = [opportunity_id for opportunity_id, _ in SAMPLE_OPPORTUNITIES]
    assert ids[0] == OPP_BIG
    assert set(ids) == {OPP_BIG, OPP_EMPTY, OPP_HTML, OPP_ODD, OPP_UNICODE, OPP_SUPPORT}
    assert all(GUID.match(opportunity_id) for opportunity_id in ids)
    assert len(CATALOG.activities_of(OPP_BIG)) == 640
    span = CATALOG.activities_of(OPP_BIG)[-1].created - CATALOG.activities_of(OPP_BIG)[0].created
    assert 500 < span.days < 600
