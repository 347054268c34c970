"""What keeping the keys out of results costs on each answer, against reading the answer at all.

Every LeadSquared answer is looked at for pieces of the keys before it is read
(`lsq_mcp.redaction.redact_answer`). This times that look on pages of activities from the sandbox
(25 and 1,000 rows, as `get_opportunity_activities` asks for them) against the baseline every
reading pays anyway, `json.loads` of the same page, in one run, best of `--repeat` rounds. Three
kinds of page: as the sandbox sends it; with its notes' HTML escaped for JSON as .NET's serialisers
may write it (each `<`, `>` and `'` a `\\u003c`, `\\u003e`, `\\u0027`); and with a key's piece
HTML-escaped in one note, which the look must find (and the page then gets the exact search).

Target: on a page with no key, the look costs less than `json.loads` (ratio < 1).

Then the last pass every tool result gets (`lsq_mcp.redaction.redact_json` over its structured
content, `redact` over its text), on the result `get_opportunity_activities` makes of each page as
sent, against the same `json.loads`. No target: it is part of the time a call adds, measured by
`bench/overhead.py`.

Run: python bench/redaction.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import html
import json
import timeit
from collections.abc import Callable
from typing import Any

import httpx2
from _common import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, print_table, running_sandbox, verdict

from lsq_mcp.api.endpoints import ACTIVITIES_PATH
from lsq_mcp.api.models import RawActivitiesPage
from lsq_mcp.redaction import REDACTED, redact, redact_answer, redact_json
from lsq_mcp.sandbox.data import OPP_HUGE, build_catalog
from lsq_mcp.tools.activities.result import Condenser, PageRequest
from lsq_mcp.tools.activities.timeline import render_timeline

SECRETS = (SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY)
ROWS = (25, 1000)


def page(url: str, rows: int) -> bytes:
    """The sandbox's first page of `rows` activities of its largest opportunity, as sent."""
    response = httpx2.post(
        url + ACTIVITIES_PATH,
        params={"opportunityId": OPP_HUGE},
        headers={"x-LSQ-AccessKey": SANDBOX_ACCESS_KEY, "x-LSQ-SecretKey": SANDBOX_SECRET_KEY},
        json={"Paging": {"PageIndex": 1, "PageSize": rows}, "Sorting": {"ColumnName": "CreatedOn"}},
        trust_env=False,
    )
    response.raise_for_status()
    return response.content


def kinds(content: bytes) -> dict[str, bytes]:
    """The three kinds of page made from one (see the module's docstring)."""
    escaped = content
    for char in "<>'":
        escaped = escaped.replace(char.encode(), f"\\u{ord(char):04x}".encode())
    echo = html.escape(SANDBOX_SECRET_KEY[4:20]).encode()
    note = b'"ActivityEvent_Note":"'
    if note not in content:
        raise RuntimeError("the page holds no note to put a key's piece in")
    holding = content.replace(note, note + echo + b" ", 1)
    return {"as sent": content, "HTML escaped for JSON": escaped, "a key's piece in a note": holding}


def best_us(call: Callable[[], object], repeat: int, seconds: float = 0.2) -> float:
    """Microseconds a call, the best of `repeat` rounds of about `seconds` each."""
    number = max(1, int(seconds / max(timeit.timeit(call, number=1), 1e-7)))
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7, help="timed rounds, the best kept")
    args = parser.parse_args()
    with running_sandbox(None, build_catalog(huge_activities=max(ROWS))) as sandbox:
        pages = {rows: page(sandbox.url, rows) for rows in ROWS}
    table, results = [], []
    for rows, content in pages.items():
        for kind, body in kinds(content).items():
            text = redact_answer(body, SECRETS)
            found = REDACTED in text
            if found != (kind == "a key's piece in a note"):
                raise RuntimeError(f"{rows} rows, {kind}: the key's piece was {'' if found else 'not '}found")
            look = best_us(lambda body=body: redact_answer(body, SECRETS), args.repeat)
            read = best_us(lambda body=body: json.loads(body), args.repeat)
            table.append([f"{rows} rows, {kind}", f"{len(body) / 1000:.0f}", f"{look:.0f}", f"{read:.0f}"])
            table[-1].append(f"{look / read:.2f}")
            if not found:
                results.append(
                    f"RESULT {rows} rows, {kind}: redaction {look:.0f} us vs json.loads {read:.0f} us, "
                    f"ratio {look / read:.2f} (< 1: {verdict(look < read)})"
                )
    for rows, content in pages.items():
        result = condensed(content)
        text = render_timeline(result)
        last = best_us(lambda t=text, r=result: (redact(t, SECRETS), redact_json(r, SECRETS)), args.repeat)
        read = best_us(lambda content=content: json.loads(content), args.repeat)
        table.append([f"{rows} rows: the last pass over its result", "", f"{last:.0f}", f"{read:.0f}"])
        table[-1].append(f"{last / read:.2f}")
    print_table(["page", "kB", "redaction us", "json.loads us", "ratio"], table)
    for line in results:
        print(line)


def condensed(content: bytes) -> dict[str, Any]:
    """The result `get_opportunity_activities` makes of a page, its activities' types unnamed."""
    raw = RawActivitiesPage.read(json.loads(content))
    condenser = Condenser(OPP_HUGE)
    activities = condenser.add(raw.rows, {}, {})
    request = PageRequest(OPP_HUGE, 1, len(raw.rows), "newest_first")
    return condenser.result(request, raw.record_count, activities, has_more=False, next_page=None)


if __name__ == "__main__":
    main()
