"""find_opportunities through the MCP client against the sandbox."""

from __future__ import annotations

import pytest

from lsq_mcp.sandbox import SandboxServer
from lsq_mcp.sandbox.data import (
    LEAD_EMILY,
    LEAD_ZOE,
    OPP_BIG,
    OPP_SUPPORT,
)
from tests.conftest import calls_made_by_tools, connect, structured, text_of

pytestmark = pytest.mark.anyio


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
