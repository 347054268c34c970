"""Other LeadSquared look-alikes: shapes the reference allows that our sandbox does not serve.

Each test answers with a small handler function (httpx2's MockTransport) in place of the
network, and drives the product through the MCP client.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx2
import pytest
from mcp import Client

from lsq_mcp.server import create_server
from lsq_mcp.settings import Settings
from tests.conftest import TOOL, structured, text_of

pytestmark = pytest.mark.anyio

OPP = "6f1c2a9e-4b7d-4e52-9c0a-1d3e5f7a9b21"
ROW = {
    "ProspectId": "69e1c27e-dd08-4b53-b509-f353ad1c7f4d",
    "LeadName": "Manish Garg",
    "ProspectActivityId": "4ff82538-3e7c-4bc2-ab0d-81957e91865c",
    "ActivityEvent": "22",
    "PACreatedOn": "2020-10-16 05:57:37",
}
Handler = Callable[[httpx2.Request], httpx2.Response]


def activities(rows: list[dict[str, Any]], count: Any = None) -> httpx2.Response:
    return httpx2.Response(200, json={"RecordCount": len(rows) if count is None else count, "List": rows})


def types_or(answer: Callable[[httpx2.Request], httpx2.Response]) -> Handler:
    """Activity types (and their custom field names) answered normally; everything else by `answer`."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("ActivityTypes.Get"):
            return httpx2.Response(200, json=[{"ActivityEvent": "22", "DisplayName": "Outbound Phone Call"}])
        if request.url.path.endswith("GetActivitySetting"):
            return httpx2.Response(
                200, json={"Fields": [{"SchemaName": "mx_Custom_1", "DisplayName": "Outcome"}]}
            )
        return answer(request)

    return handler


@asynccontextmanager
async def lookalike(handler: Handler, **env: str) -> AsyncIterator[Client]:
    settings = Settings.from_env(
        {
            "LSQ_ACCESS_KEY": "u$rA1",
            "LSQ_SECRET_KEY": "s3cr3t-key",
            "LSQ_HOST": "api-in21.leadsquared.com",
            **env,
        }
    )
    async with Client(create_server(settings, transport=httpx2.MockTransport(handler))) as client:
        yield client


async def test_a_body_that_cannot_be_decoded_is_malformed_and_the_server_lives_on() -> None:
    calls = 0

    def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        calls += 1
        if calls <= 2:  # the type lookup, then the first tool call: plain text announced as gzip

            async def body() -> AsyncIterator[bytes]:  # streamed, as off the network
                yield b'{"RecordCount":0,"List":[]}'

            return httpx2.Response(200, content=body(), headers={"Content-Encoding": "gzip"})
        return types_or(lambda _: activities([ROW]))(request)

    async with lookalike(handler, LSQ_MAX_RETRIES="0") as client:
        bad = await client.call_tool(TOOL, {"opportunity_id": OPP})
        good = await client.call_tool(TOOL, {"opportunity_id": OPP})
    assert bad.is_error
    assert "200" in text_of(bad)
    assert "malformed" in text_of(bad)
    assert structured(good)["returned"] == 1


async def test_a_plain_text_429_still_teaches_the_limit() -> None:
    answer = httpx2.Response(429, text="API calls exceeded the limit of 10 in 5 second(s)")
    async with lookalike(types_or(lambda _: answer), LSQ_MAX_RETRIES="0") as client:
        result = await client.call_tool(TOOL, {"opportunity_id": OPP})
    assert result.is_error
    assert "10 calls per 5 seconds" in text_of(result)


async def test_retry_after_as_an_http_date_is_honoured() -> None:
    answers = iter([2])

    def answer(request: httpx2.Request) -> httpx2.Response:
        if next(answers, None) is not None:
            when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=2), usegmt=True)
            return httpx2.Response(429, headers={"Retry-After": when}, json={"Status": "Error"})
        return activities([ROW])

    async with lookalike(types_or(answer)) as client:
        began = time.monotonic()
        result = await client.call_tool(TOOL, {"opportunity_id": OPP})
    assert structured(result)["returned"] == 1
    assert time.monotonic() - began >= 0.9  # an HTTP date counts whole seconds


async def test_a_framework_400_message_is_quoted() -> None:
    answer = httpx2.Response(400, json={"Message": "The request is invalid."})
    async with lookalike(types_or(lambda _: answer)) as client:
        text = text_of(await client.call_tool(TOOL, {"opportunity_id": OPP}))
    assert "400" in text
    assert "The request is invalid." in text


async def test_a_404_with_a_leadsquared_message_quotes_it_and_names_lsq_host() -> None:
    body = {
        "Status": "Error",
        "ExceptionType": "MXInvalidEntityReferenceException",
        "ExceptionMessage": "No such API",
    }
    async with lookalike(types_or(lambda _: httpx2.Response(404, json=body))) as client:
        text = text_of(await client.call_tool(TOOL, {"opportunity_id": OPP}))
    assert "404" in text
    assert "No such API" in text
    assert "LSQ_HOST" in text


async def test_a_refused_default_sort_column_falls_back_to_the_answers_name_and_remembers() -> None:
    columns: list[str] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        column = json.loads(request.content)["Sorting"]["ColumnName"]
        columns.append(column)
        if column != "PACreatedOn":
            body = {
                "Status": "Error",
                "ExceptionType": "MXInvalidInputException",
                "ExceptionMessage": f"Invalid sort column {column}",
            }
            return httpx2.Response(500, json=body)
        return activities([ROW])

    async with lookalike(types_or(answer)) as client:
        first = await client.call_tool(TOOL, {"opportunity_id": OPP})
        second = await client.call_tool(TOOL, {"opportunity_id": OPP})
        chosen = await client.call_tool(TOOL, {"opportunity_id": OPP, "sort_column": "Score"})
    assert structured(first)["returned"] == structured(second)["returned"] == 1
    assert chosen.is_error, "a column the caller chose is not second-guessed"
    assert columns == ["CreatedOn", "PACreatedOn", "PACreatedOn", "Score"]


async def test_loose_page_shapes() -> None:
    no_id = {k: v for k, v in ROW.items() if k != "ProspectActivityId"}
    answers = iter([activities([no_id], count="1"), httpx2.Response(200, json={"RecordCount": "0"})])
    async with lookalike(types_or(lambda _: next(answers))) as client:
        without_id = structured(await client.call_tool(TOOL, {"opportunity_id": OPP}))
        without_list = structured(await client.call_tool(TOOL, {"opportunity_id": OPP}))
    assert without_id["total"] == 1
    assert "id" not in without_id["activities"][0]
    assert without_id["activities"][0]["event_name"] == "Outbound Phone Call"
    assert (without_list["total"], without_list["activities"]) == (0, [])


async def test_keys_travel_in_headers_with_their_documented_names() -> None:
    seen: list[httpx2.Request] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return activities([ROW])

    async with lookalike(types_or(answer)) as client:
        structured(await client.call_tool(TOOL, {"opportunity_id": OPP, "activity_event_code": 22}))
    [request] = seen
    assert request.url.host == "api-in21.leadsquared.com"
    assert request.url.scheme == "https"
    assert request.url.path == "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity"
    assert dict(request.url.params) == {"opportunityId": OPP, "activityEventCode": "22"}
    raw_names = [name for name, _ in request.headers.raw]
    assert b"x-LSQ-AccessKey" in raw_names
    assert b"x-LSQ-SecretKey" in raw_names
    assert "u$rA1" not in str(request.url)


async def test_a_503_is_retried_whatever_its_body_says() -> None:
    answers = iter(
        [
            httpx2.Response(
                503,
                json={"Status": "Error", "ExceptionType": "MXServiceUnavailable", "ExceptionMessage": "Busy"},
            ),
            activities([ROW]),
        ]
    )
    async with lookalike(types_or(lambda _: next(answers))) as client:
        result = await client.call_tool(TOOL, {"opportunity_id": OPP})
    assert structured(result)["returned"] == 1
