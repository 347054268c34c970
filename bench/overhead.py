"""What the MCP server adds on top of LeadSquared itself: per-call latency, and start-up time.

a. Per call, this checkout against the commit before issue 9, in one run. One
   `get_opportunity_activities` call (a page of 25 activities, then one of 1,000: `--rows`) through
   an in-process MCP client (`Client(create_server(settings))`) against the LeadSquared sandbox on
   127.0.0.1, versus the baseline: the same HTTP request made directly with `httpx2.AsyncClient`
   (same URL, key headers, query `opportunityId` and JSON body) and its JSON decoded. Each version
   runs in a process of its own (`bench/_calls.py`, that version's `lsq_mcp` first on PYTHONPATH:
   this checkout, and `--before`, default BEFORE_REV, taken out of git), warmed up; the two take
   turns, BLOCK calls at a time, until each has made `--calls` (default 200) calls each way, interleaved
   (the order rotates every call; pages of more than 100 rows get a quarter as many), with no rate
   limit in the sandbox and a very high LSQ_RATE_LIMIT. Added latency = median(ours) -
   median(direct), for each version. Targets: ours adds at most half what the version before
   adds, measured alike in the same run, and under 2 ms at 25 rows. Two reference rows, no
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

Run: python bench/overhead.py [--calls 200] [--starts 10] [--rows 25,1000] [--before REV]
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import TextIO

import anyio
from _common import (
    env_for,
    percentile,
    print_table,
    running_sandbox,
    verdict,
)
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from lsq_mcp.api.endpoints import ACTIVITIES_PATH
from lsq_mcp.logs import configure_logging
from lsq_mcp.sandbox import SandboxServer
from lsq_mcp.sandbox.data import OPP_HUGE, build_catalog

ADDED_MS_TARGET = 2.0
STARTUP_RATIO_TARGET = 1.2
START_TIMEOUT = 30.0  # seconds for one spawn-to-tools/list; longer means broken
MINIMAL_SERVER = Path(__file__).with_name("minimal_server.py")
# Our serve path's imports: the CLI, its parser (as `lsq-mcp` builds it), then the server module.
OURS_IMPORTS = "import lsq_mcp.cli as c; c.build_parser(); import lsq_mcp.server"
MINIMAL_IMPORTS = "import minimal_server"
DUMMY_KEYS = {"LSQ_ACCESS_KEY": "bench-dummy-access", "LSQ_SECRET_KEY": "bench-dummy-secret"}
# The opportunity read: as many activities as the largest page measured.
LARGEST_PAGE = 1000
# The commit before issue 9 (whose targets are half what it adds per call), timed alongside.
BEFORE_REV = "b23f7cf"
# The two versions take turns this many calls at a time (a fraction of a second), so that a slower
# spell of the machine falls on both alike.
BLOCK = 5
REPO = Path(__file__).resolve().parents[1]
CALLS = Path(__file__).with_name("_calls.py")


class Version:
    """One version of lsq-mcp timed per call in a process of its own (`bench/_calls.py`), on the
    sandbox, with `root`'s `lsq_mcp` first on PYTHONPATH."""

    def __init__(self, name: str, root: Path, sandbox: SandboxServer, rows: int) -> None:
        self.name = name
        env = os.environ | env_for(sandbox, LSQ_RATE_LIMIT="1000000/1") | {"PYTHONPATH": str(root)}
        self.process = subprocess.Popen(
            [sys.executable, str(CALLS), sandbox.url, ACTIVITIES_PATH, OPP_HUGE, str(rows)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.seconds: dict[str, list[float]] = {}
        ready, _, package = self._line().partition(" ")
        if ready != "ready" or not Path(package).is_relative_to(root):
            raise RuntimeError(f"{name}: bench/_calls.py did not start on {root}'s lsq_mcp (ran {package!r})")

    def run(self, calls: int) -> None:
        """Make `calls` more calls each way, keeping their times."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{calls}\n")
        self.process.stdin.flush()
        for way, seconds in json.loads(self._line()).items():
            self.seconds.setdefault(way, []).extend(seconds)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: bench/_calls.py ended (exit {self.process.wait()})")
        return line.strip()


def per_call(sandbox: SandboxServer, calls: int, rows: int, before: Path | None) -> list[Version]:
    """This checkout (and the version in `before`) timed per call, taking turns BLOCK calls at a time."""
    roots = [("ours", REPO)] + ([("before", before)] if before is not None else [])
    versions = [Version(name, root, sandbox, rows) for name, root in roots]
    try:
        for block, start in enumerate(range(0, calls, BLOCK)):
            for version in versions[block % 2 :] + versions[: block % 2]:
                version.run(min(BLOCK, calls - start))
    finally:
        for version in versions:
            version.close()
    return versions


def checkout(rev: str, into: Path) -> Path:
    """`rev`'s `lsq_mcp` package, taken out of this repository's git into `into`."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", rev, "lsq_mcp"], capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise SystemExit(
            f"--before {rev}: git could not give that commit's lsq_mcp ({archive.stderr.decode().strip()}); "
            "run from a git checkout, or pass --before '' to time this version alone."
        )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


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
    parser.add_argument(
        "--before",
        default=BEFORE_REV,
        help="the commit to time alongside ('' for none; default: %(default)s)",
    )
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
    with (
        tempfile.TemporaryDirectory(prefix="lsq-mcp-before-") as scratch,
        running_sandbox(None, build_catalog(huge_activities=LARGEST_PAGE)) as sandbox,
    ):
        before = checkout(args.before, Path(scratch)) if args.before else None
        for rows in sizes:
            calls = args.calls if rows <= 100 else max(1, args.calls // 4)
            results.append(print_per_call(rows, calls, per_call(sandbox, calls, rows, before), args.before))
            print()
        ours_start, minimal_start = await startups(sandbox, args.starts, errlog)

    ours_s, minimal_s = statistics.median(ours_start), statistics.median(minimal_start)
    ratio = ours_s / minimal_s
    print(f"b. start-up to first tools/list, {args.starts} interleaved starts each (ms)")
    print_table(
        ["", "median", "min", "max"],
        [
            [f"ours ({Path(sys.executable).name} -m lsq_mcp)", *_ms(ours_start)],
            [f"minimal ({Path(sys.executable).name} bench/minimal_server.py)", *_ms(minimal_start)],
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


def print_per_call(rows: int, calls: int, versions: list[Version], rev: str) -> str:
    """Print the table of one page size, a column group per version; return its RESULT line."""
    print(
        f"a. per call, a page of {rows} activities, {calls} interleaved calls each way, "
        f"{' and '.join(f'{v.name} ({rev})' if v.name == 'before' else v.name for v in versions)} "
        f"taking turns {BLOCK} calls at a time (ms)"
    )
    labels = {
        "ours": "MCP tool call",
        "direct": "direct httpx2 request (baseline)",
        "server": "  for reference: server.call_tool (no MCP client)",
        "floor": "  for reference: trivial tool via MCP client (SDK floor)",
    }
    medians = [{way: statistics.median(s) * 1000 for way, s in v.seconds.items()} for v in versions]
    added = [m["ours"] - m["direct"] for m in medians]
    table = [
        [label, *(cell for v in versions for cell in _ms(v.seconds[way], "{:.2f}", (0, 1, 3)))]
        for way, label in labels.items()
    ]
    pad = ["", ""]
    table.append(["added (median difference ours - direct)", *(c for a in added for c in [f"{a:.2f}", *pad])])
    table.append(
        [
            "  of which the server (server.call_tool - direct)",
            *(c for m in medians for c in [f"{m['server'] - m['direct']:.2f}", *pad]),
        ]
    )
    header = [""] + [f"{v.name} {stat}" for v in versions for stat in ("median", "min", "p95")]
    print_table(header, table)
    ours = medians[0]
    line = (
        f"RESULT {rows} rows: ours {ours['ours']:.2f} ms vs direct {ours['direct']:.2f} ms median, "
        f"added {added[0]:.2f} ms"
    )
    if len(versions) > 1:
        ratio = added[0] / added[1]
        line += (
            f"; before ({rev}) {added[1]:.2f} ms added in the same run, ratio {ratio:.2f} "
            f"(<= 0.5: {verdict(ratio <= 0.5)})"
        )
    if rows <= 25:
        line += f" (< {ADDED_MS_TARGET:g} ms: {verdict(added[0] < ADDED_MS_TARGET)})"
    return line


def _ms(values: list[float], form: str = "{:.0f}", which: tuple[int, ...] = (0, 1, 2)) -> list[str]:
    """Median, min, max and p95 of `values` (seconds), in milliseconds: those picked by `which`."""
    stats = (statistics.median(values), min(values), max(values), percentile(values, 95))
    return [form.format(stats[i] * 1000) for i in which]


if __name__ == "__main__":
    with open(os.devnull, "w") as devnull:  # the spawned servers' stderr
        anyio.run(main, devnull, backend="asyncio")
