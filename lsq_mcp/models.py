"""Pydantic models: LeadSquared's raw answers (lenient) and our condensed result (strict, compact).

LeadSquared sends strings for everything (`"Score":"0"`), `null` and `""` for
"no value", extra fields nobody asked for, and dates in more than one format.
The raw models absorb all of that; the result models hold only real values and are
what the MCP `outputSchema` is generated from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from lsq_mcp.values import blank_to_none, parse_date, to_float, to_int

Text = Annotated[str | None, BeforeValidator(blank_to_none)]
LooseInt = Annotated[int | None, BeforeValidator(to_int)]
LooseFloat = Annotated[float | None, BeforeValidator(to_float)]
# A date we could read, or the text as it came: a date is never dropped.
LooseDate = Annotated[datetime | str | None, BeforeValidator(parse_date)]

SortDirection = Literal["newest_first", "oldest_first"]
# An optional field of a result: left out when there is no value, so never `null` in its schema either.
Absent = SkipJsonSchema[None]


class RawActivity(BaseModel):
    """One row of `GetActivitiesOfOpportunity`'s `List`, as LeadSquared sends it."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: Text = Field(None, alias="ProspectActivityId")
    event_code: LooseInt = Field(None, alias="ActivityEvent")
    event_name: Text = Field(None, alias="ActivityEventName")
    activity_type: LooseInt = Field(None, alias="ActivityType")
    created_at: LooseDate = Field(None, alias="PACreatedOn")
    modified_at: LooseDate = Field(None, alias="PAModifiedOn")
    created_by: Text = Field(None, alias="PACreatedByName")
    modified_by: Text = Field(None, alias="PAModifiedByName")
    status: Text = Field(None, alias="Status")
    note: Text = Field(None, alias="ActivityEvent_Note")
    score: LooseInt = Field(None, alias="Score")
    ip_latitude: LooseFloat = Field(None, alias="IP_Latitude")
    ip_longitude: LooseFloat = Field(None, alias="IP_Longitude")
    lead_id: Text = Field(None, alias="ProspectId")
    first_name: Text = Field(None, alias="FirstName")
    last_name: Text = Field(None, alias="LastName")
    email: Text = Field(None, alias="EmailAddress")
    phone: Text = Field(None, alias="Phone")
    do_not_call: LooseInt = Field(None, alias="DoNotCall")
    do_not_email: LooseInt = Field(None, alias="DoNotEmail")
    lead_name: Text = Field(None, alias="LeadName")
    lead_owner: Text = Field(None, alias="LeadOwner")
    # Repeats RecordCount on every row; the page's count is kept, this is not.
    row_total: LooseInt = Field(None, alias="Total")

    @property
    def extras(self) -> dict[str, Any]:
        """Fields LeadSquared sent that this model does not name (custom, O_, requested...)."""
        return dict(self.model_extra or {})


class RawActivitiesPage(BaseModel):
    """`{"RecordCount": N, "List": [...]}`."""

    model_config = ConfigDict(extra="ignore")

    record_count: Annotated[int, BeforeValidator(to_int)] = Field(alias="RecordCount")
    rows: Annotated[list[RawActivity], BeforeValidator(lambda v: [] if v is None else v)] = Field(
        default_factory=list, alias="List"
    )


# --- The condensed results: every field optional is absent rather than null or "". ---


def _drop_null_defaults(schema: dict[str, Any]) -> None:
    """An absent field has no default to show: `"default": null` would contradict its type."""
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict) and "default" in prop and prop["default"] is None:
            del prop["default"]


class Compact(BaseModel):
    """Part of a result: optional fields are left out, not null, in the data and in the schema."""

    model_config = ConfigDict(json_schema_extra=_drop_null_defaults)


class ToolResult(Compact):
    """A tool's structured result."""

    def to_json(self) -> dict[str, Any]:
        """The JSON form: no null, no empty string, no empty container."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude_none=True)
        return data


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


# --- Companion endpoints: raw answers ---


class RawActivityType(BaseModel):
    """One entry of `ActivityTypes.Get`."""

    model_config = ConfigDict(extra="allow")

    code: LooseInt = Field(None, alias="ActivityEvent")
    name: Text = Field(None, alias="ActivityEventName")
    display_name: Text = Field(None, alias="DisplayName")

    @property
    def label(self) -> str | None:
        return self.display_name or self.name


class RawField(BaseModel):
    """One of `GetOpportunityDetails`' `Fields`."""

    model_config = ConfigDict(extra="allow")

    schema_name: Text = Field(None, alias="SchemaName")
    display_name: Text = Field(None, alias="DisplayName")
    value: Any = Field(None, alias="Value")
    data_type: Text = Field(None, alias="DataType")


class RawOpportunityDetails(BaseModel):
    """`GetOpportunityDetails`."""

    model_config = ConfigDict(extra="allow")

    id: Text = Field(None, validation_alias=AliasChoices("ID", "Id", "OpportunityId"))
    name: Text = Field(None, alias="Name")
    display_name: Text = Field(None, alias="DisplayName")
    type_code: LooseInt = Field(None, alias="OpportunityEvent")
    type_name: Text = Field(None, alias="OpportunityEventName")
    lead_id: Text = Field(None, alias="RelatedProspectId")
    fields: Annotated[list[RawField], BeforeValidator(lambda v: [] if v is None else v)] = Field(
        default_factory=list, alias="Fields"
    )


class RawLead(BaseModel):
    """One lead of `Leads.GetByEmailaddress`."""

    model_config = ConfigDict(extra="allow")

    id: Text = Field(None, validation_alias=AliasChoices("ProspectID", "ProspectId", "Id"))
    first_name: Text = Field(None, alias="FirstName")
    last_name: Text = Field(None, alias="LastName")
    email: Text = Field(None, alias="EmailAddress")
    phone: Text = Field(None, alias="Phone")
    company: Text = Field(None, alias="Company")
    stage: Text = Field(None, alias="ProspectStage")
    owner: Text = Field(None, alias="OwnerIdName")


class RawLeadOpportunity(BaseModel):
    """One row of `GetOpportunitiesOfLead`."""

    model_config = ConfigDict(extra="allow")

    id: Text = Field(None, validation_alias=AliasChoices("OpportunityId", "ProspectOpportunityId", "ID"))
    name: Text = Field(None, validation_alias=AliasChoices("OpportunityName", "Name", "mx_Custom_1"))
    status: Text = Field(None, validation_alias=AliasChoices("Status", "OpportunityStatus"))
    stage: Text = Field(None, alias="Stage")
    type_code: LooseInt = Field(None, alias="OpportunityEvent")
    type_name: Text = Field(None, alias="OpportunityEventName")
    owner: Text = Field(None, validation_alias=AliasChoices("Owner", "OwnerName", "OwnerIdName"))
    created_at: LooseDate = Field(None, alias="CreatedOn")
    modified_at: LooseDate = Field(None, alias="ModifiedOn")


class RawLeadOpportunities(BaseModel):
    """`GetOpportunitiesOfLead`: `{"RecordCount": N, "List": [...]}`."""

    model_config = ConfigDict(extra="ignore")

    record_count: Annotated[int | None, BeforeValidator(to_int)] = Field(None, alias="RecordCount")
    rows: Annotated[list[RawLeadOpportunity], BeforeValidator(lambda v: [] if v is None else v)] = Field(
        default_factory=list, alias="List"
    )


# --- Companion tools: results ---


class ActivityType(Compact):
    code: int
    name: str
    system_name: str | Absent = Field(None, description="ActivityEventName, when it differs from name")


class ActivityTypesResult(ToolResult):
    """The structured result of `list_activity_types`."""

    activity_types: list[ActivityType]


class OpportunityDetails(ToolResult):
    """The structured result of `get_opportunity`."""

    id: str
    name: str | Absent = None
    type_code: int | Absent = None
    type_name: str | Absent = None
    status: str | Absent = None
    stage: str | Absent = None
    owner: str | Absent = None
    value: str | Absent = None
    lead_id: str | Absent = None
    created_at: str | Absent = None
    modified_at: str | Absent = None
    fields: dict[str, Any] | Absent = Field(None, description="Other non-empty fields, by display name")


class OpportunitySummary(Compact):
    id: str
    name: str | Absent = None
    status: str | Absent = None
    stage: str | Absent = None
    type_code: int | Absent = None
    type_name: str | Absent = None
    owner: str | Absent = None
    created_at: str | Absent = None
    modified_at: str | Absent = None


class LeadSummary(Compact):
    id: str
    name: str | Absent = None
    email: str | Absent = None
    phone: str | Absent = None
    company: str | Absent = None
    stage: str | Absent = None
    owner: str | Absent = None
    opportunities: list[OpportunitySummary] = Field(description="Newest first")


class FoundOpportunities(ToolResult):
    """The structured result of `find_opportunities`."""

    leads: list[LeadSummary]
