"""Deal history: event names, companion tools, the prompt, whole timelines and the text budget."""

from __future__ import annotations

import time
from collections.abc import Iterator

import anyio
import pytest
from mcp import Client

from lsq_mcp.condense import TEXT_BUDGET
from lsq_mcp.sandbox import Fault, SandboxConfig, SandboxServer
from lsq_mcp.sandbox.data import (
    LEAD_EMILY,
    LEAD_ZOE,
    OPP_BIG,
    OPP_HUGE,
    OPP_SUPPORT,
    OPP_UNICODE,
    UNLISTED_EVENT_CODE,
    build_catalog,
)
from lsq_mcp.server import create_server
from lsq_mcp.settings import Settings
from tests.conftest import ACTIVITIES, TOOL, calls_made_by_tools, connect, env_for, structured, text_of

pytestmark = pytest.mark.anyio

TYPES_PATH = "ActivityTypes.Get"
HUGE = 5000


def hits(sandbox: SandboxServer, endpoint: str) -> int:
    return sum(1 for r in sandbox.state.requests if r.path.endswith(endpoint))


@pytest.fixture(scope="module")
def huge_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(rate_limit=None), catalog=build_catalog(huge_activities=HUGE)) as server:
        yield server


async def test_tool_list_is_small_and_read_only(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        tools = (await client.list_tools()).tools
        prompts = (await client.list_prompts()).prompts
    assert sorted(t.name for t in tools) == [
        "find_opportunities",
        "get_opportunity",
        "get_opportunity_activities",
        "list_activity_types",
    ]
    for tool in tools:
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is True
        assert tool.output_schema is not None
        assert tool.description
        assert len(tool.description) < 400
    assert [p.name for p in prompts] == ["deal_history"]


async def test_event_codes_get_their_names(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        result = await client.call_tool(
            TOOL, {"opportunity_id": OPP_BIG, "activity_event_code": 22, "page_size": 3}
        )
        unicode = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_UNICODE, "page_size": 50}))
    assert {a["event_name"] for a in structured(result)["activities"]} == {"Outbound Phone Call"}
    assert "Outbound Phone Call [22]" in text_of(result)
    unlisted = [a for a in unicode["activities"] if a["event_code"] == UNLISTED_EVENT_CODE]
    assert unlisted
    assert all("event_name" not in a for a in unlisted), "a code with no name stays a code"


async def test_names_are_fetched_once_for_many_concurrent_calls(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        async with anyio.create_task_group() as group:
            for page in range(1, 11):
                group.start_soon(client.call_tool, TOOL, {"opportunity_id": OPP_BIG, "page_index": page})
        await client.call_tool("list_activity_types", {})
    assert hits(sandbox, ACTIVITIES) == 10
    assert hits(sandbox, TYPES_PATH) == 1


async def test_names_failing_leaves_codes_and_the_call_succeeds(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(Fault("status", status=500, count=10, path=TYPES_PATH))
    async with connect(sandbox, LSQ_MAX_RETRIES="0") as client:
        result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 5})
        again = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 5})
    data = structured(result)
    assert all("event_name" not in a for a in data["activities"])
    assert structured(again)["returned"] == 5
    assert hits(sandbox, TYPES_PATH) == 1, "a failed lookup is not repeated on every call"


async def test_list_activity_types(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        result = await client.call_tool("list_activity_types", {})
    types = {t["code"]: t["name"] for t in structured(result)["activity_types"]}
    assert types[22] == "Outbound Phone Call"
    assert "22 Outbound Phone Call" in text_of(result).splitlines()


async def test_get_opportunity(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        result = await client.call_tool("get_opportunity", {"opportunity_id": OPP_BIG})
    data = structured(result)
    assert data["id"] == OPP_BIG
    assert data["name"] == "Acme Corp – Enterprise renewal"
    assert (data["status"], data["stage"], data["owner"]) == ("Open", "Negotiation", "Rohan Sane")
    assert data["value"] == "248000.00"
    assert data["lead_id"] == LEAD_ZOE
    assert data["created_at"] == "2023-09-04T09:12:00Z"
    assert data["fields"]["Currency"] == "EUR"
    assert text_of(result).startswith(f"Opportunity {OPP_BIG} · Acme Corp – Enterprise renewal")


async def test_get_opportunity_errors(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        bad = await client.call_tool("get_opportunity", {"opportunity_id": "acme"})
        unknown = await client.call_tool(
            "get_opportunity", {"opportunity_id": "00000000-0000-4000-8000-000000000000"}
        )
    assert bad.is_error
    assert "opportunity_id" in text_of(bad)
    assert unknown.is_error
    assert "500" in text_of(unknown)
    assert "Opportunity does not exist" in text_of(unknown)


async def test_find_opportunities_by_email_newest_first(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        result = await client.call_tool("find_opportunities", {"email": "ZOE.MUELLER@acme.example"})
    [lead] = structured(result)["leads"]
    assert (lead["id"], lead["name"]) == (LEAD_ZOE, "Zoë Müller")
    assert [o["id"] for o in lead["opportunities"]] == [OPP_SUPPORT, OPP_BIG]
    assert "Acme Corp – Support add-on" in text_of(result)


async def test_find_opportunities_by_lead_id_and_empty_answers(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        by_id = structured(await client.call_tool("find_opportunities", {"lead_id": LEAD_ZOE}))
        none = await client.call_tool("find_opportunities", {"email": "nobody@example.com"})
        emily = structured(await client.call_tool("find_opportunities", {"lead_id": LEAD_EMILY}))
    assert len(by_id["leads"][0]["opportunities"]) == 2
    assert structured(none)["leads"] == []
    assert text_of(none) == "No lead found."
    assert emily["leads"][0]["opportunities"] == []


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({}, "exactly one of email"),
        ({"email": "a@b.co", "lead_id": LEAD_ZOE}, "exactly one of email"),
        ({"email": "not an email"}, "email"),
        ({"lead_id": "zoe"}, "lead_id"),
    ],
)
async def test_find_opportunities_refuses_bad_arguments(
    sandbox: SandboxServer, arguments: dict[str, str], says: str
) -> None:
    async with connect(sandbox) as client:
        result = await client.call_tool("find_opportunities", arguments)
    assert result.is_error
    assert says in text_of(result)
    assert calls_made_by_tools(sandbox) == []


async def test_deal_history_prompt(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        prompt = await client.get_prompt("deal_history", {"opportunity_id": OPP_BIG})
    text = "".join(m.content.text for m in prompt.messages if m.content.type == "text")
    assert OPP_BIG in text
    assert "get_opportunity" in text
    assert "fetch_all" in text
    assert "Cite" in text


async def test_fetch_all_over_an_api_that_caps_page_sizes(sandbox: SandboxServer) -> None:
    sandbox.state.config = SandboxConfig(rate_limit=None, max_page_size=100)
    async with connect(sandbox) as client:
        data = structured(
            await client.call_tool(
                TOOL, {"opportunity_id": OPP_BIG, "fetch_all": True, "max_activities": 1000}
            )
        )
        later = structured(
            await client.call_tool(
                TOOL, {"opportunity_id": OPP_BIG, "fetch_all": True, "page_index": 3, "page_size": 50}
            )
        )
        by_hand = structured(
            await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 100, "page_index": 2})
        )
    assert data["returned"] == 640
    assert len({a["id"] for a in data["activities"]}) == 640
    assert later["returned"] == 500
    assert later["activities"][:50] == by_hand["activities"][:50]


async def test_fetch_all_cancelled_makes_no_further_calls(sandbox: SandboxServer) -> None:
    sandbox.state.config = SandboxConfig(rate_limit=None, max_page_size=25)
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


async def test_the_text_keeps_to_its_budget_and_the_structure_stays_whole(
    huge_sandbox: SandboxServer,
) -> None:
    updates: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total))

    began = time.monotonic()
    async with connect(huge_sandbox) as client:
        result = await client.call_tool(
            TOOL,
            {"opportunity_id": OPP_HUGE, "fetch_all": True, "max_activities": 10000, "page_size": 500},
            progress_callback=on_progress,
        )
    assert time.monotonic() - began < 30
    data = structured(result)
    assert data["returned"] == HUGE
    text = text_of(result)
    assert len(text) <= TEXT_BUDGET
    lines = text.splitlines()
    summary = lines[-1]
    assert summary.startswith("… ")
    assert "older activities not shown as text" in summary
    assert "× Outbound Phone Call [22]" in summary
    assert "page_size=" in summary
    # The newest activities are the ones shown in full.
    shown = len(lines) - 4
    assert lines[3].startswith(data["activities"][0]["created_at"][:10])
    assert int(summary.split()[1]) == HUGE - shown
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
    the same activities as reading every activity one page at a time would, from page_index on."""
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
            start = (page_index - 1) * page_size
            got = [a["id"] for a in structured(result)["activities"]]
            assert got == [a["id"] for a in everything[start : start + most]], (clamp, refuse, arguments)
