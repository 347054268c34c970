"""Progress notifications through the MCP client: a call that waits its turn under the rate limit
says so every HEARTBEAT_SECONDS, so that a client that gives up on a silent call (after 5 s, for
some) hears of it; each notification's progress is higher than the one before."""

from __future__ import annotations

import anyio
import pytest

from lsq_mcp.sandbox import SandboxServer
from lsq_mcp.sandbox.data import OPP_BIG
from lsq_mcp.tools.progress import HEARTBEAT_SECONDS
from tests.conftest import TOOL, connect, structured
from tests.hostile import OPP, HostileServer, Reply, Request, connect_to, json_reply, paged, row, types_or

pytestmark = pytest.mark.anyio

Update = tuple[float, float | None, str | None]


async def test_a_call_waiting_its_turn_under_the_rate_limit_says_so(sandbox: SandboxServer) -> None:
    updates: list[Update] = []

    async def note(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    # One call every 3 s: the type names looked up as the server starts take the first place.
    async with connect(sandbox, LSQ_RATE_LIMIT="1/3") as client:
        with anyio.fail_after(20):
            result = await client.call_tool(
                "get_opportunity_tasks", {"opportunity_id": OPP_BIG}, progress_callback=note
            )
    structured(result)
    assert updates, "the client heard nothing while the call waited"
    assert updates[0][2] == "waiting for a turn under the rate limit (1 call per 3 seconds)"
    progress = [update[0] for update in updates]
    assert progress == sorted(set(progress)), "each notification's progress is higher than the last"


async def test_a_walk_tells_its_pages_and_its_waits_in_one_rising_sequence() -> None:
    updates: list[Update] = []

    async def note(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    def answer(request: Request) -> Reply:
        if request.path.endswith("GetActivitySetting"):
            return json_reply({"Fields": []})
        return paged([row(i) for i in range(1500)])(request)

    with HostileServer(types_or(answer)) as hostile:
        async with connect_to(hostile, LSQ_RATE_LIMIT="1/2.5") as client:
            with anyio.fail_after(30):
                result = await client.call_tool(
                    TOOL,
                    {"opportunity_id": OPP, "fetch_all": True, "max_activities": 1500},
                    progress_callback=note,
                )
    assert structured(result)["returned"] == 1500
    messages = [update[2] for update in updates]
    assert "page 1 of 2" in messages
    assert "page 2 of 2" in messages
    assert "waiting for a turn under the rate limit (1 call per 2.5 seconds)" in messages
    progress = [update[0] for update in updates]
    assert progress == sorted(set(progress)), "each notification's progress is higher than the last"
    assert HEARTBEAT_SECONDS < 5, "within the shortest silence clients are known to give up after"
