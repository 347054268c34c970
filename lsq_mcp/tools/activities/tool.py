"""`get_opportunity_activities`: one opportunity's activity timeline, a page or every page."""

from __future__ import annotations

from typing import Annotated

from mcp_types import CallToolResult
from pydantic import Field

from lsq_mcp.api.connection import Connection
from lsq_mcp.api.endpoints import DEFAULT_SORT_COLUMN, ActivitiesQuery, get_activities_page
from lsq_mcp.api.models import SortDirection
from lsq_mcp.api.walk import ProgressCallback, fetch_activities
from lsq_mcp.tools.activities.result import ActivitiesResult, PageRequest, condense, name_events
from lsq_mcp.tools.activities.timeline import render_timeline
from lsq_mcp.tools.arguments import argument, constrained
from lsq_mcp.tools.context import ToolContext, deps
from lsq_mcp.tools.results import Absent, answer

TITLE = "Get opportunity activities"
DESCRIPTION = """\
Use when asked what happened on a deal, when, or by whom. The timeline of one opportunity:
calls, emails, meetings, notes, status changes, each with date (UTC), type, who, status and
note. Newest first; filter by activity_event_code; page with page_index/page_size, or set
fetch_all to read every page up to max_activities. Lead details are given once.
"""
# How long a call waits for the first lookup of activity type names before showing codes.
NAMES_WAIT_SECONDS = 2.0


async def get_opportunity_activities(
    ctx: ToolContext,
    opportunity_id: Annotated[str, argument("opportunity_id", "The opportunity's GUID.")],
    activity_event_code: Annotated[
        Annotated[int, constrained("activity_event_code")] | Absent,
        argument("activity_event_code", "Only this activity type (e.g. 22 = outbound call).", optional=True),
    ] = None,
    columns: Annotated[
        Annotated[list[Annotated[str, constrained("column")]], constrained("columns")] | Absent,
        argument("columns", 'Extra activity fields to return, e.g. ["mx_Custom_1"].', optional=True),
    ] = None,
    page_index: Annotated[int, argument("page_index", "Page number, from 1.")] = 1,
    page_size: Annotated[int, argument("page_size", "Activities per page.")] = 25,
    sort_column: Annotated[
        str, argument("sort_column", "Field to sort on; default creation time.")
    ] = DEFAULT_SORT_COLUMN,
    sort_direction: Annotated[SortDirection, Field(description="Order of the activities.")] = "newest_first",
    fetch_all: Annotated[
        bool, argument("fetch_all", "Read every page from page_index on, up to max_activities.")
    ] = False,
    max_activities: Annotated[int, argument("max_activities", "The cap for fetch_all.")] = 500,
) -> Annotated[CallToolResult, ActivitiesResult]:
    query = ActivitiesQuery(
        opportunity_id=opportunity_id,
        activity_event_code=activity_event_code,
        columns=tuple(columns or ()),
        page_index=page_index,
        page_size=page_size,
        sort_column=sort_column,
        sort_direction=sort_direction,
    )

    async def progress(done: int, planned: int) -> None:
        await ctx.report_progress(done, planned, f"page {done} of {planned}")

    services = deps(ctx)
    result = await read_activities(
        services.conn, query, fetch_all=fetch_all, max_activities=max_activities, on_progress=progress
    )
    result = name_events(result, await services.activity_types.names(wait=NAMES_WAIT_SECONDS))
    return answer(render_timeline(result), result)


async def read_activities(
    conn: Connection,
    query: ActivitiesQuery,
    *,
    fetch_all: bool = False,
    max_activities: int = 500,
    on_progress: ProgressCallback | None = None,
) -> ActivitiesResult:
    """The condensed result for `query`'s page, or with `fetch_all` for every page from it on."""
    request = PageRequest(query.opportunity_id, query.page_index, query.page_size, query.sort_direction)
    if not fetch_all:
        page = await get_activities_page(conn, query)
        return condense(request, page.record_count, page.rows)
    total, rows = await fetch_activities(conn, query, max_activities, on_progress)
    return condense(request, total, rows[:max_activities], walked=True)
