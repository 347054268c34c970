"""Pages that do not behave, over real HTTP: rows out of order, counts that lie, pages that repeat
rows, structure where text belongs. Each is served by `tests.hostile.HostileServer` and read
through the MCP client; the API calls it takes are counted."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import pytest

from tests.conftest import TOOL, structured
from tests.hostile import OPP, HostileServer, Reply, Request, connect_to, page, paged, row, types_or

pytestmark = pytest.mark.anyio

NEWEST = datetime(2024, 6, 1, tzinfo=timezone.utc)
ACTIVITIES = "GetActivitiesOfOpportunity"


def hourly(count: int) -> list[dict[str, Any]]:
    """`count` activities newest first, one an hour back from NEWEST."""
    return [row(i, PACreatedOn=f"{NEWEST - timedelta(hours=i):%Y-%m-%d %H:%M:%S}") for i in range(count)]


class Recorder:
    """Answers with `answer` and notes the (PageIndex, PageSize) of each activities call."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.pages: list[tuple[int, int]] = []

    def __call__(self, request: Request) -> Reply:
        if request.path.endswith(ACTIVITIES):
            paging = json.loads(request.body)["Paging"]
            self.pages.append((paging["PageIndex"], paging["PageSize"]))
        reply: Reply = self.answer(request)
        return reply


async def call(recorder: Recorder, **arguments: Any) -> dict[str, Any]:
    with HostileServer(types_or(recorder)) as hostile:
        async with connect_to(hostile) as client:
            with anyio.fail_after(30):
                return structured(await client.call_tool(TOOL, {"opportunity_id": OPP, **arguments}))


async def test_a_row_out_of_order_does_not_end_a_window_early() -> None:
    rows = hourly(2500)
    rows[3]["PACreatedOn"] = "2020-01-01 00:00:00"  # an import, years older, among the newest
    since = NEWEST - timedelta(hours=1499)
    recorder = Recorder(paged(rows))
    data = await call(recorder, since=f"{since:%Y-%m-%dT%H:%M:%SZ}", max_activities=5000)
    assert data["returned"] == 1499, "every activity of the window but the one out of it"
    assert data["has_more"] is False
    # Pages of 1000 whatever page_size says; page 2 is in order and reaches past since: the last read.
    assert recorder.pages == [(1, 1000), (2, 1000)]


async def test_a_page_wholly_past_the_window_ends_it_even_out_of_order() -> None:
    rows = hourly(2500)
    rows[1000], rows[1001] = rows[1001], rows[1000]  # page 2, out of order, and wholly older
    recorder = Recorder(paged(rows))
    data = await call(recorder, since=f"{NEWEST - timedelta(hours=10):%Y-%m-%dT%H:%M:%SZ}", page_size=10)
    assert data["returned"] == 11
    assert recorder.pages == [(1, 1000)]


@pytest.mark.parametrize(
    "arguments",
    [{"since": "2000-01-01"}, {"fetch_all": True, "max_activities": 10000}, {}],
    ids=["window", "fetch_all", "page"],
)
async def test_a_short_page_ends_a_walk_whatever_recordcount_says(
    arguments: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(lambda _: page([row(i) for i in range(10)], count=2_000_000_000))
    with caplog.at_level(logging.WARNING, logger="lsq_mcp"):
        data = await call(recorder, **arguments)
    assert data["returned"] == 10
    assert data["total"] == 2_000_000_000
    assert len(recorder.pages) == 1
    walked = bool(arguments)
    # A walk stopped against the count says so: an API serving smaller pages than asked looks the same.
    assert ("the walk ends at this page" in caplog.text) is walked


async def test_a_list_or_an_object_where_text_belongs_is_read_as_its_text() -> None:
    odd = row(0, Status=["Open", "Won"], PACreatedByName={"name": "Ann"}, ActivityEvent_Note=[])
    data = await call(Recorder(lambda _: page([odd, row(1)])))
    first = data["activities"][0]
    assert (first["status"], first["created_by"]) == ('["Open", "Won"]', '{"name": "Ann"}')
    assert "note" not in first, "an empty list is no value"
    assert data["returned"] == 2


async def test_activities_repeated_on_a_later_page_are_shown_once_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rows = hourly(1500)
    rows[1000:1005] = [dict(r) for r in rows[995:1000]]  # the pages shifted under the walk
    with caplog.at_level(logging.WARNING, logger="lsq_mcp"):
        data = await call(Recorder(paged(rows)), fetch_all=True, max_activities=5000)
    ids = [a["id"] for a in data["activities"]]
    assert len(ids) == len(set(ids)) == 1495
    assert "LeadSquared sent 5 activities again on a later page" in caplog.text
