"""Write each tool's argument table into docs/tools.md, between `<!-- arguments:TOOL -->` and
`<!-- /arguments -->`, from the tool's input schema and the rules in lsq_mcp/tools/arguments.py.

Usage: .venv/bin/python scripts/argument_tables.py   (tests/tools/test_arguments.py checks it was run)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from lsq_mcp.server import create_server
from lsq_mcp.settings import Settings
from lsq_mcp.tools.arguments import argument_table

TOOLS_DOC = Path(__file__).resolve().parent.parent / "docs" / "tools.md"
BLOCK = re.compile(r"(<!-- arguments:(\w+) -->\n)(.*?)(<!-- /arguments -->)", re.S)


async def schemas() -> dict[str, dict[str, Any]]:
    async with Client(create_server(Settings.from_env({}))) as client:
        return {tool.name: tool.input_schema for tool in (await client.list_tools()).tools}


def with_tables(page: str, tools: dict[str, dict[str, Any]]) -> str:
    """`page` with every marked block holding its tool's table."""
    return BLOCK.sub(lambda m: f"{m[1]}{argument_table(tools[m[2]])}\n{m[4]}", page)


if __name__ == "__main__":
    page = with_tables(TOOLS_DOC.read_text(encoding="utf-8"), anyio.run(schemas))
    TOOLS_DOC.write_text(page, encoding="utf-8")
