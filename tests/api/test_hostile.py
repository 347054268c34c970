"""What LeadSquared (or something claiming to be it) sends on its worst day, over real HTTP.

Each test serves a misbehaving answer from `tests.hostile.HostileServer` and drives our server
through the MCP client: answers too large to read, pages larger than asked for, text fields
sent as numbers, and answers that are not LeadSquared's at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lsq_mcp.api.connection import MAX_ANSWER_BYTES
from lsq_mcp.errors import AnswerTooLargeError
from lsq_mcp.server import ERROR_KIND_META, error_kind
from tests.conftest import TOOL, structured, text_of
from tests.hostile import (
    OPP,
    HostileServer,
    Reply,
    Request,
    connect_to,
    endless_gzip,
    endless_json,
    gzip_bomb,
    page,
    row,
    types_or,
)

pytestmark = pytest.mark.anyio

ARGS = {"opportunity_id": OPP}
GZIP = {"Content-Encoding": "gzip"}
HTML = {"Content-Type": "text/html"}


def first_then_normal(first: Reply) -> HostileServer:
    """The first activities call gets `first`; every later one a normal page of one activity."""
    replies: Iterator[Reply] = iter([first])

    def answer(_: Request) -> Reply:
        return next(replies, None) or page([row(0)])

    return HostileServer(types_or(answer))


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(lambda: Reply(body=endless_json()), id="endless-200-body"),
        pytest.param(
            lambda: Reply(headers=GZIP, body=gzip_bomb(2 * MAX_ANSWER_BYTES)),
            id="gzip-bomb",
        ),
        pytest.param(lambda: Reply(headers=GZIP, body=endless_gzip()), id="endless-gzip"),
    ],
)
async def test_an_answer_past_the_cap_is_refused_and_the_server_lives_on(reply: Any) -> None:
    with first_then_normal(reply()) as hostile:
        async with connect_to(hostile) as client:
            failed = await client.call_tool(TOOL, ARGS)
            after = await client.call_tool(TOOL, ARGS)
    text = text_of(failed)
    assert failed.is_error, text
    assert (failed.meta or {}).get(ERROR_KIND_META) == error_kind(AnswerTooLargeError)
    assert "larger than 32 MiB" in text
    assert "page_size" in text, "says what to do"
    assert structured(after)["returned"] == 1


async def test_a_page_with_more_rows_than_asked_for_is_cut_to_the_page_size() -> None:
    rows = [row(i) for i in range(10_000)]
    with HostileServer(types_or(lambda _: page(rows))) as hostile:
        async with connect_to(hostile) as client:
            data = structured(await client.call_tool(TOOL, {**ARGS, "page_size": 25}))
    assert data["returned"] == 25
    assert [a["id"] for a in data["activities"]] == [r["ProspectActivityId"] for r in rows[:25]]
    assert data["total"] == 10_000
    assert data["has_more"] is True


async def test_text_fields_sent_as_json_numbers_are_read_as_their_text() -> None:
    odd = row(0, Phone=4915112345, ActivityEvent_Note=42, PACreatedByName=3.5, Status=True)
    with HostileServer(types_or(lambda _: page([odd, row(1)]))) as hostile:
        async with connect_to(hostile) as client:
            data = structured(await client.call_tool(TOOL, ARGS))
    assert data["returned"] == 2
    assert data["leads"][0]["phone"] == "4915112345"
    first = data["activities"][0]
    assert (first["note"], first["created_by"], first["status"]) == ("42", "3.5", "true")


async def error_of(reply: Reply) -> str:
    """The text of the tool error that a call answered by `reply` comes back as."""
    with HostileServer(types_or(lambda _: reply)) as hostile:
        async with connect_to(hostile) as client:
            result = await client.call_tool(TOOL, ARGS)
    assert result.is_error
    return text_of(result)


async def test_an_unreadable_row_in_leadsquareds_answer_names_it_without_blaming_lsq_host() -> None:
    text = await error_of(page([row(0), ["not", "a row"]]))  # type: ignore[list-item]
    assert "List[1]" in text
    assert "not" in text
    assert "LSQ_HOST" not in text


@pytest.mark.parametrize(
    "reply",
    [
        Reply(headers=HTML, body=b"<html><body>Welcome to LeadSquared</body></html>"),
        Reply(body=b'{"d": {"results": []}}'),
        Reply(body=b'{"RecordCount": 3, "List": "three rows"}'),
    ],
    ids=["html-page", "another-apis-json", "list-not-a-list"],
)
async def test_an_answer_that_is_not_leadsquareds_keeps_the_lsq_host_hint(reply: Reply) -> None:
    text = await error_of(reply)
    assert "malformed" in text
    assert "LSQ_HOST" in text
