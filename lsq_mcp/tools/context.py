"""What every tool call reaches through its MCP context: the connection and the account's metadata.

The server's lifespan builds one `Deps` that every call shares (`lsq_mcp.server`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context

from lsq_mcp.api.connection import Connection
from lsq_mcp.metadata import ActivityFieldNames, ActivityTypeCache
from lsq_mcp.reader import Reader


@dataclass(frozen=True)
class Deps:
    """A tool's dependencies, built once by the server's lifespan and shared by every call."""

    conn: Connection
    activity_types: ActivityTypeCache
    field_names: ActivityFieldNames
    # Whom the texts are written for (`lsq_mcp.reader`).
    reader: Reader


ToolContext = Context[Deps, Any]


def deps_of(ctx: ToolContext) -> Deps:
    """The dependencies of the call `ctx` belongs to."""
    return ctx.request_context.lifespan_context
