"""RetrieveTasksByOpportunityId over real HTTP: the task rows, dates relative to now, and the errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx2
import pytest

from lsq_mcp.sandbox import Fault, SandboxServer
from lsq_mcp.sandbox.data import CATALOG, OPP_BIG, OPP_EMPTY, OPP_HTML, OPP_ODD, OPP_RESTRICTED, OPP_UNICODE
from tests.sandbox.helpers import GUID, LSQ_DATE, TASKS, UNKNOWN_GUID, error_of

UTC = timezone.utc
TASK_KEYS = [
    "TaskID", "Name", "Description", "DueDate", "CreatedOn", "OwnerID", "OwnerName",
    "CreatedBy", "CreatedByName", "Status", "Reminder",
]  # fmt: skip


def tasks(client: httpx2.Client, opportunity_id: str) -> dict[str, Any]:
    response = client.get(TASKS, params={"opportunityId": opportunity_id})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def is_open(row: dict[str, Any]) -> bool:
    return str(row["Status"]).lower() not in ("completed", "cancelled")


def count(rows: list[dict[str, Any]], wanted: Callable[[dict[str, Any]], bool]) -> int:
    return sum(1 for row in rows if wanted(row))


def test_rows_have_the_documented_shape(client: httpx2.Client) -> None:
    answer = tasks(client, OPP_BIG)
    rows = answer["List"]
    assert answer["RecordCount"] == len(rows) >= 8
    for row in rows:
        assert list(row) == TASK_KEYS
        assert all(value is None or isinstance(value, str) for value in row.values())
        assert GUID.match(row["TaskID"])
        assert GUID.match(row["OwnerID"])
        assert LSQ_DATE.match(row["DueDate"])
        assert LSQ_DATE.match(row["CreatedOn"])
        assert parse(row["CreatedOn"]) < parse(row["DueDate"])
    assert len({row["TaskID"] for row in rows}) == len(rows)
    assert {row["Status"] for row in rows} == {"Pending", "Completed", "Cancelled"}
    assert any(row["Description"] == "" for row in rows)
    assert any(row["Description"] is None for row in rows)
    assert any(row["Reminder"] is None for row in rows)
    assert any(row["OwnerID"] != row["CreatedBy"] for row in rows)


def test_big_deal_always_has_overdue_and_upcoming_open_tasks(client: httpx2.Client) -> None:
    rows = tasks(client, OPP_BIG)["List"]
    now = datetime.now(UTC)
    assert count(rows, lambda row: is_open(row) and parse(row["DueDate"]) < now) >= 2
    assert count(rows, lambda row: is_open(row) and parse(row["DueDate"]) > now) >= 2
    assert count(rows, lambda row: row["Status"] == "Completed") >= 3
    assert count(rows, lambda row: row["Status"] == "Cancelled") == 1
    # Overdue by at least a day and coming in at least a day: true at any time of day.
    assert min(
        now - parse(row["DueDate"]) for row in rows if is_open(row) and parse(row["DueDate"]) < now
    ) > (timedelta(days=1))


@pytest.mark.parametrize("opportunity_id", [OPP_BIG, OPP_UNICODE, OPP_HTML, OPP_ODD])
def test_answer_is_what_the_catalog_computes(client: httpx2.Client, opportunity_id: str) -> None:
    before = datetime.now(UTC)
    answer = tasks(client, opportunity_id)
    after = datetime.now(UTC)
    expected = [
        [task.row for task in CATALOG.tasks_of(opportunity_id, moment)] for moment in (before, after)
    ]  # the two differ only if the request straddled midnight UTC
    assert answer["List"] in expected
    assert answer["RecordCount"] == len(answer["List"]) > 0


def test_open_deals_move_with_the_clock_and_closed_ones_do_not() -> None:
    now = datetime(2031, 5, 14, 15, 0, tzinfo=UTC)
    later = now + timedelta(days=10)
    big_now, big_later = CATALOG.tasks_of(OPP_BIG, now), CATALOG.tasks_of(OPP_BIG, later)
    assert [task.id for task in big_now] == [task.id for task in big_later]
    assert all(
        b.due is not None and a.due is not None and b.due - a.due == timedelta(days=10)
        for a, b in zip(big_now, big_later, strict=True)
    )
    assert CATALOG.tasks_of(OPP_ODD, now) == CATALOG.tasks_of(OPP_ODD, later)
    assert CATALOG.tasks_of(OPP_BIG, now) == CATALOG.tasks_of(OPP_BIG, now + timedelta(hours=8))


def test_odd_deal_has_a_lower_case_status_and_an_open_task_without_due_date(client: httpx2.Client) -> None:
    rows = tasks(client, OPP_ODD)["List"]
    assert "completed" in {row["Status"] for row in rows}
    assert [row["Name"] for row in rows if row["DueDate"] is None and is_open(row)] == [
        "Ask José for a loss debrief"
    ]


def test_no_tasks(client: httpx2.Client) -> None:
    assert tasks(client, OPP_EMPTY) == {"RecordCount": 0, "List": []}


def test_id_in_any_case(client: httpx2.Client) -> None:
    assert tasks(client, OPP_BIG.upper())["RecordCount"] == len(CATALOG.tasks_of(OPP_BIG, datetime.now(UTC)))


@pytest.mark.parametrize("params", [{"opportunityId": "not-a-guid"}, {"opportunityId": ""}, {}])
def test_malformed_id(client: httpx2.Client, params: dict[str, str]) -> None:
    response = client.get(TASKS, params=params)
    assert error_of(response) == (500, "MXInvalidEntityException", "Not a valid Opportunity Id")


def test_unknown_id(client: httpx2.Client) -> None:
    response = client.get(TASKS, params={"opportunityId": UNKNOWN_GUID})
    assert error_of(response) == (
        500,
        "MXInvalidEntityException",
        f"The Opportunity Id '{UNKNOWN_GUID}' does not exist in the system",
    )


def test_restricted_opportunity_refuses_its_tasks(client: httpx2.Client) -> None:
    status, exception_type, message = error_of(client.get(TASKS, params={"opportunityId": OPP_RESTRICTED}))
    assert (status, exception_type) == (500, "MXUnAuthorizedAccessException")
    assert "permission" in message
    assert CATALOG.refuses_tasks(OPP_RESTRICTED)
    assert not CATALOG.refuses_tasks(OPP_BIG)


def test_keys_are_required(sandbox: SandboxServer) -> None:
    response = httpx2.get(sandbox.url + TASKS, params={"opportunityId": OPP_BIG})
    assert error_of(response)[:2] == (401, "MXInvalidAccessDetailsException")
    assert httpx2.post(sandbox.url + TASKS, params={"opportunityId": OPP_BIG}).status_code == 405


def test_faults_apply(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("error", path="RetrieveTasksByOpportunityId", message="boom"))
    assert error_of(client.get(TASKS, params={"opportunityId": OPP_BIG})) == (500, "MXException", "boom")
    assert tasks(client, OPP_BIG)["RecordCount"] > 0
