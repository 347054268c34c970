"""The text of `summarize_opportunity`: a digest of at most 2,000 tokens, whatever the history's length.

The deal, the history's counts by type and by person, the last activity, the open and overdue
tasks, and which tool to call for detail (or, for a person, which command: `lsq_mcp.reader`).
Lists are cut to fit the budget, longest first; every free text is clipped, so even the shortest
form fits. Pure functions of the structured result.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsq_mcp.reader import MODEL, Reader
from lsq_mcp.text import clip, dot_join, labelled
from lsq_mcp.tokens import within
from lsq_mcp.tools.activities.timeline import dated_line
from lsq_mcp.tools.summary.result import History, SummaryResult, TaskCounts
from lsq_mcp.tools.tasks import short_time, task_line

DIGEST_TOKENS = 2000
NAME_LIMIT = 80
DESCRIPTION_LIMIT = 80
# The last activity's line (its note is clipped already, its other parts are not).
ACTIVITY_LIMIT = 400


@dataclass(frozen=True)
class _Shown:
    """How many entries of each list the digest shows."""

    types: int
    people: int
    tasks: int


# From the fullest digest to the shortest; the first that fits the budget is given.
_FORMS = (_Shown(15, 10, 10), _Shown(10, 6, 6), _Shown(6, 4, 4), _Shown(3, 2, 2), _Shown(1, 1, 1))


def render_digest(result: SummaryResult, reader: Reader = MODEL, budget: int = DIGEST_TOKENS) -> str:
    text = ""
    for shown in _FORMS:
        text = "\n".join(line for line in _lines(result, shown, reader) if line)
        if within(text, budget):
            break
    return text


def _lines(result: SummaryResult, shown: _Shown, reader: Reader) -> list[str | None]:
    opp = result.opportunity
    deal = dot_join(
        f"Opportunity {result.opportunity_id}",
        *map(_clipped, (opp.name, opp.type_name, opp.status, opp.stage)),
        labelled("owner", _clipped(opp.owner)),
        labelled("value", _clipped(opp.value)),
    )
    lead = result.lead
    about_lead = dot_join(*map(_clipped, (lead.name, lead.email, lead.phone))) if lead else ""
    history = result.history
    last = (
        clip(dated_line(history.last.model_dump(exclude_none=True)), ACTIVITY_LIMIT) if history.last else None
    )
    return [
        deal,
        f"Lead: {about_lead}" if about_lead else None,
        _history_line(result, reader),
        _by_type_line(history, shown.types),
        _by_person_line(history, shown.people),
        f"Last activity: {last}" if last else None,
        *_task_lines(
            result.tasks, result.tasks_unavailable, shown.tasks, reader.call(_TASKS, result.opportunity_id)
        ),
        _detail(reader, result.opportunity_id),
    ]


_ACTIVITIES, _TASKS, _OPPORTUNITY = "get_opportunity_activities", "get_opportunity_tasks", "get_opportunity"


def _detail(reader: Reader, opportunity_id: str) -> str:
    """Where to read on: the tools (for a person, the commands there are) that give the detail."""
    window, one_type = reader.names("since", "until"), reader.name("activity_event_code")
    what = {
        _ACTIVITIES: f"({window} for a window, {one_type} for one type) reads the activities themselves",
        _TASKS: "lists every task with its description",
        _OPPORTUNITY: "gives every field of the deal",
    }
    calls = ((reader.call(tool, opportunity_id), does) for tool, does in what.items())
    return "For detail: " + "; ".join(f"{call} {does}" for call, does in calls if call) + "."


def _clipped(value: str | None) -> str | None:
    return clip(value, NAME_LIMIT) if value else None


def _history_line(result: SummaryResult, reader: Reader) -> str:
    history = result.history
    if result.since or result.until:
        window = f"from {_day(result.since) or 'the start'} to {_day(result.until) or 'now'}"
        scope = f"History {window}: {history.counted} activities counted of {history.total} in all"
    else:
        scope = f"History: {history.counted} of {history.total} activities counted"
    if not history.complete:
        more, window = reader.name("max_activities"), reader.names("since", "until")
        scope += f" (NOT complete: raise {more}, or narrow {window}, to count them all)"
    if history.counted == 0:
        return scope + "."
    span = f"{_day(history.first_at)} to {_day(history.last_at)}" if history.first_at else "no readable dates"
    ago = history.days_since_last
    of = " in this window" if result.since or result.until else ""
    last = f"; last activity{of} {ago} day{'' if ago == 1 else 's'} ago" if ago is not None else ""
    return f"{scope}, {span}{last}. Times UTC."


def _day(value: str | None) -> str | None:
    return value[:10] if value else None


def _by_type_line(history: History, shown: int) -> str | None:
    if not history.by_type:
        return None
    entries = []
    for kind in history.by_type[:shown]:
        code = f"[{kind.event_code}]" if kind.event_code is not None else None
        label = " ".join(p for p in (_clipped(kind.event_name), code) if p)
        entries.append(f"{label or 'no type'} {kind.count}" + _last(kind.last_at))
    rest = history.by_type[shown:]
    if rest:
        entries.append(f"{len(rest)} more types {sum(k.count for k in rest)}")
    return "By type: " + "; ".join(entries) + "."


def _by_person_line(history: History, shown: int) -> str | None:
    if not history.by_person:
        return None
    entries = [f"{_clipped(p.name)} {p.count}" + _last(p.last_at) for p in history.by_person[:shown]]
    rest = history.by_person[shown:]
    if rest:
        entries.append(f"{len(rest)} more people {sum(p.count for p in rest)}")
    unattributed = history.counted - sum(p.count for p in history.by_person)
    if unattributed:
        entries.append(f"no creator recorded {unattributed}")
    return "By person: " + "; ".join(entries) + "."


def _last(moment: str | None) -> str:
    return f" (last {_day(moment)})" if moment else ""


def _task_lines(
    tasks: TaskCounts | None, unavailable: str | None, shown: int, every_task: str | None
) -> list[str | None]:
    """The tasks' head line and the open ones; `every_task` says how to read every task."""
    if tasks is None:
        return [f"Tasks: not read. {clip(unavailable, ACTIVITY_LIMIT)}" if unavailable else None]
    head = f"Tasks: {tasks.total} in all, {tasks.open} open, {tasks.overdue} overdue"
    if tasks.next_due and tasks.next_due.due_at:
        head += f"; next due {short_time(tasks.next_due.due_at)}"
    listed = (tasks.open_tasks or [])[:shown]
    if not listed:
        return [head + "."]
    more = tasks.open - len(listed)
    lines: list[str | None] = [head + ". Open, soonest due first:"]
    lines += [task_line(task, DESCRIPTION_LIMIT, NAME_LIMIT) for task in listed]
    lines.append(
        (f"… {more} more open tasks" + (f": {every_task}." if every_task else ".")) if more else None
    )
    return lines
