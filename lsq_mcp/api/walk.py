"""Reading many pages of an opportunity's activities: the walk behind `fetch_all`.

It asks for pages as large as the API allows (fewer calls against the account's rate
limit), fetches all pages after the first concurrently (the limiter paces them), copes
with an API that answers shorter pages than asked for, and never returns an activity twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import TypeVar

import anyio

from lsq_mcp.api.connection import Connection
from lsq_mcp.api.endpoints import ActivitiesQuery, get_activities_page
from lsq_mcp.api.models import RawActivitiesPage, RawActivity
from lsq_mcp.errors import BadRequestError, LeadSquaredError, ServerError

MAX_PAGE_SIZE = 1000
T = TypeVar("T")

# Called after each page with (pages fetched, pages planned).
ProgressCallback = Callable[[int, int], Awaitable[None]]


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


async def fetch_activities(
    conn: Connection,
    query: ActivitiesQuery,
    max_activities: int,
    on_progress: ProgressCallback | None = None,
) -> tuple[int, list[RawActivity]]:
    """`(total, rows from the query's first activity on)`, at least `max_activities` of them where
    there are that many, reading as few pages as the API allows."""
    start = (query.page_index - 1) * query.page_size
    index, size = big_page(query.page_index, query.page_size, max_activities)
    try:
        first = await get_activities_page(conn, replace(query, page_index=index, page_size=size))
    except (BadRequestError, ServerError) as exc:
        if size == query.page_size or exc.retryable:
            raise
        # The API refuses pages this large (its maximum is unconfirmed): walk in the caller's size.
        index, size = query.page_index, query.page_size
        first = await get_activities_page(conn, query)
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
            else await get_activities_page(conn, replace(query, page_index=1, page_size=size))
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
        page = await get_activities_page(conn, replace(query, page_index=page_index, page_size=size))
        done += 1
        if on_progress:
            await on_progress(done, planned)
        return page

    pages.update(zip(todo, await gather_all([partial(fetch, i) for i in todo]), strict=True))
    total, rows = merge_pages([pages[i] for i in sorted(pages) if i >= low])
    return total, rows[start - (low - 1) * size :]


def merge_pages(pages: Sequence[RawActivitiesPage]) -> tuple[int, list[RawActivity]]:
    """One list of rows from consecutive pages, without an activity twice (pages can shift under us)."""
    total = pages[-1].record_count if pages else 0
    seen: set[str] = set()
    rows: list[RawActivity] = []
    for page in pages:
        for row in page.rows:
            key = row.id or json.dumps(row.model_dump(mode="json", by_alias=True), sort_keys=True)
            if key not in seen:
                seen.add(key)
                rows.append(row)
    return total, rows


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
