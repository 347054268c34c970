"""The `leadsquared` MCP server, assembled: its tools, its prompt, its instructions.

`create_server(settings)` builds the whole server (tests and the CLI build it the same way).
Each tool lives in its own module under `lsq_mcp.tools`; here a failure of any of them
becomes a tool error (`isError: true`) whose text says what went wrong and what to do, and
whose `_meta` names its kind (`ERROR_KIND_META`) for programs such as the CLI.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Annotated, Any

import anyio
import httpx2
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    CallToolResult,
    ContentBlock,
    GetPromptResult,
    InputRequiredResult,
    TextContent,
    ToolAnnotations,
)
from pydantic import Field, ValidationError

from lsq_mcp import __version__
from lsq_mcp.api.connection import Connection, longest_attempt, longest_call
from lsq_mcp.call_log import logged_call
from lsq_mcp.errors import LeadSquaredError
from lsq_mcp.metadata import ActivityFieldNames, ActivityTypeCache, SharedCache
from lsq_mcp.pacing import Limiter
from lsq_mcp.reader import MODEL, Reader
from lsq_mcp.redaction import redact, redact_json
from lsq_mcp.settings import Settings
from lsq_mcp.stdio import answering_streams
from lsq_mcp.text import one_line
from lsq_mcp.tools import activity_types, opportunity, tasks
from lsq_mcp.tools.activities import tool as activities
from lsq_mcp.tools.arguments import (
    MAX_QUERY_LENGTH,
    InvalidArgumentError,
    describe_invalid,
    invalid,
    unknown_arguments,
)
from lsq_mcp.tools.context import Deps, ToolContext
from lsq_mcp.tools.find import tool as find
from lsq_mcp.tools.progress import with_progress
from lsq_mcp.tools.summary import tool as summary

logger = logging.getLogger(__name__)

SERVER_NAME = "leadsquared"
# Where a failed call's result names the kind of failure (`error_kind`).
ERROR_KIND_META = "lsq-mcp/error"

INSTRUCTIONS = """\
Read-only access to a LeadSquared CRM account's deals (opportunities) and their history.
People name a deal by its customer, not by an id: start from what the user said. Call
find_opportunities with query set to it ("gold coast cocoa expansion", "Ngozi", a company, a phone
or an email) and take the best match's id (ask the user when several could be meant). Then
summarize_opportunity for its state in one call (details, activities counted by type and by
person, the last one, open and overdue tasks). Then read only the activities the question needs
(get_opportunity_activities with since/until or activity_event_code; fetch_all for a whole
history), and get_opportunity_tasks for every task and its description. Opportunity and lead ids
are GUIDs; list_activity_types names event codes. Cite activities by date and type.
"""

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
# Each tool: its function, title and description (from its own module).
TOOLS: tuple[tuple[Callable[..., Any], str, str], ...] = (
    (summary.summarize_opportunity, summary.TITLE, summary.DESCRIPTION),
    (activities.get_opportunity_activities, activities.TITLE, activities.DESCRIPTION),
    (tasks.get_opportunity_tasks, tasks.TITLE, tasks.DESCRIPTION),
    (opportunity.get_opportunity, opportunity.TITLE, opportunity.DESCRIPTION),
    (find.find_opportunities, find.TITLE, find.DESCRIPTION),
    (activity_types.list_activity_types, activity_types.TITLE, activity_types.DESCRIPTION),
)

DEAL_HISTORY_PROMPT = """\
Tell me the history of the LeadSquared deal "{opportunity_id}".

1. Find the deal: when "{opportunity_id}" is an opportunity's GUID, that is its id; otherwise call
   find_opportunities with query "{opportunity_id}" and take the best match's id (when several
   could be meant, ask me which, naming each with its company and status).
2. Call summarize_opportunity with that opportunity_id for the deal's state: its details, its
   activities counted by type and by person, the last one, and its open and overdue tasks.
3. Call get_opportunity_activities with that opportunity_id for the activities the question
   needs: a window (since/until: it reads only the pages it needs) or one type
   (activity_event_code) when that is enough, fetch_all true for every one when not. Keep the
   default order, newest first: a window's reading then stops at its start.
4. Call get_opportunity_tasks with that opportunity_id for the next steps: what is open, what is
   overdue, who owns it.
5. Write a short history: how the deal started, the main turns (meetings, demos, proposals,
   stage and status changes), who drove each, and where it stands now with the next step and
   anything overdue. Cite each fact with its activity's date and type, e.g. (2024-03-05, Outbound
   Phone Call), or its task's name and due date. Say plainly when the record is silent; do not guess.
"""
# The prompt's argument keeps its name (clients already send it) and takes a name as well as an id.
DEAL_ARGUMENT_RULE = (
    f"must be 1 to {MAX_QUERY_LENGTH} characters, not all spaces: the opportunity's GUID or what "
    "people call the deal (a person, a company, words of its name)"
)


def deal_history(
    opportunity_id: Annotated[
        str,
        Field(
            description="The deal: the opportunity's GUID, or what people call it "
            f'(e.g. "gold coast cocoa expansion", "Ngozi"); 1 to {MAX_QUERY_LENGTH} characters.'
        ),
    ],
) -> str:
    # As shown (the one rule for text from outside): no control, bidirectional or invisible character.
    deal = " ".join(one_line(opportunity_id).split())
    if not deal or len(opportunity_id) > MAX_QUERY_LENGTH:
        raise MCPError(INVALID_PARAMS, invalid("opportunity_id", DEAL_ARGUMENT_RULE, opportunity_id))
    return DEAL_HISTORY_PROMPT.format(opportunity_id=deal)


# What builds the tools' dependencies as the server starts, and closes them as it stops.
Lifespan = Callable[[MCPServer[Deps]], AbstractAsyncContextManager[Deps]]


class LeadSquaredServer(MCPServer[Deps]):
    """`MCPServer` whose tool errors read as one clear sentence, without the SDK's prefix, and whose
    every tool result, failed or not, is redacted of the secrets last of all (`secrets`): whatever
    reading LeadSquared's data did (HTML made text, control characters removed, JSON read) may have
    joined characters its answer kept apart, and that answer was redacted before it was read."""

    def __init__(
        self,
        tools: list[Tool],
        lifespan: Lifespan,
        secrets: tuple[str, ...] = (),
        reader: Reader = MODEL,
        *,
        drain_seconds: float = 0.0,
    ) -> None:
        super().__init__(
            SERVER_NAME,
            title="LeadSquared",
            instructions=INSTRUCTIONS,
            version=__version__,
            tools=tools,
            lifespan=lifespan,
        )
        # The tools do not change once the server is built: kept here, as the SDK's registry is private.
        self._tools_by_name = {tool.name: tool for tool in tools}
        self.secrets = secrets
        # Whom the texts and errors are written for: a model, or a person at the command line.
        self.reader = reader
        # How long the stdio server, its stdin closed, waits for the calls it read to be answered.
        self._drain_seconds = drain_seconds

    async def run_stdio_async(self) -> None:
        """The SDK's stdio server, but every request read is answered before it leaves (`lsq_mcp.stdio`)."""
        async with stdio_server() as (read_stream, write_stream):
            incoming, outgoing = answering_streams(read_stream, write_stream, self._drain_seconds)
            lowlevel = self._lowlevel_server
            await lowlevel.run(incoming, outgoing, lowlevel.create_initialization_options())

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: ToolContext | None = None
    ) -> CallToolResult | InputRequiredResult:
        with logged_call(name, arguments) as logged:
            try:
                if (unknown := self._unknown_arguments(name, arguments)) is not None:
                    raise unknown
                call = partial(super().call_tool, name, arguments, context)
                result = await (call() if context is None else with_progress(context, call))
            except (ToolError, InvalidArgumentError) as exc:
                result = _error_result(name, exc, self.reader)
            failed = isinstance(result, CallToolResult) and result.is_error
            logged.outcome = (
                f"error {(result.meta or {}).get(ERROR_KIND_META, '')}".strip() if failed else "ok"
            )
            return _redacted(result, self.secrets) if isinstance(result, CallToolResult) else result

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: ToolContext | None = None
    ) -> GetPromptResult | InputRequiredResult:
        """An unknown prompt, an unknown argument or a missing one is invalid params (-32602) saying
        which, not a crash with a traceback in the log."""
        prompts = {prompt.name: prompt for prompt in await self.list_prompts()}
        if name not in prompts:
            raise MCPError(INVALID_PARAMS, f"Unknown prompt {name!r}; the prompts are: {', '.join(prompts)}.")
        given = arguments or {}
        known = [a.name for a in prompts[name].arguments or []]
        if unknown := sorted(set(given) - set(known)):
            raise MCPError(
                INVALID_PARAMS,
                f"Prompt {name!r} takes no argument {', '.join(map(repr, unknown))}; "
                f"its arguments are: {', '.join(known)}.",
            )
        needed = [a.name for a in prompts[name].arguments or [] if a.required and a.name not in given]
        if needed:
            raise MCPError(INVALID_PARAMS, f"Prompt {name!r} needs the argument(s) {', '.join(needed)}.")
        return await super().get_prompt(name, arguments, context)

    async def check_arguments(self, name: str, arguments: dict[str, Any]) -> InvalidArgumentError | None:
        """What a call of tool `name` would be refused for before any API call, or None; without a
        session, so that a one-shot caller (the CLI) starts nothing (no look-ups) for a bad call."""
        if (unknown := self._unknown_arguments(name, arguments)) is not None:
            return unknown
        tool = self._tools_by_name.get(name)
        try:
            if tool is not None:
                tool.fn_metadata.validate_arguments(arguments)
        except ValidationError as exc:
            return describe_invalid(exc, self.reader)
        return None

    def _unknown_arguments(self, name: str, arguments: dict[str, Any]) -> InvalidArgumentError | None:
        """The error for arguments tool `name` does not take."""
        tool = self._tools_by_name.get(name)
        if tool is None:
            return None
        return unknown_arguments(name, set(arguments), list(tool.parameters.get("properties", {})))


def _error_result(name: str, exc: Exception, reader: Reader) -> CallToolResult:
    """The tool error for a failed call: its text, and its kind in `_meta`; a crash is raised again
    (the SDK logs it and shows the model a generic text)."""
    failure = _failure(exc, reader)
    if failure is exc and isinstance(exc, UnexpectedToolError):
        raise exc
    text = str(failure)
    if isinstance(failure, LeadSquaredError):
        logger.info("%s failed: %s", name, failure)
        text = failure.for_reader(reader)
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        is_error=True,
        _meta={ERROR_KIND_META: error_kind(type(failure))},
    )


def error_kind(error: type[Exception]) -> str:
    """How a failed call's `_meta` names the kind of its error: by its class."""
    return error.__name__


def _redacted(result: CallToolResult, secrets: tuple[str, ...]) -> CallToolResult:
    """`result` with no piece of a secret in its text or its structured content (itself, not a copy,
    when it holds none: `redact` and `redact_json` then give back what they were given)."""
    content = [_redacted_block(block, secrets) for block in result.content]
    structured = redact_json(result.structured_content, secrets)
    if structured is result.structured_content and all(map(operator.is_, content, result.content)):
        return result
    return result.model_copy(update={"content": content, "structured_content": structured})


def _redacted_block(block: ContentBlock, secrets: tuple[str, ...]) -> ContentBlock:
    if not isinstance(block, TextContent):
        return block
    text = redact(block.text, secrets)
    return block if text is block.text else block.model_copy(update={"text": text})


def _failure(exc: Exception, reader: Reader) -> Exception:
    """What really went wrong behind a tool error: an invalid argument, a LeadSquared error, or the
    error itself (an unknown tool, a crash)."""
    if isinstance(exc, InvalidArgumentError):
        return exc
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        return describe_invalid(cause, reader)
    if isinstance(cause, InvalidArgumentError | LeadSquaredError):
        return cause
    return exc


def create_server(
    settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None, reader: Reader = MODEL
) -> LeadSquaredServer:
    """Build the `leadsquared` MCP server on one shared, rate-limited connection to LeadSquared, its
    texts written for `reader` (the command line's server writes for a person)."""
    limiter, shared = _shared_through_redis(settings)

    @asynccontextmanager
    async def lifespan(_: MCPServer[Deps]) -> AsyncIterator[Deps]:
        async with Connection(settings, limiter=limiter, transport=transport) as conn:
            types = ActivityTypeCache(conn, shared=shared)
            async with anyio.create_task_group() as group:
                # Names are looked up as the server starts, ahead of the first tool call.
                types.start(group)
                yield Deps(
                    conn=conn,
                    activity_types=types,
                    field_names=ActivityFieldNames(conn, shared=shared),
                    reader=reader,
                )
                group.cancel_scope.cancel()

    tools = [
        Tool.from_function(function, title=title, description=description, annotations=READ_ONLY)
        for function, title, description in TOOLS
    ]
    server = LeadSquaredServer(
        tools, lifespan, settings.secrets, reader, drain_seconds=longest_call(settings)
    )
    server.prompt(
        title="Deal history",
        description="Summarise what happened on one deal (named as people name it, or by its id) and what "
        "is next, every claim cited.",
    )(deal_history)
    return server


def _shared_through_redis(settings: Settings) -> tuple[Limiter | None, SharedCache | None]:
    """With LSQ_REDIS_URL, the rate limit and the metadata shared with every process on the account,
    over one Redis connection pool (redis-py is imported only then); without it, (None, None): the
    connection paces this process alone."""
    if settings.redis_url is None:
        return None, None
    from lsq_mcp.pacing.redis import RedisLimiter
    from lsq_mcp.redis_store import RedisCache, RedisStore

    store = RedisStore.open(settings)
    limiter = RedisLimiter(store, settings.rate_limit, hold=longest_attempt(settings))
    return limiter, RedisCache(store, settings.secrets)
