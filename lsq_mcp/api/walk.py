"""Reading many pages of an opportunity's activities: the walks behind `fetch_all` and a window.

`fetch_activities` (fetch_all) asks for pages as large as the API allows (fewer calls against the
account's rate limit) and fetches all pages after the first concurrently (the limiter paces them).
`fetch_window` reads pages one after the other until it is past the window's far edge. Both cope
with an API that answers shorter pages than asked for, never return an activity twice, and hand
each page to a `condense` function as it arrives (that makes the page's items: condensed
activities, or the rows themselves: `as_read`).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any, TypeVar, overload

import anyio

from lsq_mcp.api.connection import Connection
from lsq_mcp.api.endpoints import ActivitiesQuery, get_activities_page
from lsq_mcp.api.models import RawActivitiesPage, RawActivity
from lsq_mcp.api.window import Window
from lsq_mcp.errors import BadRequestError, LeadSquaredError, ServerError

MAX_PAGE_SIZE = 1000
T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")

# Called after each page with (pages fetched, pages planned).
ProgressCallback = Callable[[int, int], Awaitable[None]]
# What a walk makes of each page's rows: one item per row, in order (the rows themselves: `as_read`).
Condense = Callable[[list[RawActivity]], Awaitable[list[T]]]


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


async def as_read(rows: list[RawActivity]) -> list[RawActivity]:
    """The `condense` of a walk that returns the rows as read."""
    return rows


async def fetch_activities(
    conn: Connection,
    query: ActivitiesQuery,
    max_activities: int,
    condense: Condense[T],
    on_progress: ProgressCallback | None = None,
) -> tuple[int, list[T]]:
    """`(total, what condense made of the rows from the query's first activity on)`, at most
    `max_activities` rows, reading as few pages as the API allows. Each page is handed to `condense` as
    it arrives (one item per row, in order), so a long walk never holds its raw rows all at once."""
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
    if len(first.rows) != min(size, total - (index - 1) * size):
        # Not the rows that page holds: the API serves pages smaller than asked, and may count
        # offsets in its own size. Page 1 is full in any size, so it tells that size; walk in it.
        if index != 1:
            first = await get_activities_page(conn, replace(query, page_index=1, page_size=size))
        if not first.rows:
            return total, []
        index, size = 1, len(first.rows)
    low, high = start // size + 1, max(math.ceil(end / size), index)
    todo = [i for i in range(low, high + 1) if i != index]
    planned, done = 1 + len(todo), 1
    seen: set[str] = set()
    condensed: dict[int, list[T]] = {}

    async def condense_page(page_index: int, page: RawActivitiesPage) -> None:
        offset = (page_index - 1) * size
        condensed[page_index] = await condense(
            unseen(page.rows[max(start - offset, 0) : max(end - offset, 0)], seen)
        )

    if index >= low:
        await condense_page(index, first)
    if on_progress:
        await on_progress(done, planned)

    async def fetch(page_index: int) -> None:
        nonlocal done
        page = await get_activities_page(conn, replace(query, page_index=page_index, page_size=size))
        await condense_page(page_index, page)
        done += 1
        if on_progress:
            await on_progress(done, planned)

    await gather_all([partial(fetch, i) for i in todo])
    return total, [item for i in sorted(condensed) for item in condensed[i]]


async def fetch_window(
    conn: Connection,
    query: ActivitiesQuery,
    window: Window,
    max_activities: int,
    condense: Condense[T],
    on_progress: ProgressCallback | None = None,
) -> tuple[int, list[T], bool]:
    """`(total, what condense made of the window's rows, whether the window holds more)`: the activities of
    `query` created in `window`, at most `max_activities`, in the query's order (its sort column must
    be the creation time; its page index is not used).

    LeadSquared has no date filter, so pages of `query.page_size` are read one after the other from
    the first, and the walk stops at the first page that reaches past the window's far edge (`since`
    when newest first, `until` when oldest first), or once it holds `max_activities` and knows
    whether there are more. `total` is LeadSquared's count for the whole query. Rows whose creation
    time cannot be read are in no window.
    """
    newest_first = query.sort_direction == "newest_first"
    size, index = query.page_size, 1
    seen: set[str] = set()
    items: list[T] = []
    while True:
        page = await get_activities_page(conn, replace(query, page_index=index, page_size=size))
        total = page.record_count
        if index == 1 and 0 < len(page.rows) < min(size, total):
            size = len(page.rows)  # the API serves smaller pages than asked: read on in its size
        dated = [
            (row, row.created_at) for row in unseen(page.rows, seen) if isinstance(row.created_at, datetime)
        ]
        inside = [row for row, moment in dated if window.contains(moment)]
        room = max_activities - len(items)
        items += await condense(inside[:room])
        if on_progress:
            await on_progress(index, max(index, math.ceil(total / size)))
        if len(inside) > room:
            return total, items, True
        if _past_edge(window, [moment for _, moment in dated], newest_first) or index * size >= total:
            return total, items, False
        if not page.rows:
            return total, items, False
        index += 1


def _past_edge(window: Window, moments: list[datetime], newest_first: bool) -> bool:
    """Whether a page with these creation times reaches past the window's far edge."""
    if newest_first:
        return window.since is not None and any(moment < window.since for moment in moments)
    return window.until is not None and any(moment > window.until for moment in moments)


def unseen(rows: Sequence[RawActivity], seen: set[str]) -> list[RawActivity]:
    """The rows not in `seen` (pages can shift under a walk, repeating an activity), now added to it."""
    fresh = []
    for row in rows:
        key = row.key
        if key not in seen:
            seen.add(key)
            fresh.append(row)
    return fresh


@overload
async def gather_all(
    calls: tuple[Callable[[], Awaitable[A]], Callable[[], Awaitable[B]], Callable[[], Awaitable[C]]],
) -> tuple[A, B, C]: ...
@overload
async def gather_all(calls: list[Callable[[], Awaitable[T]]]) -> list[T]: ...
async def gather_all(calls: Sequence[Callable[[], Awaitable[Any]]]) -> Sequence[Any]:
    """Run `calls` concurrently and return their results in order (a tuple of three calls' results, each
    of its own type, or a list). The first failure stops the others (no API call is spent on a result
    that will be thrown away) and is raised as it is."""
    results: dict[int, Any] = {}
    failures: list[LeadSquaredError] = []

    async def run(position: int, call: Callable[[], Awaitable[Any]]) -> None:
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
    ordered = [results[i] for i in range(len(calls))]
    return tuple(ordered) if isinstance(calls, tuple) else ordered
