"""Reading an opportunity's activities: one page, or every page up to a cap, condensed.

The page walk for `fetch_all` lives here, on top of the API client and below the
MCP layer. It asks for pages as large as the API allows (fewer calls against the
account's rate limit), fetches all pages after the first concurrently (the limiter
paces them), and copes with an API that answers shorter pages than asked for.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import replace

import anyio

from lsq_mcp.client import ActivitiesQuery, LeadSquaredClient
from lsq_mcp.condense import PageRequest, condense, merge_pages
from lsq_mcp.errors import LeadSquaredError
from lsq_mcp.models import ActivitiesResult, RawActivitiesPage

MAX_PAGE_SIZE = 1000

# Called after each page with (pages fetched, pages planned).
ProgressCallback = Callable[[int, int], Awaitable[None]]


async def read_activities(
    client: LeadSquaredClient,
    query: ActivitiesQuery,
    *,
    fetch_all: bool = False,
    max_activities: int = 500,
    on_progress: ProgressCallback | None = None,
) -> ActivitiesResult:
    """The condensed result for `query`'s page, or with `fetch_all` for every page from it on."""
    request = PageRequest(query.opportunity_id, query.page_index, query.page_size, query.sort_direction)
    if not fetch_all:
        page = await client.get_activities_page(query)
        return condense(request, page.record_count, page.rows)
    pages = await _walk(client, query, max_activities, on_progress)
    total, rows = merge_pages(pages)
    return condense(request, total, rows[:max_activities], walked=True)


def big_page(page_index: int, page_size: int, max_activities: int) -> tuple[int, int]:
    """`(index, size)` of the largest page (a multiple of `page_size`, at most 1000) that starts where
    `page_index` does: one call of 500 instead of twenty of 25."""
    start = (page_index - 1) * page_size
    most = min(MAX_PAGE_SIZE // page_size, math.ceil(max_activities / page_size))
    for multiple in range(max(most, 1), 0, -1):
        size = multiple * page_size
        if start % size == 0:
            return start // size + 1, size
    return page_index, page_size  # pragma: no cover - multiple 1 always divides


async def _walk(
    client: LeadSquaredClient,
    query: ActivitiesQuery,
    max_activities: int,
    on_progress: ProgressCallback | None,
) -> list[RawActivitiesPage]:
    start = (query.page_index - 1) * query.page_size
    index, size = big_page(query.page_index, query.page_size, max_activities)
    first = await client.get_activities_page(replace(query, page_index=index, page_size=size))
    end = min(first.record_count, start + max_activities)
    got = start + len(first.rows)
    if got >= end:
        if on_progress:
            await on_progress(1, 1)
        return [first]
    if len(first.rows) < size:
        # The API answered a shorter page than asked: it caps page sizes lower than we thought.
        # Go on in the caller's page size, from the page holding the first activity not yet read.
        size = query.page_size
        index = got // size
    remaining = list(range(index + 1, math.ceil(end / size) + 1))
    planned = 1 + len(remaining)
    pages: dict[int, RawActivitiesPage] = {}
    failures: list[LeadSquaredError] = []
    if on_progress:
        await on_progress(1, planned)

    async def fetch(page_index: int) -> None:
        try:
            pages[page_index] = await client.get_activities_page(
                replace(query, page_index=page_index, page_size=size)
            )
        except LeadSquaredError as exc:
            # One failed page fails the walk: stop the others rather than spend calls on them.
            failures.append(exc)
            group.cancel_scope.cancel()
            return
        if on_progress:
            await on_progress(1 + len(pages), planned)

    async with anyio.create_task_group() as group:
        for page_index in remaining:
            group.start_soon(fetch, page_index)
    if failures:
        raise failures[0]
    return [first, *(pages[i] for i in remaining)]
