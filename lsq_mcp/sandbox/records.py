"""The sandbox's record types: what a sample lead, opportunity, activity, task or activity type is.

Named ``Sample...`` so that they never read as the client's own models of the same things.
Rows are kept exactly as the API sends them (strings everywhere, ``null`` and ``""`` mixed in);
the typed attributes beside them are what the database behind the API would sort and filter on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TypeAlias

Row: TypeAlias = dict[str, str | None]
"""One raw item as the API sends it: every value a string or null."""

UTC = timezone.utc
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
CLOSED_TASK_STATUSES = frozenset({"completed", "cancelled"})


def fmt(moment: datetime) -> str:
    """LeadSquared's usual date format: ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return moment.astimezone(UTC).strftime(DATE_FORMAT)


def flag(value: bool) -> str:
    """A yes/no field as LeadSquared sends it: ``"1"`` or ``"0"``."""
    return "1" if value else "0"


@dataclass(frozen=True)
class SalesRep:
    """A LeadSquared user who owns records or logs activities."""

    name: str
    id: str
    email: str


@dataclass(frozen=True)
class SampleLead:
    """A lead (LeadSquared calls them prospects); its fields repeat on every activity row."""

    id: str
    first_name: str
    last_name: str | None
    email: str | None
    phone: str | None
    owner: str
    company: str
    city: str | None
    stage: str
    created_on: datetime
    do_not_call: bool = False
    do_not_email: bool = False

    @property
    def full_name(self) -> str:
        """LeadName as LeadSquared renders it (first and last name)."""
        return f"{self.first_name} {self.last_name or ''}".strip()


@dataclass(frozen=True)
class SampleOpportunity:
    """An opportunity: a deal attached to a lead, with its own type (event code 12000+)."""

    id: str
    name: str
    lead_id: str
    event_code: int
    event_name: str
    status: str
    stage: str
    owner: str
    source: str
    created_on: datetime
    modified_on: datetime
    expected_close: datetime | None
    deal_value: str
    currency: str
    competitor: str | None
    description: str


@dataclass(frozen=True)
class SampleActivity:
    """One activity row plus the true timestamps the server sorts by.

    ``row`` is what the API answers (``PACreatedOn`` may be in an odd format or not a date
    at all); ``created``/``modified`` are what the database behind it would sort on.
    """

    row: Row
    created: datetime
    modified: datetime

    @property
    def id(self) -> str:
        """The activity's ProspectActivityId."""
        return self.row["ProspectActivityId"] or ""


# --------------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------------

When: TypeAlias = datetime | timedelta
"""A fixed moment, or a time from the start of the current day (UTC) when the request comes."""


@dataclass(frozen=True)
class SampleTask:
    """One task as RetrieveTasksByOpportunityId sends it (``row``) and the dates it stands for."""

    row: Row
    due: datetime | None
    created: datetime

    @property
    def id(self) -> str:
        """The task's TaskID."""
        return self.row["TaskID"] or ""

    @property
    def is_open(self) -> bool:
        """Neither Completed nor Cancelled, in any case (how docs/tools.md counts open tasks)."""
        return (self.row["Status"] or "").casefold() not in CLOSED_TASK_STATUSES


@dataclass(frozen=True)
class TaskPlan:
    """A sample task whose dates may be relative to the day it is asked for.

    Open deals' tasks are due some whole days before or after today, at a fixed time of day,
    so a demo always has something overdue and something coming up, whenever it runs, and two
    requests on the same day see the same task list.
    """

    id: str
    name: str
    owner: SalesRep
    status: str
    due: When | None
    created: When
    created_by: SalesRep | None = None
    description: str | None = ""
    reminder: str | None = None

    def at(self, now: datetime) -> SampleTask:
        """The task as it reads at ``now``."""
        today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        due = _resolve(self.due, today) if self.due is not None else None
        created = _resolve(self.created, today)
        creator = self.created_by or self.owner
        row: Row = {
            "TaskID": self.id,
            "Name": self.name,
            "Description": self.description,
            "DueDate": fmt(due) if due is not None else None,
            "CreatedOn": fmt(created),
            "OwnerID": self.owner.id,
            "OwnerName": self.owner.name,
            "CreatedBy": creator.id,
            "CreatedByName": creator.name,
            "Status": self.status,
            "Reminder": self.reminder,
        }
        return SampleTask(row=row, due=due, created=created)


def _resolve(when: When, today: datetime) -> datetime:
    return today + when if isinstance(when, timedelta) else when


# --------------------------------------------------------------------------------------------
# Activity type settings (custom field names)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleField:
    """One custom field of an activity type: the schema name rows use and the name people see."""

    schema: str
    display: str
    data_type: str = "String"
    mandatory: bool = False
    in_form: bool = True


@dataclass(frozen=True)
class SampleActivitySetting:
    """An activity type's settings, as GetActivitySetting describes it."""

    code: int
    id: str
    name: str
    display_name: str
    fields: tuple[SampleField, ...]
