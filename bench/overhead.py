"""What the MCP server adds on top of LeadSquared itself: per-call latency, and start-up time.

a. Per call, in-process. One `get_opportunity_activities` call (`OPP_BIG`, page_size 25) through an
   in-process MCP client (`Client(create_server(settings))`) against the LeadSquared sandbox on
   127.0.0.1, versus the baseline: the same HTTP request made directly with `httpx2.AsyncClient`
   (same URL, key headers, query `opportunityId` and JSON body) and its JSON decoded. Both warmed
   up, then `--calls` (default 200) iterations of each, interleaved (the order rotates every
   iteration), with no rate limit in the sandbox and a very high LSQ_RATE_LIMIT. Added latency =
   median(ours) - median(direct). Target: under 2 ms added per call. Two reference rows, no
   target, say where the time goes: the same call made on the server object without an MCP client
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

Run: python bench/overhead.py [--calls 200] [--starts 10]
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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

import anyio
import httpx2
from _common import (
    OPP_BIG,
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
from minimal_server import server as minimal_server

from lsq_mcp.api.endpoints import ACTIVITIES_PATH
from lsq_mcp.logs import configure_logging
from lsq_mcp.sandbox import SandboxServer
from lsq_mcp.server import create_server
from lsq_mcp.settings import Settings

ADDED_MS_TARGET = 2.0
STARTUP_RATIO_TARGET = 1.2
WARMUP = 20
START_TIMEOUT = 30.0  # seconds for one spawn-to-tools/list; longer means broken
MINIMAL_SERVER = Path(__file__).with_name("minimal_server.py")
# Our serve path's imports: the CLI, its parser (as `lsq-mcp` builds it), then the server module.
OURS_IMPORTS = "import lsq_mcp.cli as c; c.build_parser(); import lsq_mcp.server"
MINIMAL_IMPORTS = "import minimal_server"
DUMMY_KEYS = {"LSQ_ACCESS_KEY": "bench-dummy-access", "LSQ_SECRET_KEY": "bench-dummy-secret"}
BODY = {"Paging": {"PageIndex": 1, "PageSize": 25}, "Sorting": {"ColumnName": "CreatedOn", "Direction": 1}}


async def timed(call: Callable[[], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await call()
    return time.perf_counter() - start


async def per_call(sandbox: SandboxServer, calls: int) -> dict[str, list[float]]:
    """Seconds per call of each way in (see `WAYS`), interleaved: each iteration runs every way once,
    in an order rotated by one from the previous iteration's."""
    env = env_for(sandbox, LSQ_RATE_LIMIT="1000000/1")
    headers = {"x-LSQ-AccessKey": SANDBOX_ACCESS_KEY, "x-LSQ-SecretKey": SANDBOX_SECRET_KEY}
    arguments = {"opportunity_id": OPP_BIG, "page_size": 25}
    server = create_server(Settings.from_env(env))
    async with (
        Client(server) as client,
        Client(minimal_server) as minimal,
        httpx2.AsyncClient(base_url=sandbox.url, headers=headers, trust_env=False) as http,
    ):

        async def ours() -> None:
            result = await client.call_tool(TOOL, arguments)
            if result.is_error:
                raise RuntimeError(f"the tool call failed: {result.content}")

        async def direct() -> None:
            response = await http.post(ACTIVITIES_PATH, params={"opportunityId": OPP_BIG}, json=BODY)
            response.raise_for_status()
            response.json()

        async def server_only() -> None:
            await server.call_tool(TOOL, arguments)

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
    args = parser.parse_args()
    if not (1 <= args.calls <= 5000 and 1 <= args.starts <= 50):
        parser.error("--calls must be from 1 to 5000 and --starts from 1 to 50")

    configure_logging((), logging.WARNING)  # as the CLI does: stderr, quiet HTTP libraries
    with running_sandbox(None) as sandbox:
        seconds = await per_call(sandbox, args.calls)
        ours_start, minimal_start = await startups(sandbox, args.starts, errlog)

    ours_ms, direct_ms = (statistics.median(seconds[name]) * 1000 for name in ("ours", "direct"))
    added = ours_ms - direct_ms
    print(f"a. per call, {args.calls} interleaved calls each (ms)")
    labels = {
        "ours": "MCP tool call (ours)",
        "direct": "direct httpx2 request (baseline)",
        "server": "  for reference: ours, server.call_tool (no MCP client)",
        "floor": "  for reference: trivial tool via MCP client (SDK floor)",
    }
    rows = []
    for name, label in labels.items():
        median, low, _, p95 = _ms(seconds[name], "{:.2f}")
        rows.append([label, median, low, p95])
    rows.append(["added (median difference ours - direct)", f"{added:.2f}", "", ""])
    rows.append(["ratio ours/direct (medians)", f"{ours_ms / direct_ms:.2f}", "", ""])
    print_table(["", "median", "min", "p95"], rows)
    ours_s, minimal_s = statistics.median(ours_start), statistics.median(minimal_start)
    ratio = ours_s / minimal_s
    print()
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
    print(
        f"RESULT per call: ours {ours_ms:.2f} ms vs direct {direct_ms:.2f} ms median, "
        f"added {added:.2f} ms (< {ADDED_MS_TARGET:g} ms: {verdict(added < ADDED_MS_TARGET)}), "
        f"ratio {ours_ms / direct_ms:.2f}; start-up: ours {ours_s * 1000:.0f} ms vs minimal "
        f"{minimal_s * 1000:.0f} ms median, ratio {ratio:.2f} "
        f"(<= {STARTUP_RATIO_TARGET:g}: {verdict(ratio <= STARTUP_RATIO_TARGET)})"
    )


def _ms(values: list[float], form: str = "{:.0f}") -> list[str]:
    """Median, min, max and p95 of `values` (seconds), in milliseconds."""
    stats = (statistics.median(values), min(values), max(values), percentile(values, 95))
    return [form.format(v * 1000) for v in stats]


if __name__ == "__main__":
    with open(os.devnull, "w") as devnull:  # the spawned servers' stderr
        anyio.run(main, devnull, backend="asyncio")
