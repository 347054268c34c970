"""`get_opportunity_tasks`: an opportunity's tasks, open ones first by due date, overdue ones flagged.

The call, the result model, the pure condensing (given the current time) and the text.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from mcp_types import CallToolResult
from pydantic import Field

from lsq_mcp.api.endpoints import get_tasks_of_opportunity
from lsq_mcp.api.models import RawTask, RawTasks
from lsq_mcp.api.values import iso_utc
from lsq_mcp.text import Cap, clip, dot_join, html_to_text, labelled, shown
from lsq_mcp.tokens import estimate_tokens
from lsq_mcp.tools.activities.timeline import TEXT_BUDGET
from lsq_mcp.tools.arguments import OpportunityId
from lsq_mcp.tools.base_result import Absent, Compact, ToolResult, call_tool_result
from lsq_mcp.tools.context import ToolContext, deps_of

TITLE = "Get opportunity tasks"
DESCRIPTION = """\
Use when asked what is next on a deal, what is overdue, or who must do what. One opportunity's
tasks: open ones first, soonest due first, overdue ones flagged (against the current time,
UTC), then completed and cancelled ones. Each with name, due date, owner, status, description.
"""
# Statuses of tasks that need nothing more (compared ignoring case); any other is open.
CLOSED_STATUSES = frozenset({"completed", "cancelled"})
TEXT_DESCRIPTION_LIMIT = 160
# The most tasks a result lists (open ones first); it counts them all.
MAX_TASKS = 1000
# Room kept in the text's budget for the line that says how many tasks it leaves out.
_SUMMARY_ROOM = 100


async def get_opportunity_tasks(
    ctx: ToolContext,
    opportunity_id: OpportunityId,
) -> Annotated[CallToolResult, TasksResult]:
    raw = await get_tasks_of_opportunity(deps_of(ctx).conn, opportunity_id)
    result = condense_tasks(raw, opportunity_id, datetime.now(timezone.utc))
    return call_tool_result(render_tasks(result), result)


class Task(Compact):
    """One task; only fields with a value are present."""

    id: str | Absent = Field(None, description="TaskID (absent only if LeadSquared left it out)")
    name: str | Absent = None
    description: str | Absent = Field(
        None, description=f"Plain text (HTML removed); past {Cap.NOTE:,} characters cut, with a marker"
    )
    due_at: str | Absent = Field(None, description="ISO 8601 UTC; as sent if unreadable")
    created_at: str | Absent = None
    owner: str | Absent = None
    created_by: str | Absent = None
    status: str | Absent = None
    overdue: bool | Absent = Field(None, description="true on an open task due before now; else absent")


class TasksResult(ToolResult):
    """The structured result of `get_opportunity_tasks`."""

    opportunity_id: str
    total: int = Field(description="RecordCount: the tasks the keys' user may see")
    open: int = Field(description="Tasks whose status is neither Completed nor Cancelled")
    overdue: int = Field(description="Open tasks due before now")
    tasks: list[Task] = Field(
        description="Open tasks by due date, soonest first; then the others by due date, newest first"
    )
    not_listed: int | Absent = Field(
        None, description=f"Tasks left out of `tasks`, past the first {MAX_TASKS:,}; absent when none"
    )


def is_open(task: RawTask) -> bool:
    return (task.status or "").casefold() not in CLOSED_STATUSES


def is_overdue(task: RawTask, now: datetime) -> bool:
    """Open and due before `now`; a task with no readable due date is never overdue."""
    return is_open(task) and isinstance(task.due_at, datetime) and task.due_at < now


def condense_tasks(raw: RawTasks, opportunity_id: str, now: datetime) -> TasksResult:
    """The result as it stands at `now` (aware, UTC)."""
    open_tasks = sorted((t for t in raw.rows if is_open(t)), key=_soonest_first)
    closed = sorted((t for t in raw.rows if not is_open(t)), key=_soonest_first)
    closed = _newest_first(closed)
    return TasksResult(
        opportunity_id=opportunity_id,
        total=max(raw.record_count, len(raw.rows)),
        open=len(open_tasks),
        overdue=sum(1 for t in open_tasks if is_overdue(t, now)),
        tasks=[_task(t, now) for t in (open_tasks + closed)[:MAX_TASKS]],
        not_listed=max(0, len(raw.rows) - MAX_TASKS) or None,
    )


def _soonest_first(task: RawTask) -> tuple[int, str]:
    """Readable due dates in time order, then unreadable ones, then tasks with no due date."""
    if isinstance(task.due_at, datetime):
        return 0, task.due_at.isoformat()
    return (1, task.due_at) if task.due_at else (2, "")


def _newest_first(tasks: list[RawTask]) -> list[RawTask]:
    """Tasks sorted soonest first, turned newest first; those with no readable due date stay last."""
    dated = [t for t in tasks if isinstance(t.due_at, datetime)]
    return dated[::-1] + tasks[len(dated) :]


def _task(task: RawTask, now: datetime) -> Task:
    description = shown(html_to_text(task.description), Cap.NOTE, lines=True) if task.description else None
    return Task(
        id=task.id,
        name=task.name,
        description=description or None,
        due_at=iso_utc(task.due_at),
        created_at=iso_utc(task.created_at),
        owner=task.owner,
        created_by=task.created_by,
        status=task.status,
        overdue=True if is_overdue(task, now) else None,
    )


def count_line(result: TasksResult) -> str:
    """`10 tasks, 5 open, 2 overdue`."""
    return (
        f"{result.total} task{'' if result.total == 1 else 's'}, {result.open} open, {result.overdue} overdue"
    )


def task_line(
    task: Task, description_limit: int = TEXT_DESCRIPTION_LIMIT, name_limit: int | None = None
) -> str:
    """One line: OVERDUE, due date, name, status, owner (and creator when another), description;
    names clipped to `name_limit` when given."""

    def name(value: str | None) -> str | None:
        return clip(value, name_limit) if value and name_limit else value

    due = f"due {short_time(task.due_at)}" if task.due_at else "no due date"
    creator = task.created_by if task.created_by != task.owner else None
    description = f'"{clip(task.description, description_limit)}"' if task.description else None
    return dot_join(
        "OVERDUE" if task.overdue else None,
        name(due),
        name(task.name) or "(no name)",
        name(task.status),
        labelled("owner", name(task.owner)),
        labelled("set by", name(creator)),
        labelled("created", short_time(task.created_at)[:10] if task.created_at else None),
        description,
    )


def short_time(value: str) -> str:
    """`2026-11-22 10:00` for an ISO 8601 UTC date-time; anything else as it is."""
    return value.replace("T", " ")[:16] if value.endswith("Z") else value


def render_tasks(result: TasksResult, budget: int = TEXT_BUDGET) -> str:
    """The count, then a line per task (open ones first) as long as the text stays within `budget`
    tokens; a last line says how many more there are."""
    head = f"Tasks of opportunity {result.opportunity_id}: "
    if not result.tasks:
        return head + ("none." if result.total == 0 else f"{result.total} counted, none returned.")
    lines = [head + count_line(result) + ". Times UTC."]
    room = budget - estimate_tokens(lines[0]) - _SUMMARY_ROOM
    shown = 0
    for index, task in enumerate(result.tasks):
        heading = _heading(index, result.open)
        block = [heading, task_line(task)] if heading else [task_line(task)]
        room -= sum(estimate_tokens(line) + 1 for line in block)
        if room < 0:
            break
        lines += block
        shown += 1
    left = len(result.tasks) - shown + (result.not_listed or 0)
    if left:
        listed = "all" if result.not_listed is None else f"the first {len(result.tasks):,}"
        lines.append(f"… {left:,} more tasks not shown as text; the structured result lists {listed}.")
    return "\n".join(lines)


def _heading(index: int, open_count: int) -> str | None:
    """The heading before the task at `index` of the list, if one starts there."""
    if index == 0 and open_count:
        return "Open, soonest due first:"
    return "Completed or cancelled, latest due first:" if index == open_count else None
