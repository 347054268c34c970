"""Two server processes on one account: the rate limit shared through Redis, against pacing alone.

What it measures. Two `lsq-mcp` processes, each launched over stdio as an MCP client launches it,
both with the same keys, make `--calls` (default 100) `get_opportunity_activities` calls between
them (`OPP_BIG`, page_size 5), all at once, half each, against the LeadSquared sandbox on
127.0.0.1, which enforces a sliding-window limit of `--limit` (default 10 calls per 1 s) and
rejects extra calls with 429 `MXAPIRateLimitExceededException`. Each process is configured with
the real limit (LSQ_RATE_LIMIT = --limit). Two scenarios, in one run, each on fresh processes:

  a. baseline: no LSQ_REDIS_URL. Each process paces alone, so together they send twice the limit;
  b. shared: LSQ_REDIS_URL points both at one redis-server that this script starts on a free
     loopback port (it needs the `redis-server` binary: apt-get install redis-server).

Utilisation is bench/rate_limit.py's: for N accepted API calls under C calls per W seconds,
(ceil(N/C) - 1) * W over the measured time between the first and the last API request's arrival
at the sandbox (rejected requests included). The processes start, and look activity type names up
(once each without Redis, once between them with it: shown), before the limit is switched on and
the clock runs. Latency is the client-side duration of each tool call, queueing included.
LSQ_MAX_RETRIES is 5, so the baseline's calls mostly succeed, late.

Targets (b): zero rejections, every call succeeds, utilisation >= 0.95.

Run: python bench/replicas.py [--calls 100] [--limit 10/1]
"""

from __future__ import annotations

import argparse
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path

import anyio
from _common import (
    OPP_BIG,
    TOOL,
    Outcome,
    env_for,
    percentile,
    print_outcomes,
    running_sandbox,
    verdict,
)
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from lsq_mcp.sandbox import SandboxConfig, SandboxServer
from lsq_mcp.settings import ConfigError, RateLimit, parse_rate_limit

UTILISATION_TARGET = 0.95
PROCESSES = 2
LSQ_MCP = str(Path(sys.executable).parent / "lsq-mcp")
# A scenario taking this much longer than its ideal duration is broken, not slow.
TIMEOUT_FACTOR, TIMEOUT_SLACK = 4.0, 30.0


@contextmanager
def running_redis() -> Iterator[str]:
    """A throw-away redis-server on 127.0.0.1 with no persistence; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("bench/replicas.py needs redis-server: apt-get install redis-server")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(
        [*args, "--dir", tempfile.mkdtemp(prefix="lsq-mcp-bench-redis-")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _answers_ping(port):
            if time.monotonic() > deadline or process.poll() is not None:
                sys.exit(f"redis-server did not start on port {port}")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait()


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@asynccontextmanager
async def servers(env: dict[str, str], log_dir: Path) -> AsyncIterator[list[Client]]:
    """PROCESSES `lsq-mcp` processes over stdio, each with its stderr in `log_dir`."""
    async with AsyncExitStack() as stack:
        clients = []
        for n in range(PROCESSES):
            errlog = stack.enter_context((log_dir / f"server-{n}.log").open("w"))
            params = StdioServerParameters(command=LSQ_MCP, args=[], env=env)
            clients.append(await stack.enter_async_context(Client(stdio_client(params, errlog=errlog))))
        yield clients


async def scenario(sandbox: SandboxServer, real: RateLimit, calls: int, redis_url: str | None) -> Outcome:
    sandbox.state.reset()
    sandbox.state.config = SandboxConfig(rate_limit=None)
    env = env_for(sandbox, LSQ_RATE_LIMIT=str(real), LSQ_MAX_RETRIES="5")
    if redis_url:
        env["LSQ_REDIS_URL"] = redis_url
    latencies: list[float] = []
    failed = 0
    async with servers(env, Path(tempfile.mkdtemp(prefix="lsq-mcp-bench-"))) as clients:
        for client in clients:  # each answers once it has the names (looked up as it started)
            await client.call_tool("list_activity_types", {})
        lookups = sum(1 for r in sandbox.state.requests if r.path.endswith("ActivityTypes.Get"))
        # The servers count those lookups in their window, the reset sandbox would not: let them leave it.
        await anyio.sleep(real.seconds * 1.1)
        # Now the limit applies, and the clock runs.
        sandbox.state.reset()
        sandbox.state.config = SandboxConfig(rate_limit=(real.calls, real.seconds))

        async def one(client: Client) -> None:
            nonlocal failed
            start = time.perf_counter()
            result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 5})
            latencies.append(time.perf_counter() - start)
            failed += bool(result.is_error)

        wall_start = time.perf_counter()
        with anyio.fail_after(TIMEOUT_FACTOR * math.ceil(calls / real.calls) * real.seconds + TIMEOUT_SLACK):
            async with anyio.create_task_group() as group:
                for n in range(calls):
                    group.start_soon(one, clients[n % PROCESSES])
        wall = time.perf_counter() - wall_start

    stats = sandbox.state.stats_snapshot()
    arrivals = sorted(r.at for r in sandbox.state.requests)
    return Outcome(
        calls=calls,
        failed=failed,
        accepted=stats.accepted,
        rejected=stats.rejected,
        lookups=lookups,
        busy_span=arrivals[-1] - arrivals[0] if arrivals else 0.0,
        ideal_span=(math.ceil(stats.accepted / real.calls) - 1) * real.seconds,
        latencies=latencies,
        wall=wall,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=100, help="concurrent tool calls, both processes")
    parser.add_argument("--limit", default="10/1", help="the sandbox's real limit, CALLS/SECONDS")
    args = parser.parse_args()
    try:
        real = parse_rate_limit(args.limit, "--limit")
    except ConfigError as exc:
        parser.error(str(exc))
    if not real.calls < args.calls <= 1000:
        parser.error(f"--calls must be more than the limit's {real.calls} calls and at most 1000")

    with running_sandbox(None) as sandbox, running_redis() as redis_url:
        alone = await scenario(sandbox, real, args.calls, None)
        shared = await scenario(sandbox, real, args.calls, redis_url)

    print(
        f"{args.calls} concurrent tool calls over {PROCESSES} lsq-mcp processes (stdio), "
        f"each configured {real}; sandbox limit {real} (calls/seconds)"
    )
    print_outcomes(["", "a: each process alone", "b: shared through Redis"], alone, shared)

    reject_ok = shared.rejected == 0 and shared.failed == 0
    util_ok = shared.utilisation >= UTILISATION_TARGET
    print(
        f"RESULT b (Redis): rejected {shared.rejected}, failed {shared.failed} (0: {verdict(reject_ok)}), "
        f"utilisation {shared.utilisation:.3f} (>= {UTILISATION_TARGET}: {verdict(util_ok)}), "
        f"p50 {percentile(shared.latencies, 50) * 1000:.0f} ms, "
        f"p95 {percentile(shared.latencies, 95) * 1000:.0f} ms; "
        f"a (baseline, alone): rejected {alone.rejected}, failed {alone.failed}, "
        f"utilisation {alone.utilisation:.3f}, p50 {percentile(alone.latencies, 50) * 1000:.0f} ms, "
        f"p95 {percentile(alone.latencies, 95) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    anyio.run(main, backend="asyncio")
