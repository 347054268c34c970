"""Activity type names: on the timeline, fetched once, and list_activity_types."""

from __future__ import annotations

import anyio
import pytest

from lsq_mcp.sandbox import Fault, SandboxServer
from lsq_mcp.sandbox.data import (
    OPP_BIG,
    OPP_UNICODE,
    UNLISTED_EVENT_CODE,
)
from tests.conftest import ACTIVITIES, TOOL, connect, hits, structured, text_of

pytestmark = pytest.mark.anyio

TYPES_PATH = "ActivityTypes.Get"


async def test_event_codes_get_their_names(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        result = await client.call_tool(
            TOOL, {"opportunity_id": OPP_BIG, "activity_event_code": 22, "page_size": 3}
        )
        unicode = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_UNICODE, "page_size": 50}))
    assert {a["event_name"] for a in structured(result)["activities"]} == {"Outbound Phone Call"}
    assert "Types: 22 Outbound Phone Call" in text_of(result)
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
