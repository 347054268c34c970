"""Condensing: LeadSquared's raw rows → a compact result and a one-line-per-activity timeline.

Pure functions over the models in `models.py`. The raw rows repeat the lead's
details (and the opportunity's `O_` fields) on every activity; here they are given
once. Blank values are dropped, codes become integers, dates ISO 8601 UTC, HTML
notes plain text, and very long notes are shortened with a visible marker.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lsq_mcp.models import (
    ActivitiesResult,
    Activity,
    Lead,
    Opportunity,
    RawActivitiesPage,
    RawActivity,
    SortDirection,
)
from lsq_mcp.values import blank_to_none, clip, html_to_text, iso_utc, shorten, to_int

# A note longer than this is cut in the structured result (the text timeline cuts harder).
NOTE_LIMIT = 2000
TIMELINE_NOTE_LIMIT = 160
TIMELINE_FIELD_LIMIT = 40
TIMELINE_MAX_FIELDS = 4
_OPPORTUNITY_PREFIX = "O_"
_OPPORTUNITY_NAMED = {
    "O_mx_Custom_1": "name",
    "O_Status": "status",
    "O_Owner": "owner",
    "O_ActivityEvent": "type_code",
    "O_ActivityEventName": "type_name",
}


@dataclass(frozen=True)
class PageRequest:
    """What was asked for, which the result echoes and pages from."""

    opportunity_id: str
    page_index: int
    page_size: int
    sort_direction: SortDirection


def condense(
    request: PageRequest, total: int, rows: Sequence[RawActivity], *, walked: bool = False
) -> ActivitiesResult:
    """The structured result for `rows`, which start at `request.page_index` and hold `total` in all.

    After one page, the next is the next page. After a walk over several (`walked`), it is the page
    holding the first activity not returned: when the walk stopped mid-page, that page repeats a few
    activities rather than skip any.
    """
    start = (request.page_index - 1) * request.page_size
    seen = start + len(rows)
    has_more = seen < total
    next_page = seen // request.page_size + 1 if walked else request.page_index + 1
    lead_ids = {row.lead_id for row in rows if row.lead_id}
    opportunity, shared = _opportunity(rows)
    return ActivitiesResult(
        opportunity_id=request.opportunity_id,
        total=total,
        returned=len(rows),
        has_more=has_more,
        next_page_index=next_page if has_more else None,
        page_index=request.page_index,
        page_size=request.page_size,
        sort_direction=request.sort_direction,
        opportunity=opportunity,
        leads=_leads(rows) or None,
        activities=[_activity(row, shared, tag_lead=len(lead_ids) > 1) for row in rows],
    )


def merge_pages(pages: Sequence[RawActivitiesPage]) -> tuple[int, list[RawActivity]]:
    """One list of rows from consecutive pages, without an activity twice (pages can shift under us)."""
    total = pages[-1].record_count if pages else 0
    seen: set[str] = set()
    rows: list[RawActivity] = []
    for page in pages:
        for row in page.rows:
            key = row.id or json.dumps(row.model_dump(mode="json", by_alias=True), sort_keys=True)
            if key not in seen:
                seen.add(key)
                rows.append(row)
    return total, rows


def _leads(rows: Sequence[RawActivity]) -> list[Lead]:
    """Each lead once, in order of first appearance, with the first value seen for each field."""
    merged: dict[str | None, dict[str, Any]] = {}
    for row in rows:
        values = {
            "id": row.lead_id,
            "name": row.lead_name or _join(row.first_name, row.last_name),
            "first_name": row.first_name,
            "last_name": row.last_name,
            "email": row.email,
            "phone": row.phone,
            "owner": row.lead_owner,
            "do_not_call": None if row.do_not_call is None else row.do_not_call != 0,
            "do_not_email": None if row.do_not_email is None else row.do_not_email != 0,
        }
        current = merged.setdefault(row.lead_id, {})
        for key, value in values.items():
            if value is not None and current.get(key) is None:
                current[key] = value
    return [Lead(**values) for values in merged.values() if any(v is not None for v in values.values())]


def _opportunity(rows: Sequence[RawActivity]) -> tuple[Opportunity | None, frozenset[str]]:
    """The `O_` fields whose value is the same on every row that has one, and their names."""
    values: dict[str, Any] = {}
    varying: set[str] = set()
    for row in rows:
        for key, raw in row.extras.items():
            if not key.startswith(_OPPORTUNITY_PREFIX):
                continue
            value = _clean(raw)
            if value is None:
                continue
            if key in values and values[key] != value:
                varying.add(key)
            values.setdefault(key, value)
    shared = {key: value for key, value in values.items() if key not in varying}
    if not shared:
        return None, frozenset()
    named: dict[str, Any] = {}
    others: dict[str, Any] = {}
    for key, value in shared.items():
        if key in _OPPORTUNITY_NAMED:
            named[_OPPORTUNITY_NAMED[key]] = value
        else:
            others[key[len(_OPPORTUNITY_PREFIX) :]] = value
    if "type_code" in named:
        named["type_code"] = to_int(named["type_code"])
    return Opportunity(**named, fields=others or None), frozenset(shared)


def _activity(row: RawActivity, shared: frozenset[str], *, tag_lead: bool) -> Activity:
    fields = {
        key: value
        for key, raw in sorted(row.extras.items())
        if key not in shared and (value := _clean(raw)) is not None
    }
    note = shorten(html_to_text(row.note), NOTE_LIMIT) if row.note else None
    return Activity(
        id=row.id or "",
        event_code=row.event_code,
        created_at=iso_utc(row.created_at),
        event_name=row.event_name,
        activity_type=row.activity_type,
        modified_at=iso_utc(row.modified_at),
        created_by=row.created_by,
        modified_by=row.modified_by,
        status=row.status,
        note=note or None,
        score=row.score,
        ip_latitude=row.ip_latitude,
        ip_longitude=row.ip_longitude,
        lead_id=row.lead_id if tag_lead else None,
        fields=fields or None,
    )


def _clean(value: Any) -> Any:
    """A field's value without blanks; JSON text (custom field sets) becomes the object it holds."""
    value = blank_to_none(value)
    if isinstance(value, str) and value[0] in "[{":
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, Mapping):
        cleaned = {str(k): c for k, v in value.items() if (c := _clean(v)) is not None}
        return cleaned or None
    if isinstance(value, list):
        items = [c for v in value if (c := _clean(v)) is not None]
        return items or None
    return value


def _join(*parts: str | None) -> str | None:
    return " ".join(p for p in parts if p) or None


# --- The text timeline ---


def render_timeline(result: ActivitiesResult, event_names: Mapping[int, str] | None = None) -> str:
    """A compact timeline a person reads at a glance: a header, then one line per activity."""
    names = event_names or {}
    lines = [_opportunity_line(result)]
    lead_names: dict[str, str] = {}
    for lead in result.leads or []:
        lines.append("Lead: " + _dot(lead.name, lead.email, lead.phone, _prefixed("owner", lead.owner)))
        if lead.id and lead.name:
            lead_names[lead.id] = lead.name
    lines.append(_range_line(result))
    for activity in result.activities:
        lines.append(_activity_line(activity, names, lead_names))
    return "\n".join(lines)


def _opportunity_line(result: ActivitiesResult) -> str:
    opp = result.opportunity or Opportunity()
    return "Opportunity " + _dot(
        result.opportunity_id, opp.name, opp.type_name, opp.status, _prefixed("owner", opp.owner)
    )


def _range_line(result: ActivitiesResult) -> str:
    order = "newest first" if result.sort_direction == "newest_first" else "oldest first"
    if not result.activities:
        if result.total == 0:
            return "No activities."
        return f"No activities on page {result.page_index} ({result.total} in all)."
    first = (result.page_index - 1) * result.page_size + 1
    last = first + result.returned - 1
    line = f"Activities {first}-{last} of {result.total}, {order}, times UTC."
    if result.next_page_index is not None:
        line += f" More: page_index={result.next_page_index}."
    return line


def _activity_line(activity: Activity, names: Mapping[int, str], lead_names: Mapping[str, str]) -> str:
    when = (activity.created_at or "no date").replace("T", " ")
    if when.endswith("Z"):
        when = when[:16]  # minutes are enough to read a timeline
    event = activity.event_name or (
        names.get(activity.event_code) if activity.event_code is not None else None
    )
    code = f"[{activity.event_code}]" if activity.event_code is not None else None
    parts = [when, " ".join(p for p in (event, code) if p) or "activity"]
    if activity.created_by:
        parts.append(f"by {activity.created_by}")
    if activity.lead_id:
        parts.append(f"lead {lead_names.get(activity.lead_id, activity.lead_id)}")
    if activity.status:
        parts.append(activity.status)
    if activity.score:
        parts.append(f"score {activity.score:+d}")
    if activity.note:
        parts.append('"' + clip(" / ".join(activity.note.splitlines()), TIMELINE_NOTE_LIMIT) + '"')
    for key, value in list((activity.fields or {}).items())[:TIMELINE_MAX_FIELDS]:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{key}={clip(text, TIMELINE_FIELD_LIMIT)}")
    return " · ".join(parts)


def _dot(*parts: str | None) -> str:
    return " · ".join(p for p in parts if p)


def _prefixed(label: str, value: str | None) -> str | None:
    return f"{label} {value}" if value else None
