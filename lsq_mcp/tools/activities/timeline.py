"""The text of `get_opportunity_activities`: a timeline a person or a model reads at a glance.

A header (the opportunity, its lead, which activities these are, the activity types' codes), then
the activities under one heading per day, a line each: time, type, who, status, score, note and
custom fields under their display names. Pure functions of the structured result (its JSON).
For a model its size is budgeted in tokens, estimated from above (`lsq_mcp.tokens`); a person at
the command line reads it whole, and is told flags rather than arguments (`lsq_mcp.reader`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from lsq_mcp.reader import MODEL, Reader
from lsq_mcp.text import clip, dot_join, labelled
from lsq_mcp.tokens import estimate_tokens, within
from lsq_mcp.tools.base_result import Json

TIMELINE_NOTE_LIMIT = 160
TIMELINE_FIELD_LIMIT = 40
TIMELINE_MAX_FIELDS = 4
# Clients cut tool results near 25,000 tokens: the text stays at or under this many.
TEXT_BUDGET = 20_000
# Room kept for the line that summarises what did not fit.
_SUMMARY_ROOM = 400
# The header's lists stop at this many (an opportunity's activities have one lead, as a rule, and
# a few types): however many the data holds, the header leaves room for the activities.
HEAD_LEADS, HEAD_TYPES = 5, 40


def render_timeline(result: Json, reader: Reader = MODEL, budget: int = TEXT_BUDGET) -> str:
    """The timeline of `result`: a header, then the activities a line each under their day.

    Past `budget` tokens (for a model; a person reads it whole), the newest activities stay in full
    and the rest are summarised (counts by type, first and last date) with what to ask for to read them.
    """
    activities: Sequence[Json] = result["activities"]
    shared = _shared_by_type(activities)
    lead_names = {
        lead["id"]: lead["name"] for lead in result.get("leads", ()) if "id" in lead and "name" in lead
    }
    head = _head(result, shared, reader)
    entries = [
        (_day(a), _activity_line(a, lead_names, shared.get(a.get("event_code", -1), {}))) for a in activities
    ]
    text = "\n".join(head + _with_days(entries))
    if reader.person or within(text, budget):
        return text
    # The newest activities are kept: the first ones newest first, the last ones oldest first.
    newest_first = result["sort_direction"] == "newest_first"
    room = budget - estimate_tokens("\n".join(head)) - _SUMMARY_ROOM
    kept = _most_within(entries if newest_first else entries[::-1], room)
    shown = range(kept) if newest_first else range(len(entries) - kept, len(entries))
    left_out = range(kept, len(entries)) if newest_first else range(len(entries) - kept)
    summary = _summary(result, list(left_out), kept)
    lines = _with_days([entries[i] for i in shown])
    return "\n".join(head + ([*lines, summary] if newest_first else [summary, *lines]))


def _most_within(entries: Sequence[tuple[str, str]], room: int) -> int:
    """How many of the first `entries` fit in `room` tokens with their day headings. Estimated a block
    of lines at a time, then line by line in the block that does not fit: fewer, longer estimates."""
    used, kept, day = 0, 0, None
    while kept < len(entries):
        block = entries[kept : kept + _BLOCK]
        cost = estimate_tokens("\n".join(_with_days(block, day))) + 1
        if used + cost <= room:
            used, kept, day = used + cost, kept + len(block), block[-1][0]
            continue
        for entry_day, line in block:
            used += estimate_tokens(line if entry_day == day else f"{entry_day}\n{line}") + 1
            if used > room:
                break
            kept, day = kept + 1, entry_day
        break
    return kept


_BLOCK = 32


def _with_days(entries: Sequence[tuple[str, str]], day: str | None = None) -> list[str]:
    """The lines, with a heading line wherever the day changes (from `day`, the day before them)."""
    lines = []
    for entry_day, line in entries:
        if entry_day != day:
            lines.append(entry_day)
            day = entry_day
        lines.append(line)
    return lines


def _shared_by_type(activities: Sequence[Json]) -> dict[int, dict[str, Any]]:
    """The status and score of each activity type that all its activities here (two or more) share:
    the types' line says them once, and the activities' lines leave them out."""
    values: dict[int, dict[str, Any]] = {}
    counts: Counter[int] = Counter()
    for activity in activities:
        if "event_code" not in activity:
            continue
        code = activity["event_code"]
        counts[code] += 1
        known = values.setdefault(code, {key: activity.get(key) for key in _SHARED_KEYS})
        for key in _SHARED_KEYS:
            if known[key] != activity.get(key):
                known[key] = None
    return {
        code: shared
        for code, known in values.items()
        if counts[code] > 1 and (shared := {k: v for k, v in known.items() if v})
    }


_SHARED_KEYS = ("status", "score")


def _type_entry(code: int, name: str, shared: Mapping[str, Any]) -> str:
    said = [shared["status"]] if "status" in shared else []
    if "score" in shared:
        said.append(f"score {shared['score']:+d}")
    return f"{code} {name}" + (f" ({', '.join(said)})" if said else "")


def _head(result: Json, shared: Mapping[int, Mapping[str, Any]], reader: Reader) -> list[str]:
    opportunity = result.get("opportunity", {})
    head = [
        "Opportunity "
        + dot_join(
            result["opportunity_id"],
            opportunity.get("name"),
            opportunity.get("type_name"),
            opportunity.get("status"),
            labelled("owner", opportunity.get("owner")),
        )
    ]
    leads = result.get("leads", [])
    for lead in leads[:HEAD_LEADS]:
        head.append(
            "Lead: "
            + dot_join(
                lead.get("name"), lead.get("email"), lead.get("phone"), labelled("owner", lead.get("owner"))
            )
        )
    if len(leads) > HEAD_LEADS:
        head.append(f"… and {len(leads) - HEAD_LEADS} more leads (in the structured result).")
    in_window = "since" in result or "until" in result
    head.append(_window_line(result, reader) if in_window else _range_line(result, reader))
    types = sorted(
        {
            (a["event_code"], a["event_name"])
            for a in result["activities"]
            if "event_code" in a and "event_name" in a
        }
    )
    if types:
        entries = [_type_entry(code, name, shared.get(code, {})) for code, name in types[:HEAD_TYPES]]
        more = f", {len(types) - HEAD_TYPES} more" if len(types) > HEAD_TYPES else ""
        head.append("Types: " + ", ".join(entries) + more)
    return head


def _range_line(result: Json, reader: Reader) -> str:
    if not result["activities"]:
        if result["total"] == 0:
            return "No activities."
        return f"No activities on page {result['page_index']} ({result['total']} in all)."
    first = (result["page_index"] - 1) * result["page_size"] + 1
    last = first + result["returned"] - 1
    line = f"Activities {first}-{last} of {result['total']}, {_order(result)}, times UTC."
    if "next_page_index" in result:
        line += f" More: {reader.ask('page_index', result['next_page_index'])}."
    return line


def _window_line(result: Json, reader: Reader) -> str:
    """What the window holds, and how to read on when it holds more than was returned."""
    since, until = result.get("since"), result.get("until")
    span = f"{since} to {until}" if since and until else f"since {since}" if since else f"until {until}"
    line = (
        f"Activities created {span}: {result['returned']}, {_order(result)}, times UTC "
        f"({result['total']} in all, any date)."
    )
    if result["has_more"]:
        last = result["activities"][-1].get("created_at", "")
        edge = "until" if result["sort_direction"] == "newest_first" else "since"
        read_on = reader.ask(edge, last)
        line += f" The window holds more: to read on, ask again with {read_on} (that second repeats)."
    return line


def _order(result: Json) -> str:
    return "newest first" if result["sort_direction"] == "newest_first" else "oldest first"


def _day(activity: Json) -> str:
    """The heading of the activity's day (`27 Feb 2025`: fewer tokens than 2025-02-27), or its time as
    sent when that is no date."""
    created = str(activity.get("created_at", "No date"))
    if not _is_iso(created):
        return created
    return f"{int(created[8:10])} {_MONTHS[int(created[5:7]) - 1]} {created[:4]}"


_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d$")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _is_iso(created: str) -> bool:
    return len(created) == 20 and created[10] == "T" and created[:4].isdigit()


def _event_label(activity: Json) -> str:
    if "event_name" in activity:
        return str(activity["event_name"])
    return f"[{activity['event_code']}]" if "event_code" in activity else "activity"


def dated_line(activity: Json) -> str:
    """One activity on a line of its own, its date first (`2025-02-26 12:10 Inbound Phone Call ...`)."""
    created = str(activity.get("created_at", ""))
    return f"{created[:10] if _is_iso(created) else _day(activity)} {_activity_line(activity, {}, {})}"


def _activity_line(activity: Json, lead_names: Mapping[str, str], shared: Mapping[str, Any]) -> str:
    """The activity's line; what its type's line says of every activity of the type (`shared`) is
    left out."""
    created = activity.get("created_at")
    label = _event_label(activity)
    if "created_by" in activity:
        label += f" by {activity['created_by']}"
    parts = [f"{created[11:16]} {label}" if created and _is_iso(created) else label]
    if "lead_id" in activity:
        parts.append(f"lead {lead_names.get(activity['lead_id'], activity['lead_id'])}")
    fields = list(activity.get("fields", {}).items())[:TIMELINE_MAX_FIELDS]
    if (
        "status" in activity
        and "status" not in shared
        and all(value != activity["status"] for _, value in fields)
    ):
        parts.append(activity["status"])  # else a field says it, under its name (`Email Status=Sent`)
    if activity.get("score") and "score" not in shared:
        parts.append(f"score {activity['score']:+d}")
    if "note" in activity:
        parts.append(clip(" / ".join(activity["note"].splitlines()), TIMELINE_NOTE_LIMIT))
    for key, value in fields:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if _DATE_TIME.match(text):
            text = text[:16]  # to the minute, like the activities' own times
        parts.append(f"{key}={clip(text, TIMELINE_FIELD_LIMIT)}")
    return " · ".join(parts)


def _summary(result: Json, left_out: list[int], kept: int) -> str:
    activities = [result["activities"][i] for i in left_out]
    dates = sorted(a["created_at"][:10] for a in activities if _is_iso(a.get("created_at", "")))
    counts = Counter(_event_label(a) for a in activities)
    # Labels clipped: the line fits the room kept for it, however long the data's names.
    by_event = ", ".join(f"{n} × {clip(label, TIMELINE_FIELD_LIMIT)}" for label, n in counts.most_common(12))
    if len(counts) > 12:
        by_event += f", {len(counts) - 12} more kinds"
    span = f" ({dates[0]} to {dates[-1]})" if dates else ""
    return (
        f"… {len(activities)} older activities not shown as text{span}: {by_event}. "
        f"All are in the structured result; {_read_on(result, left_out, kept)}"
    )


def _read_on(result: Json, left_out: list[int], kept: int) -> str:
    """How to read the activities left out as text: a narrower window, or the pages that hold them
    (a model's words: a person's text is never cut)."""
    if "since" in result or "until" in result:
        # The newest of those left out (they are the oldest of the window).
        newest = left_out[0] if result["sort_direction"] == "newest_first" else left_out[-1]
        until = result["activities"][newest].get("created_at", "")
        return f"to read them as text, ask again with until={until}."
    start = (result["page_index"] - 1) * result["page_size"]
    size = min(1000, max(25, kept // 25 * 25))
    first, last = (start + left_out[0]) // size + 1, (start + left_out[-1]) // size + 1
    return f"to read them as text, ask for page_size={size} with page_index {first} to {last}."
