"""`get_opportunity_activities`: one opportunity's activity timeline: a page, every page, or a window."""

from __future__ import annotations

from typing import Annotated

from mcp_types import CallToolResult

from lsq_mcp.api.endpoints import DEFAULT_SORT_COLUMN, ActivitiesQuery, get_activities_page
from lsq_mcp.api.models import RawActivity, SortDirection
from lsq_mcp.api.values import iso_utc
from lsq_mcp.api.walk import ProgressCallback, fetch_activities, fetch_window
from lsq_mcp.api.window import Window
from lsq_mcp.metadata import NAMES_WAIT_SECONDS
from lsq_mcp.reader import Reader
from lsq_mcp.tools.activities.result import ActivitiesResult, Condenser, PageRequest
from lsq_mcp.tools.activities.timeline import render_timeline
from lsq_mcp.tools.arguments import (
    InvalidArgumentError,
    MaxActivities,
    OpportunityId,
    Since,
    Until,
    argument,
    constrained,
    read_window,
)
from lsq_mcp.tools.base_result import Absent, Json, call_tool_result
from lsq_mcp.tools.context import Deps, ToolContext, deps_of
from lsq_mcp.tools.progress import page_progress

TITLE = "Get opportunity activities"
DESCRIPTION = """\
What happened on a deal, when, by whom: one opportunity's activities (calls, emails, meetings,
notes, status changes) with date (UTC), type, who, status, note and custom fields. Newest first.
For a period ("since March", "last 2 weeks") set since/until (ISO dates): only the pages needed
are read. Else page (page_index/page_size) or fetch_all up to max_activities.
"""


async def get_opportunity_activities(
    ctx: ToolContext,
    opportunity_id: OpportunityId,
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
        str, argument("sort_column", "Field to sort on (CreatedOn: creation time).")
    ] = DEFAULT_SORT_COLUMN,
    sort_direction: Annotated[
        SortDirection, argument("sort_direction", "Order of the activities.")
    ] = "newest_first",
    fetch_all: Annotated[
        bool, argument("fetch_all", "Read every page from page_index on, up to max_activities.")
    ] = False,
    max_activities: MaxActivities = 500,
    since: Since = None,
    until: Until = None,
) -> Annotated[CallToolResult, ActivitiesResult]:
    reader = deps_of(ctx).reader
    window = _window(since, until, sort_column, reader)
    query = ActivitiesQuery(
        opportunity_id=opportunity_id,
        activity_event_code=activity_event_code,
        columns=tuple(columns or ()),
        page_index=page_index,
        page_size=page_size,
        sort_column=sort_column,
        sort_direction=sort_direction,
    )

    progress = page_progress(ctx)
    result = await read_activities(
        deps_of(ctx),
        query,
        window=window,
        fetch_all=fetch_all,
        max_activities=max_activities,
        on_progress=progress,
    )
    return call_tool_result(render_timeline(result, reader), result)


def _window(since: str | None, until: str | None, sort_column: str, reader: Reader) -> Window | None:
    """The window asked for, if any: read in order of creation time, so with no other sort column."""
    window = read_window(since, until, reader)
    if window is not None and sort_column != DEFAULT_SORT_COLUMN:
        raise InvalidArgumentError(
            f"Invalid arguments: a window (since/until) is read in order of creation time, so sort_column "
            f"must be left out; got {sort_column!r}."
        )
    return window


async def read_activities(
    deps: Deps,
    query: ActivitiesQuery,
    *,
    window: Window | None = None,
    fetch_all: bool = False,
    max_activities: int = 500,
    on_progress: ProgressCallback | None = None,
) -> Json:
    """The condensed result (as JSON) for `query`'s page, for every page from it on (`fetch_all`), or for
    the activities of `window`. Each page is condensed as it arrives."""
    request = PageRequest(
        query.opportunity_id,
        query.page_index,
        query.page_size,
        query.sort_direction,
        since=iso_utc(window.since) if window else None,
        until=iso_utc(window.until) if window else None,
    )
    condenser = Condenser(query.opportunity_id)

    async def condense(rows: list[RawActivity]) -> list[Json]:
        event_names = await deps.activity_types.names(wait=NAMES_WAIT_SECONDS)
        field_names = await deps.field_names.names({r.event_code for r in rows if r.event_code is not None})
        return condenser.add(rows, event_names, field_names)

    if window is not None:
        total, activities, has_more = await fetch_window(
            deps.conn, query, window, max_activities, condense, on_progress
        )
        return condenser.result(request, total, activities, has_more=has_more, next_page=None)
    start = (query.page_index - 1) * query.page_size
    if fetch_all:
        total, activities = await fetch_activities(deps.conn, query, max_activities, condense, on_progress)
        # The page holding the first activity not returned: when the walk stopped mid-page, that page
        # repeats a few activities rather than skip any.
        next_page = (start + len(activities)) // query.page_size + 1
        seen = start + len(activities)
    else:
        page = await get_activities_page(deps.conn, query)
        total, activities = page.record_count, await condense(page.rows)
        next_page, seen = query.page_index + 1, start + len(page.rows)
    return condenser.result(request, total, activities, has_more=seen < total, next_page=next_page)
