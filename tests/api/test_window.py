"""A window of time (since/until) through the MCP client against the sandbox: the activities of the
window, in few calls (counted), refused before any call when it cannot be read."""

from __future__ import annotations

from typing import Any

import pytest

from lsq_mcp.sandbox import SandboxConfig, SandboxServer
from lsq_mcp.sandbox.data import BIG_ACTIVITY_COUNT, OPP_BIG
from tests.conftest import ACTIVITIES, TOOL, calls_made_by_tools, connect, hits, structured, text_of

pytestmark = pytest.mark.anyio


async def everything(sandbox: SandboxServer, **arguments: Any) -> list[dict[str, Any]]:
    """Every activity of the big opportunity in one page (newest first), the log emptied after."""
    async with connect(sandbox) as client:
        data = structured(
            await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 1000, **arguments})
        )
    sandbox.state.reset()
    activities: list[dict[str, Any]] = data["activities"]
    return activities


def created(activities: list[dict[str, Any]]) -> list[str]:
    return [a["created_at"] for a in activities]


async def test_a_recent_window_costs_one_call(sandbox: SandboxServer) -> None:
    newest = created(await everything(sandbox))
    since = newest[10][:10]  # the day of the 11th newest activity: a page of 25 reaches past it
    async with connect(sandbox) as client:
        result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "since": since})
    data = structured(result)
    assert created(data["activities"]) == [c for c in newest if c >= since]
    assert hits(sandbox, ACTIVITIES) == 1
    assert (data["since"], data["total"], data["has_more"]) == (
        f"{since}T00:00:00Z",
        BIG_ACTIVITY_COUNT,
        False,
    )
    assert "until" not in data
    assert "next_page_index" not in data
    header = text_of(result).splitlines()[2]
    assert header.startswith(f"Activities created since {since}T00:00:00Z: {data['returned']}, newest first")


@pytest.mark.parametrize("order", ["newest_first", "oldest_first"])
async def test_a_window_in_the_middle_reads_the_largest_pages_whatever_the_paging_arguments(
    sandbox: SandboxServer, order: str
) -> None:
    every = created(await everything(sandbox, sort_direction=order))
    since, until = "2024-06-01", "2024-09-30"
    inside = [c for c in every if since <= c[:10] <= until]
    assert len(inside) > 50, "the sample holds a good part of its history there"
    results = []
    async with connect(sandbox) as client:
        for paging in ({}, {"page_size": 50, "page_index": 7}, {"page_size": 1000}):
            arguments = {"opportunity_id": OPP_BIG, "since": since, "until": until, "sort_direction": order}
            results.append(structured(await client.call_tool(TOOL, {**arguments, **paging})))
    for data in results:
        assert created(data["activities"]) == inside
        assert data["until"] == "2024-09-30T23:59:59Z", "a date alone includes that whole day"
    pages = [r.body["Paging"] for r in sandbox.state.requests if r.path.endswith(ACTIVITIES)]
    assert pages == [{"PageIndex": 1, "PageSize": 1000}] * 3, "640 activities: one page each"


async def test_a_window_fuller_than_max_activities_says_how_to_read_on(sandbox: SandboxServer) -> None:
    every = await everything(sandbox)
    window = {"opportunity_id": OPP_BIG, "since": "2024-01-01T00:00:00+01:00", "until": "2024-12-31"}
    inside = [a for a in every if "2023-12-31T23:00:00Z" <= a["created_at"] <= "2024-12-31T23:59:59Z"]
    async with connect(sandbox) as client:
        first = await client.call_tool(TOOL, {**window, "max_activities": 40, "page_size": 100})
        data = structured(first)
        assert (data["returned"], data["has_more"]) == (40, True)
        assert data["activities"] == inside[:40]
        assert data["since"] == "2023-12-31T23:00:00Z", "an offset is honoured"
        oldest = data["activities"][-1]["created_at"]
        assert f"The window holds more: to read on, ask again with until={oldest}" in text_of(first)
        rest = structured(await client.call_tool(TOOL, {**window, "until": oldest, "max_activities": 1000}))
    assert rest["has_more"] is False
    # Reading on repeats the activities of the second it starts at, and misses none.
    assert rest["activities"][0]["created_at"] == oldest
    assert {a["id"] for a in data["activities"] + rest["activities"]} == {a["id"] for a in inside}


async def test_a_window_over_an_api_that_refuses_large_pages_reads_in_the_size_asked(
    sandbox: SandboxServer,
) -> None:
    every = created(await everything(sandbox))
    sandbox.state.config = SandboxConfig(rate_limit=None, page_size_limit=100)
    async with connect(sandbox) as client:
        data = structured(
            await client.call_tool(
                TOOL,
                {"opportunity_id": OPP_BIG, "since": "2024-06-01", "until": "2024-09-30", "page_size": 100},
            )
        )
    assert created(data["activities"]) == [c for c in every if "2024-06-01" <= c[:10] <= "2024-09-30"]
    sizes = [r.body["Paging"]["PageSize"] for r in sandbox.state.requests if r.path.endswith(ACTIVITIES)]
    assert sizes[0] == 1000, "the largest page is asked for first"
    assert set(sizes[1:]) == {100}


async def test_an_empty_window(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "since": "2030-01-01"})
    data = structured(result)
    assert (data["returned"], data["activities"], data["has_more"]) == (0, [], False)
    assert hits(sandbox, ACTIVITIES) == 1


@pytest.mark.parametrize(
    ("arguments", "names"),
    [
        ({"since": "March"}, ["since", "ISO 8601", "'March'"]),
        ({"until": "2025-02-30"}, ["until", "ISO 8601"]),
        ({"since": "2025-03-01", "until": "2025-02-01"}, ["since (2025-03-01) is after until (2025-02-01)"]),
        ({"since": "2025-03-01", "sort_column": "Score"}, ["sort_column", "window", "'Score'"]),
        ({"until": 20250301}, ["until"]),
        ({"since": "0001-01-01T00:00:00+01:00"}, ["since", "ISO 8601", "'0001-01-01T00:00:00+01:00'"]),
        ({"until": "9999-12-31T23:00:00-01:00"}, ["until", "'9999-12-31T23:00:00-01:00'"]),
    ],
)
async def test_a_window_that_cannot_be_read_is_refused_before_any_call(
    sandbox: SandboxServer, arguments: dict[str, Any], names: list[str]
) -> None:
    async with connect(sandbox) as client:
        result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, **arguments})
    assert result.is_error
    for name in names:
        assert name in text_of(result)
    assert "No API call was made." in text_of(result)
    assert calls_made_by_tools(sandbox) == []
