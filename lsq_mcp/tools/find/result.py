"""`find_opportunities`' structured result, a lead condensed, and the text: one line per match, best first."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from lsq_mcp.api.models import RawLead, RawLeadOpportunity
from lsq_mcp.api.values import iso_utc
from lsq_mcp.reader import MODEL, Reader
from lsq_mcp.text import dot_join, labelled, one_line
from lsq_mcp.tools.base_result import Absent, Compact, ToolResult
from lsq_mcp.tools.opportunity import OpportunitySummary

NOTHING_FOUND = (
    "Try the person's full name, their email address, the company's name or a phone number, or ask the "
    "user for one."
)


class LeadSummary(Compact):
    id: str
    name: str | Absent = None
    email: str | Absent = None
    phone: str | Absent = None
    company: str | Absent = None
    stage: str | Absent = None
    owner: str | Absent = None
    opportunities: list[OpportunitySummary] = Field(description="Newest first")


class Match(OpportunitySummary):
    """An opportunity found, with its lead."""

    lead: str | Absent = Field(None, description="The lead's name")
    lead_id: str | Absent = None
    company: str | Absent = None


class FoundOpportunities(ToolResult):
    """The structured result of `find_opportunities`."""

    query: str | Absent = None
    matches: list[Match] = Field(
        description="Best first: the deal's words in the name, then open before closed, then newest"
    )
    leads: list[LeadSummary] = Field(description="Each lead found, with its opportunities")
    refused: list[str] | Absent = Field(
        None, description="The searches LeadSquared refused, and why; the others still ran"
    )


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


def render_found(found: FoundOpportunities, how: str | None = None, reader: Reader = MODEL) -> str:
    """The matches best first, one line each with its id; then the leads, what was refused, what next
    (as `reader` asks it). `how` says which search found the leads."""
    # The query as one line: what the user typed heads the text, it cannot add lines to it.
    asked = f' for "{one_line(found.query)}"' if found.query is not None else ""
    lines: list[str] = []
    if found.matches:
        count = len(found.matches)
        lines.append(f"{count} opportunit{'y' if count == 1 else 'ies'}{asked}, best first:")
        lines += [f"{rank}. {_match_line(match)}" for rank, match in enumerate(found.matches, start=1)]
    elif found.leads:
        lines.append(f"No opportunities{asked}: the leads found have none.")
    else:
        lines.append(f"Nothing matched{asked}: no lead was found. {NOTHING_FOUND}")
    if found.leads:
        lines.append(f"Leads{f' (found by {how})' if how else ''}:")
        lines += [f"  {_lead_line(lead)}" for lead in found.leads]
    lines += [f"Refused by LeadSquared: {refusal}" for refusal in found.refused or ()]
    if found.matches:
        lines.append(_next_step(reader))
    return "\n".join(lines)


def _next_step(reader: Reader) -> str:
    summary = reader.call("summarize_opportunity", reader.name("opportunity_id"))
    ask = "." if reader.person else " (ask the user when several could be)."
    return f"Next: {summary} with the id of the deal meant{ask}"


def _match_line(match: Match) -> str:
    created = match.created_at[:10] if match.created_at else None
    lead = ", ".join(part for part in (match.lead, match.company) if part) or None
    return dot_join(
        match.id,
        match.name,
        match.status,
        match.stage,
        labelled("lead", lead),
        labelled("owner", match.owner),
        labelled("created", created),
    )


def _lead_line(lead: LeadSummary) -> str:
    count = len(lead.opportunities)
    return dot_join(
        lead.id,
        lead.name,
        lead.company,
        lead.email,
        lead.phone,
        labelled("owner", lead.owner),
        f"{count} opportunit{'y' if count == 1 else 'ies'}",
    )
