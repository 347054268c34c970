"""docs/tools.md's argument tables are what the tools' schemas and rules say."""

from __future__ import annotations

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
