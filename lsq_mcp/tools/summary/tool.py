"""`summarize_opportunity`: the state of a deal in one call (details, tasks, history counted)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Annotated

from mcp_types import CallToolResult
from pydantic import Field

from lsq_mcp.api.connection import Connection
from lsq_mcp.api.endpoints import ActivitiesQuery, get_opportunity, get_tasks_of_opportunity
from lsq_mcp.api.models import RawOpportunityDetails, RawTasks
from lsq_mcp.api.values import iso_utc
from lsq_mcp.api.walk import (
    MAX_PAGE_SIZE,
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
from lsq_mcp.tools.context import ToolContext, deps_of, page_progress
from lsq_mcp.tools.opportunity import condense_opportunity
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
    window = read_window(since, until)

    progress = page_progress(ctx)
    deps = deps_of(ctx)
    parts = _Parts(deps.conn, opportunity_id)
    await gather_all(
        [parts.read_details, parts.read_tasks, lambda: parts.read_history(window, max_activities, progress)]
    )
    names = await deps.activity_types.names(wait=NAMES_WAIT_SECONDS)
    newest = newest_activity(parts.history.rows) if parts.history else None
    codes = {newest.event_code} if newest and newest.event_code is not None else set()
    field_names = await deps.field_names.names(codes)
    result = parts.result(window, names, field_names, datetime.now(timezone.utc))
    return call_tool_result(render_digest(result), result)


async def read_history(
    conn: Connection,
    opportunity_id: str,
    window: Window | None,
    max_activities: int,
    on_progress: ProgressCallback | None = None,
) -> HistoryRead:
    """The activities to count, newest first: all of them, or those of `window`, up to `max_activities`.

    A window is read in the largest pages, from the newest to the first past its start
    (`fetch_window`); the reading is complete when it holds every activity (of the window).
    """
    query = ActivitiesQuery(opportunity_id=opportunity_id, page_size=HISTORY_PAGE_SIZE)
    if window is None:
        total, rows = await fetch_activities(conn, query, max_activities, as_read, on_progress)
        return HistoryRead(total, rows, complete=len(rows) >= total)
    query = replace(query, page_size=MAX_PAGE_SIZE)
    total, rows, more = await fetch_window(conn, query, window, max_activities, as_read, on_progress)
    return HistoryRead(total, rows, complete=not more)


@dataclass
class _Parts:
    """The three readings of a summary, made concurrently, and the result they give together."""

    conn: Connection
    opportunity_id: str
    details: RawOpportunityDetails | None = None
    tasks: RawTasks | None = None
    tasks_unavailable: str | None = None
    history: HistoryRead | None = None

    async def read_details(self) -> None:
        self.details = await get_opportunity(self.conn, self.opportunity_id)

    async def read_tasks(self) -> None:
        try:
            self.tasks = await get_tasks_of_opportunity(self.conn, self.opportunity_id)
        except ApiError as exc:
            if exc.exception_type != TASKS_REFUSED:
                raise
            self.tasks_unavailable = str(exc)

    async def read_history(
        self, window: Window | None, max_activities: int, progress: ProgressCallback
    ) -> None:
        self.history = await read_history(self.conn, self.opportunity_id, window, max_activities, progress)

    def result(
        self,
        window: Window | None,
        names: Mapping[int, str],
        field_names: Mapping[int, Mapping[str, str]],
        now: datetime,
    ) -> SummaryResult:
        # Both are set once gather_all has returned (it raises when a reading fails).
        assert self.details is not None
        assert self.history is not None
        history, lead = summarize_history(self.history, self.opportunity_id, names, field_names, now)
        return SummaryResult(
            opportunity_id=self.opportunity_id,
            opportunity=condense_opportunity(self.details, self.opportunity_id),
            lead=lead,
            since=iso_utc(window.since) if window else None,
            until=iso_utc(window.until) if window else None,
            history=history,
            tasks=count_tasks(condense_tasks(self.tasks, self.opportunity_id, now)) if self.tasks else None,
            tasks_unavailable=self.tasks_unavailable,
        )
