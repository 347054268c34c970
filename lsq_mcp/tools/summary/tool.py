"""`summarize_opportunity`: the state of a deal in one call (details, tasks, history counted)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from functools import partial
from typing import Annotated

from mcp_types import CallToolResult
from pydantic import Field

from lsq_mcp.api.connection import Connection
from lsq_mcp.api.endpoints import ActivitiesQuery, get_opportunity, get_tasks_of_opportunity
from lsq_mcp.api.models import RawOpportunityDetails, RawTasks
from lsq_mcp.api.values import iso_utc
from lsq_mcp.api.walk import (
    ProgressCallback,
    as_read,
    fetch_activities,
    fetch_window,
    gather_all,
)
from lsq_mcp.api.window import Window
from lsq_mcp.errors import ApiError
from lsq_mcp.metadata import NAMES_WAIT_SECONDS
from lsq_mcp.tools.arguments import MaxActivities, OpportunityId, Since, Until, read_window
from lsq_mcp.tools.base_result import call_tool_result
from lsq_mcp.tools.context import ToolContext, deps_of
from lsq_mcp.tools.opportunity import condense_opportunity
from lsq_mcp.tools.progress import page_progress
from lsq_mcp.tools.summary.digest import render_digest
from lsq_mcp.tools.summary.result import (
    HistoryRead,
    SummaryResult,
    count_tasks,
    newest_activity,
    summarize_history,
)
from lsq_mcp.tools.tasks import condense_tasks

TITLE = "Summarize opportunity"
DESCRIPTION = """\
Use first when asked how a deal is going or what is next. The state of one opportunity in one
call: its details, its activity history counted by type and by person (first, last, days since
the last, the newest activity), and its open and overdue tasks. since/until count one window.
"""
# The unit of the pages read: the walk reads pages of up to 1000 in multiples of it, and falls
# back to it when the API refuses larger pages.
HISTORY_PAGE_SIZE = 100
# LeadSquared's answer when the keys' user may not see an opportunity's tasks: the summary goes on.
TASKS_REFUSED = "MXUnAuthorizedAccessException"


async def summarize_opportunity(
    ctx: ToolContext,
    opportunity_id: OpportunityId,
    since: Annotated[Since, Field(description="Count only activities created at or after this.")] = None,
    until: Annotated[Until, Field(description="Count only activities created at or before this.")] = None,
    max_activities: Annotated[
        MaxActivities, Field(description="The most activities read and counted.")
    ] = 2000,
) -> Annotated[CallToolResult, SummaryResult]:
    deps = deps_of(ctx)
    window = read_window(since, until, deps.reader)
    conn, progress = deps.conn, page_progress(ctx)
    details, tasks, history = await gather_all(
        (
            partial(get_opportunity, conn, opportunity_id),
            partial(_read_tasks, conn, opportunity_id),
            partial(read_history, conn, opportunity_id, window, max_activities, progress),
        )
    )
    names = await deps.activity_types.names(wait=NAMES_WAIT_SECONDS)
    newest = newest_activity(history.rows)
    codes = {newest.event_code} if newest and newest.event_code is not None else set()
    field_names = await deps.field_names.names(codes)
    result = _summary(opportunity_id, window, (details, tasks, history), names, field_names)
    return call_tool_result(render_digest(result, deps.reader), result)


def _summary(
    opportunity_id: str,
    window: Window | None,
    readings: tuple[RawOpportunityDetails, RawTasks | str, HistoryRead],
    names: Mapping[int, str],
    field_names: Mapping[int, Mapping[str, str]],
) -> SummaryResult:
    """The summary the three readings give together (tasks: the list, or why it may not be seen)."""
    details, tasks, history = readings
    now = datetime.now(timezone.utc)
    counted, lead = summarize_history(history, opportunity_id, names, field_names, now)
    return SummaryResult(
        opportunity_id=opportunity_id,
        opportunity=condense_opportunity(details, opportunity_id),
        lead=lead,
        since=iso_utc(window.since) if window else None,
        until=iso_utc(window.until) if window else None,
        history=counted,
        tasks=None if isinstance(tasks, str) else count_tasks(condense_tasks(tasks, opportunity_id, now)),
        tasks_unavailable=tasks if isinstance(tasks, str) else None,
    )


async def _read_tasks(conn: Connection, opportunity_id: str) -> RawTasks | str:
    """The opportunity's tasks, or why the keys' user may not see them: the summary goes on without."""
    try:
        return await get_tasks_of_opportunity(conn, opportunity_id)
    except ApiError as exc:
        if exc.exception_type != TASKS_REFUSED:
            raise
        return str(exc)


async def read_history(
    conn: Connection,
    opportunity_id: str,
    window: Window | None,
    max_activities: int,
    on_progress: ProgressCallback | None = None,
) -> HistoryRead:
    """The activities to count, newest first: all of them, or those of `window`, up to `max_activities`.

    Both walks read the largest pages the API allows; a window's stops at its start (`fetch_window`).
    The reading is complete when it holds every activity (of the window).
    """
    query = ActivitiesQuery(opportunity_id=opportunity_id, page_size=HISTORY_PAGE_SIZE)
    if window is None:
        total, rows = await fetch_activities(conn, query, max_activities, as_read, on_progress)
        return HistoryRead(total, rows, complete=len(rows) >= total)
    total, rows, more = await fetch_window(conn, query, window, max_activities, as_read, on_progress)
    return HistoryRead(total, rows, complete=not more)
