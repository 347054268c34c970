"""The structured result of `get_opportunity_activities`, and condensing raw rows into it.

Pure functions over pydantic models. The raw rows repeat the lead's details (and the
opportunity's `O_` fields) on every activity; here they are given once. Blank values are
dropped, codes become integers, dates ISO 8601 UTC, HTML notes plain text, and very long
notes are shortened with a visible marker.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from lsq_mcp.api.models import RawActivity, SortDirection
from lsq_mcp.api.values import iso_utc, to_int
from lsq_mcp.text import html_to_text, shorten
from lsq_mcp.tools.results import Absent, Compact, ToolResult

# A note longer than this is cut in the structured result (the text timeline cuts harder).
NOTE_LIMIT = 2000
_OPPORTUNITY_PREFIX = "O_"
_OPPORTUNITY_NAMED = {
    "O_mx_Custom_1": "name",
    "O_Status": "status",
    "O_Owner": "owner",
    "O_ActivityEvent": "type_code",
    "O_ActivityEventName": "type_name",
}


class Lead(Compact):
    """A lead (person) the activities belong to, given once however many rows repeat it."""

    id: str | Absent = None
    name: str | Absent = None
    first_name: str | Absent = None
    last_name: str | Absent = None
    email: str | Absent = None
    phone: str | Absent = None
    owner: str | Absent = None
    do_not_call: bool | Absent = None
    do_not_email: bool | Absent = None


class Opportunity(Compact):
    """Opportunity fields (`O_…`) that are the same on every row, given once."""

    name: str | Absent = Field(None, description="O_mx_Custom_1, the opportunity's name")
    status: str | Absent = None
    owner: str | Absent = None
    type_code: int | Absent = Field(None, description="O_ActivityEvent, the opportunity type's code")
    type_name: str | Absent = Field(None, description="O_ActivityEventName")
    fields: dict[str, Any] | Absent = Field(None, description="Other O_ fields, prefix removed")


class Activity(Compact):
    """One activity, renamed for people; only fields with a value are present."""

    id: str | Absent = Field(None, description="ProspectActivityId (absent only if LeadSquared left it out)")
    event_code: int | Absent = Field(None, description="ActivityEvent: the activity type's code")
    created_at: str | Absent = Field(
        None, description="PACreatedOn, ISO 8601 UTC (e.g. 2020-10-16T05:57:37Z); as sent if unreadable"
    )
    event_name: str | Absent = None
    activity_type: int | Absent = None
    modified_at: str | Absent = None
    created_by: str | Absent = None
    modified_by: str | Absent = None
    status: str | Absent = None
    note: str | Absent = Field(None, description="Plain text (HTML removed); very long notes are shortened")
    score: int | Absent = None
    ip_latitude: float | Absent = None
    ip_longitude: float | Absent = None
    lead_id: str | Absent = Field(None, description="Only when the activities belong to more than one lead")
    fields: dict[str, Any] | Absent = Field(
        None, description="Custom, requested and other fields, by their LeadSquared names"
    )


class ActivitiesResult(ToolResult):
    """The structured result of `get_opportunity_activities`."""

    opportunity_id: str
    total: int = Field(description="RecordCount: all matching activities, on every page")
    returned: int = Field(description="How many activities this result holds")
    has_more: bool = Field(description="Whether more matching activities exist past this result")
    next_page_index: int | Absent = Field(
        None, description="The page_index to ask for next (same page_size); absent when none"
    )
    page_index: int
    page_size: int
    sort_direction: SortDirection
    opportunity: Opportunity | Absent = None
    leads: list[Lead] | Absent = Field(None, description="The lead(s) of these activities, once each")
    activities: list[Activity] = Field(description="In the order asked for")


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
        id=row.id,
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
    if isinstance(value, str):  # nearly every value: the quick way first
        value = value.strip()
        if not value:
            return None
        if value[0] not in "[{":
            return value
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        cleaned = {str(k): c for k, v in value.items() if (c := _clean(v)) is not None}
        return cleaned or None
    if isinstance(value, list):
        items = [c for v in value if (c := _clean(v)) is not None]
        return items or None
    return value


def _join(*parts: str | None) -> str | None:
    return " ".join(p for p in parts if p) or None


def name_events(result: ActivitiesResult, names: Mapping[int, str]) -> ActivitiesResult:
    """The result with `event_name` filled in from the activity types where LeadSquared left it out."""
    if not names:
        return result
    activities = [
        a.model_copy(update={"event_name": names[a.event_code]})
        if a.event_name is None and a.event_code is not None and a.event_code in names
        else a
        for a in result.activities
    ]
    return result.model_copy(update={"activities": activities})
