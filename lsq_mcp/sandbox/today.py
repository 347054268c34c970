"""The sample data dated as of today, so that the demo's open deals read as live ones.

The data is written as of `DATA_TODAY`: the big deal's last activity a few days before it, its
open tasks due around it. `as_of(now)` moves every date of the data by the whole days from
`DATA_TODAY` to `now` (times of day stay), so the newest activity is days old, not years; the
open deals' tasks are dated from the day they are asked for already. One offset, applied as the
sandbox loads: the demo and `lsq-mcp sandbox` use it, while the tests and benchmarks read the
data as written, whose dates never move.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

from lsq_mcp.sandbox.catalog import Catalog
from lsq_mcp.sandbox.data import CATALOG
from lsq_mcp.sandbox.records import DATE_FORMAT, UTC, Row, SampleActivity, TaskPlan, When, fmt

# The day after the newest activity of any open deal (2025-03-03).
DATA_TODAY = datetime(2025, 3, 4, tzinfo=UTC)
# A value in LeadSquared's date format (`PACreatedOn`, a custom date field): moved with the rest.
_DATE_VALUE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def shift_to(now: datetime) -> timedelta:
    """The whole days from `DATA_TODAY` to `now`'s day: the data's 'today' becomes today."""
    return timedelta(days=(now.astimezone(UTC).date() - DATA_TODAY.date()).days)


def as_of(now: datetime, catalog: Catalog = CATALOG) -> Catalog:
    """`catalog` with every date moved by `shift_to(now)`."""
    by = shift_to(now)
    return replace(
        catalog,
        leads=tuple(replace(lead, created_on=lead.created_on + by) for lead in catalog.leads),
        opportunities=tuple(
            replace(
                opp,
                created_on=opp.created_on + by,
                modified_on=opp.modified_on + by,
                expected_close=opp.expected_close + by if opp.expected_close else None,
            )
            for opp in catalog.opportunities
        ),
        activities={
            opportunity_id: tuple(_activity(activity, by) for activity in activities)
            for opportunity_id, activities in catalog.activities.items()
        },
        tasks={
            opportunity_id: tuple(_task(plan, by) for plan in plans)
            for opportunity_id, plans in catalog.tasks.items()
        },
    )


def _activity(activity: SampleActivity, by: timedelta) -> SampleActivity:
    row: Row = {key: _moved(value, by) for key, value in activity.row.items()}
    return SampleActivity(row=row, created=activity.created + by, modified=activity.modified + by)


def _moved(value: str | None, by: timedelta) -> str | None:
    """A row's value, moved when it is a date (odd formats stay as they are: they are the point)."""
    if value is None or not _DATE_VALUE.fullmatch(value):
        return value
    return fmt(datetime.strptime(value, DATE_FORMAT).replace(tzinfo=UTC) + by)


def _task(plan: TaskPlan, by: timedelta) -> TaskPlan:
    """A task with fixed dates moved; one dated from the day it is asked for stays so."""
    due = None if plan.due is None else _when(plan.due, by)
    return replace(plan, due=due, created=_when(plan.created, by))


def _when(when: When, by: timedelta) -> When:
    return when + by if isinstance(when, datetime) else when
