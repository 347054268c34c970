"""The `lsq-mcp` command line (`main`): serving (`serve`), printing a tool's answer (`tool_commands`)."""

from lsq_mcp.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
