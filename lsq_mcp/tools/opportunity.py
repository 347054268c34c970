"""`get_opportunity`: one opportunity's details, its custom fields under their display names."""

from __future__ import annotations

from typing import Annotated, Any

from mcp_types import CallToolResult
from pydantic import Field

from lsq_mcp.api.endpoints import get_opportunity as fetch_opportunity
from lsq_mcp.api.models import RawOpportunityDetails
from lsq_mcp.api.values import iso_utc, parse_date
from lsq_mcp.text import Cap, dot_join, field_value, labelled, shown
from lsq_mcp.tools.arguments import OpportunityId
from lsq_mcp.tools.base_result import Absent, Compact, ToolResult, call_tool_result
from lsq_mcp.tools.context import ToolContext, deps_of

TITLE = "Get opportunity"
DESCRIPTION = "One opportunity's details: name, type, status, stage, owner, value, dates, custom fields."


async def get_opportunity(
    ctx: ToolContext,
    opportunity_id: OpportunityId,
) -> Annotated[CallToolResult, OpportunityDetails]:
    raw = await fetch_opportunity(deps_of(ctx).conn, opportunity_id)
    details = condense_opportunity(raw, opportunity_id)
    return call_tool_result(render_opportunity(details), details)


class OpportunitySummary(Compact):
    """An opportunity in brief, as `find_opportunities` lists it."""

    id: str
    name: str | Absent = None
    status: str | Absent = None
    stage: str | Absent = None
    type_code: int | Absent = None
    type_name: str | Absent = None
    owner: str | Absent = None
    created_at: str | Absent = None
    modified_at: str | Absent = None


class OpportunityDetails(OpportunitySummary, ToolResult):
    """The structured result of `get_opportunity`: the summary, its value, lead and other fields."""

    value: str | Absent = None
    lead_id: str | Absent = None
    fields: dict[str, Any] | Absent = Field(None, description="Other non-empty fields, by display name")


# Fields of GetOpportunityDetails given their own key, by schema name...
_BY_SCHEMA = {
    "mx_Custom_1": "name",
    "Status": "status",
    "Owner": "owner",
    "RelatedProspectId": "lead_id",
    "CreatedOn": "created_at",
    "ModifiedOn": "modified_at",
}
# ...or, as custom fields are named per account, by display name.
_BY_DISPLAY = {
    "stage": "stage",
    "deal value": "value",
    "opportunity value": "value",
    "amount": "value",
    "value": "value",
}
_DATES = frozenset({"created_at", "modified_at"})


def condense_opportunity(raw: RawOpportunityDetails, opportunity_id: str) -> OpportunityDetails:
    named: dict[str, Any] = {
        "id": raw.id or opportunity_id,
        "name": raw.name or raw.display_name,
        "type_code": raw.type_code,
        "type_name": raw.type_name,
        "lead_id": raw.lead_id,
    }
    others: dict[str, Any] = {}
    for field in raw.fields:
        value = field_value(field.value)
        if value is None:
            continue
        key = _BY_SCHEMA.get(field.schema_name or "") or _BY_DISPLAY.get((field.display_name or "").lower())
        if key and named.get(key) is None:
            named[key] = iso_utc(parse_date(value)) if key in _DATES else shown(str(value), Cap.NAME)
        elif not key:
            others[field.display_name or field.schema_name or "?"] = value
    return OpportunityDetails(**named, fields=others or None)


def render_opportunity(details: OpportunityDetails) -> str:
    lines = [
        dot_join(f"Opportunity {details.id}", details.name, details.type_name, details.status, details.stage),
        dot_join(
            labelled("owner", details.owner),
            labelled("value", details.value),
            labelled("lead", details.lead_id),
            labelled("created", details.created_at),
            labelled("modified", details.modified_at),
        ),
    ]
    lines += [f"{key}: {value}" for key, value in (details.fields or {}).items()]
    return "\n".join(line for line in lines if line)
