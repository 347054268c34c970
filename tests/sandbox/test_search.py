"""The lead searches: Quick Search and Search Leads by Criteria, as the reference describes them."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from lsq_mcp.sandbox import SandboxServer
from lsq_mcp.sandbox.data import LEAD_ANANYA, LEAD_JOSE, LEAD_ZOE
from lsq_mcp.sandbox.lookalikes import LEAD_CHEN, LEAD_KARL, LEAD_MALGORZATA, LEAD_NGOZI, LEAD_NGOZI_BEFORE
from tests.sandbox.helpers import LEADS_BY_CRITERIA, QUICK_SEARCH, error_of

COLUMNS = "ProspectID,FirstName,LastName,EmailAddress,Phone,Company,OwnerIdName"


def quick(client: httpx2.Client, key: str) -> list[str]:
    response = client.get(QUICK_SEARCH, params={"key": key})
    assert response.status_code == 200, response.text
    return [lead["ProspectID"] for lead in response.json()]


def criteria(field: str, value: str, operator: str = "LIKE", **extra: Any) -> dict[str, Any]:
    return {"Parameter": {"LookupName": field, "LookupValue": value, "SqlOperator": operator}, **extra}


@pytest.mark.parametrize(
    ("key", "found"),
    [
        ("zoe", [LEAD_ZOE]),  # accents and case ignored
        ("JOSÉ ÁLV", [LEAD_JOSE]),  # the start of the full name
        ("okafor", [LEAD_NGOZI, LEAD_NGOZI_BEFORE]),  # the last name; the most recently modified first
        ("karl.weber@", [LEAD_KARL]),  # the start of the email address
        ("9876543210", [LEAD_ANANYA]),  # the phone's digits
        ("+91-98765", [LEAD_ANANYA]),  # the phone as stored
        ("+91 98765 43210", []),  # another format: not the sandbox's to guess
        ("098765 43210", []),
        ("acme", []),  # not the company (SandboxConfig.quick_search_company)
        ("eber", []),  # not the middle of a word
        ("陈", [LEAD_CHEN]),
    ],
)
def test_quick_search_matches_names_emails_and_phones(
    client: httpx2.Client, key: str, found: list[str]
) -> None:
    assert quick(client, key) == found


def test_quick_search_answers_full_leads_and_may_match_the_company(
    sandbox: SandboxServer, client: httpx2.Client
) -> None:
    [lead] = client.get(QUICK_SEARCH, params={"key": "Karl"}).json()
    assert lead["Company"] == "Acme Corp"
    assert {"ProspectID", "FirstName", "LastName", "EmailAddress", "Phone", "OwnerIdName"} <= set(lead)
    sandbox.state.config.quick_search_company = True
    assert set(quick(client, "acme")) == {LEAD_ZOE, LEAD_KARL}


def test_quick_search_refuses_an_empty_key(client: httpx2.Client) -> None:
    status, kind, message = error_of(client.get(QUICK_SEARCH, params={"key": "  "}))
    assert (status, kind) == (400, "MXInvalidInputException")
    assert "key" in message


def test_leads_by_criteria_like_on_the_company(client: httpx2.Client) -> None:
    body = criteria(
        "Company",
        "%PEARL%",
        Columns={"Include_CSV": COLUMNS},
        Sorting={"ColumnName": "ModifiedOn", "Direction": "1"},
        Paging={"PageIndex": 1, "PageSize": 10},
    )
    found = client.post(LEADS_BY_CRITERIA, json=body).json()
    assert [lead["ProspectID"] for lead in found] == [LEAD_MALGORZATA, LEAD_CHEN]
    assert all(set(lead) == set(COLUMNS.split(",")) for lead in found)
    oldest = client.post(
        LEADS_BY_CRITERIA, json=body | {"Sorting": {"ColumnName": "ModifiedOn", "Direction": "0"}}
    )
    assert [lead["ProspectID"] for lead in oldest.json()] == [LEAD_CHEN, LEAD_MALGORZATA]
    second = client.post(LEADS_BY_CRITERIA, json=body | {"Paging": {"PageIndex": 2, "PageSize": 1}})
    assert [lead["ProspectID"] for lead in second.json()] == [LEAD_CHEN]


@pytest.mark.parametrize(
    ("parameter", "found"),
    [
        (criteria("Company", "acme corp", "="), {LEAD_ZOE, LEAD_KARL}),
        (criteria("Company", "%cocoa", "like"), {LEAD_NGOZI}),
        (criteria("FirstName", "Zo_", "LIKE"), {LEAD_ZOE}),
        (criteria("mx_City", "münchen", "="), {LEAD_ZOE, LEAD_KARL}),
        (criteria("Company", "%river%", "LIKE"), {LEAD_CHEN}),
    ],
)
def test_leads_by_criteria_operators(
    client: httpx2.Client, parameter: dict[str, Any], found: set[str]
) -> None:
    answer = client.post(LEADS_BY_CRITERIA, json=parameter).json()
    assert {lead["ProspectID"] for lead in answer} == found


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (criteria("Nope", "%a%"), "LookupName"),
        (criteria("Company", "%a%", "CONTAINS"), "SqlOperator"),
        ({"Parameter": {"LookupValue": "x"}}, "LookupName"),
        (criteria("Company", "%a%", Paging={"PageIndex": 1, "PageSize": 5000}), "PageSize"),
    ],
)
def test_leads_by_criteria_refuses_what_it_cannot_read(
    client: httpx2.Client, body: dict[str, Any], says: str
) -> None:
    status, kind, message = error_of(client.post(LEADS_BY_CRITERIA, json=body))
    assert kind == "MXInvalidInputException"
    assert status in (400, 500)
    assert says in message


def test_searches_need_the_keys_and_count_against_the_rate_limit(sandbox: SandboxServer) -> None:
    with httpx2.Client(base_url=sandbox.url) as anonymous:
        assert anonymous.get(QUICK_SEARCH, params={"key": "zoe"}).status_code == 401
        assert anonymous.post(LEADS_BY_CRITERIA, json=criteria("Company", "%a%")).status_code == 401
    assert sandbox.state.stats_snapshot().unauthorized == 2
    assert [r.path for r in sandbox.state.requests] == [QUICK_SEARCH, LEADS_BY_CRITERIA]


def test_searches_answer_the_rate_limit_as_the_other_endpoints(
    sandbox: SandboxServer, client: httpx2.Client
) -> None:
    sandbox.state.config.rate_limit = (1, 60.0)
    assert client.get(QUICK_SEARCH, params={"key": "zoe"}).status_code == 200
    for response in (
        client.get(QUICK_SEARCH, params={"key": "zoe"}),
        client.post(LEADS_BY_CRITERIA, json=criteria("Company", "%acme%")),
    ):
        status, kind, message = error_of(response)
        assert (status, kind) == (429, "MXAPIRateLimitExceededException")
        assert "limit of 1 in 60 second(s)" in message
