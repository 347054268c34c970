"""No piece of a key reaches a model however the data spells it: redaction after every reading.

LeadSquared's answers are redacted before they are read, but reading them can join what they kept
apart: HTML made text drops the tags between a key's characters and decodes entities escaped twice,
control and bidirectional characters are removed, JSON text in a field is read. Each test sends
such data from a hostile look-alike (real HTTP) and reads the result as a model would, with the
independent oracle of `tests/leaks.py`.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from tests.conftest import TOOL, structured
from tests.hostile import (
    ACCESS_KEY,
    OPP,
    SECRET_KEY,
    HostileServer,
    Reply,
    Request,
    connect_to,
    json_reply,
    page,
    row,
)
from tests.leaks import batched, cases, fuzz, leaked, outputs

pytestmark = pytest.mark.anyio

KEY = ACCESS_KEY[4:20]  # `Acc3ss/K3y+Hosti`


def tagged(text: str, tag: str = "<i></i>") -> str:
    return tag.join(text)


SPELLINGS = {
    "split by tags in a note": {"ActivityEvent_Note": f"<p>key {tagged(KEY)}</p>"},
    "entities escaped twice in a note": {"ActivityEvent_Note": "".join(f"&amp;#{ord(c)};" for c in KEY)},
    "JSON escapes written in the data": {"Status": "".join(f"\\u{ord(c):04x}" for c in KEY)},
    "JSON escapes in a field's JSON text": {
        "mx_Custom_2": '["' + "".join(f"\\u{ord(c):04x}" for c in KEY) + '"]'
    },
    "split by control characters": {"PACreatedByName": "\x00".join(KEY)},
    "split by bidirectional characters": {"LeadName": "\u202e".join(KEY)},
    "split by tags in a field": {"mx_Custom_1": tagged(SECRET_KEY, "<b>")},
    "split by tags in an opportunity's name": {"O_mx_Custom_1": tagged(KEY, "</span>")},
    "split by line breaks in a field's name": {tagged(KEY, "\u200b"): "x"},
}


@pytest.mark.parametrize("fields", SPELLINGS.values(), ids=SPELLINGS.keys())
async def test_a_key_spelled_in_the_data_is_redacted_once_read(fields: dict[str, str]) -> None:
    with HostileServer(lambda _: page([row(1, **fields), row(2)])) as hostile:
        async with connect_to(hostile) as client:
            result = await client.call_tool(TOOL, {"opportunity_id": OPP})
    assert structured(result)["returned"] == 2
    assert [leaked(text) for text in outputs(result)] == [None] * len(outputs(result))
    assert any("[redacted]" in text for text in outputs(result))


TASK_AND_ERROR: dict[str, tuple[str, Callable[[Request], Reply]]] = {
    "a task's name": (
        "get_opportunity_tasks",
        lambda _: json_reply({"RecordCount": 1, "List": [{"TaskID": "t", "Name": "\u2066".join(KEY)}]}),
    ),
    "a task's HTML description": (
        "get_opportunity_tasks",
        lambda _: json_reply(
            {"RecordCount": 1, "List": [{"TaskID": "t", "Description": tagged(KEY, "<b></b>")}]}
        ),
    ),
    "an error's message": (
        "get_opportunity",
        lambda _: json_reply({"Status": "Error", "ExceptionMessage": "bad " + "\x1b".join(KEY)}, 500),
    ),
}


@pytest.mark.parametrize(("tool", "answer"), TASK_AND_ERROR.values(), ids=TASK_AND_ERROR.keys())
async def test_a_key_spelled_in_a_task_or_an_error_is_redacted(
    tool: str, answer: Callable[[Request], Reply]
) -> None:
    with HostileServer(answer) as hostile:
        async with connect_to(hostile) as client:
            result = await client.call_tool(tool, {"opportunity_id": OPP})
    assert [leaked(text) for text in outputs(result)] == [None] * len(outputs(result))
    assert any("[redacted]" in text for text in outputs(result))


async def test_fuzzed_spellings_of_keys_never_reach_the_model() -> None:
    # A small seeded batch of `bench/leaks.py`'s fuzzing, through the real path.
    batches = batched(list(cases(random.Random(19), 300)), size=25)
    answers: list[Callable[[Request], Reply]] = []
    with HostileServer(lambda request: answers[-1](request)) as hostile:
        async with connect_to(hostile, LSQ_RATE_LIMIT="100000/1") as client:
            tally = await fuzz(client, answers.append, batches)
    assert tally.cases == 300
    assert tally.leaks == []
