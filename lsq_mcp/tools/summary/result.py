"""The structured result of `summarize_opportunity`, and condensing what was read into it.

Pure functions over what the calls returned and the current time: counts by type and by person
(each with its last date), first and last activity, the newest activity as
`get_opportunity_activities` gives it, and the tasks' counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from pydantic import Field

from lsq_mcp.api.models import RawActivity
from lsq_mcp.api.values import iso_utc
from lsq_mcp.tools.activities.result import Activity, Condenser, Lead, PageRequest
from lsq_mcp.tools.base_result import Absent, Compact, ToolResult
from lsq_mcp.tools.opportunity import OpportunityDetails
from lsq_mcp.tools.tasks import Task, TasksResult

# Open tasks the result lists (soonest due first); get_opportunity_tasks has them all.
OPEN_TASKS_LIMIT = 20


class TypeCount(Compact):
    """Activities of one type."""

    event_code: int | Absent = None
    event_name: str | Absent = None
    count: int
    last_at: str | Absent = Field(None, description="The newest of them, ISO 8601 UTC")


class PersonCount(Compact):
    """Activities one person created."""

    name: str
    count: int
    last_at: str | Absent = Field(None, description="The newest of them, ISO 8601 UTC")


class History(Compact):
    """The activities counted (those of the window, when one was given)."""

    counted: int = Field(description="Activities counted")
    total: int = Field(description="LeadSquared's count of the opportunity's activities, all dates")
    complete: bool = Field(description="Whether every activity of the window (or of all time) was counted")
    first_at: str | Absent = Field(None, description="The oldest counted, ISO 8601 UTC")
    last_at: str | Absent = Field(None, description="The newest counted, ISO 8601 UTC")
    days_since_last: int | Absent = Field(None, description="Whole days from last_at to now")
    by_type: list[TypeCount] | Absent = Field(None, description="Most frequent first")
    by_person: list[PersonCount] | Absent = Field(None, description="By creator, most active first")
    last: Activity | Absent = Field(
        None, description="The newest activity, as get_opportunity_activities gives it"
    )


class TaskCounts(Compact):
    """The opportunity's tasks, counted."""

    total: int
    open: int = Field(description="Neither Completed nor Cancelled")
    overdue: int = Field(description="Open and due before now")
    next_due: Task | Absent = Field(None, description="The open task due soonest")
    open_tasks: list[Task] | Absent = Field(
        None, description=f"Open tasks, soonest due first (at most {OPEN_TASKS_LIMIT})"
    )


class SummaryResult(ToolResult):
    """The structured result of `summarize_opportunity`."""

    opportunity_id: str
    opportunity: OpportunityDetails = Field(description="What get_opportunity gives")
    lead: Lead | Absent = Field(None, description="The lead, from the newest activity")
    since: str | Absent = None
    until: str | Absent = None
    history: History
    tasks: TaskCounts | Absent = None
    tasks_unavailable: str | Absent = Field(None, description="Why the tasks could not be read")


@dataclass(frozen=True)
class HistoryRead:
    """What was read of the history: LeadSquared's total, the activities to count (newest first), and
    whether they are every activity of the window (or of all time)."""

    total: int
    rows: Sequence[RawActivity]
    complete: bool


def newest_activity(rows: Sequence[RawActivity]) -> RawActivity | None:
    """The activity created last (the first one when none has a readable date)."""
    dated = [row for row in rows if isinstance(row.created_at, datetime)]
    return max(dated, key=lambda row: cast(datetime, row.created_at)) if dated else _first(rows)


def summarize_history(
    read: HistoryRead,
    opportunity_id: str,
    names: Mapping[int, str],
    field_names: Mapping[int, Mapping[str, str]],
    now: datetime,
) -> tuple[History, Lead | None]:
    """The history's counts and newest activity (its custom fields under `field_names`), and the lead
    it belongs to, as of `now`."""
    dated = [row.created_at for row in read.rows if isinstance(row.created_at, datetime)]
    newest = newest_activity(read.rows)
    last_at = max(dated) if dated else None
    last, lead = _newest_activity(newest, opportunity_id, names, field_names)
    history = History(
        counted=len(read.rows),
        total=read.total,
        complete=read.complete,
        first_at=iso_utc(min(dated)) if dated else None,
        last_at=iso_utc(last_at),
        days_since_last=(now - last_at).days if last_at else None,
        by_type=_by_type(read.rows, names) or None,
        by_person=_by_person(read.rows) or None,
        last=last,
    )
    return history, lead


def _first(rows: Sequence[RawActivity]) -> RawActivity | None:
    return rows[0] if rows else None


def _newest_activity(
    row: RawActivity | None,
    opportunity_id: str,
    names: Mapping[int, str],
    field_names: Mapping[int, Mapping[str, str]],
) -> tuple[Activity | None, Lead | None]:
    """The activity condensed as get_opportunity_activities does it, named, and its lead."""
    if row is None:
        return None, None
    condenser = Condenser(opportunity_id)
    activities = condenser.add([row], names, field_names)
    result = condenser.result(
        PageRequest(opportunity_id, 1, 1, "newest_first"), 1, activities, has_more=False, next_page=None
    )
    lead = Lead.model_validate(result["leads"][0]) if "leads" in result else None
    return Activity.model_validate(result["activities"][0]), lead


def _newer(current: datetime | None, moment: datetime | str | None) -> datetime | None:
    if not isinstance(moment, datetime):
        return current
    return moment if current is None or moment > current else current


def _by_type(rows: Sequence[RawActivity], names: Mapping[int, str]) -> list[TypeCount]:
    counts: dict[int | None, int] = {}
    last: dict[int | None, datetime | None] = {}
    labels: dict[int | None, str | None] = {}
    for row in rows:
        code = row.event_code
        counts[code] = counts.get(code, 0) + 1
        last[code] = _newer(last.get(code), row.created_at)
        labels[code] = labels.get(code) or row.event_name
    ranked = sorted(counts, key=lambda code: (-counts[code], _latest_first(last[code]), code or 0))
    return [
        TypeCount(
            event_code=code,
            event_name=(names.get(code) if code is not None else None) or labels[code],
            count=counts[code],
            last_at=iso_utc(last[code]),
        )
        for code in ranked
    ]


def _by_person(rows: Sequence[RawActivity]) -> list[PersonCount]:
    """Counts by the activity's creator; activities with no creator recorded are not attributed."""
    counts: dict[str, int] = {}
    last: dict[str, datetime | None] = {}
    for row in rows:
        if row.created_by:
            counts[row.created_by] = counts.get(row.created_by, 0) + 1
            last[row.created_by] = _newer(last.get(row.created_by), row.created_at)
    ranked = sorted(counts, key=lambda name: (-counts[name], _latest_first(last[name]), name))
    return [PersonCount(name=name, count=counts[name], last_at=iso_utc(last[name])) for name in ranked]


def _latest_first(moment: datetime | None) -> float:
    return -moment.timestamp() if moment else 0.0


def count_tasks(tasks: TasksResult) -> TaskCounts:
    """The counts, the open task due soonest, and the first open tasks (they come soonest first)."""
    open_tasks = tasks.tasks[: tasks.open]
    return TaskCounts(
        total=tasks.total,
        open=tasks.open,
        overdue=tasks.overdue,
        next_due=open_tasks[0] if open_tasks and open_tasks[0].due_at else None,
        open_tasks=open_tasks[:OPEN_TASKS_LIMIT] or None,
    )
