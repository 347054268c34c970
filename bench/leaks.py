"""Fuzzing the key rule through the real path, against an independent oracle (issue 19, point 1).

Generated hostile values spell a piece of a key (8 to 14 characters), each character written its
own way (as is, another case, HTML entities plain, padded or escaped twice, JSON escapes written in
the data or in a field's JSON text, %XX) and split by what reading the data removes (tags, control,
bidirectional and invisible characters). A hostile LeadSquared look-alike (`tests/hostile.py`, real
HTTP) serves them in activities (note, status, creator, lead, custom field, a field's JSON text,
a field's name, the opportunity's name), tasks (name, description, owner, status), an
opportunity's fields (display name and value) and errors (ExceptionMessage); each batch is one
tool call through an in-process MCP client. The oracle (`tests/leaks.py`, no code shared with
`lsq_mcp.redaction`) looks by brute force for any 8 characters of either key in any case, in the
text and in each string of the structured content, as is, with HTML, JSON or URL escapes decoded
once, with tags stripped, and both in either order.

Target: no leak. Prints the cases, the calls, the leaks found and the first few of them.

Run: python bench/leaks.py [--cases 20000] [--seed 1]
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.hostile import HostileServer, Reply, Request, connect_to
from tests.leaks import Tally, batched, cases, fuzz


async def run(count: int, seed: int) -> Tally:
    batches = batched(list(cases(random.Random(seed), count)), size=25)
    answers: list[Callable[[Request], Reply]] = []
    with HostileServer(lambda request: answers[-1](request)) as hostile:
        async with connect_to(hostile, LSQ_RATE_LIMIT="100000/1") as client:
            return await fuzz(client, answers.append, batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the look-alike's answers are logged as errors
    started = time.perf_counter()
    tally = anyio.run(run, args.cases, args.seed)
    seconds = time.perf_counter() - started
    print(f"cases {tally.cases:,}, tool calls {tally.calls:,}, {seconds:.0f} s, seed {args.seed}")
    print(
        f"leaks found: {len(tally.leaks)} texts or strings, in {tally.leaky_calls} of the calls (target: 0)"
    )
    for batch, piece in tally.leaks[:10]:
        print(
            f"  {piece!r} in the result of a batch of {batch[0].kind} values, e.g. {batch[0].value[:120]!r}"
        )


if __name__ == "__main__":
    main()
