"""Memory while a hostile upstream sends more than the server will read.

A look-alike on 127.0.0.1 (`tests/hostile.py`, real HTTP) answers one call with, in turn: a
normal page of 1,000 activities with 2 KB notes (the baseline: what a large real answer costs),
an endless 200 body, a gzip bomb (64 MiB of zeros, 64 KB on the wire), an endless gzip stream
(1 MiB unpacked per 1 KB sent) and the same gzipped twice (`Content-Encoding: gzip, gzip`). Each
call goes through our `Connection` (streamed read, the MAX_ANSWER_BYTES cap, httpx2's bounded
decompression). Last, a whole `get_opportunity_activities` call through an in-process MCP client
whose custom field's display name (`GetActivitySetting`) is 8 MB, on each of 100 activities
(`--name-mb`, `--activities`): before the name was capped when read, it was copied into every
activity's fields and line (4 GB). Per scenario: the outcome, the time taken, the peak of Python allocations
(tracemalloc) and the peak resident set size sampled every 5 ms, both above what the process held
before; and the RSS kept after the call. Target: every hostile peak within a small multiple of the
cap (32 MiB), and no hostile peak far above the baseline's.

Run: python bench/hostile_memory.py [--name-mb 8] [--activities 100]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lsq_mcp.api.connection import MAX_ANSWER_BYTES, Connection
from lsq_mcp.api.endpoints import ActivitiesQuery, get_activities_page
from lsq_mcp.errors import LeadSquaredError
from lsq_mcp.settings import Settings
from tests.hostile import (
    OPP,
    Answer,
    HostileServer,
    Reply,
    connect_to,
    endless_gzip,
    endless_json,
    gzip_bomb,
    hostile_env,
    json_reply,
    page,
    routes,
    row,
)

MIB = 2**20


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def twice_gzipped() -> Iterator[bytes]:
    """An endless gzip stream, gzipped again on the way out."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    for piece in endless_gzip():
        yield compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH)


ROWS = range(1000)
GZIP = {"Content-Encoding": "gzip"}
GZIP_TWICE = {"Content-Encoding": "gzip, gzip"}
SCENARIOS: dict[str, Callable[[], Reply]] = {
    "baseline: 1,000 rows, 2 KB notes": lambda: page([row(i, ActivityEvent_Note="n" * 2048) for i in ROWS]),
    "endless 200 body": lambda: Reply(body=endless_json()),
    "gzip bomb (64 MiB of zeros)": lambda: Reply(headers=GZIP, body=gzip_bomb(64 * MIB)),
    "endless gzip stream": lambda: Reply(headers=GZIP, body=endless_gzip()),
    "endless gzip, gzipped twice": lambda: Reply(headers=GZIP_TWICE, body=twice_gzipped()),
}


class PeakRss:
    """Samples the resident set size in a thread while the block runs."""

    def __init__(self) -> None:
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, rss())
            time.sleep(0.005)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, rss())


async def one_call(hostile: HostileServer) -> str:
    settings = Settings.from_env(hostile_env(hostile, LSQ_TIMEOUT="60"))
    async with Connection(settings) as conn:
        try:
            result = await get_activities_page(conn, ActivitiesQuery(OPP, page_size=1000))
        except LeadSquaredError as exc:
            return type(exc).__name__
    return f"{len(result.rows)} rows"


async def tool_call(hostile: HostileServer) -> str:
    async with connect_to(hostile, LSQ_TIMEOUT="60") as client:
        result = await client.call_tool(
            "get_opportunity_activities", {"opportunity_id": OPP, "page_size": 1000}
        )
    text = "".join(block.text for block in result.content if block.type == "text")
    return f"error: {text[:40]}" if result.is_error else f"text {len(text) / MIB:.2f} MiB"


def field_name_answers(name_mb: float, activities: int) -> Answer:
    """Activities whose custom field's display name is `name_mb` MB long."""
    setting = json_reply({"Fields": [{"SchemaName": "mx_Custom_1", "DisplayName": "N" * int(name_mb * MIB)}]})
    rows = page([row(i, mx_Custom_1=f"value {i}") for i in range(activities)])
    types = json_reply([{"ActivityEvent": "22", "ActivityEventName": "Outbound Phone Call"}])
    return routes(
        {
            "ActivityTypes.Get": lambda _: types,
            "GetActivitySetting": lambda _: setting,
            "GetActivitiesOfOpportunity": lambda _: rows,
        }
    )


def always(reply: Reply) -> Answer:
    return lambda _: reply


def measure(name: str, answer: Answer, call: Callable[[HostileServer], Any] = one_call) -> None:
    with HostileServer(answer) as hostile:
        gc.collect()
        before = rss()
        tracemalloc.start()
        began = time.monotonic()
        with PeakRss() as peak:
            outcome = asyncio.run(call(hostile))
        elapsed = time.monotonic() - began
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        gc.collect()
        kept = rss() - before
    print(
        f"{name:<36} {outcome:<22} {elapsed:6.2f}s  {traced_peak / MIB:8.1f} MiB"
        f"  {(peak.peak - before) / MIB:8.1f} MiB  {kept / MIB:7.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name-mb", type=float, default=8.0, help="the display name's size (MB)")
    parser.add_argument("--activities", type=int, default=100, help="activities holding the field")
    args = parser.parse_args()
    print(f"cap: MAX_ANSWER_BYTES = {MAX_ANSWER_BYTES / MIB:g} MiB, read and decompressed")
    print(f"{'scenario':<36} {'outcome':<22} {'time':>7}  {'py peak':>12}  {'RSS peak':>12}  {'kept':>11}")
    for name, make in SCENARIOS.items():
        measure(name, always(make()))
    name = f"{args.name_mb:g} MB field name, {args.activities} rows"
    measure(name, field_name_answers(args.name_mb, args.activities), tool_call)


if __name__ == "__main__":
    main()
