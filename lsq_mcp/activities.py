"""Reading from LeadSquared: an opportunity's activities (one page, or every page up to a cap)
and a lead's opportunities, condensed.

The page walk for `fetch_all` lives here, on top of the API client and below the
MCP layer. It asks for pages as large as the API allows (fewer calls against the
account's rate limit), fetches all pages after the first concurrently (the limiter
paces them), and copes with an API that answers shorter pages than asked for.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import TypeVar

import anyio

from lsq_mcp.client import ActivitiesQuery, LeadSquaredClient
from lsq_mcp.condense import PageRequest, condense, merge_pages
from lsq_mcp.errors import BadRequestError, LeadSquaredError, ServerError
from lsq_mcp.models import (
    ActivitiesResult,
    FoundOpportunities,
    LeadSummary,
    RawActivitiesPage,
    RawActivity,
    RawLead,
)
from lsq_mcp.opportunities import condense_lead

MAX_PAGE_SIZE = 1000
T = TypeVar("T")

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
    total, rows = await _walk(client, query, max_activities, on_progress)
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
) -> tuple[int, list[RawActivity]]:
    """`(total, rows from the query's first activity on)`, reading as few pages as the API allows."""
    start = (query.page_index - 1) * query.page_size
    index, size = big_page(query.page_index, query.page_size, max_activities)
    try:
        first = await client.get_activities_page(replace(query, page_index=index, page_size=size))
    except (BadRequestError, ServerError) as exc:
        if size == query.page_size or exc.retryable:
            raise
        # The API refuses pages this large (its maximum is unconfirmed): walk in the caller's size.
        index, size = query.page_index, query.page_size
        first = await client.get_activities_page(query)
    total = first.record_count
    if start >= total:
        return total, []
    end = min(total, start + max_activities)
    pages = {index: first}
    if len(first.rows) != min(size, total - (index - 1) * size):
        # Not the rows that page holds: the API serves pages smaller than asked, and may count
        # offsets in its own size. Page 1 is full in any size, so it tells that size; walk in it.
        probe = (
            first
            if index == 1
            else await client.get_activities_page(replace(query, page_index=1, page_size=size))
        )
        if not probe.rows:
            return total, []
        size = len(probe.rows)
        pages = {1: probe}
    low, high = start // size + 1, max(math.ceil(end / size), index)
    todo = [i for i in range(low, high + 1) if i not in pages]
    planned, done = 1 + len(todo), 1
    if on_progress:
        await on_progress(done, planned)

    async def fetch(page_index: int) -> RawActivitiesPage:
        nonlocal done
        page = await client.get_activities_page(replace(query, page_index=page_index, page_size=size))
        done += 1
        if on_progress:
            await on_progress(done, planned)
        return page

    pages.update(zip(todo, await gather_all([partial(fetch, i) for i in todo]), strict=True))
    total, rows = merge_pages([pages[i] for i in sorted(pages) if i >= low])
    return total, rows[start - (low - 1) * size :]


async def gather_all(calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run `calls` concurrently and return their results in order. The first failure stops the
    others (no API call is spent on a result that will be thrown away) and is raised as it is."""
    results: dict[int, T] = {}
    failures: list[LeadSquaredError] = []

    async def run(position: int, call: Callable[[], Awaitable[T]]) -> None:
        try:
            results[position] = await call()
        except LeadSquaredError as exc:
            failures.append(exc)
            group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        for position, call in enumerate(calls):
            group.start_soon(run, position, call)
    if failures:
        raise failures[0]
    return [results[i] for i in range(len(calls))]


# A shared email address can match several leads; this many are read, no more.
MAX_LEADS = 5


async def find_lead_opportunities(
    client: LeadSquaredClient,
    *,
    email: str | None = None,
    lead_id: str | None = None,
    opportunity_type: int | None = None,
) -> FoundOpportunities:
    """The lead(s) with this email (or this lead id) and each one's opportunities, newest first."""
    leads: list[tuple[RawLead | None, str]] = []
    if lead_id is not None:
        leads.append((None, lead_id))
    elif email is not None:
        leads += [(lead, lead.id) for lead in await client.get_leads_by_email(email) if lead.id][:MAX_LEADS]

    async def read(lead: RawLead | None, lead_id: str) -> LeadSummary:
        page = await client.get_opportunities_of_lead(lead_id, opportunity_type)
        return condense_lead(lead, lead_id, page.rows)

    return FoundOpportunities(leads=await gather_all([partial(read, lead, lid) for lead, lid in leads]))
