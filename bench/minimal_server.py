"""The start-up baseline for `bench/overhead.py`: the smallest useful MCP server, one trivial tool.

Same SDK (`mcp` 2.x `MCPServer`) and same stdio transport as `lsq-mcp`, nothing else. Launched as
`python bench/minimal_server.py`; importing it does not serve.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

server = MCPServer("minimal")


@server.tool()
def echo(text: str) -> str:
    """Return `text` unchanged."""
    return text


if __name__ == "__main__":
    server.run("stdio")
