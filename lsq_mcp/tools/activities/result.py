"""The structured result of `get_opportunity_activities`, and condensing raw rows into it.

The models below declare the result (its `outputSchema`, checked by the SDK on every call); the
result itself is built as the JSON it becomes (`Condenser`), page by page as the rows arrive, so
a walk over thousands of activities never holds them twice. The raw rows repeat the lead's
details (and the opportunity's `O_` fields) on every activity; here they are given once. Blank
values are dropped, codes become integers, dates ISO 8601 UTC, HTML notes plain text, custom
fields take their display names, and every value goes through `lsq_mcp.text.shown` (one line, no
control characters, at most its `Cap` with a visible marker; a note keeps its lines).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from lsq_mcp.api.models import RawActivity, SortDirection
from lsq_mcp.api.values import iso_utc, to_int
from lsq_mcp.text import Cap, field_value, html_to_text, shown
from lsq_mcp.tools.base_result import Absent, Compact, Json, ToolResult

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
    modified_at: str | Absent = Field(None, description="Absent when it is created_at")
    created_by: str | Absent = None
    modified_by: str | Absent = Field(None, description="Absent when it is created_by, unmodified")
    status: str | Absent = None
    note: str | Absent = Field(
        None, description=f"Plain text (HTML removed); past {Cap.NOTE:,} characters cut, with a marker"
    )
    score: int | Absent = None
    ip_latitude: float | Absent = None
    ip_longitude: float | Absent = None
    lead_id: str | Absent = Field(None, description="Only when the activities belong to more than one lead")
    fields: dict[str, Any] | Absent = Field(
        None,
        description="Custom fields under their display names (two of one name: schema name in brackets), "
        "requested and other fields under their LeadSquared names",
    )


def _described(model: type[Compact]) -> str:
    """A model in words: its docstring, then its fields, their types and descriptions."""
    fields = []
    for name, schema in model.model_json_schema()["properties"].items():
        described = f": {schema['description']}" if "description" in schema else ""
        fields.append(f"{name} ({schema['type']}{described})")
    return f"{model.__doc__} Keys: {'; '.join(fields)}."


# The activities, their lead(s) and the opportunity are described in words rather than by schemas
# of their own. Clients check every result against the schema: the MCP Python SDK's client, with
# jsonschema, spends 1 ms per 20 activities on a schema of properties, still 3 us an activity on a
# bare `"items": {"type": "object"}` (80 us on a page of 25, 3 ms on 1,000), and 65 us a call on
# the lead's and the opportunity's properties. The server checks each result against these models
# before it is sent.
_ACTIVITIES_SCHEMA = {
    "type": "array",
    "description": f"In the order asked for, an object each. {_described(Activity)}",
}
_LEADS_SCHEMA = {
    "type": "array",
    "description": f"The lead(s) of these activities, an object each. {_described(Lead)}",
}
_OPPORTUNITY_SCHEMA = {"type": "object", "description": _described(Opportunity)}


class ActivitiesResult(ToolResult):
    """The structured result of `get_opportunity_activities`."""

    opportunity_id: str
    total: int = Field(description="RecordCount: all matching activities, on every page")
    returned: int = Field(description="How many activities this result holds")
    has_more: bool = Field(
        description="Whether more matching activities exist past this result (in a window: in the window)"
    )
    next_page_index: int | Absent = Field(
        None, description="The page_index to ask for next (same page_size); absent when none or in a window"
    )
    page_index: int
    page_size: int
    sort_direction: SortDirection
    since: str | Absent = Field(None, description="The window's start, ISO 8601 UTC, when one was given")
    until: str | Absent = Field(None, description="The window's end, ISO 8601 UTC, when one was given")
    opportunity: Annotated[Opportunity, WithJsonSchema(_OPPORTUNITY_SCHEMA)] | Absent = None
    leads: Annotated[list[Lead], WithJsonSchema(_LEADS_SCHEMA)] | Absent = None
    activities: Annotated[list[Activity], WithJsonSchema(_ACTIVITIES_SCHEMA)]


@dataclass(frozen=True)
class PageRequest:
    """What was asked for, which the result echoes and pages from."""

    opportunity_id: str
    page_index: int
    page_size: int
    sort_direction: SortDirection
    since: str | None = None
    until: str | None = None


class Condenser:
    """Condenses the rows of one result page by page (`add`), then gives the result (`result`).

    What is the same on every row (the lead, the opportunity's `O_` fields) can only be known once
    every row is in, so each activity is condensed as its page arrives and those are settled last.
    """

    def __init__(self, opportunity_id: str) -> None:
        self._opportunity_id = opportunity_id
        self._leads: dict[str | None, Json] = {}
        self._opportunity: Json = {}
        self._varying: set[str] = set()
        # (activity, its O_ fields) for each activity with any: the varying ones go back to it.
        self._opportunity_of: list[tuple[Json, Json]] = []
        # The last row's O_ fields as sent, and cleaned: most rows repeat them.
        self._last_opportunity: tuple[Json, Json] = ({}, {})

    def add(
        self,
        rows: Sequence[RawActivity],
        event_names: Mapping[int, str],
        field_names: Mapping[int, Mapping[str, str]],
    ) -> list[Json]:
        """The activities of `rows`, in order: event names from `event_names` where LeadSquared left
        them out, custom fields under the display names of `field_names` (by event code)."""
        activities = []
        for row in rows:
            self._add_lead(row)
            code = row.event_code
            activity = _activity(row, event_names.get(code) if code is not None else None)
            fields = _fields(row.extras, field_names.get(code, {}) if code is not None else {})
            if fields:
                activity["fields"] = fields
            if row.opportunity_fields:
                self._add_opportunity(activity, row.opportunity_fields)
            activities.append(activity)
        return activities

    def result(
        self,
        request: PageRequest,
        total: int,
        activities: list[Json],
        *,
        has_more: bool,
        next_page: int | None,
    ) -> Json:
        """The result (as JSON) holding `activities`, all added here."""
        shared = {k: v for k, v in self._opportunity.items() if k not in self._varying}
        if self._varying:
            for activity, values in self._opportunity_of:
                own = {k: v for k, v in values.items() if k in self._varying}
                if own:
                    activity["fields"] = {**activity.get("fields", {}), **own}
        # In Lead's order of fields, whatever order the values came in.
        leads = [{k: lead[k] for k in _LEAD_KEYS if k in lead} for lead in self._leads.values() if lead]
        if len(self._leads) <= 1:
            for activity in activities:
                activity.pop("lead_id", None)
        result = {
            "opportunity_id": request.opportunity_id,
            "total": total,
            "returned": len(activities),
            "has_more": has_more,
            "next_page_index": next_page if has_more else None,
            "page_index": request.page_index,
            "page_size": request.page_size,
            "sort_direction": request.sort_direction,
            "since": request.since,
            "until": request.until,
            "opportunity": self._opportunity_json(shared),
            "leads": leads or None,
            "activities": activities,
        }
        return {k: v for k, v in result.items() if v is not None}

    def _add_lead(self, row: RawActivity) -> None:
        lead = self._leads.setdefault(row.lead_id, {})
        if len(lead) == len(_LEAD_KEYS):
            return  # every detail of this lead is known: the usual case, from the second row on
        values = (
            row.lead_id,
            row.lead_name or _join(row.first_name, row.last_name),
            row.first_name,
            row.last_name,
            row.email,
            row.phone,
            row.lead_owner,
            None if row.do_not_call is None else row.do_not_call != 0,
            None if row.do_not_email is None else row.do_not_email != 0,
        )
        for key, value in zip(_LEAD_KEYS, values, strict=True):
            if value is not None and key not in lead:
                lead[key] = value

    def _add_opportunity(self, activity: Json, sent: Json) -> None:
        last_sent, values = self._last_opportunity
        if sent != last_sent:
            values = {key: value for key, raw in sent.items() if (value := field_value(raw)) is not None}
            for key, value in values.items():
                known = self._opportunity.setdefault(key, value)
                if known != value:
                    self._varying.add(key)
            self._last_opportunity = (sent, values)
        if values:
            self._opportunity_of.append((activity, values))

    def _opportunity_json(self, shared: Json) -> Json | None:
        named: Json = {}
        others: Json = {}
        for key, value in shared.items():
            if key in _OPPORTUNITY_NAMED:
                named[_OPPORTUNITY_NAMED[key]] = value
            elif str(value).lower() != self._opportunity_id.lower():  # O_ProspectActivityId: its id again
                others[shown(key[len(_OPPORTUNITY_PREFIX) :], Cap.NAME)] = value
        if "type_code" in named:
            named["type_code"] = to_int(named["type_code"])
        opportunity: Json = {k: v for k in Opportunity.model_fields if (v := named.get(k)) is not None}
        if others:
            opportunity["fields"] = others
        return opportunity or None


_LEAD_KEYS = tuple(Lead.model_fields)


def _activity(row: RawActivity, event_name: str | None) -> Json:
    """The activity's own values (no fields yet), in the order of `Activity`'s."""
    created = row.created_at
    modified = row.modified_at if row.modified_at != created else None
    modified_by = row.modified_by if modified is not None or row.modified_by != row.created_by else None
    values = (
        ("id", row.id),
        ("event_code", row.event_code),
        ("created_at", iso_utc(created)),
        ("event_name", row.event_name or event_name),
        ("activity_type", row.activity_type),
        ("modified_at", iso_utc(modified)),
        ("created_by", row.created_by),
        ("modified_by", modified_by),
        ("status", row.status),
        ("note", shown(html_to_text(row.note), Cap.NOTE, lines=True) or None if row.note else None),
        ("score", row.score),
        ("ip_latitude", row.ip_latitude),
        ("ip_longitude", row.ip_longitude),
        ("lead_id", row.lead_id),
    )
    return {key: value for key, value in values if value is not None}


def _fields(extras: Mapping[str, Any], names: Mapping[str, str]) -> Json:
    """A row's other values, blanks left out; custom fields under their display names, `names`."""
    fields: Json = {}
    for key, raw in extras.items():
        value = field_value(raw)
        if value is None:
            continue
        # A key is data too (LeadSquared's JSON): shown as a value is.
        if len(key) > Cap.NAME or not key.isprintable():
            key = shown(key, Cap.NAME)
        name = names.get(key, key)
        if name != key and (name in extras or name in fields):
            name = f"{name} ({key})"  # a display name that is already another field's name
        fields[name] = value
    return fields


def _join(*parts: str | None) -> str | None:
    return " ".join(p for p in parts if p) or None
