"""POST GetActivitiesOfOpportunity: filter by event code, sort on any column, page.

The real API sorts loosely typed string columns; this one sorts dates by the true timestamp
(rows may show an odd date format, or none at all) and everything else nulls first, then
numbers by value, then text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lsq_mcp.sandbox.records import Row, SampleActivity
from lsq_mcp.sandbox.state import SandboxState
from lsq_mcp.sandbox.wire import (
    ENTITY_REFERENCE,
    INVALID_INPUT,
    SandboxApiError,
    bad_body,
    guid_param,
    int_param,
    json_body,
    number,
    page,
    paging,
    section,
)

STANDARD_COLUMNS = (
    "ProspectId",
    "FirstName",
    "LastName",
    "EmailAddress",
    "Phone",
    "DoNotCall",
    "DoNotEmail",
    "LeadName",
    "LeadOwner",
    "ProspectActivityId",
    "ActivityType",
    "ActivityEvent",
    "Score",
    "PACreatedOn",
    "PAModifiedOn",
    "ActivityEvent_Note",
    "IP_Latitude",
    "IP_Longitude",
    "PACreatedByName",
    "Status",
    "O_ProspectActivityId",
    "Total",
    "O_ActivityEventName",
    "O_ActivityEvent",
    "O_mx_Custom_1",
    "O_Status",
    "O_Owner",
    *(f"mx_Custom_{n}" for n in range(1, 51)),
)
COLUMN_ALIASES = {"CreatedOn": "PACreatedOn", "ModifiedOn": "PAModifiedOn"}


@dataclass(frozen=True)
class _Sorting:
    column: str
    descending: bool


def _sorting(body: dict[str, Any], activities: Sequence[SampleActivity]) -> _Sorting:
    """Sorting.ColumnName / Direction (1 newest or largest first, 0 oldest first; default 1)."""
    sorting = section(body, "Sorting")
    direction = number(sorting.get("Direction"), 1)
    if direction not in (0, 1):
        raise SandboxApiError(500, INVALID_INPUT, f"Invalid sort direction {direction}")
    requested = sorting.get("ColumnName")
    if requested is not None and not isinstance(requested, str):
        raise bad_body()
    return _Sorting(_sort_column(requested or "PACreatedOn", activities), direction == 1)


def _sort_column(requested: str, activities: Sequence[SampleActivity]) -> str:
    """The row field to sort on, matched case-insensitively; unknown columns are an error."""
    name = COLUMN_ALIASES.get(requested, requested)
    known = {column.lower(): column for column in STANDARD_COLUMNS}
    if name.lower() not in known:
        for activity in activities:
            known.update({column.lower(): column for column in activity.row})
    try:
        return known[name.lower()]
    except KeyError:
        raise SandboxApiError(500, INVALID_INPUT, f"Invalid sort column {requested}") from None


def _value_rank(value: str | None) -> tuple[int, float, str]:
    """Nulls, then numbers by value, then text: a total order over loosely typed columns."""
    if value is None or value == "":
        return (0, 0.0, "")
    try:
        return (1, float(value), "")
    except ValueError:
        return (2, 0.0, value.casefold())


def _sorted(activities: Sequence[SampleActivity], sorting: _Sorting) -> list[SampleActivity]:
    """Dates sort by the true timestamp (the displayed format may be odd); ties by time, then id."""
    key: Callable[[SampleActivity], Any]
    if sorting.column == "PACreatedOn":
        key = lambda a: (a.created, a.id)  # noqa: E731
    elif sorting.column == "PAModifiedOn":
        key = lambda a: (a.modified, a.created, a.id)  # noqa: E731
    else:
        key = lambda a: (_value_rank(a.row.get(sorting.column)), a.created, a.id)  # noqa: E731
    return sorted(activities, key=key, reverse=sorting.descending)


def _include_columns(body: dict[str, Any]) -> list[str]:
    columns = section(body, "Columns").get("Include_CSV")
    if columns is None:
        return []
    if not isinstance(columns, str):
        raise bad_body()
    return [name.strip() for name in columns.split(",") if name.strip()]


def render_row(activity: SampleActivity, include: Iterable[str], total: int) -> Row:
    """A copy of the stored row with Total filled and any extra requested columns (null if unknown)."""
    row = dict(activity.row)
    row["Total"] = str(total)
    for name in include:
        if name not in row:
            row[name] = activity.row.get(COLUMN_ALIASES.get(name, name))
    return row


async def activities_of_opportunity(request: Request, state: SandboxState) -> Response:
    """POST GetActivitiesOfOpportunity: filter, sort, page; ``{"RecordCount": n, "List": [...]}``."""
    opportunity_id = guid_param(request, "opportunityId", "Invalid OpportunityId")
    event_code = int_param(request, "activityEventCode", "Invalid ActivityEventCode")
    body = await json_body(request)
    index, size = paging(body, state.config.page_size_limit)
    if state.config.max_page_size is not None:
        size = min(size, state.config.max_page_size)
    include = _include_columns(body)
    opportunity = state.catalog.opportunity(opportunity_id)
    if opportunity is None:
        raise SandboxApiError(500, ENTITY_REFERENCE, "Opportunity does not exist")
    activities = state.catalog.activities_of(opportunity.id)
    sorting = _sorting(body, activities)
    # The catalog never changes: each ordering is worked out once, so that a 5,000-activity
    # timeline answers in milliseconds, as a real API would, and benchmarks measure the client.
    key = (opportunity.id, sorting.column, sorting.descending, event_code)
    ordered = state.orderings.get(key)
    if ordered is None:
        if event_code is not None:
            activities = tuple(a for a in activities if a.row.get("ActivityEvent") == str(event_code))
        ordered = state.orderings[key] = _sorted(activities, sorting)
    rows = [render_row(activity, include, len(ordered)) for activity in page(ordered, index, size)]
    return JSONResponse({"RecordCount": len(ordered), "List": rows})
