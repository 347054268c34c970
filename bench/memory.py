"""Peak memory of `fetch_all` over 10,000 activities, above the server's idle memory.

The sandbox runs in a child process (its own pages and JSON are not ours to count) holding one
opportunity of `--activities` (default 10,000) activities. In this process, an MCP server and an
in-process MCP client are started and warmed up with one small call; then one call of
`get_opportunity_activities` with `fetch_all`, `max_activities` 10000 and pages of 1,000 is made
while `tracemalloc` follows every Python allocation. Peak above idle = the peak traced during
the call minus what was traced just before it (the client's copy of the result included: it
lives in this process too). Also shown: the growth of the process's peak resident set (VmHWM,
reset before the call), which includes memory tracemalloc does not see.
Target: at most 50 MB above idle (tracemalloc).

Run: python bench/memory.py [--activities 10000]
"""

from __future__ import annotations

import argparse
import gc
import logging
import multiprocessing
import tracemalloc
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

import anyio
from _common import TOOL, env_for_url, print_table, verdict
from mcp import Client

from lsq_mcp.logs import configure_logging
from lsq_mcp.sandbox import SandboxConfig, SandboxServer
from lsq_mcp.sandbox.data import OPP_HUGE, build_catalog
from lsq_mcp.server import create_server
from lsq_mcp.settings import Settings

TARGET_MB = 50.0
MB = 1024 * 1024


def run_sandbox(activities: int, pipe: Pipe) -> None:
    """The child: a sandbox holding the huge opportunity, its URL sent up `pipe`, until told to stop."""
    with SandboxServer(
        SandboxConfig(rate_limit=None), catalog=build_catalog(huge_activities=activities)
    ) as sb:
        pipe.send(sb.url)
        pipe.recv()


def peak_rss_reset() -> bool:
    """Reset this process's peak resident set size (Linux); False where that cannot be done."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def current_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def measure(url: str, activities: int) -> tuple[int, int, int | None]:
    """(activities returned, tracemalloc peak above idle, peak RSS above idle or None) in bytes."""
    env = env_for_url(url)
    arguments = {"opportunity_id": OPP_HUGE, "fetch_all": True, "max_activities": 10000, "page_size": 1000}
    async with Client(create_server(Settings.from_env(env))) as client:
        await client.call_tool(TOOL, {"opportunity_id": OPP_HUGE, "page_size": 25})
        gc.collect()
        rss_idle, can_reset = current_rss(), peak_rss_reset()
        tracemalloc.start()
        idle = tracemalloc.get_traced_memory()[0]
        result = await client.call_tool(TOOL, arguments)
        peak = tracemalloc.get_traced_memory()[1] - idle
        tracemalloc.stop()
        rss = peak_rss() - rss_idle if can_reset else None
    if result.is_error:
        raise RuntimeError(f"the call failed: {result.content}")
    returned = int((result.structured_content or {}).get("returned", 0))
    return returned, peak, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--activities", type=int, default=10000, help="activities of the opportunity read")
    args = parser.parse_args()
    configure_logging((), logging.WARNING)
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.Process(target=run_sandbox, args=(args.activities, theirs), daemon=True)
    child.start()
    try:
        url = ours.recv()
        returned, peak, rss = anyio.run(measure, url, args.activities)
    finally:
        ours.send("stop")
        child.join(10)
    print_table(
        [f"fetch_all of {args.activities} activities", "MB"],
        [
            ["peak traced above idle (tracemalloc)", f"{peak / MB:.1f}"],
            ["peak resident set above idle (VmHWM)", "n/a" if rss is None else f"{rss / MB:.1f}"],
        ],
    )
    print(
        f"RESULT fetch_all of {returned} activities: peak {peak / MB:.1f} MB above idle "
        f"(<= {TARGET_MB:g} MB: {verdict(peak / MB <= TARGET_MB)})"
    )


if __name__ == "__main__":
    main()
