"""`list_activity_types`: the account's activity types, event code to name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from mcp_types import CallToolResult
from pydantic import Field

from lsq_mcp.api.models import RawActivityType
from lsq_mcp.tools.base_result import Absent, Compact, ToolResult, call_tool_result
from lsq_mcp.tools.context import ToolContext, deps_of

TITLE = "List activity types"
DESCRIPTION = "The account's activity types: event code to name."


async def list_activity_types(ctx: ToolContext) -> Annotated[CallToolResult, ActivityTypesResult]:
    result = condense_activity_types(await deps_of(ctx).activity_types.types())
    return call_tool_result(render_activity_types(result), result)


class ActivityType(Compact):
    code: int
    name: str
    system_name: str | Absent = Field(None, description="ActivityEventName, when it differs from name")


class ActivityTypesResult(ToolResult):
    """The structured result of `list_activity_types`."""

    activity_types: list[ActivityType]


def condense_activity_types(types: Sequence[RawActivityType]) -> ActivityTypesResult:
    rows = [
        ActivityType(
            code=t.code,
            name=t.label,
            system_name=t.name if t.name and t.name != t.label else None,
        )
        for t in types
        if t.code is not None and t.label
    ]
    return ActivityTypesResult(activity_types=sorted(rows, key=lambda t: t.code))


def render_activity_types(result: ActivityTypesResult) -> str:
    return "\n".join(f"{t.code} {t.name}" for t in result.activity_types) or "No activity types."
