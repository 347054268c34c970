"""get_opportunity_activities through an in-process MCP client, against the sandbox over loopback HTTP."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx2
import jsonschema
import pytest

from lsq_mcp.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, SandboxServer
from lsq_mcp.sandbox.data import (
    BIG_ACTIVITY_COUNT,
    LEAD_ZOE,
    OPP_BIG,
    OPP_EMPTY,
    OPP_HTML,
    OPP_ODD,
    OPP_UNICODE,
)
from tests.conftest import TOOL, calls_made_by_tools, connect, structured, text_of

pytestmark = pytest.mark.anyio

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
PATH = "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity"


def api_requests(sandbox: SandboxServer) -> list[Any]:
    return [r for r in sandbox.state.requests if r.path == PATH]


async def test_server_identity_and_tool_listing(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        assert client.server_info is not None
        assert client.server_info.name == "leadsquared"
        assert client.instructions
        assert "get_opportunity_activities" in client.instructions
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    tool = tools[TOOL]
    assert tool.annotations is not None
    assert tool.annotations.read_only_hint is True
    assert tool.annotations.idempotent_hint is True
    assert tool.annotations.open_world_hint is True
    assert tool.annotations.destructive_hint is False
    assert tool.description
    assert "opportunity" in tool.description
    assert tool.output_schema is not None
    # The keys of each activity, lead and the opportunity are told in words: no schema of theirs makes
    # a client's check of every result visit each of them.
    result = tool.output_schema["properties"]
    for name, keys in {
        "activities": (
            "id (string",
            "event_code (integer",
            "created_at (string",
            "note (string",
            "fields (object",
        ),
        "leads": ("name (string", "email (string", "do_not_call (boolean"),
        "opportunity": ("name (string", "type_code (integer", "fields (object"),
    }.items():
        assert set(result[name]) == {"type", "title", "description"}, result[name]
        assert all(key in result[name]["description"] for key in keys), result[name]["description"]
    assert "$defs" not in tool.output_schema
    properties = tool.input_schema["properties"]
    assert list(properties) == [
        "opportunity_id",
        "activity_event_code",
        "columns",
        "page_index",
        "page_size",
        "sort_column",
        "sort_direction",
        "fetch_all",
        "max_activities",
        "since",
        "until",
    ]
    assert tool.input_schema["required"] == ["opportunity_id"]
    assert properties["page_index"]["default"] == 1
    assert properties["page_size"]["default"] == 25
    assert (properties["page_size"]["minimum"], properties["page_size"]["maximum"]) == (1, 1000)
    assert properties["sort_direction"]["enum"] == ["newest_first", "oldest_first"]
    assert properties["sort_direction"]["default"] == "newest_first"
    assert properties["fetch_all"]["default"] is False
    assert properties["max_activities"]["default"] == 500


async def test_first_page_newest_first(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == TOOL)
        result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG})
    data = structured(result)
    jsonschema.validate(data, tool.output_schema or {})
    assert data["opportunity_id"] == OPP_BIG
    assert (data["total"], data["returned"], data["has_more"], data["next_page_index"]) == (
        BIG_ACTIVITY_COUNT,
        25,
        True,
        2,
    )
    created = [a["created_at"] for a in data["activities"]]
    assert all(ISO_UTC.match(c) for c in created)
    assert created == sorted(created, reverse=True)
    for activity in data["activities"]:
        assert isinstance(activity["id"], str)
        assert isinstance(activity["event_code"], int)
    [request] = api_requests(sandbox)
    assert request.method == "POST"
    assert request.query == {"opportunityId": OPP_BIG}
    assert request.body == {
        "Paging": {"PageIndex": 1, "PageSize": 25},
        "Sorting": {"ColumnName": "CreatedOn", "Direction": 1},
    }
    assert request.had_key_headers
    assert not request.keys_in_query
    assert request.headers["content-type"] == "application/json"


async def test_last_page_has_no_next(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        data = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_index": 26}))
    assert (data["returned"], data["has_more"]) == (BIG_ACTIVITY_COUNT - 625, False)
    assert "next_page_index" not in data


async def test_oldest_first_event_code_columns(sandbox: SandboxServer) -> None:
    arguments = {
        "opportunity_id": OPP_BIG.upper(),
        "activity_event_code": 22,
        "columns": ["mx_Custom_1", "mx_Custom_2"],
        "page_size": 50,
        "sort_direction": "oldest_first",
    }
    async with connect(sandbox) as client:
        data = structured(await client.call_tool(TOOL, arguments))
    assert data["activities"], "the big opportunity has outbound calls"
    assert {a["event_code"] for a in data["activities"]} == {22}
    created = [a["created_at"] for a in data["activities"]]
    assert created == sorted(created)
    [request] = api_requests(sandbox)
    assert request.query == {"opportunityId": OPP_BIG.upper(), "activityEventCode": "22"}
    assert request.body == {
        "Paging": {"PageIndex": 1, "PageSize": 50},
        "Sorting": {"ColumnName": "CreatedOn", "Direction": 0},
        "Columns": {"Include_CSV": "mx_Custom_1,mx_Custom_2"},
    }


async def test_sort_column_is_passed_on(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "sort_column": "Score"}))
    [request] = api_requests(sandbox)
    assert request.body["Sorting"]["ColumnName"] == "Score"


async def test_lead_details_once_and_timeline_text(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 10})
    data = structured(result)
    [lead] = data["leads"]
    assert lead["id"] == LEAD_ZOE
    assert lead["name"] == "Zoë Müller"
    assert all("email" not in a and "lead_id" not in a for a in data["activities"])
    lines = text_of(result).splitlines()
    assert lines[0].startswith(f"Opportunity {OPP_BIG}")
    assert lines[1].startswith("Lead: Zoë Müller")
    assert (
        lines[2] == f"Activities 1-10 of {BIG_ACTIVITY_COUNT}, newest first, times UTC. More: page_index=2."
    )
    assert lines[3].startswith("Types: ")
    days = {a["created_at"][:10] for a in data["activities"]}
    assert len(lines) == 4 + len(days) + 10, "a heading per day, a line per activity"


async def test_empty_opportunity(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        result = await client.call_tool(TOOL, {"opportunity_id": OPP_EMPTY})
    data = structured(result)
    assert (data["total"], data["returned"], data["has_more"], data["activities"]) == (0, 0, False, [])
    assert "No activities." in text_of(result)


async def test_html_unicode_and_odd_values(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        html = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_HTML}))
        odd = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_ODD}))
        uni = await client.call_tool(TOOL, {"opportunity_id": OPP_UNICODE})
    notes = [a["note"] for a in html["activities"] if "note" in a]
    assert notes
    assert not any(re.search(r"<[a-z/][^>]*>|&amp;|&lt;|&nbsp;", note) for note in notes)
    dates = [a["created_at"] for a in odd["activities"]]
    assert "sometime in May" in dates
    assert any(re.search(r"…\[\+[0-9,]+ chars\]$", a.get("note", "")) for a in odd["activities"])
    assert "龙" in text_of(uni)
    dumped = json.dumps([html, odd, structured(uni)])
    assert "null" not in dumped
    assert '""' not in dumped


async def test_text_is_far_smaller_than_leadsquareds_json(sandbox: SandboxServer) -> None:
    """docs/tools.md's promise: several times smaller; here, at most 35% of the raw JSON."""
    for opportunity, size in ((OPP_BIG, 25), (OPP_BIG, 200), (OPP_HTML, 25), (OPP_UNICODE, 25)):
        body = {
            "Paging": {"PageIndex": 1, "PageSize": size},
            "Sorting": {"ColumnName": "CreatedOn", "Direction": 1},
        }
        raw = httpx2.post(
            f"{sandbox.url}{PATH}",
            params={"opportunityId": opportunity},
            json=body,
            headers={"x-LSQ-AccessKey": SANDBOX_ACCESS_KEY, "x-LSQ-SecretKey": SANDBOX_SECRET_KEY},
        ).text
        async with connect(sandbox) as client:
            text = text_of(await client.call_tool(TOOL, {"opportunity_id": opportunity, "page_size": size}))
        assert len(text) <= 0.35 * len(raw), (opportunity, size, len(text), len(raw))


async def test_fetch_all_reads_every_page_in_few_calls(sandbox: SandboxServer) -> None:
    updates: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total))

    async with connect(sandbox) as client:
        result = await client.call_tool(
            TOOL,
            {
                "opportunity_id": OPP_BIG,
                "fetch_all": True,
                "max_activities": 10000,
                "page_size": 100,
                "page_index": 3,
            },
            progress_callback=on_progress,
        )
    data = structured(result)
    assert data["returned"] == BIG_ACTIVITY_COUNT - 200
    assert data["has_more"] is False
    assert len({a["id"] for a in data["activities"]}) == data["returned"]
    created = [a["created_at"] for a in data["activities"]]
    assert created == sorted(created, reverse=True)
    sizes = sorted(
        (r.body["Paging"]["PageIndex"], r.body["Paging"]["PageSize"]) for r in api_requests(sandbox)
    )
    # Pages of 200 aligned on activity 201: (2, 200), (3, 200), (4, 200) instead of five pages of 100.
    assert sizes == [(2, 200), (3, 200), (4, 200)]
    assert updates[-1] == (3, 3)


async def test_fetch_all_stops_at_max_activities(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        data = structured(
            await client.call_tool(
                TOOL, {"opportunity_id": OPP_BIG, "fetch_all": True, "max_activities": 130}
            )
        )
    assert (data["returned"], data["has_more"]) == (130, True)
    # 130 of pages of 25 end mid-page 6: page 6 is next, so nothing is skipped.
    assert data["next_page_index"] == 6
    assert len(api_requests(sandbox)) == 1


async def test_fetch_all_result_matches_paging_by_hand(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        whole = structured(
            await client.call_tool(
                TOOL, {"opportunity_id": OPP_BIG, "fetch_all": True, "max_activities": 100}
            )
        )
        by_hand = []
        for page in range(1, 5):
            by_hand += structured(
                await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_index": page})
            )["activities"]
    assert whole["activities"] == by_hand


@pytest.mark.parametrize(
    ("arguments", "names"),
    [
        ({"opportunity_id": "not-a-guid"}, ["opportunity_id", "GUID"]),
        ({"opportunity_id": OPP_BIG + "0"}, ["opportunity_id", "GUID"]),
        ({"opportunity_id": OPP_BIG, "activity_event_code": -1}, ["activity_event_code", "from 0 to"]),
        ({"opportunity_id": OPP_BIG, "columns": ["Status", "bad col"]}, ["columns", "letters, digits and _"]),
        ({"opportunity_id": OPP_BIG, "columns": "Status"}, ["columns", "list"]),
        ({"opportunity_id": OPP_BIG, "page_index": 0}, ["page_index", "from 1 to"]),
        ({"opportunity_id": OPP_BIG, "page_size": 1001}, ["page_size", "1 to 1000"]),
        ({"opportunity_id": OPP_BIG, "page_size": 0}, ["page_size", "1 to 1000"]),
        ({"opportunity_id": OPP_BIG, "sort_column": "Created On;"}, ["sort_column", "letters, digits and _"]),
        ({"opportunity_id": OPP_BIG, "sort_direction": "desc"}, ["sort_direction", "newest_first"]),
        ({"opportunity_id": OPP_BIG, "fetch_all": "maybe"}, ["fetch_all", "true or false"]),
        ({"opportunity_id": OPP_BIG, "max_activities": 10001}, ["max_activities", "1 to 10000"]),
        ({"opportunity_id": OPP_BIG, "max_activities": 0}, ["max_activities", "1 to 10000"]),
        ({"opportunity_id": OPP_BIG, "page_size": 2.5}, ["page_size", "whole number"]),
        # Strict types: a boolean is no number, and only true or false is a boolean.
        ({"opportunity_id": OPP_BIG, "activity_event_code": True}, ["activity_event_code", "whole number"]),
        ({"opportunity_id": OPP_BIG, "page_size": True}, ["page_size", "whole number"]),
        ({"opportunity_id": OPP_BIG, "fetch_all": "yes"}, ["fetch_all", "true or false"]),
        ({"opportunity_id": OPP_BIG, "fetch_all": 1}, ["fetch_all", "true or false"]),
        # Caps: what LeadSquared can take, and no megabytes sent upstream.
        ({"opportunity_id": OPP_BIG, "activity_event_code": 2**63}, ["activity_event_code", "2147483647"]),
        ({"opportunity_id": OPP_BIG, "page_index": 10**30}, ["page_index", "2147483"]),
        ({"opportunity_id": OPP_BIG, "columns": ["Status"] * 101}, ["columns", "at most 100 field names"]),
        ({"opportunity_id": OPP_BIG, "columns": ["S" * 101]}, ["columns", "at most 100 letters"]),
        ({"opportunity_id": OPP_BIG, "sort_column": "S" * 2**20}, ["sort_column", "at most 100 letters"]),
        ({}, ["opportunity_id", "required"]),
        ({"opportunity_id": OPP_BIG, "pageSize": 10}, ["pageSize", "not an argument"]),
    ],
)
async def test_invalid_arguments_are_refused_before_any_api_call(
    sandbox: SandboxServer, arguments: dict[str, Any], names: list[str]
) -> None:
    async with connect(sandbox) as client:
        result = await client.call_tool(TOOL, arguments)
    assert result.is_error
    text = text_of(result)
    for name in names:
        assert name in text
    assert "No API call was made." in text
    assert not text.startswith("Error executing tool")
    assert calls_made_by_tools(sandbox) == []


async def test_a_whole_number_as_text_and_an_explicit_null_are_read(sandbox: SandboxServer) -> None:
    arguments = {"opportunity_id": OPP_BIG, "page_size": "10", "activity_event_code": None}
    async with connect(sandbox) as client:
        data = structured(await client.call_tool(TOOL, arguments))
    assert data["returned"] == 10
    (request,) = api_requests(sandbox)
    assert request.body["Paging"]["PageSize"] == 10
    assert "activityEventCode" not in request.query


async def test_every_tools_schema_shows_its_caps_and_no_null(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        tools = (await client.list_tools()).tools
    for tool in tools:
        schema = json.dumps(tool.input_schema)
        assert "null" not in schema, tool.name
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        for name, prop in tool.input_schema.get("properties", {}).items():
            unknown = set(prop) & {"ge", "le", "gt", "lt", "max_length", "min_length"}
            assert not unknown, f"{tool.name}.{name} shows pydantic's names {unknown}"
    properties = {t.name: t for t in tools}[TOOL].input_schema["properties"]
    assert properties["columns"]["maxItems"] == 100
    assert properties["columns"]["items"]["maxLength"] == 100
    assert properties["sort_column"]["maxLength"] == 100
    assert properties["activity_event_code"]["maximum"] == 2**31 - 1
    assert properties["page_index"]["maximum"] == (2**31 - 1) // 1000


async def test_missing_keys_name_the_variables(sandbox: SandboxServer) -> None:
    async with connect(sandbox, LSQ_ACCESS_KEY="", LSQ_SECRET_KEY="") as client:
        result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG})
    assert result.is_error
    assert "LSQ_ACCESS_KEY" in text_of(result)
    assert "LSQ_SECRET_KEY" in text_of(result)
    assert calls_made_by_tools(sandbox) == []
    async with connect(sandbox, LSQ_SECRET_KEY="") as client:
        text = text_of(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG}))
    assert "LSQ_SECRET_KEY" in text
    assert "LSQ_ACCESS_KEY" not in text
