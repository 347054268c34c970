"""What the MCP server adds on top of LeadSquared itself: per-call latency, and start-up time.

a. Per call, in-process. One `get_opportunity_activities` call (a page of 25 activities, then one
   of 1,000: `--rows`) through an in-process MCP client (`Client(create_server(settings))`) against
   the LeadSquared sandbox on 127.0.0.1, versus the baseline: the same HTTP request made directly
   with `httpx2.AsyncClient` (same URL, key headers, query `opportunityId` and JSON body) and its
   JSON decoded. Both warmed up, then `--calls` (default 200) iterations of each, interleaved (the
   order rotates every iteration; pages of more than 100 rows get a quarter as many), with no rate
   limit in the sandbox and a very high LSQ_RATE_LIMIT. Added latency = median(ours) -
   median(direct). Targets: at most half the time main added before issue 9 (`BEFORE_ADDED_MS`,
   measured with this script), and under 2 ms at 25 rows. Two reference rows, no target, say where
   the time goes: the same call made on the server object without an MCP client
   (`server.call_tool`: our code and the SDK's tool dispatch, no client-side result handling), and
   a trivial tool of `bench/minimal_server.py` through the same kind of in-process MCP client
   (the SDK's own floor).

b. Start-up. Time from spawning a stdio server to its answer to the first `tools/list`
   (process start, imports, MCP initialize, tools/list), for ours launched as
   `sys.executable -m lsq_mcp` (what the `lsq-mcp` console script runs; LSQ keys set to dummy
   values, LSQ_HOST the sandbox; no `--demo`, which starts a sandbox users do not pay for) versus
   the baseline `sys.executable bench/minimal_server.py` (an `MCPServer` with one trivial tool),
   same interpreter, same environment, same client. `--starts` (default 10) of each, interleaved.
   Target: median(ours) / median(minimal) <= 1.2. When missed, `-X importtime` shows which of
   our imports the minimal server does not pay, largest first.

Run: python bench/overhead.py [--calls 200] [--starts 10] [--rows 25,1000]
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO, cast

import anyio
import httpx2
from _common import (
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    TOOL,
    env_for,
    percentile,
    print_table,
    running_sandbox,
    verdict,
)
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult
from minimal_server import server as minimal_server

from lsq_mcp.api.endpoints import ACTIVITIES_PATH
from lsq_mcp.logs import configure_logging
from lsq_mcp.sandbox import SandboxServer
from lsq_mcp.sandbox.data import OPP_HUGE, build_catalog
from lsq_mcp.server import create_server
from lsq_mcp.settings import Settings
from lsq_mcp.tools.context import Deps

ADDED_MS_TARGET = 2.0
STARTUP_RATIO_TARGET = 1.2
WARMUP = 20
START_TIMEOUT = 30.0  # seconds for one spawn-to-tools/list; longer means broken
MINIMAL_SERVER = Path(__file__).with_name("minimal_server.py")
# Our serve path's imports: the CLI, its parser (as `lsq-mcp` builds it), then the server module.
OURS_IMPORTS = "import lsq_mcp.cli as c; c.build_parser(); import lsq_mcp.server"
MINIMAL_IMPORTS = "import minimal_server"
DUMMY_KEYS = {"LSQ_ACCESS_KEY": "bench-dummy-access", "LSQ_SECRET_KEY": "bench-dummy-secret"}
# The opportunity read: as many activities as the largest page measured.
LARGEST_PAGE = 1000
# Median ms added per call (ours - direct) by main before issue 9 (commit b23f7cf), by rows per page.
BEFORE_ADDED_MS = {25: 2.98, 1000: 108.80}


async def timed(call: Callable[[], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await call()
    return time.perf_counter() - start


class _NoSession:
    """What a tool's context reaches of the MCP session in these calls: progress goes nowhere."""

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        return None


@asynccontextmanager
async def request_context(server: MCPServer[Deps]) -> AsyncIterator[Context[Deps, Any]]:
    """A tool call's context without an MCP session: the server's own lifespan (its connection and
    caches), for calling `server.call_tool` directly."""
    lifespan = server.settings.lifespan
    assert lifespan is not None
    async with lifespan(server) as deps:
        request = ServerRequestContext(
            session=cast(Any, _NoSession()), lifespan_context=deps, protocol_version="", method="tools/call"
        )
        yield Context(request_context=request, mcp_server=server)


async def per_call(sandbox: SandboxServer, calls: int, rows: int) -> dict[str, list[float]]:
    """Seconds per call of each way in (see `WAYS`) for a page of `rows`, interleaved: each iteration
    runs every way once, in an order rotated by one from the previous iteration's."""
    env = env_for(sandbox, LSQ_RATE_LIMIT="1000000/1")
    headers = {"x-LSQ-AccessKey": SANDBOX_ACCESS_KEY, "x-LSQ-SecretKey": SANDBOX_SECRET_KEY}
    arguments = {"opportunity_id": OPP_HUGE, "page_size": rows}
    body = {
        "Paging": {"PageIndex": 1, "PageSize": rows},
        "Sorting": {"ColumnName": "CreatedOn", "Direction": 1},
    }
    server = create_server(Settings.from_env(env))
    async with (
        Client(server) as client,
        Client(minimal_server) as minimal,
        httpx2.AsyncClient(base_url=sandbox.url, headers=headers, trust_env=False) as http,
        request_context(server) as context,
    ):

        async def ours() -> None:
            result = await client.call_tool(TOOL, arguments)
            if result.is_error:
                raise RuntimeError(f"the tool call failed: {result.content}")

        async def direct() -> None:
            response = await http.post(ACTIVITIES_PATH, params={"opportunityId": OPP_HUGE}, json=body)
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
        seconds: dict[str, list[float]] = {name: [] for name, _ in ways}
        for i in range(calls):
            for name, call in ways[i % len(ways) :] + ways[: i % len(ways)]:
                seconds[name].append(await timed(call))
    return seconds


async def first_tools_list(params: StdioServerParameters, errlog: TextIO) -> float:
    """Seconds from spawning the server to the answer to its first tools/list (its stderr to `errlog`)."""
    with anyio.fail_after(START_TIMEOUT):
        start = time.perf_counter()
        async with Client(stdio_client(params, errlog=errlog)) as client:
            tools = await client.list_tools()
            elapsed = time.perf_counter() - start
    if not tools.tools:
        raise RuntimeError(f"{params.args} listed no tools")
    return elapsed


async def startups(sandbox: SandboxServer, starts: int, errlog: TextIO) -> tuple[list[float], list[float]]:
    """Seconds to the first tools/list: (ours, minimal), interleaved."""
    env = env_for(sandbox) | DUMMY_KEYS
    env.pop("LSQ_RATE_LIMIT")
    ours_params = StdioServerParameters(command=sys.executable, args=["-m", "lsq_mcp"], env=env)
    minimal_params = StdioServerParameters(command=sys.executable, args=[str(MINIMAL_SERVER)], env=env)
    ours: list[float] = []
    minimal: list[float] = []
    await first_tools_list(ours_params, errlog)  # warm the OS file cache for both
    await first_tools_list(minimal_params, errlog)
    for i in range(starts):
        if i % 2 == 0:
            ours.append(await first_tools_list(ours_params, errlog))
            minimal.append(await first_tools_list(minimal_params, errlog))
        else:
            minimal.append(await first_tools_list(minimal_params, errlog))
            ours.append(await first_tools_list(ours_params, errlog))
    return ours, minimal


def import_times(code: str) -> list[tuple[str, int, int]]:
    """`-X importtime` of `code` in a fresh interpreter: (module, self us, nesting depth), in the
    order Python reports them (a module after everything it imported)."""
    process = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=MINIMAL_SERVER.parent,
        check=True,
    )
    times = []
    for line in process.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|( *)(\S+)", line)
        if match:
            times.append((match.group(3), int(match.group(1)), len(match.group(2)) // 2))
    return times


def what_we_import_extra(top: int = 10) -> None:
    """Print our imports the minimal server does not load, by what they cost beyond its imports:
    each module's own time plus that of the modules it pulls in that the minimal server lacks."""
    ours, minimal = import_times(OURS_IMPORTS), import_times(MINIMAL_IMPORTS)
    shared = {name for name, _, _ in minimal}
    extra: dict[str, tuple[int, int, int]] = {}  # module -> (self us, extra cumulative us, depth)
    pending: list[tuple[int, int]] = []  # (depth, extra cumulative us) of modules awaiting their importer
    for name, self_us, depth in ours:
        below = sum(cost for d, cost in pending if d > depth)
        pending = [(d, cost) for d, cost in pending if d <= depth]
        cost = below + (0 if name in shared else self_us)
        pending.append((depth, cost))
        if name not in shared:
            extra[name] = (self_us, cost, depth)
    total_ours = sum(t for _, t, _ in ours) / 1000
    total_minimal = sum(t for _, t, _ in minimal) / 1000
    total_extra = sum(t for t, _, _ in extra.values()) / 1000
    print()
    print(
        f"Start-up target missed. Imports (-X importtime, one run): ours {total_ours:.0f} ms "
        f"[{OURS_IMPORTS}], minimal {total_minimal:.0f} ms [{MINIMAL_IMPORTS}]; "
        f"{len(extra)} modules only ours load, {total_extra:.0f} ms."
    )
    print(f"Top {top} of those by the time they add (indentation: nesting):")
    ranked = sorted(extra.items(), key=lambda item: item[1][1], reverse=True)[:top]
    rows = [[" " * 2 * d + name, f"{s / 1000:.1f}", f"{c / 1000:.1f}"] for name, (s, c, d) in ranked]
    print_table(["module", "self ms", "added cumulative ms"], rows)


async def main(errlog: TextIO) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=200, help="timed tool calls (and direct requests)")
    parser.add_argument("--starts", type=int, default=10, help="timed start-ups of each server")
    parser.add_argument("--rows", default="25,1000", help="activities per page measured, comma-separated")
    args = parser.parse_args()
    sizes = [int(n) for n in args.rows.split(",")]
    if not (
        1 <= args.calls <= 5000 and 1 <= args.starts <= 50 and all(1 <= n <= LARGEST_PAGE for n in sizes)
    ):
        parser.error(
            f"--calls must be from 1 to 5000, --starts from 1 to 50, --rows from 1 to {LARGEST_PAGE}"
        )

    configure_logging((), logging.WARNING)  # as the CLI does: stderr, quiet HTTP libraries
    results: list[str] = []
    with running_sandbox(None, build_catalog(huge_activities=LARGEST_PAGE)) as sandbox:
        for rows in sizes:
            calls = args.calls if rows <= 100 else max(1, args.calls // 4)
            results.append(print_per_call(rows, calls, await per_call(sandbox, calls, rows)))
            print()
        ours_start, minimal_start = await startups(sandbox, args.starts, errlog)

    ours_s, minimal_s = statistics.median(ours_start), statistics.median(minimal_start)
    ratio = ours_s / minimal_s
    print(f"b. start-up to first tools/list, {args.starts} interleaved starts each (ms)")
    print_table(
        ["", "median", "min", "max"],
        [
            [f"ours ({Path(sys.executable).name} -m lsq_mcp)", *_ms(ours_start)[:3]],
            [f"minimal ({Path(sys.executable).name} bench/minimal_server.py)", *_ms(minimal_start)[:3]],
            ["ratio ours/minimal (medians)", f"{ratio:.2f}", "", ""],
        ],
    )
    if ratio > STARTUP_RATIO_TARGET:
        what_we_import_extra()
    for line in results:
        print(line)
    print(
        f"RESULT start-up: ours {ours_s * 1000:.0f} ms vs minimal {minimal_s * 1000:.0f} ms median, "
        f"ratio {ratio:.2f} (<= {STARTUP_RATIO_TARGET:g}: {verdict(ratio <= STARTUP_RATIO_TARGET)})"
    )


def print_per_call(rows: int, calls: int, seconds: dict[str, list[float]]) -> str:
    """Print the table of one page size; return its RESULT line."""
    ours_ms, direct_ms, server_ms = (
        statistics.median(seconds[name]) * 1000 for name in ("ours", "direct", "server")
    )
    added = ours_ms - direct_ms
    print(f"a. per call, a page of {rows} activities, {calls} interleaved calls each (ms)")
    labels = {
        "ours": "MCP tool call (ours)",
        "direct": "direct httpx2 request (baseline)",
        "server": "  for reference: ours, server.call_tool (no MCP client)",
        "floor": "  for reference: trivial tool via MCP client (SDK floor)",
    }
    table = []
    for name, label in labels.items():
        median, low, _, p95 = _ms(seconds[name], "{:.2f}")
        table.append([label, median, low, p95])
    table.append(["added (median difference ours - direct)", f"{added:.2f}", "", ""])
    table.append(
        ["  of which the server (server.call_tool - direct)", f"{server_ms - direct_ms:.2f}", "", ""]
    )
    table.append(["ratio ours/direct (medians)", f"{ours_ms / direct_ms:.2f}", "", ""])
    print_table(["", "median", "min", "p95"], table)
    line = (
        f"RESULT {rows} rows: ours {ours_ms:.2f} ms vs direct {direct_ms:.2f} ms median, added {added:.2f} ms"
    )
    before = BEFORE_ADDED_MS.get(rows)
    if before:
        line += f" (<= half of {before:.2f} before: {verdict(added <= before / 2)})"
    if rows <= 25:
        line += f" (< {ADDED_MS_TARGET:g} ms: {verdict(added < ADDED_MS_TARGET)})"
    return line


def _ms(values: list[float], form: str = "{:.0f}") -> list[str]:
    """Median, min, max and p95 of `values` (seconds), in milliseconds."""
    stats = (statistics.median(values), min(values), max(values), percentile(values, 95))
    return [form.format(v * 1000) for v in stats]


if __name__ == "__main__":
    with open(os.devnull, "w") as devnull:  # the spawned servers' stderr
        anyio.run(main, devnull, backend="asyncio")
