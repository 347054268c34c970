"""Reading many pages of an opportunity's activities: the walks behind `fetch_all` and a window.

Both ask for pages as large as the API allows (fewer calls against the account's rate limit).
`fetch_activities` (fetch_all) fetches all pages after the first concurrently (the limiter paces
them); `fetch_window` reads pages one after the other until one shows it is past the window. A page
shorter than asked for ends either walk, whatever `RecordCount` says (a count is only a claim);
neither returns an activity twice (and the log says when the API repeated one), and each hands every
page to a `condense` function as it arrives (that makes the page's items: condensed activities, or
the rows themselves: `as_read`).
"""

from __future__ import annotations

import itertools
import logging
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

logger = logging.getLogger(__name__)

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
    it arrives (one item per row, in order), so a long walk never holds its raw rows all at once.
    A first page shorter than asked for is the last, whatever `RecordCount` says."""
    start = (query.page_index - 1) * query.page_size
    first, index, size = await _largest_page(
        conn, query, *big_page(query.page_index, query.page_size, max_activities)
    )
    total = first.record_count
    end = min(total, start + max_activities)
    last = index if ends_short(first, index, size) else max(math.ceil(end / size), index)
    planned, done = 1 + last - index, 1
    seen = Seen()
    condensed: dict[int, list[T]] = {}

    async def condense_page(page_index: int, page: RawActivitiesPage) -> None:
        offset = (page_index - 1) * size
        condensed[page_index] = await condense(
            seen.fresh(page.rows[max(start - offset, 0) : max(end - offset, 0)])
        )

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

    await gather_all([partial(fetch, i) for i in range(index + 1, last + 1)])
    seen.report()
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
    be the creation time; its page index and size are not used).

    LeadSquared has no date filter, so the largest pages the API allows are read one after the other
    from the first, and the walk stops at the first page that shows no later page can hold an
    activity of the window (see `_beyond_window`), at a page shorter than asked for, once past
    `RecordCount`, or once it holds `max_activities` and knows whether there are more. `total` is
    LeadSquared's count for the whole query. Rows whose creation time cannot be read are in no window.
    """
    newest_first = query.sort_direction == "newest_first"
    page, index, size = await _largest_page(conn, replace(query, page_index=1), 1, MAX_PAGE_SIZE)
    seen = Seen()
    items: list[T] = []
    while True:
        total = page.record_count
        dated = [
            (row, row.created_at) for row in seen.fresh(page.rows) if isinstance(row.created_at, datetime)
        ]
        inside = [row for row, moment in dated if window.contains(moment)]
        room = max_activities - len(items)
        items += await condense(inside[:room])
        if on_progress:
            await on_progress(index, max(index, math.ceil(total / size)))
        if len(inside) > room:
            break
        beyond = _beyond_window(window, [moment for _, moment in dated], newest_first)
        if beyond or ends_short(page, index, size) or index * size >= total:
            seen.report()
            return total, items, False
        index += 1
        page = await get_activities_page(conn, replace(query, page_index=index, page_size=size))
    seen.report()
    return total, items, True


async def _largest_page(
    conn: Connection, query: ActivitiesQuery, index: int, size: int
) -> tuple[RawActivitiesPage, int, int]:
    """`(page, index, size)`: page `index` in `size` (larger than the query's), or else the query's own
    page, which a walk then goes on in: when the API refuses pages that large (its maximum is
    unconfirmed), or serves a later page with other than the rows its count says it holds: they may
    not be the ones asked for (an API that serves smaller pages may count offsets in its own size)."""
    try:
        page = await get_activities_page(conn, replace(query, page_index=index, page_size=size))
    except (BadRequestError, ServerError) as exc:
        if size == query.page_size or exc.retryable:
            raise
    else:
        if (
            size == query.page_size
            or index == 1
            or len(page.rows) == min(size, page.record_count - (index - 1) * size)
        ):
            return page, index, size
    return await get_activities_page(conn, query), query.page_index, query.page_size


def ends_short(page: RawActivitiesPage, index: int, size: int) -> bool:
    """Whether page `index` of `size` rows is shorter than asked for, which ends any walk. Where its
    count says more rows follow, the log says so: a bogus count, or an API that serves smaller pages
    than asked for (its maximum page size is unconfirmed), which the walk cannot tell apart."""
    if len(page.rows) >= size:
        return False
    if (index - 1) * size + len(page.rows) < page.record_count:
        logger.warning(
            "LeadSquared sent %d rows for a page of %d while its count says %d activities: the walk "
            "ends at this page",
            len(page.rows),
            size,
            page.record_count,
        )
    return True


def _beyond_window(window: Window, moments: list[datetime], newest_first: bool) -> bool:
    """Whether a page with these creation times (in the order read) shows that no later page can hold
    an activity of the window: it is in date order and reaches past the window's far edge (`since`
    when newest first, `until` when oldest first), or it lies wholly past it. One row out of order
    (an import, a clock gone wrong) proves nothing about the pages after it."""
    edge = window.since if newest_first else window.until
    if edge is None or not moments:
        return False
    past = [moment < edge if newest_first else moment > edge for moment in moments]
    if all(past):
        return True
    in_order = all(
        (later <= earlier) if newest_first else (later >= earlier)
        for earlier, later in itertools.pairwise(moments)
    )
    return in_order and past[-1]


class Seen:
    """The activities a walk has read so far: pages can shift under a walk and repeat one (or an API
    can repeat itself): each is condensed once, and how many came again is said in the log."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self.repeated = 0

    def fresh(self, rows: Sequence[RawActivity]) -> list[RawActivity]:
        """The rows not read before, now noted."""
        fresh = []
        for row in rows:
            key = row.key
            if key in self._keys:
                self.repeated += 1
            else:
                self._keys.add(key)
                fresh.append(row)
        return fresh

    def report(self) -> None:
        if self.repeated:
            logger.warning(
                "LeadSquared sent %d activit%s again on a later page (pages shifted during the walk?): "
                "each is shown once",
                self.repeated,
                "y" if self.repeated == 1 else "ies",
            )


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
