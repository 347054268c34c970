"""get_opportunity through the MCP client against the sandbox."""

from __future__ import annotations

import pytest

from lsq_mcp.sandbox import SandboxServer
from lsq_mcp.sandbox.data import (
    LEAD_ZOE,
    OPP_BIG,
)
from tests.conftest import connect, structured, text_of

pytestmark = pytest.mark.anyio


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
