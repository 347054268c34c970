"""Helpers shared by the benchmark scripts: the sandbox, the server's environment, statistics, output.

Everything runs on this machine: the LeadSquared sandbox listens on 127.0.0.1 only.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from lsq_mcp.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, SandboxConfig, SandboxServer
from lsq_mcp.sandbox.data import OPP_BIG

__all__ = [
    "OPP_BIG",
    "SANDBOX_ACCESS_KEY",
    "SANDBOX_SECRET_KEY",
    "TOOL",
    "env_for",
    "percentile",
    "print_table",
    "running_sandbox",
    "verdict",
]

TOOL = "get_opportunity_activities"


@contextmanager
def running_sandbox(rate_limit: tuple[int, float] | None) -> Iterator[SandboxServer]:
    """A sandbox on 127.0.0.1 enforcing `rate_limit` (None: no limit), stopped on exit."""
    with SandboxServer(SandboxConfig(rate_limit=rate_limit)) as sandbox:
        yield sandbox


def env_for(sandbox: SandboxServer, **overrides: str) -> dict[str, str]:
    """The LSQ_* environment of a server pointed at `sandbox`."""
    env = {
        "LSQ_ACCESS_KEY": SANDBOX_ACCESS_KEY,
        "LSQ_SECRET_KEY": SANDBOX_SECRET_KEY,
        "LSQ_HOST": sandbox.url,
        "LSQ_TIMEOUT": "10",
        "LSQ_MAX_RETRIES": "3",
        "LSQ_RATE_LIMIT": "100000/1",
    }
    env.update(overrides)
    return env


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100) of `values`, interpolating between the two nearest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def verdict(met: bool) -> str:
    return "target met" if met else "target MISSED"


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [first.ljust(widths[0])] + [c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)]
        return "  ".join(parts)

    print(line(header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
