"""GetActivitiesOfOpportunity over real HTTP: paging, sorting, filtering, the raw row shape."""

from __future__ import annotations

import json
import re

import httpx2
import pytest

from lsq_mcp.sandbox.data import (
    CATALOG,
    LEAD_ZOE,
    OPP_BIG,
    OPP_EMPTY,
    OPP_HTML,
    OPP_ODD,
    OPP_UNICODE,
    UNLISTED_EVENT_CODE,
)
from tests.sandbox.helpers import (
    ACTIVITIES,
    activities,
    error_of,
    page,
)

DOCUMENTED_FIELDS = [
    "ProspectId", "FirstName", "LastName", "EmailAddress", "Phone", "DoNotCall", "DoNotEmail",
    "LeadName", "LeadOwner", "ProspectActivityId", "ActivityType", "ActivityEvent", "Score",
    "PACreatedOn", "PAModifiedOn", "ActivityEvent_Note", "IP_Latitude", "IP_Longitude",
    "PACreatedByName", "Status", "O_ProspectActivityId", "Total", "O_ActivityEventName",
    "O_ActivityEvent", "O_mx_Custom_1", "O_Status", "O_Owner",
]  # fmt: skip


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
