"""How well the server uses, and respects, the account's rate limit under a burst of tool calls.

What it measures. `--calls` (default 100) concurrent `get_opportunity_activities` calls
(`OPP_BIG`, page_size 5) through one in-process MCP client (`Client(create_server(settings))`)
against the LeadSquared sandbox on 127.0.0.1, which enforces a sliding-window limit of
`--limit` (default 10 calls per 1 s) and rejects extra calls with 429
`MXAPIRateLimitExceededException`. Two scenarios, in one run, each on a fresh server:

  a. the configured limit is the real one (LSQ_RATE_LIMIT = --limit);
  b. the configured limit is higher than the real one (LSQ_RATE_LIMIT = --configured, default
     twice the real calls): the server must learn the real limit from the 429 message.

Utilisation. N accepted API calls under a limit of C calls per W seconds cannot arrive within
less than (ceil(N/C) - 1) * W seconds from first to last (a burst of C, then C more every W
seconds). Utilisation = that ideal minimum / the measured time between the first and the last
API request's arrival at the sandbox (rejected requests included: they only waste time). A
perfect limiter scores 1.0; one leaving 5% of the allowance unused scores about 0.95. API calls
are counted on every endpoint (the limit is the account's), so a lookup the server makes besides
the activities counts too. Latency is the client-side duration of each tool call, queueing
behind the limiter included.

Baseline. The limit itself: the ideal minimum duration is what any client could at best achieve.

Targets. a: utilisation >= 0.95 and zero rejections. b: at most one window's worth of
rejections (<= C) and every call succeeds (LSQ_MAX_RETRIES 5).

Run: python bench/rate_limit.py [--calls 100] [--limit 10/1] [--configured 20/1]
"""

from __future__ import annotations

import argparse
import logging
import math
import time

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
from mcp import Client

from lsq_mcp.logs import configure_logging
from lsq_mcp.sandbox import SandboxConfig, SandboxServer
from lsq_mcp.server import create_server
from lsq_mcp.settings import ConfigError, RateLimit, Settings, parse_rate_limit

UTILISATION_TARGET = 0.95
# A scenario taking this much longer than its ideal duration is broken, not slow.
TIMEOUT_FACTOR, TIMEOUT_SLACK = 3.0, 20.0


async def burst(sandbox: SandboxServer, real: RateLimit, configured: RateLimit, calls: int) -> Outcome:
    """`calls` concurrent tool calls from a fresh server configured with `configured`."""
    sandbox.state.reset()
    sandbox.state.config = SandboxConfig(rate_limit=(real.calls, real.seconds))
    env = env_for(sandbox, LSQ_RATE_LIMIT=str(configured), LSQ_MAX_RETRIES="5")
    latencies: list[float] = []
    failed = 0

    async with Client(create_server(Settings.from_env(env))) as client:

        async def one() -> None:
            nonlocal failed
            start = time.perf_counter()
            result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 5})
            latencies.append(time.perf_counter() - start)
            failed += bool(result.is_error)

        wall_start = time.perf_counter()
        with anyio.fail_after(TIMEOUT_FACTOR * math.ceil(calls / real.calls) * real.seconds + TIMEOUT_SLACK):
            async with anyio.create_task_group() as group:
                for _ in range(calls):
                    group.start_soon(one)
        wall = time.perf_counter() - wall_start

    stats = sandbox.state.stats_snapshot()
    arrivals = sorted(r.at for r in sandbox.state.requests)
    ideal = (math.ceil(stats.accepted / real.calls) - 1) * real.seconds
    return Outcome(
        calls=calls,
        failed=failed,
        accepted=stats.accepted,
        rejected=stats.rejected,
        busy_span=arrivals[-1] - arrivals[0] if arrivals else 0.0,
        ideal_span=ideal,
        latencies=latencies,
        wall=wall,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=100, help="concurrent tool calls per scenario")
    parser.add_argument("--limit", default="10/1", help="the sandbox's real limit, CALLS/SECONDS")
    parser.add_argument("--configured", help="LSQ_RATE_LIMIT in scenario b (default: twice the calls)")
    args = parser.parse_args()
    try:
        real = parse_rate_limit(args.limit, "--limit")
        configured = parse_rate_limit(args.configured or f"{2 * real.calls}/{real.seconds:g}", "--configured")
    except ConfigError as exc:
        parser.error(str(exc))
    if not real.calls < args.calls <= 1000:
        parser.error(f"--calls must be more than the limit's {real.calls} calls and at most 1000")

    configure_logging((), logging.WARNING)  # as the CLI does: stderr, quiet HTTP libraries
    with running_sandbox(None) as sandbox:
        a = await burst(sandbox, real, real, args.calls)
        b = await burst(sandbox, real, configured, args.calls)

    print(f"{args.calls} concurrent tool calls; sandbox limit {real} (calls/seconds)")
    print_outcomes(["", f"a: configured {real}", f"b: configured {configured}"], a, b)

    a_util_ok = a.utilisation >= UTILISATION_TARGET
    a_reject_ok = a.rejected == 0 and a.failed == 0
    b_reject_ok = b.rejected <= real.calls
    b_success_ok = b.failed == 0
    print(
        f"RESULT a: utilisation {a.utilisation:.3f} (>= {UTILISATION_TARGET}: {verdict(a_util_ok)}), "
        f"rejected {a.rejected}, failed {a.failed} (0: {verdict(a_reject_ok)}), "
        f"p50 {percentile(a.latencies, 50) * 1000:.0f} ms, p95 {percentile(a.latencies, 95) * 1000:.0f} ms; "
        f"b: rejected {b.rejected} (<= {real.calls}: {verdict(b_reject_ok)}), "
        f"succeeded {b.calls - b.failed}/{b.calls} ({verdict(b_success_ok)}), "
        f"utilisation {b.utilisation:.3f}, "
        f"p50 {percentile(b.latencies, 50) * 1000:.0f} ms, p95 {percentile(b.latencies, 95) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    anyio.run(main, backend="asyncio")
