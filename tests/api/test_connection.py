"""Living within the account's rate limit, through the MCP client against the sandbox's strict limit."""

from __future__ import annotations

import logging
import time

import anyio
import pytest

from lsq_mcp.api.endpoints import ACTIVITIES_PATH
from lsq_mcp.sandbox import Fault, SandboxConfig, SandboxServer
from lsq_mcp.sandbox.data import OPP_BIG
from tests.conftest import ACTIVITIES, TOOL, connect, structured

pytestmark = pytest.mark.anyio


async def burst(sandbox: SandboxServer, calls: int, **env: str) -> list[bool]:
    """`calls` concurrent tool calls through one server; whether each succeeded."""
    results: list[bool] = []
    async with connect(sandbox, **env) as client:
        await anyio.sleep(0.6)  # the start-up lookup of type names leaves the window first
        sandbox.state.reset()

        async def call(page: int) -> None:
            result = await client.call_tool(
                TOOL, {"opportunity_id": OPP_BIG, "page_index": page, "page_size": 5}
            )
            results.append(not result.is_error)

        async with anyio.create_task_group() as group:
            for page in range(1, calls + 1):
                group.start_soon(call, page)
    return results


async def test_a_burst_within_the_right_limit_is_never_rejected(sandbox: SandboxServer) -> None:
    sandbox.state.config = SandboxConfig(rate_limit=(8, 0.5))
    began = time.monotonic()
    results = await burst(sandbox, 30, LSQ_RATE_LIMIT="8/0.5")
    elapsed = time.monotonic() - began
    stats = sandbox.state.stats_snapshot()
    assert all(results)
    assert stats.rejected == 0
    assert stats.by_path[ACTIVITIES_PATH] == 30
    # 30 calls at 8 per 0.5 s need three more windows after the first (bench/rate_limit.py measures
    # how close to that bound they come); the lookups of custom field names take their places too.
    assert elapsed >= 3 * 0.5


async def test_a_stricter_real_limit_is_learned_and_costs_at_most_one_window(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.state.config = SandboxConfig(rate_limit=(5, 0.5))
    with caplog.at_level(logging.WARNING, logger="lsq_mcp"):
        results = await burst(sandbox, 25, LSQ_RATE_LIMIT="20/0.5", LSQ_MAX_RETRIES="5")
    assert all(results)
    # One window's worth at most: what the configured limit let through beyond the real one.
    assert sandbox.state.stats_snapshot().rejected <= 20 - 5
    learned = [r for r in caplog.records if "pacing to it" in r.getMessage()]
    assert len(learned) == 1
    assert "5 calls per 0.5 seconds" in learned[0].getMessage()


async def test_timeouts_are_retried(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(Fault("slow", delay=2, count=2, path=ACTIVITIES))
    async with connect(sandbox, LSQ_TIMEOUT="0.3", LSQ_MAX_RETRIES="2") as client:
        data = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG}))
    assert data["returned"] == 25
    # Two attempts were cut off at LSQ_TIMEOUT, not waited out (the sandbox would have answered
    # each after 2 s), and the third was answered.
    attempts = [r for r in sandbox.state.requests if r.path.endswith(ACTIVITIES)]
    assert len(attempts) == 3
