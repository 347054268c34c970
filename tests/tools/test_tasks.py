"""get_opportunity_tasks through the MCP client against the sandbox, checked against the sandbox's
own task list (Catalog.tasks_of), and its pure ordering over odd rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from lsq_mcp.api.models import RawTasks
from lsq_mcp.sandbox import SandboxServer
from lsq_mcp.sandbox.data import CATALOG, OPP_BIG, OPP_EMPTY, OPP_HTML, OPP_ODD, OPP_RESTRICTED, OPP_UNICODE
from lsq_mcp.sandbox.records import SampleTask
from lsq_mcp.tools.tasks import condense_tasks, render_tasks
from tests.conftest import connect, hits, structured, text_of

pytestmark = pytest.mark.anyio

TOOL = "get_opportunity_tasks"
TASKS = "RetrieveTasksByOpportunityId"
UTC = timezone.utc


def iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def expected_order(tasks: tuple[SampleTask, ...]) -> list[str]:
    """Open tasks soonest due first (no due date last), then the others latest due first."""
    far = datetime.max.replace(tzinfo=UTC)
    open_tasks = sorted((t for t in tasks if t.is_open), key=lambda t: t.due or far)
    closed = sorted((t for t in tasks if not t.is_open), key=lambda t: t.due or far, reverse=True)
    return [t.id for t in open_tasks + closed]


async def tasks_of(sandbox: SandboxServer, opportunity_id: str) -> tuple[dict[str, Any], str, datetime]:
    async with connect(sandbox) as client:
        result = await client.call_tool(TOOL, {"opportunity_id": opportunity_id})
    return structured(result), text_of(result), datetime.now(UTC)


@pytest.mark.parametrize("opportunity_id", [OPP_BIG, OPP_UNICODE, OPP_ODD, OPP_HTML])
async def test_counts_order_and_flags_are_the_sandboxs(sandbox: SandboxServer, opportunity_id: str) -> None:
    data, text, now = await tasks_of(sandbox, opportunity_id)
    # The sandbox's due dates are whole days from today at 10:00: none is near enough to `now` to flip.
    raw = CATALOG.tasks_of(opportunity_id, now)
    open_tasks = [t for t in raw if t.is_open]
    overdue = {t.id for t in open_tasks if t.due is not None and t.due < now}
    assert (data["total"], data["open"], data["overdue"]) == (len(raw), len(open_tasks), len(overdue))
    assert [t["id"] for t in data["tasks"]] == expected_order(raw)
    assert {t["id"] for t in data["tasks"] if t.get("overdue")} == overdue
    assert all(t.get("overdue", True) is True for t in data["tasks"])
    by_id = {t.id: t for t in raw}
    for task in data["tasks"]:
        row = by_id[task["id"]].row
        assert task["name"] == row["Name"]
        assert task["owner"] == row["OwnerName"]
        assert task["created_by"] == row["CreatedByName"]
        assert task["status"] == row["Status"]
        assert task.get("due_at") == iso(by_id[task["id"]].due)
        assert task["created_at"] == iso(by_id[task["id"]].created)
        assert "description" in task or not row["Description"]
    noun = "task" if len(raw) == 1 else "tasks"
    assert f"{len(raw)} {noun}, {len(open_tasks)} open, {len(overdue)} overdue" in text.splitlines()[0]
    assert text.count("OVERDUE") == len(overdue)


async def test_the_demo_deal_has_overdue_and_upcoming_tasks(sandbox: SandboxServer) -> None:
    data, text, _ = await tasks_of(sandbox, OPP_BIG)
    assert data["overdue"] >= 1
    assert data["open"] > data["overdue"]
    lines = text.splitlines()
    assert lines[1] == "Open, soonest due first:"
    assert lines[2].startswith("OVERDUE · due ")
    assert "Completed or cancelled, latest due first:" in lines
    assert "Chase the DPA redlines with Acme legal" in lines[2]
    assert "owner Priya Nair · set by Rohan Sane" in text


async def test_statuses_in_any_case_and_a_task_with_no_due_date(sandbox: SandboxServer) -> None:
    data, text, _ = await tasks_of(sandbox, OPP_ODD)
    assert (data["total"], data["open"], data["overdue"]) == (3, 1, 0)
    first = data["tasks"][0]
    assert first["name"] == "Ask José for a loss debrief"
    assert "due_at" not in first
    assert "overdue" not in first
    assert "no due date · Ask José for a loss debrief" in text
    assert [t["status"] for t in data["tasks"][1:]] == ["Cancelled", "completed"]


async def test_html_descriptions_become_text(sandbox: SandboxServer) -> None:
    data, _, _ = await tasks_of(sandbox, OPP_HTML)
    described = [t["description"] for t in data["tasks"] if "description" in t]
    assert described == ["Agenda: SSO, SCORM import & gradebook migration"]


async def test_no_tasks(sandbox: SandboxServer) -> None:
    data, text, _ = await tasks_of(sandbox, OPP_EMPTY)
    assert (data["total"], data["open"], data["overdue"], data["tasks"]) == (0, 0, 0, [])
    assert text == f"Tasks of opportunity {OPP_EMPTY}: none."


async def test_errors_reach_the_model_as_tool_errors(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        invalid = await client.call_tool(TOOL, {"opportunity_id": "acme"})
        calls_for_invalid = hits(sandbox, TASKS)
        unknown = await client.call_tool(TOOL, {"opportunity_id": "00000000-0000-4000-8000-000000000000"})
        refused = await client.call_tool(TOOL, {"opportunity_id": OPP_RESTRICTED})
    assert invalid.is_error
    assert calls_for_invalid == 0
    assert "opportunity_id" in text_of(invalid)
    assert "GUID" in text_of(invalid)
    assert unknown.is_error
    assert "500" in text_of(unknown)
    assert "does not exist in the system" in text_of(unknown)
    assert refused.is_error
    assert "permission to view the tasks" in text_of(refused)
    assert "MXUnAuthorizedAccessException" in text_of(refused)


NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def row(name: str, status: str | None, due: str | None) -> dict[str, Any]:
    return {"TaskID": name, "Name": name, "Status": status, "DueDate": due, "Description": ""}


def test_order_over_odd_rows() -> None:
    raw = RawTasks.model_validate(
        {
            "RecordCount": "7",
            "List": [
                row("no-date", "Pending", None),
                row("unreadable", "Open", "next Tuesday"),
                row("later", "Pending", "2025-03-20 09:00:00"),
                row("past", None, "2025-03-01 09:00:00"),
                row("done-old", "COMPLETED", "2025-01-01 09:00:00"),
                row("done-undated", "Cancelled", ""),
                row("done-new", "completed", "2025-03-09 09:00:00"),
            ],
        }
    )
    result = condense_tasks(raw, "opp", NOW)
    order = [t.id for t in result.tasks]
    assert order == ["past", "later", "unreadable", "no-date", "done-new", "done-old", "done-undated"]
    assert (result.total, result.open, result.overdue) == (7, 4, 1)
    assert [t.id for t in result.tasks if t.overdue] == ["past"]
    assert result.tasks[2].due_at == "next Tuesday"
    assert "description" not in result.tasks[0].model_dump(exclude_none=True)
    text = render_tasks(result)
    assert "OVERDUE · due 2025-03-01 09:00 · past" in text
    assert "due next Tuesday · unreadable · Open" in text


def test_a_task_due_exactly_now_is_not_overdue() -> None:
    due = (NOW - timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
    raw = RawTasks.model_validate(
        {"RecordCount": 2, "List": [row("a", "Pending", due), row("b", "Pending", "2025-03-10 12:00:00")]}
    )
    assert [t.id for t in condense_tasks(raw, "opp", NOW).tasks if t.overdue] == ["a"]
