"""The MCP layer: tools that adapt the LeadSquared client for a model.

`create_server(settings)` builds the whole server (tests build it the same way).
Tool functions are plain typed async functions; their `Annotated[..., Field(...)]`
parameters become the input schema, and every failure reaches the model as a
tool error (`isError: true`) whose text says what went wrong and what to do.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
import httpx2
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp_types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import Field, ValidationError
from pydantic.json_schema import SkipJsonSchema

from lsq_mcp import __version__
from lsq_mcp.activities import find_lead_opportunities, read_activities
from lsq_mcp.activity_types import ActivityTypeCache, SharedTypes
from lsq_mcp.client import (
    DEFAULT_SORT_COLUMN,
    ActivitiesQuery,
    LeadSquaredClient,
    longest_attempt,
    longest_call,
)
from lsq_mcp.condense import name_events, render_timeline
from lsq_mcp.errors import LeadSquaredError
from lsq_mcp.models import (
    ActivitiesResult,
    ActivityTypesResult,
    FoundOpportunities,
    OpportunityDetails,
    SortDirection,
    ToolResult,
)
from lsq_mcp.opportunities import (
    condense_activity_types,
    condense_opportunity,
    render_activity_types,
    render_found,
    render_opportunity,
)
from lsq_mcp.ratelimit import Limiter
from lsq_mcp.settings import Settings

logger = logging.getLogger(__name__)

SERVER_NAME = "leadsquared"
GUID_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
NAME_PATTERN = r"^[A-Za-z0-9_]+$"

INSTRUCTIONS = """\
Read-only access to a LeadSquared CRM account's deals (opportunities) and their history.
Workflow: find the deal (find_opportunities, by the person's email or lead id), read it
(get_opportunity: name, status, stage, owner, value), then read what happened on it
(get_opportunity_activities: calls, emails, meetings, notes, status changes; newest first;
fetch_all for a whole history). Opportunity and lead ids are GUIDs. Activity event codes
are named by list_activity_types. Cite activities by date and type when you summarise.
"""

ACTIVITIES_DESCRIPTION = """\
Use when asked what happened on a deal, when, or by whom. The timeline of one opportunity:
calls, emails, meetings, notes, status changes, each with date (UTC), type, who, status and
note. Newest first; filter by activity_event_code; page with page_index/page_size, or set
fetch_all to read every page up to max_activities. Lead details are given once.
"""

OPPORTUNITY_DESCRIPTION = (
    "One opportunity's details: name, type, status, stage, owner, value, dates, custom fields."
)

FIND_DESCRIPTION = "Find a person's opportunities, newest first, by lead email or lead id (give one)."

TYPES_DESCRIPTION = "The account's activity types: event code to name."

# How long a tool call waits for the first lookup of activity type names before showing codes.
NAMES_WAIT_SECONDS = 2.0
# An optional argument: its schema is the bare type the contract names, never "or null"...
Omitted = SkipJsonSchema[None]


def _no_default(schema: dict[str, Any]) -> None:
    """...and no `"default": null` beside it (leaving the argument out is the default)."""
    schema.pop("default", None)


READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

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
    "lead_id": "must be the lead's GUID, 8-4-4-4-12 hex digits",
    "email": "must be an email address such as name@example.com",
    "opportunity_type": "must be a whole number >= 0 (an opportunity type's code, e.g. 12002)",
}


class LeadSquaredServer(MCPServer[Any]):
    """`MCPServer` whose tool errors read as one clear sentence, without the SDK's prefix."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        schema = next((t.input_schema for t in await self.list_tools() if t.name == name), None)
        if schema is not None:
            unknown = sorted(set(arguments) - set(schema.get("properties", {})))
            if unknown:
                known = ", ".join(schema.get("properties", {}))
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
    limiter, shared_types = _shared_through_redis(settings)
    client = LeadSquaredClient(settings, limiter=limiter, transport=transport)
    activity_types = ActivityTypeCache(client, shared=shared_types)

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[None]:
        try:
            async with anyio.create_task_group() as group:
                # Names are looked up as the server starts, ahead of the first tool call.
                activity_types.start(group)
                yield
                group.cancel_scope.cancel()
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
        title="Get opportunity activities", description=ACTIVITIES_DESCRIPTION, annotations=READ_ONLY
    )
    async def get_opportunity_activities(
        ctx: Context[Any, Any],
        opportunity_id: Annotated[str, Field(pattern=GUID_PATTERN, description="The opportunity's GUID.")],
        activity_event_code: Annotated[
            Annotated[int, Field(ge=0)] | Omitted,
            Field(
                description="Only this activity type (e.g. 22 = outbound call).",
                json_schema_extra=_no_default,
            ),
        ] = None,
        columns: Annotated[
            list[Annotated[str, Field(pattern=NAME_PATTERN)]] | Omitted,
            Field(
                description='Extra activity fields to return, e.g. ["mx_Custom_1"].',
                json_schema_extra=_no_default,
            ),
        ] = None,
        page_index: Annotated[int, Field(ge=1, description="Page number, from 1.")] = 1,
        page_size: Annotated[int, Field(ge=1, le=1000, description="Activities per page.")] = 25,
        sort_column: Annotated[
            str, Field(pattern=NAME_PATTERN, description="Field to sort on; default creation time.")
        ] = DEFAULT_SORT_COLUMN,
        sort_direction: Annotated[
            SortDirection, Field(description="Order of the activities.")
        ] = "newest_first",
        fetch_all: Annotated[
            bool, Field(description="Read every page from page_index on, up to max_activities.")
        ] = False,
        max_activities: Annotated[int, Field(ge=1, le=10000, description="The cap for fetch_all.")] = 500,
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
            raise _tool_error("get_opportunity_activities", exc) from exc
        result = name_events(result, await activity_types.names(wait=NAMES_WAIT_SECONDS))
        return _answer(render_timeline(result), result)

    @server.tool(title="Get opportunity", description=OPPORTUNITY_DESCRIPTION, annotations=READ_ONLY)
    async def get_opportunity(
        opportunity_id: Annotated[str, Field(pattern=GUID_PATTERN, description="The opportunity's GUID.")],
    ) -> Annotated[CallToolResult, OpportunityDetails]:
        try:
            details = condense_opportunity(await client.get_opportunity(opportunity_id), opportunity_id)
        except LeadSquaredError as exc:
            raise _tool_error("get_opportunity", exc) from exc
        return _answer(render_opportunity(details), details)

    @server.tool(title="Find opportunities", description=FIND_DESCRIPTION, annotations=READ_ONLY)
    async def find_opportunities(
        email: Annotated[
            Annotated[str, Field(pattern=EMAIL_PATTERN)] | Omitted,
            Field(description="The lead's email address.", json_schema_extra=_no_default),
        ] = None,
        lead_id: Annotated[
            Annotated[str, Field(pattern=GUID_PATTERN)] | Omitted,
            Field(description="The lead's GUID.", json_schema_extra=_no_default),
        ] = None,
        opportunity_type: Annotated[
            Annotated[int, Field(ge=0)] | Omitted,
            Field(
                description="Only this opportunity type (code, e.g. 12002).", json_schema_extra=_no_default
            ),
        ] = None,
    ) -> Annotated[CallToolResult, FoundOpportunities]:
        if (email is None) == (lead_id is None):
            raise ToolError(
                "Invalid arguments: give exactly one of email (a lead's email address) and lead_id "
                "(a lead's GUID). No API call was made."
            )
        try:
            found = await find_lead_opportunities(
                client, email=email, lead_id=lead_id, opportunity_type=opportunity_type
            )
        except LeadSquaredError as exc:
            raise _tool_error("find_opportunities", exc) from exc
        return _answer(render_found(found), found)

    @server.tool(title="List activity types", description=TYPES_DESCRIPTION, annotations=READ_ONLY)
    async def list_activity_types() -> Annotated[CallToolResult, ActivityTypesResult]:
        try:
            result = condense_activity_types(await activity_types.types())
        except LeadSquaredError as exc:
            raise _tool_error("list_activity_types", exc) from exc
        return _answer(render_activity_types(result), result)

    @server.prompt(
        title="Deal history",
        description="Summarise what happened on one opportunity, with every claim cited to its activity.",
    )
    def deal_history(
        opportunity_id: Annotated[str, Field(description="The opportunity's GUID.")],
    ) -> str:
        return DEAL_HISTORY_PROMPT.format(opportunity_id=opportunity_id)

    return server


def _shared_through_redis(settings: Settings) -> tuple[Limiter | None, SharedTypes | None]:
    """With LSQ_REDIS_URL, the rate limit and the type names shared with every process on the account,
    over one Redis connection pool (redis-py is imported only then); without it, (None, None): the
    client paces this process alone."""
    if settings.redis_url is None:
        return None, None
    from lsq_mcp.redis_store import RedisStore

    store = RedisStore.open(settings)
    limiter = store.limiter(settings.rate_limit, hold=longest_attempt(settings))
    return limiter, store.activity_types(lock_seconds=longest_call(settings))


DEAL_HISTORY_PROMPT = """\
Tell me the history of the LeadSquared opportunity {opportunity_id}.

1. Call get_opportunity with opportunity_id "{opportunity_id}" for its name, status, stage, owner and value.
2. Call get_opportunity_activities with opportunity_id "{opportunity_id}", fetch_all true and
   sort_direction "oldest_first" to read every activity in order.
3. Write a short history: how the deal started, the main turns (meetings, demos, proposals,
   stage and status changes), who drove each, and where it stands now with the next step if one
   is recorded. Cite each fact with its activity's date and type, e.g. (2024-03-05, Outbound
   Phone Call). Say plainly when the record is silent; do not guess.
"""


def _answer(text: str, result: ToolResult) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=result.to_json())


def _tool_error(tool: str, exc: LeadSquaredError) -> ToolError:
    """The model reads the message; the operator gets a log line (keys are never in either)."""
    logger.info("%s failed: %s", tool, exc)
    return ToolError(str(exc))
