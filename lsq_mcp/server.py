"""The MCP layer: tools that adapt the LeadSquared client for a model.

`create_server(settings)` builds the whole server (tests build it the same way).
Tool functions are plain typed async functions; their `Annotated[..., Field(...)]`
parameters become the input schema, and every failure reaches the model as a
tool error (`isError: true`) whose text says what went wrong and what to do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx2
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp_types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import Field, ValidationError

from lsq_mcp import __version__
from lsq_mcp.activities import read_activities
from lsq_mcp.client import DEFAULT_SORT_COLUMN, ActivitiesQuery, LeadSquaredClient
from lsq_mcp.condense import render_timeline
from lsq_mcp.errors import LeadSquaredError
from lsq_mcp.models import ActivitiesResult, SortDirection
from lsq_mcp.settings import Settings

SERVER_NAME = "leadsquared"
GUID_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
NAME_PATTERN = r"^[A-Za-z0-9_]+$"

INSTRUCTIONS = """\
Read-only access to a LeadSquared CRM account's deal (opportunity) history.
Use get_opportunity_activities to answer questions such as "what happened on this
opportunity since March?" or "who last called them, and what was the outcome?": it
returns the opportunity's activities (calls, emails, meetings, notes, status changes)
as a compact timeline, newest first by default, plus the same data structured.
Opportunity ids are GUIDs. Page with page_index, or set fetch_all for a whole history.
"""

TOOL_DESCRIPTION = """\
Get the activity timeline of one LeadSquared opportunity (deal): calls, emails, meetings,
notes and status changes, each with its date (UTC), type, who logged it, status and note.
Use it to answer what happened on a deal, when, and by whom. Newest first by default;
filter by activity_event_code; page with page_index/page_size (25 by default, up to
1000), or set fetch_all to read every page up to max_activities. The lead's details are
given once. Read-only.
"""

# What each argument must be, in words: the error text a model reads when it gets one wrong.
RULES = {
    "opportunity_id": "must be the opportunity's GUID, 8-4-4-4-12 hex digits "
    "(e.g. 1b4e28ba-2fa1-11d2-883f-0016d3cca427)",
    "activity_event_code": "must be a whole number >= 0 (an activity type's event code)",
    "columns": "must be a list of field names, each made of letters, digits and _ only",
    "page_index": "must be a whole number >= 1",
    "page_size": "must be a whole number from 1 to 1000",
    "sort_column": "must be a field name made of letters, digits and _ only",
    "sort_direction": 'must be "newest_first" or "oldest_first"',
    "fetch_all": "must be true or false",
    "max_activities": "must be a whole number from 1 to 10000",
}


class LeadSquaredServer(MCPServer[Any]):
    """`MCPServer` whose tool errors read as one clear sentence, without the SDK's prefix."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        tool = self._tool_manager.get_tool(name)
        if tool is not None:
            unknown = sorted(set(arguments) - set(tool.parameters.get("properties", {})))
            if unknown:
                known = ", ".join(tool.parameters.get("properties", {}))
                raise ToolError(
                    f"Invalid argument: {', '.join(unknown)} is not an argument of {name} "
                    f"(it takes {known}). No API call was made."
                )
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                raise ToolError(describe_invalid_arguments(cause)) from cause
            if isinstance(cause, ToolError):
                raise ToolError(str(cause)) from cause
            raise


def describe_invalid_arguments(error: ValidationError) -> str:
    """One sentence per bad argument: its name, its rule and what was given."""
    sentences = []
    for name in dict.fromkeys(str(e["loc"][0]) if e["loc"] else "arguments" for e in error.errors()):
        detail = next(e for e in error.errors() if (str(e["loc"][0]) if e["loc"] else "arguments") == name)
        if detail["type"] == "missing":
            sentences.append(f"Invalid argument {name}: it is required.")
            continue
        rule = RULES.get(name, detail["msg"].lower())
        sentences.append(f"Invalid argument {name}: {rule}; got {_shown(detail.get('input'))}.")
    return " ".join(sentences) + " No API call was made."


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def create_server(
    settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None
) -> MCPServer[Any]:
    """Build the `leadsquared` MCP server on one shared, rate-limited LeadSquared client."""
    client = LeadSquaredClient(settings, transport=transport)

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await client.aclose()

    server = LeadSquaredServer(
        SERVER_NAME,
        title="LeadSquared",
        instructions=INSTRUCTIONS,
        version=__version__,
        lifespan=lifespan,
    )

    @server.tool(
        title="Get opportunity activities",
        description=TOOL_DESCRIPTION,
        annotations=ToolAnnotations(
            title="Get opportunity activities",
            read_only_hint=True,
            destructive_hint=False,
            idempotent_hint=True,
            open_world_hint=True,
        ),
    )
    async def get_opportunity_activities(
        ctx: Context[Any, Any],
        opportunity_id: Annotated[
            str,
            Field(pattern=GUID_PATTERN, description="The opportunity's id, a GUID (8-4-4-4-12 hex digits)."),
        ],
        activity_event_code: Annotated[
            int | None,
            Field(ge=0, description="Only activities of this event code (e.g. 22 = outbound phone call)."),
        ] = None,
        columns: Annotated[
            list[Annotated[str, Field(pattern=NAME_PATTERN)]] | None,
            Field(description='Extra activity fields to return by LeadSquared name, e.g. ["mx_Custom_1"].'),
        ] = None,
        page_index: Annotated[int, Field(ge=1, description="Page number, from 1.")] = 1,
        page_size: Annotated[int, Field(ge=1, le=1000, description="Activities per page, 1 to 1000.")] = 25,
        sort_column: Annotated[
            str, Field(pattern=NAME_PATTERN, description="Field to sort on; default: creation time.")
        ] = DEFAULT_SORT_COLUMN,
        sort_direction: Annotated[
            SortDirection, Field(description="newest_first or oldest_first.")
        ] = "newest_first",
        fetch_all: Annotated[
            bool, Field(description="Read every page from page_index on, up to max_activities.")
        ] = False,
        max_activities: Annotated[
            int, Field(ge=1, le=10000, description="With fetch_all: the most activities to return.")
        ] = 500,
    ) -> Annotated[CallToolResult, ActivitiesResult]:
        query = ActivitiesQuery(
            opportunity_id=opportunity_id,
            activity_event_code=activity_event_code,
            columns=tuple(columns or ()),
            page_index=page_index,
            page_size=page_size,
            sort_column=sort_column,
            sort_direction=sort_direction,
        )

        async def progress(done: int, planned: int) -> None:
            await ctx.report_progress(done, planned, f"page {done} of {planned}")

        try:
            result = await read_activities(
                client, query, fetch_all=fetch_all, max_activities=max_activities, on_progress=progress
            )
        except LeadSquaredError as exc:
            raise ToolError(str(exc)) from exc
        return CallToolResult(
            content=[TextContent(type="text", text=render_timeline(result))],
            structured_content=result.to_json(),
        )

    return server
