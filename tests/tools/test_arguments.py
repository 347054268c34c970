"""docs/tools.md's argument tables are what the tools' schemas and rules say."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from mcp import Client

from lsq_mcp.server import create_server
from lsq_mcp.settings import Settings
from lsq_mcp.tools.arguments import RULES, argument_table

pytestmark = pytest.mark.anyio

TOOLS_DOC = Path(__file__).resolve().parents[2] / "docs" / "tools.md"
BLOCK = re.compile(r"<!-- arguments:(\w+) -->\n(.*?)\n<!-- /arguments -->", re.S)


async def test_tools_doc_tables_come_from_the_rules() -> None:
    async with Client(create_server(Settings.from_env({}))) as client:
        schemas = {tool.name: tool.input_schema for tool in (await client.list_tools()).tools}
    blocks = BLOCK.findall(TOOLS_DOC.read_text(encoding="utf-8"))
    with_arguments = {name for name, schema in schemas.items() if schema.get("properties")}
    assert {tool for tool, _ in blocks} == with_arguments
    for tool, table in blocks:
        expected = argument_table(schemas[tool])
        assert table == expected, f"docs/tools.md's {tool} table is stale: run scripts/argument_tables.py"


async def test_every_argument_of_every_tool_has_a_rule() -> None:
    async with Client(create_server(Settings.from_env({}))) as client:
        tools = (await client.list_tools()).tools
    names = {name for tool in tools for name in tool.input_schema.get("properties", {})}
    assert names <= set(RULES), names - set(RULES)


async def test_every_description_says_the_rule_and_the_default_in_words() -> None:
    """Some clients drop the schema's keywords (minimum, pattern, default...): the words stay."""
    async with Client(create_server(Settings.from_env({}))) as client:
        tools = (await client.list_tools()).tools
    for tool in tools:
        for name, prop in tool.input_schema.get("properties", {}).items():
            description = prop["description"]
            assert RULES[name].words in description, (tool.name, name)
            for keyword in ("minimum", "maximum"):
                if keyword in prop:
                    assert str(prop[keyword]) in description, (tool.name, name, keyword)
            if "default" in prop:
                default = json.dumps(prop["default"]).strip('"')  # false, 25, newest_first
                assert f"; default {default}." in description, (tool.name, name)


async def test_an_argument_given_to_a_tool_that_takes_none_is_named() -> None:
    async with Client(create_server(Settings.from_env({}))) as client:
        result = await client.call_tool("list_activity_types", {"limit": 5})
    text = "".join(block.text for block in result.content if block.type == "text")
    assert result.is_error
    assert "limit is not an argument of list_activity_types (it takes no arguments)" in text
