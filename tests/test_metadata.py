"""Custom fields under their display names (GetActivitySetting), through the MCP client against the
sandbox: asked only for the codes in a result, once per code, shared by concurrent calls and
through Redis, and a failed lookup leaves schema names without failing the call."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import anyio
import pytest
import redis

from lsq_mcp.api.connection import Connection
from lsq_mcp.metadata import FIELD_NAMES_RETRY_AFTER_FAILURE_SECONDS, ActivityFieldNames
from lsq_mcp.pacing.redis import RedisLimiter
from lsq_mcp.redis_store import RedisCache, RedisStore
from lsq_mcp.sandbox import SAMPLE_OPPORTUNITIES, Fault, SandboxServer
from lsq_mcp.sandbox.data import DUPLICATE_NAME_EVENT_CODE, OPP_BIG, build_catalog
from lsq_mcp.settings import Settings
from tests.conftest import TOOL, connect, env_for, structured, text_of
from tests.pacing.test_redis import db, redis_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.anyio

SETTING = "GetActivitySetting"


def settings_asked(sandbox: SandboxServer) -> list[int]:
    """The event codes whose setting the sandbox was asked for, in order."""
    return [int(r.query["code"]) for r in sandbox.state.requests if r.path.endswith(SETTING)]


async def test_custom_fields_go_by_their_display_names(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "activity_event_code": 22})
    calls = [a for a in structured(result)["activities"] if "fields" in a]
    assert calls
    assert all({"Call Duration", "Call Outcome"} <= set(a["fields"]) for a in calls)
    assert not any(key.startswith("mx_Custom_") for a in calls for key in a["fields"])
    text = text_of(result)
    assert "Call Duration=" in text
    assert "mx_Custom_" not in text


async def test_two_fields_of_one_name_stay_apart(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client:
        for opportunity_id, _ in SAMPLE_OPPORTUNITIES:
            arguments = {"activity_event_code": DUPLICATE_NAME_EVENT_CODE, "fetch_all": True}
            result = await client.call_tool(TOOL, {"opportunity_id": opportunity_id, **arguments})
            both = [
                a["fields"]
                for a in structured(result).get("activities", [])
                if {"Visit Notes (mx_Custom_4)", "Visit Notes (mx_Custom_5)"} <= set(a.get("fields", {}))
            ]
            if both:
                break
    assert both, "the sample has a meeting with both Visit Notes fields"
    assert "Visit Notes" not in both[0]
    assert "Visit Notes (mx_Custom_4)=" in text_of(result)


async def test_settings_are_asked_for_once_per_code_and_only_for_the_codes_in_a_result(
    sandbox: SandboxServer,
) -> None:
    async with connect(sandbox) as client:
        calls = structured(
            await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "activity_event_code": 22})
        )
        assert settings_asked(sandbox) == [22]
        assert {a["event_code"] for a in calls["activities"]} == {22}
        structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "activity_event_code": 22}))
        assert settings_asked(sandbox) == [22]
        page = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 100}))
    codes = {a["event_code"] for a in page["activities"]}
    asked = settings_asked(sandbox)
    assert sorted(asked) == sorted(codes), "each code of the result once, 22 included only once"


async def test_concurrent_calls_share_one_lookup_per_code(sandbox: SandboxServer) -> None:
    async with connect(sandbox) as client, anyio.create_task_group() as group:
        for page in range(1, 9):
            group.start_soon(client.call_tool, TOOL, {"opportunity_id": OPP_BIG, "page_index": page})
    asked = settings_asked(sandbox)
    assert asked
    assert len(asked) == len(set(asked))


async def test_a_failed_lookup_keeps_schema_names_and_the_call_succeeds(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(Fault("status", status=500, count=50, path=SETTING))
    async with connect(sandbox, LSQ_MAX_RETRIES="0") as client:
        first = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "activity_event_code": 22})
        again = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "activity_event_code": 22})
    calls = [a for a in structured(first)["activities"] if "fields" in a]
    assert calls
    assert all("mx_Custom_1" in a["fields"] for a in calls)
    assert "mx_Custom_1=" in text_of(first)
    assert structured(again)["activities"] == structured(first)["activities"]
    assert settings_asked(sandbox) == [22], "a failed lookup is not repeated on the next call"


async def test_a_type_without_settings_keeps_its_schema_names(sandbox: SandboxServer) -> None:
    """The sandbox, like LeadSquared may, answers an error for system types (and types without custom
    fields): their fields keep their names, and the rest of the result has its display names."""
    async with connect(sandbox) as client:
        data = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "fetch_all": True}))
    codes = {a["event_code"] for a in data["activities"]}
    asked = settings_asked(sandbox)
    assert sorted(asked) == sorted(codes)
    refused = [code for code in codes if sandbox.state.catalog.activity_setting(code) is None]
    assert refused, "some types of the big opportunity have no settings"
    named = {key for a in data["activities"] for key in a.get("fields", {})}
    assert "Call Duration" in named


async def test_a_failure_is_asked_again_after_ten_minutes_not_before(sandbox: SandboxServer) -> None:
    now = [0.0]
    settings = Settings.from_env(env_for(sandbox, LSQ_MAX_RETRIES="0"))
    async with Connection(settings) as conn:
        names = ActivityFieldNames(conn, clock=lambda: now[0])
        sandbox.state.push_fault(Fault("status", status=500, count=1, path=SETTING))
        assert await names.names({22}) == {}
        now[0] = FIELD_NAMES_RETRY_AFTER_FAILURE_SECONDS - 1
        assert await names.names({22}) == {}
        assert settings_asked(sandbox) == [22]
        now[0] = FIELD_NAMES_RETRY_AFTER_FAILURE_SECONDS + 1
        assert (await names.names({22}))[22]["mx_Custom_1"] == "Call Duration"
        now[0] += 3599
        await names.names({22})
    assert settings_asked(sandbox) == [22, 22], "then kept an hour"


async def test_processes_share_the_names_through_redis(
    sandbox: SandboxServer,
    redis_url: str,  # noqa: F811 (the fixture)
    db: redis.Redis,  # noqa: F811
) -> None:
    async def read(env: dict[str, str]) -> list[dict[str, Any]]:
        async with connect(sandbox, **env) as client:
            result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 50})
        activities: list[dict[str, Any]] = structured(result)["activities"]
        return activities

    first = await read({"LSQ_REDIS_URL": redis_url})
    asked = settings_asked(sandbox)
    assert asked
    second = await read({"LSQ_REDIS_URL": redis_url})
    assert second == first
    assert settings_asked(sandbox) == asked, "the second process read what the first looked up"
    stored = [str(key) for key in db.keys("*") if str(key).endswith(":activity-setting:22")]
    assert len(stored) == 1
    assert db.pttl(stored[0]) > 3500 * 1000, "kept an hour"
    assert json.loads(str(db.get(stored[0])))["Fields"][0]["DisplayName"] == "Call Duration"
    without = await read({})
    assert sorted(settings_asked(sandbox)) == sorted(asked + asked), (
        "without Redis, a process asks for itself"
    )
    assert without == first


async def test_a_store_that_cannot_be_read_is_looked_up_again(
    sandbox: SandboxServer,
    redis_url: str,  # noqa: F811
    db: redis.Redis,  # noqa: F811
) -> None:
    settings = Settings.from_env(env_for(sandbox, LSQ_REDIS_URL=redis_url))
    store = RedisStore.open(settings)
    db.set(store.key("activity-setting:22"), '{"Fields": "not a list"}', px=60_000)
    async with Connection(settings, limiter=RedisLimiter(store, settings.rate_limit, hold=5)) as conn:
        names = ActivityFieldNames(conn, shared=RedisCache(store, settings.secrets))
        assert (await names.names({22}))[22]["mx_Custom_1"] == "Call Duration"
    await store.aclose()
    assert settings_asked(sandbox) == [22]


async def test_names_follow_a_setting_renamed_once_it_is_looked_up_again() -> None:
    # Names are made once for each setting looked up; a setting looked up again an hour later, with
    # a field renamed in the account, gives the new name.
    settings_of = dict(build_catalog().activity_settings)
    call = settings_of[22]
    now = [0.0]
    with SandboxServer(catalog=replace(build_catalog(), activity_settings=settings_of)) as sandbox:
        async with Connection(Settings.from_env(env_for(sandbox))) as conn:
            names = ActivityFieldNames(conn, clock=lambda: now[0])
            assert (await names.names({22}))[22]["mx_Custom_1"] == "Call Duration"
            renamed = tuple(
                replace(f, display="Talk Time") if f.schema == "mx_Custom_1" else f for f in call.fields
            )
            settings_of[22] = replace(call, fields=renamed)
            now[0] = 3599
            assert (await names.names({22}))[22]["mx_Custom_1"] == "Call Duration", "kept an hour"
            now[0] = 3601
            assert (await names.names({22}))[22]["mx_Custom_1"] == "Talk Time"
