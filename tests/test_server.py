"""The assembled server: its tools, their annotations, the prompt."""

from __future__ import annotations

import pytest
from mcp.shared.exceptions import MCPError

from lsq_mcp.sandbox import SandboxServer
from lsq_mcp.sandbox.data import (
    OPP_BIG,
)
from tests.conftest import connect

pytestmark = pytest.mark.anyio


async def test_tool_list_is_small_and_read_only(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        tools = (await client.list_tools()).tools
        prompts = (await client.list_prompts()).prompts
    assert sorted(t.name for t in tools) == [
        "find_opportunities",
        "get_opportunity",
        "get_opportunity_activities",
        "get_opportunity_tasks",
        "list_activity_types",
        "summarize_opportunity",
    ]
    for tool in tools:
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is True
        assert tool.output_schema is not None
        assert tool.description
        assert len(tool.description) < 400
    assert [p.name for p in prompts] == ["deal_history"]


async def test_deal_history_prompt(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        prompt = await client.get_prompt("deal_history", {"opportunity_id": OPP_BIG})
    text = "".join(m.content.text for m in prompt.messages if m.content.type == "text")
    assert OPP_BIG in text
    assert "get_opportunity" in text
    assert "fetch_all" in text
    assert "Cite" in text
    # Found first, then the cheap path: the summary, the activities the question needs, the tasks.
    steps = [text.index("find_opportunities")]
    steps += [text.index(f"Call {tool} ") for tool in ("summarize_opportunity", "get_opportunity_activities")]
    steps.append(text.index("Call get_opportunity_tasks "))
    assert steps == sorted(steps)
    assert "since/until" in text


async def test_deal_history_prompt_takes_what_people_call_the_deal(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        prompt = await client.get_prompt("deal_history", {"opportunity_id": "  gold coast\ncocoa expansion "})
    text = "".join(m.content.text for m in prompt.messages if m.content.type == "text")
    assert text.startswith('Tell me the history of the LeadSquared deal "gold coast cocoa expansion".')
    assert 'call find_opportunities with query "gold coast cocoa expansion"' in text.replace("\n   ", " ")


async def test_instructions_start_from_a_name_then_lead_with_the_summary(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        instructions = client.instructions or ""
    tools = ("find_opportunities", "summarize_opportunity", "get_opportunity_activities")
    order = [instructions.index(tool) for tool in tools]
    assert order == sorted(order)
    assert "query" in instructions
    assert "get_opportunity_tasks" in instructions


async def test_deal_history_prompt_shows_the_deal_without_control_characters(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        prompt = await client.get_prompt("deal_history", {"opportunity_id": "gold\x1b[2J \u202ecoast\u200b"})
        with pytest.raises(MCPError, match="opportunity_id"):
            await client.get_prompt("deal_history", {"opportunity_id": "\u200b\u202e"})
    text = "".join(m.content.text for m in prompt.messages if m.content.type == "text")
    assert text.startswith('Tell me the history of the LeadSquared deal "gold[2J coast".')
    assert all(c.isprintable() for c in text if c != "\n")
