"""Shared fixtures: one sandbox over loopback HTTP, and MCP clients talking to our server.

Tests drive the product as users do: an MCP `Client` (in-process, or over stdio through the
installed `lsq-mcp` command) calling the real client code against the sandbox.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp_types import CallToolResult

from lsq_mcp.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, SandboxConfig, SandboxServer
from lsq_mcp.server import create_server
from lsq_mcp.settings import Settings

TOOL = "get_opportunity_activities"
# Faults aimed at this endpoint leave the side calls (activity type names) alone.
ACTIVITIES = "GetActivitiesOfOpportunity"
# The installed console script, next to the interpreter running the tests.
LSQ_MCP = str(Path(sys.executable).parent / "lsq-mcp")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The sandbox, reset: no rate limit (tests that want one set it), no faults, empty log, and no
    request of an earlier test still being served."""
    sandbox_server.state.wait_idle(timeout=10)
    sandbox_server.state.reset()
    sandbox_server.state.config = SandboxConfig(rate_limit=None)
    yield sandbox_server
    sandbox_server.state.reset()


def env_for(sandbox: SandboxServer, **overrides: str) -> dict[str, str]:
    """The LSQ_* environment of a server pointed at `sandbox` (quick retries for tests)."""
    env = {
        "LSQ_ACCESS_KEY": SANDBOX_ACCESS_KEY,
        "LSQ_SECRET_KEY": SANDBOX_SECRET_KEY,
        "LSQ_HOST": sandbox.url,
        "LSQ_TIMEOUT": "5",
        "LSQ_MAX_RETRIES": "2",
        "LSQ_RATE_LIMIT": "1000/1",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v}


@asynccontextmanager
async def connect(sandbox: SandboxServer, **env: str) -> AsyncIterator[Client]:
    """An in-process MCP client to a server configured by `env_for(sandbox, **env)`."""
    async with Client(create_server(Settings.from_env(env_for(sandbox, **env)))) as client:
        yield client


def calls_made_by_tools(sandbox: SandboxServer) -> list[Any]:
    """The API calls in the sandbox's log, less the activity type names looked up as a server starts."""
    return [r for r in sandbox.state.requests if not r.path.endswith("ActivityTypes.Get")]


def hits(sandbox: SandboxServer, endpoint: str) -> int:
    """How many API calls the sandbox took whose path ends with `endpoint`."""
    return sum(1 for r in sandbox.state.requests if r.path.endswith(endpoint))


def text_of(result: CallToolResult) -> str:
    return "".join(block.text for block in result.content if block.type == "text")


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert isinstance(data, dict)
    return data
