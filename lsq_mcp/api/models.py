"""LeadSquared's answers as it sends them, read leniently.

LeadSquared sends strings for everything (`"Score":"0"`), `null` and `""` for
"no value", extra fields nobody asked for, and dates in more than one format; now and then
a text field as a JSON number (`"Phone": 4915112345`), read as its text.
These models absorb all of that; the tools condense them into their own results.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter

from lsq_mcp.api.values import blank_to_none, parse_date, to_float, to_int


def _text(value: Any) -> Any:
    """A text field's value: a JSON number (or true/false) stands for its text, as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return blank_to_none(value)


Text = Annotated[str | None, BeforeValidator(_text)]
LooseInt = Annotated[int | None, BeforeValidator(to_int)]
LooseFloat = Annotated[float | None, BeforeValidator(to_float)]
# A date we could read, or the text as it came: a date is never dropped.
LooseDate = Annotated[datetime | str | None, BeforeValidator(parse_date)]

SortDirection = Literal["newest_first", "oldest_first"]


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


class RawTask(BaseModel):
    """One task of `RetrieveTasksByOpportunityId`'s `List`."""

    model_config = ConfigDict(extra="allow")

    id: Text = Field(None, alias="TaskID")
    name: Text = Field(None, alias="Name")
    description: Text = Field(None, alias="Description")
    due_at: LooseDate = Field(None, alias="DueDate")
    created_at: LooseDate = Field(None, alias="CreatedOn")
    owner_id: Text = Field(None, alias="OwnerID")
    owner: Text = Field(None, alias="OwnerName")
    created_by_id: Text = Field(None, alias="CreatedBy")
    created_by: Text = Field(None, alias="CreatedByName")
    status: Text = Field(None, alias="Status")
    reminder: Text = Field(None, alias="Reminder")


class RawTasks(BaseModel):
    """`RetrieveTasksByOpportunityId`: `{"RecordCount": N, "List": [...]}`."""

    model_config = ConfigDict(extra="ignore")

    record_count: Annotated[int, BeforeValidator(to_int)] = Field(alias="RecordCount")
    rows: Annotated[list[RawTask], BeforeValidator(lambda v: [] if v is None else v)] = Field(
        default_factory=list, alias="List"
    )


ACTIVITY_TYPES = TypeAdapter(list[RawActivityType])
LEADS = TypeAdapter(list[RawLead])
