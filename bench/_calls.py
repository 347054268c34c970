"""One version of lsq-mcp timed per tool call, for `overhead.py`, in a process of its own.

`overhead.py` runs this script once with this checkout first on PYTHONPATH and once with an earlier
commit's `lsq_mcp`, and has the two take turns, so that both versions are measured in one run on
the machine as it is then. It uses nothing of lsq_mcp but `create_server` and `Settings`, which
every version has.

Arguments: the sandbox's URL, the activities endpoint's path, the opportunity, the rows per page.
The LSQ_* settings come from the environment. After warming up it prints `ready` and the folder
of the `lsq_mcp` it runs (so that no version is timed in place of another); then, for each
number N it reads on stdin, it makes N rounds of calls, each way once a round in an order rotated
by one from the round before, and prints the seconds of each call as one JSON line, by way:

- `ours`: `get_opportunity_activities` through an in-process MCP client (`Client(server)`);
- `direct`: the same request made with `httpx2.AsyncClient`, and its JSON decoded;
- `server`: the same tool call on the server object, no MCP client (`server.call_tool`);
- `floor`: a trivial tool of `minimal_server.py` through the same kind of client (the SDK's floor).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import anyio
import httpx2
from mcp import Client
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult
from minimal_server import server as minimal_server

import lsq_mcp
from lsq_mcp.server import create_server
from lsq_mcp.settings import Settings

TOOL = "get_opportunity_activities"
WARMUP = 20


class _NoSession:
    """What a tool's context reaches of the MCP session in these calls: progress goes nowhere."""

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        return None


@asynccontextmanager
async def request_context(server: MCPServer[Any]) -> AsyncIterator[Context[Any, Any]]:
    """A tool call's context without an MCP session: the server's own lifespan (its connection and
    caches), for calling `server.call_tool` directly."""
    lifespan = server.settings.lifespan
    assert lifespan is not None
    async with lifespan(server) as deps:
        request = ServerRequestContext(
            session=cast(Any, _NoSession()), lifespan_context=deps, protocol_version="", method="tools/call"
        )
        yield Context(request_context=request, mcp_server=server)


async def serve(url: str, path: str, opportunity: str, rows: int) -> None:
    settings = Settings.from_env()
    headers = {"x-LSQ-AccessKey": settings.access_key or "", "x-LSQ-SecretKey": settings.secret_key or ""}
    arguments = {"opportunity_id": opportunity, "page_size": rows}
    body = {
        "Paging": {"PageIndex": 1, "PageSize": rows},
        "Sorting": {"ColumnName": "CreatedOn", "Direction": 1},
    }
    server = create_server(settings)
    logging.getLogger().setLevel(logging.WARNING)  # the SDK's server set it to INFO
    async with (
        Client(server) as client,
        Client(minimal_server) as minimal,
        httpx2.AsyncClient(base_url=url, headers=headers, trust_env=False) as http,
        request_context(server) as context,
    ):

        async def ours() -> None:
            result = await client.call_tool(TOOL, arguments)
            if result.is_error:
                raise RuntimeError(f"the tool call failed: {result.content}")

        async def direct() -> None:
            response = await http.post(path, params={"opportunityId": opportunity}, json=body)
            response.raise_for_status()
            response.json()

        async def server_only() -> None:
            result = await server.call_tool(TOOL, arguments, context)
            if not isinstance(result, CallToolResult) or result.is_error:
                raise RuntimeError(f"the tool call failed: {result}")

        async def sdk_floor() -> None:
            await minimal.call_tool("echo", {"text": "x"})

        ways: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("ours", ours),
            ("direct", direct),
            ("server", server_only),
            ("floor", sdk_floor),
        ]
        for _ in range(WARMUP):
            for _, call in ways:
                await call()
        print("ready", Path(lsq_mcp.__file__).parent, flush=True)
        done = 0
        while line := await anyio.to_thread.run_sync(sys.stdin.readline):
            seconds: dict[str, list[float]] = {name: [] for name, _ in ways}
            for i in range(done, done + int(line)):
                for name, call in ways[i % len(ways) :] + ways[: i % len(ways)]:
                    start = time.perf_counter()
                    await call()
                    seconds[name].append(time.perf_counter() - start)
            done += int(line)
            print(json.dumps(seconds), flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)  # stdout carries the timings
    anyio.run(serve, sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), backend="asyncio")
