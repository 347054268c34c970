"""Helpers shared by the benchmark scripts: the sandbox, the server's environment, statistics, output.

Everything runs on this machine: the LeadSquared sandbox listens on 127.0.0.1 only.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from lsq_mcp.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Catalog, SandboxConfig, SandboxServer
from lsq_mcp.sandbox.data import OPP_BIG

__all__ = [
    "OPP_BIG",
    "SANDBOX_ACCESS_KEY",
    "SANDBOX_SECRET_KEY",
    "TOOL",
    "Outcome",
    "env_for",
    "env_for_url",
    "percentile",
    "print_outcomes",
    "print_table",
    "running_sandbox",
    "verdict",
]

TOOL = "get_opportunity_activities"


@contextmanager
def running_sandbox(
    rate_limit: tuple[int, float] | None, catalog: Catalog | None = None
) -> Iterator[SandboxServer]:
    """A sandbox on 127.0.0.1 enforcing `rate_limit` (None: no limit), stopped on exit."""
    with SandboxServer(SandboxConfig(rate_limit=rate_limit), catalog=catalog) as sandbox:
        yield sandbox


def env_for(sandbox: SandboxServer, **overrides: str) -> dict[str, str]:
    """The LSQ_* environment of a server pointed at `sandbox`."""
    return env_for_url(sandbox.url, **overrides)


def env_for_url(url: str, **overrides: str) -> dict[str, str]:
    """The LSQ_* environment of a server pointed at a sandbox at `url`."""
    env = {
        "LSQ_ACCESS_KEY": SANDBOX_ACCESS_KEY,
        "LSQ_SECRET_KEY": SANDBOX_SECRET_KEY,
        "LSQ_HOST": url,
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


@dataclass
class Outcome:
    """One burst of tool calls against the sandbox's strict limit."""

    calls: int
    failed: int
    accepted: int
    rejected: int
    busy_span: float  # first to last API call arriving at the sandbox
    ideal_span: float  # the least that span can be under the limit: (ceil(accepted / C) - 1) * W
    latencies: list[float]
    wall: float
    lookups: int | None = None  # ActivityTypes.Get as the servers started, where counted

    @property
    def utilisation(self) -> float:
        """1.0 for a limiter that wastes nothing: the ideal span over the measured one."""
        return self.ideal_span / self.busy_span if self.busy_span > 0 else math.nan

    def column(self) -> list[str]:
        cells = [
            f"{self.calls - self.failed}/{self.calls}",
            str(self.accepted),
            str(self.rejected),
            f"{self.ideal_span:.3f}",
            f"{self.busy_span:.3f}",
            f"{self.utilisation:.3f}",
            f"{percentile(self.latencies, 50) * 1000:.0f}",
            f"{percentile(self.latencies, 95) * 1000:.0f}",
            f"{self.wall:.2f}",
        ]
        return cells if self.lookups is None else [*cells, str(self.lookups)]


_LABELS = [
    "calls succeeded",
    "API calls accepted by sandbox",
    "API calls rejected (429)",
    "ideal first-to-last span (s)",
    "measured first-to-last span (s)",
    "utilisation (ideal/measured)",
    "tool call p50 (ms)",
    "tool call p95 (ms)",
    "wall time (s)",
    "activity type lookups at start",
]


def print_outcomes(header: Sequence[str], a: Outcome, b: Outcome) -> None:
    """Two outcomes side by side, under `header` (the label column's title first)."""
    columns = (a.column(), b.column())
    rows = [[label, x, y] for label, x, y in zip(_LABELS, *columns, strict=False)]
    print_table(header, rows)
