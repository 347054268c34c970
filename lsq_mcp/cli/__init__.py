"""The `lsq-mcp` command line: `main` (the parser, and which command runs), `serve` (MCP over stdio
or HTTP), `tool_commands` (a tool's answer for a person), `check` (the set-up checked), `account`
(the configured account or the demo's), `exit_codes`."""

from lsq_mcp.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
