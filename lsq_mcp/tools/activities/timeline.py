"""The text of `get_opportunity_activities`: a timeline a person or a model reads at a glance.

A header (the opportunity, its lead, which activities these are), then one line per activity.
Pure functions of the structured result.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping

from lsq_mcp.text import clip, dot_join, labelled
from lsq_mcp.tools.activities.result import ActivitiesResult, Activity, Opportunity

TIMELINE_NOTE_LIMIT = 160
TIMELINE_FIELD_LIMIT = 40
TIMELINE_MAX_FIELDS = 4
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
