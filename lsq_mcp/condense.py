"""Condensing: LeadSquared's raw rows → a compact result and a one-line-per-activity timeline.

Pure functions over the models in `models.py`. The raw rows repeat the lead's
details (and the opportunity's `O_` fields) on every activity; here they are given
once. Blank values are dropped, codes become integers, dates ISO 8601 UTC, HTML
notes plain text, and very long notes are shortened with a visible marker.
"""

from __future__ import annotations

import json
from collections import Counter
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
from lsq_mcp.values import clip, dot_join, html_to_text, iso_utc, labelled, shorten, to_int

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


# --- The text timeline ---

# Common clients reject or cut tool results near 25,000 tokens: the text stays under this.
TEXT_BUDGET = 100_000
# Room kept for the summary of what did not fit.
_SUMMARY_ROOM = 1_500


def render_timeline(result: ActivitiesResult, budget: int = TEXT_BUDGET) -> str:
    """A compact timeline a person reads at a glance: a header, then one line per activity.

    Past `budget` characters, the newest activities stay in full and the rest are summarised
    (counts by event, first and last date) with the pages to ask for to read them.
    """
    head = [_opportunity_line(result)]
    lead_names: dict[str, str] = {}
    for lead in result.leads or []:
        head.append("Lead: " + dot_join(lead.name, lead.email, lead.phone, labelled("owner", lead.owner)))
        if lead.id and lead.name:
            lead_names[lead.id] = lead.name
    head.append(_range_line(result))
    lines = [_activity_line(activity, lead_names) for activity in result.activities]
    text = "\n".join(head + lines)
    if len(text) <= budget:
        return text
    return "\n".join(head + _within_budget(result, lines, budget - len("\n".join(head)) - _SUMMARY_ROOM))


def _within_budget(result: ActivitiesResult, lines: list[str], room: int) -> list[str]:
    """The newest lines that fit in `room`, and one line that summarises the others."""
    newest_first = result.sort_direction == "newest_first"
    order = range(len(lines)) if newest_first else range(len(lines) - 1, -1, -1)
    kept: list[int] = []
    used = 0
    for i in order:
        used += len(lines[i]) + 1
        if used > room:
            break
        kept.append(i)
    left_out = sorted(set(range(len(lines))) - set(kept))
    summary = _summary(result, left_out, len(kept))
    kept.sort()
    shown = [lines[i] for i in kept]
    return [*shown, summary] if newest_first else [summary, *shown]


def _summary(result: ActivitiesResult, left_out: list[int], kept: int) -> str:
    activities = [result.activities[i] for i in left_out]
    dates = sorted(a.created_at[:10] for a in activities if a.created_at and a.created_at[:1].isdigit())
    counts = Counter(_event_label(a) for a in activities)
    by_event = ", ".join(f"{n} × {label}" for label, n in counts.most_common(12))
    if len(counts) > 12:
        by_event += f", {len(counts) - 12} more kinds"
    span = f" ({dates[0]} to {dates[-1]})" if dates else ""
    # The pages (of a size the text can hold) that cover the activities left out.
    start = (result.page_index - 1) * result.page_size
    size = min(1000, max(25, kept // 25 * 25))
    first, last = (start + left_out[0]) // size + 1, (start + left_out[-1]) // size + 1
    return (
        f"… {len(activities)} older activities not shown as text{span}: {by_event}. "
        f"All are in the structured result; to read them as text, ask for page_size={size} "
        f"with page_index {first} to {last}."
    )


def _opportunity_line(result: ActivitiesResult) -> str:
    opp = result.opportunity or Opportunity()
    return "Opportunity " + dot_join(
        result.opportunity_id, opp.name, opp.type_name, opp.status, labelled("owner", opp.owner)
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


def _event_label(activity: Activity) -> str:
    code = f"[{activity.event_code}]" if activity.event_code is not None else None
    return " ".join(p for p in (activity.event_name, code) if p) or "activity"


def _activity_line(activity: Activity, lead_names: Mapping[str, str]) -> str:
    when = (activity.created_at or "no date").replace("T", " ")
    if when.endswith("Z"):
        when = when[:16]  # minutes are enough to read a timeline
    parts = [when, _event_label(activity)]
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
