"""The MCP Bundle's manifest.json says what the server really is: its tools, its prompt, its version,
and a user_config that reaches the variables the server reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

import lsq_mcp
from lsq_mcp.server import create_server
from lsq_mcp.settings import Settings

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
MANIFEST: dict[str, Any] = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
REGIONS = [
    "api.leadsquared.com",
    "api-us11.leadsquared.com",
    "api-in21.leadsquared.com",
    "api-in22.leadsquared.com",
    "api-ir31.leadsquared.com",
    "api-ca12.leadsquared.com",
]
UPDATE = "manifest.json must list what the server lists: update its tools/prompts"


def _user_config_in(value: str) -> list[str]:
    return re.findall(r"\$\{user_config\.([A-Za-z0-9_]+)\}", value)


async def test_the_tools_are_the_servers() -> None:
    async with Client(create_server(Settings.from_env({}))) as client:
        listed = sorted(tool.name for tool in (await client.list_tools()).tools)
    declared = sorted(tool["name"] for tool in MANIFEST["tools"])
    assert declared == listed, UPDATE
    assert all(tool.get("description") for tool in MANIFEST["tools"])
    assert not MANIFEST.get("tools_generated", False)


async def test_the_prompts_are_the_servers_word_for_word() -> None:
    async with Client(create_server(Settings.from_env({}))) as client:
        prompts = {prompt.name: prompt for prompt in (await client.list_prompts()).prompts}
        declared = {prompt["name"]: prompt for prompt in MANIFEST["prompts"]}
        assert sorted(declared) == sorted(prompts), UPDATE
        for name, prompt in prompts.items():
            arguments = [argument.name for argument in prompt.arguments or []]
            assert declared[name].get("arguments", []) == arguments, UPDATE
            # The manifest's text, with the placeholders filled, is the text the server gives.
            values = {argument: f"<{argument}>" for argument in arguments}
            given = await client.get_prompt(name, values)
            texts = [m.content.text for m in given.messages if m.content.type == "text"]
            text = declared[name]["text"]
            for argument, value in values.items():
                text = text.replace("${arguments." + argument + "}", value)
            assert texts == [text], UPDATE


def test_the_version_is_the_packages() -> None:
    assert MANIFEST["version"] == lsq_mcp.__version__


def test_the_bundle_runs_the_console_script_with_uv_over_stdio() -> None:
    server = MANIFEST["server"]
    assert server["type"] == "uv"
    assert (ROOT / server["entry_point"]).is_file()
    config = server["mcp_config"]
    assert config["command"] == "uv"
    assert config["args"] == ["run", "--directory", "${__dirname}", "lsq-mcp"]


def test_user_config_maps_to_the_configuration_variables() -> None:
    env = MANIFEST["server"]["mcp_config"]["env"]
    options = MANIFEST["user_config"]
    assert {name: _user_config_in(value) for name, value in env.items()} == {
        "LSQ_ACCESS_KEY": ["access_key"],
        "LSQ_SECRET_KEY": ["secret_key"],
        "LSQ_HOST": ["host"],
        "LSQ_RATE_LIMIT": ["rate_limit"],
    }
    assert set(options) == {"access_key", "secret_key", "host", "rate_limit"}
    for key in ("access_key", "secret_key"):
        assert options[key]["type"] == "string"
        assert options[key]["sensitive"] is True
        assert options[key]["required"] is True
    assert options["host"]["default"] == "api.leadsquared.com"
    for host in REGIONS:
        assert host in options["host"]["description"]
    assert options["rate_limit"]["default"] == "25/5"


def test_the_defaults_are_values_the_server_accepts() -> None:
    options = MANIFEST["user_config"]
    env = {
        "LSQ_ACCESS_KEY": "k",
        "LSQ_SECRET_KEY": "s",
        "LSQ_HOST": options["host"]["default"],
        "LSQ_RATE_LIMIT": options["rate_limit"]["default"],
    }
    Settings.from_env(env)
