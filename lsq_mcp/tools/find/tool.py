"""`find_opportunities`: a person's opportunities, by the lead's email address or id."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Annotated

from mcp_types import CallToolResult
from pydantic import Field

from lsq_mcp.api.connection import Connection
from lsq_mcp.api.endpoints import get_leads_by_email, get_opportunities_of_lead
from lsq_mcp.api.models import RawLead, RawLeadOpportunity
from lsq_mcp.api.values import iso_utc
from lsq_mcp.api.walk import gather_all
from lsq_mcp.text import dot_join, labelled
from lsq_mcp.tools.arguments import InvalidArgumentError, argument, constrained
from lsq_mcp.tools.base_result import Absent, Compact, ToolResult, call_tool_result
from lsq_mcp.tools.context import ToolContext, deps_of
from lsq_mcp.tools.opportunity import OpportunitySummary

TITLE = "Find opportunities"
DESCRIPTION = "Find a person's opportunities, newest first, by lead email or lead id (give one)."
# A shared email address can match several leads; this many are read, no more.
MAX_LEADS = 5


async def find_opportunities(
    ctx: ToolContext,
    email: Annotated[
        Annotated[str, constrained("email")] | Absent,
        argument("email", "The lead's email address.", optional=True),
    ] = None,
    lead_id: Annotated[
        Annotated[str, constrained("lead_id")] | Absent,
        argument("lead_id", "The lead's GUID.", optional=True),
    ] = None,
    opportunity_type: Annotated[
        Annotated[int, constrained("opportunity_type")] | Absent,
        argument("opportunity_type", "Only this opportunity type (code, e.g. 12002).", optional=True),
    ] = None,
) -> Annotated[CallToolResult, FoundOpportunities]:
    if (email is None) == (lead_id is None):
        raise InvalidArgumentError(
            "Invalid arguments: give exactly one of email (a lead's email address) and lead_id "
            "(a lead's GUID)."
        )
    found = await find_lead_opportunities(
        deps_of(ctx).conn, email=email, lead_id=lead_id, opportunity_type=opportunity_type
    )
    return call_tool_result(render_found(found), found)


async def find_lead_opportunities(
    conn: Connection,
    *,
    email: str | None = None,
    lead_id: str | None = None,
    opportunity_type: int | None = None,
) -> FoundOpportunities:
    """The lead(s) with this email (or this lead id) and each one's opportunities, newest first."""
    leads: list[tuple[RawLead | None, str]] = []
    if lead_id is not None:
        leads.append((None, lead_id))
    elif email is not None:
        leads += [(lead, lead.id) for lead in await get_leads_by_email(conn, email) if lead.id][:MAX_LEADS]

    async def read(lead: RawLead | None, lead_id: str) -> LeadSummary:
        page = await get_opportunities_of_lead(conn, lead_id, opportunity_type)
        return condense_lead(lead, lead_id, page.rows)

    return FoundOpportunities(leads=await gather_all([partial(read, lead, lid) for lead, lid in leads]))


class LeadSummary(Compact):
    id: str
    name: str | Absent = None
    email: str | Absent = None
    phone: str | Absent = None
    company: str | Absent = None
    stage: str | Absent = None
    owner: str | Absent = None
    opportunities: list[OpportunitySummary] = Field(description="Newest first")


class FoundOpportunities(ToolResult):
    """The structured result of `find_opportunities`."""

    leads: list[LeadSummary]


def condense_lead(lead: RawLead | None, lead_id: str, rows: Sequence[RawLeadOpportunity]) -> LeadSummary:
    """A lead and its opportunities, newest first (by creation date, undated last)."""
    opportunities = [
        OpportunitySummary(
            id=row.id,
            name=row.name,
            status=row.status,
            stage=row.stage,
            type_code=row.type_code,
            type_name=row.type_name,
            owner=row.owner,
            created_at=iso_utc(row.created_at),
            modified_at=iso_utc(row.modified_at),
        )
        for row in rows
        if row.id
    ]
    opportunities.sort(key=lambda o: o.created_at or "", reverse=True)
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p) if lead else None
    return LeadSummary(
        id=lead_id,
        name=name or None,
        email=lead.email if lead else None,
        phone=lead.phone if lead else None,
        company=lead.company if lead else None,
        stage=lead.stage if lead else None,
        owner=lead.owner if lead else None,
        opportunities=opportunities,
    )


def render_found(found: FoundOpportunities) -> str:
    if not found.leads:
        return "No lead found."
    lines: list[str] = []
    for lead in found.leads:
        lines.append(
            dot_join(f"Lead {lead.id}", lead.name, lead.email, lead.company, labelled("owner", lead.owner))
        )
        if not lead.opportunities:
            lines.append("  no opportunities")
        for opp in lead.opportunities:
            created = opp.created_at[:10] if opp.created_at else None
            lines.append(
                "  "
                + dot_join(
                    opp.id, opp.name, opp.type_name, opp.status, opp.stage, labelled("created", created)
                )
            )
    return "\n".join(lines)
