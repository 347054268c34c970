"""Fuzzing the key rule through the real path: hostile data that spells a key's piece, every way.

A hostile LeadSquared look-alike (`tests/hostile.py`, real HTTP) sends pages, tasks, opportunity
details and errors whose values spell a piece of a key (8 to 14 characters) with each character
written its own way (as is, in another case, as an HTML entity, twice escaped, as a JSON or URL
escape, inside JSON text a field holds) and split by what reading the data removes (tags, control,
bidirectional and invisible characters). Every tool result is read by an independent oracle:
`leaked` looks, by brute force, for any 8 characters of a key in any case in the text and in each
string of the structured content, as is, with HTML, JSON or URL escapes decoded once, with tags
stripped, and both in either order. It shares no code with `lsq_mcp.redaction`.

`tests/test_leaks.py` runs a small seeded batch; `bench/leaks.py` runs many.
"""

from __future__ import annotations

import html
import random
import re
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mcp import Client

from tests.hostile import ACCESS_KEY, OPP, SECRET_KEY, Reply, Request, json_reply, page, row

SECRETS = (ACCESS_KEY, SECRET_KEY)
WINDOW = 8

# How one character may be written in a value (the value is then sent as JSON, as LeadSquared does).
CHARACTER_FORMS: tuple[Callable[[str], str], ...] = (
    lambda c: c,
    lambda c: c.swapcase(),
    lambda c: f"&#{ord(c)};",
    lambda c: f"&#x{ord(c):X};",
    lambda c: f"&#000{ord(c)}",
    lambda c: f"&amp;#{ord(c)};",  # escaped twice: HTML made text reads it once
    lambda c: f"\\u{ord(c):04x}",  # a JSON escape written in the data itself
    lambda c: f"%{ord(c):02X}",
)
# What may stand between two characters, and goes when the data is read.
SEPARATORS = (
    "",
    "",
    "<i></i>",
    "<b>",
    "</span>",
    "<!-- x -->",
    "\x00",
    "\x1b",
    "\u202e",
    "\u2066",
    "\u200b",
    "\ufeff",
)
# Where a value may be: a field of an activity, a task, the opportunity's details, an error.
ACTIVITY_FIELDS = (
    "ActivityEvent_Note",
    "Status",
    "PACreatedByName",
    "LeadName",
    "mx_Custom_1",
    "O_mx_Custom_1",
)
TASK_FIELDS = ("Name", "Description", "OwnerName", "Status")


@dataclass(frozen=True)
class Case:
    """One value spelling a piece of a key, and where it goes (`kind`: activity, task, details, error)."""

    kind: str
    field: str
    value: str


def spelled(rng: random.Random) -> str:
    """A piece of a key, each character written its own way, separated or not."""
    secret = rng.choice(SECRETS)
    length = rng.randint(WINDOW, 14)
    start = rng.randrange(len(secret) - length + 1)
    forms = [rng.choice(CHARACTER_FORMS) for _ in range(3)]
    seps = [rng.choice(SEPARATORS) for _ in range(2)]
    parts = [rng.choice(forms)(c) + rng.choice(seps) for c in secret[start : start + length]]
    return "".join(parts)


def cases(rng: random.Random, count: int) -> Iterator[Case]:
    for _ in range(count):
        value = f"before {spelled(rng)} after"
        kind = rng.choice(("activity", "activity", "activity", "task", "details", "error"))
        if kind == "activity":
            where = rng.choice((*ACTIVITY_FIELDS, "json set", "field name"))
        else:
            where = rng.choice(TASK_FIELDS) if kind == "task" else "value"
        if where == "json set":  # JSON text in a field, with JSON escapes: read into a list
            value = '["' + "".join(_json_escaped(c, rng) for c in value) + '"]'
        yield Case(kind, where, value)


def _json_escaped(char: str, rng: random.Random) -> str:
    return f"\\u{ord(char):04x}" if char in '"\\' or rng.random() < 0.7 else char


def activity_page(batch: list[Case]) -> Reply:
    rows = []
    for index, case in enumerate(batch):
        if case.field == "json set":
            rows.append(row(index, mx_Custom_2=case.value))
        elif case.field == "field name":
            rows.append(row(index, **{case.value: "x"}))
        else:
            rows.append(row(index, **{case.field: case.value}))
    return page(rows)


def answer_for(case_batch: list[Case]) -> tuple[str, dict[str, Any], Callable[[Request], Reply]]:
    """The tool to call for a batch of one kind, its arguments, and how the look-alike answers."""
    kind = case_batch[0].kind
    if kind == "activity":
        return "get_opportunity_activities", {"opportunity_id": OPP}, lambda _: activity_page(case_batch)
    if kind == "task":
        tasks = [{"TaskID": f"t{i}", c.field: c.value} for i, c in enumerate(case_batch)]
        return (
            "get_opportunity_tasks",
            {"opportunity_id": OPP},
            lambda _: json_reply({"RecordCount": 1, "List": tasks}),
        )
    if kind == "details":
        fields = [
            {"SchemaName": f"mx_Custom_{i}", "DisplayName": c.value, "Value": c.value}
            for i, c in enumerate(case_batch)
        ]
        return "get_opportunity", {"opportunity_id": OPP}, lambda _: json_reply({"Fields": fields})
    message = " ".join(c.value for c in case_batch[:1])
    error = {"Status": "Error", "ExceptionType": "MXException", "ExceptionMessage": message}
    return "get_opportunity_tasks", {"opportunity_id": OPP}, lambda _: json_reply(error, 500)


def outputs(result: Any) -> list[str]:
    """What a model may read of a result: its text, and each string of its structured content."""
    texts = [block.text for block in result.content if block.type == "text"]
    return texts + list(_strings(result.structured_content))


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)


_PIECES = frozenset(s.lower()[i : i + WINDOW] for s in SECRETS for i in range(len(s) - WINDOW + 1))
_TAGS = re.compile("<[^<>]*>")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\([\"\\/bfnrt])")
_JSON_CHARS = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _json_unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(1):
            return chr(int(match.group(1), 16))
        return _JSON_CHARS.get(match.group(2), match.group(2))

    return _JSON_ESCAPE.sub(one, text)


def _strip_tags(text: str) -> str:
    return _TAGS.sub("", text)


_DECODERS: tuple[Callable[[str], str], ...] = (html.unescape, _json_unescape, urllib.parse.unquote)


def leaked(text: str) -> str | None:
    """A piece of a key found in some reading of `text`, or None: the oracle."""
    readings = {text, _strip_tags(text)}
    for decode in _DECODERS:
        readings |= {decode(text), decode(_strip_tags(text)), _strip_tags(decode(text))}
    for reading in readings:
        low = reading.replace("\u0130", "i").lower()
        for i in range(len(low) - WINDOW + 1):
            if low[i : i + WINDOW] in _PIECES:
                return low[i : i + WINDOW]
    return None


@dataclass
class Tally:
    """What a run did: cases and calls, and each leak (the batch it was in, the piece found)."""

    cases: int = 0
    calls: int = 0
    leaky_calls: int = 0  # calls whose result showed a piece of a key (in its text or any string)
    leaks: list[tuple[list[Case], str]] = field(default_factory=list)


async def fuzz(
    client: Client, serve: Callable[[Callable[[Request], Reply]], None], batches: list[list[Case]]
) -> Tally:
    """Each batch through one tool call (`serve` sets how the look-alike answers it); the leaks found."""
    tally = Tally()
    for batch in batches:
        tool, arguments, answer = answer_for(batch)
        serve(answer)
        result = await client.call_tool(tool, arguments)
        tally.calls += 1
        tally.cases += len(batch)
        found = [(batch, piece) for text in outputs(result) if (piece := leaked(text)) is not None]
        tally.leaky_calls += bool(found)
        tally.leaks += found
    return tally


def batched(all_cases: list[Case], size: int) -> list[list[Case]]:
    """The cases in batches of one kind each (an error answers one case per call)."""
    by_kind: dict[str, list[Case]] = {}
    for case in all_cases:
        by_kind.setdefault(case.kind, []).append(case)
    batches = []
    for kind, group in by_kind.items():
        step = 1 if kind == "error" else size
        batches += [group[i : i + step] for i in range(0, len(group), step)]
    return batches
