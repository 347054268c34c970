"""Condensing the companion answers: one opportunity's details, a lead's opportunities, activity types.

Pure functions, like `condense.py`: blanks dropped, dates ISO 8601 UTC, and a short
text for each result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lsq_mcp.models import (
    ActivityType,
    ActivityTypesResult,
    FoundOpportunities,
    LeadSummary,
    OpportunityDetails,
    OpportunitySummary,
    RawActivityType,
    RawLead,
    RawLeadOpportunity,
    RawOpportunityDetails,
)
from lsq_mcp.values import blank_to_none, dot_join, iso_utc, labelled, parse_date

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
        value = blank_to_none(field.value)
        if value is None:
            continue
        key = _BY_SCHEMA.get(field.schema_name or "") or _BY_DISPLAY.get((field.display_name or "").lower())
        if key and named.get(key) is None:
            named[key] = iso_utc(parse_date(value)) if key in _DATES else str(value)
        elif not key:
            others[field.display_name or field.schema_name or "?"] = value
    return OpportunityDetails(**named, fields=others or None)


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


def render_activity_types(result: ActivityTypesResult) -> str:
    return "\n".join(f"{t.code} {t.name}" for t in result.activity_types) or "No activity types."
