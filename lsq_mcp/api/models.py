"""LeadSquared's answers as it sends them, read leniently.

LeadSquared sends strings for everything (`"Score":"0"`), `null` and `""` for
"no value", extra fields nobody asked for, and dates in more than one format; now and then
a text field as a JSON number (`"Phone": 4915112345`), or as a list or an object, read as its text.
These models absorb all of that; the tools condense them into their own results. The rows of
an activities page, read by the thousand, are plain objects (`RawActivity`); the rest are
lenient pydantic models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

from lsq_mcp.api.values import parse_date, shown_name, to_float, to_int, to_text
from lsq_mcp.text import Cap, shown

# Text as it may be shown (`lsq_mcp.text.shown`: one line, no control characters, capped)...
Text = Annotated[str | None, BeforeValidator(to_text), AfterValidator(shown_name)]
# ...or as sent, for what is made into text later (a task's HTML description).
TextAsSent = Annotated[str | None, BeforeValidator(to_text)]
LooseInt = Annotated[int | None, BeforeValidator(to_int)]
# A date we could read, or the text as it came: a date is never dropped.
LooseDate = Annotated[datetime | str | None, BeforeValidator(parse_date)]

SortDirection = Literal["newest_first", "oldest_first"]
Row = TypeVar("Row", bound=BaseModel)


# `GetActivitiesOfOpportunity`'s row keys read into `RawActivity`'s attributes, by how each is read.
_TEXT_KEYS = {
    "id": "ProspectActivityId",
    "event_name": "ActivityEventName",
    "created_by": "PACreatedByName",
    "modified_by": "PAModifiedByName",
    "status": "Status",
    "lead_id": "ProspectId",
    "first_name": "FirstName",
    "last_name": "LastName",
    "email": "EmailAddress",
    "phone": "Phone",
    "lead_name": "LeadName",
    "lead_owner": "LeadOwner",
}
_INT_KEYS = {
    "event_code": "ActivityEvent",
    "activity_type": "ActivityType",
    "score": "Score",
    "do_not_call": "DoNotCall",
    "do_not_email": "DoNotEmail",
}
_FLOAT_KEYS = {"ip_latitude": "IP_Latitude", "ip_longitude": "IP_Longitude"}
_NOTE, _CREATED, _MODIFIED = "ActivityEvent_Note", "PACreatedOn", "PAModifiedOn"
# Repeats RecordCount on every row; the page's count is kept, this is not.
_DROPPED_KEYS = frozenset({"Total"})
_KNOWN_KEYS = frozenset(
    [
        *_TEXT_KEYS.values(),
        *_INT_KEYS.values(),
        *_FLOAT_KEYS.values(),
        _NOTE,
        _CREATED,
        _MODIFIED,
        *_DROPPED_KEYS,
    ]
)


class RawActivity:
    """One row of `GetActivitiesOfOpportunity`'s `List`, as LeadSquared sends it, read leniently.

    A plain object rather than a pydantic model: a page holds up to 1,000 rows of ~30 loose values,
    and reading them one by one in Python costs a fraction of a validator call per value.
    """

    __slots__ = (
        *_TEXT_KEYS,
        *_INT_KEYS,
        *_FLOAT_KEYS,
        "note",
        "created_at",
        "modified_at",
        "extras",
        "opportunity_fields",
    )

    id: str | None
    event_code: int | None
    event_name: str | None
    activity_type: int | None
    created_at: datetime | str | None
    modified_at: datetime | str | None
    created_by: str | None
    modified_by: str | None
    status: str | None
    note: str | None
    """As sent (HTML, line breaks): condensing makes it text."""
    score: int | None
    ip_latitude: float | None
    ip_longitude: float | None
    lead_id: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    do_not_call: int | None
    do_not_email: int | None
    lead_name: str | None
    lead_owner: str | None
    extras: dict[str, Any]
    """Fields LeadSquared sent that are not read above (custom, requested...), as sent."""
    opportunity_fields: dict[str, Any]
    """The opportunity's fields (`O_…`), as sent: the same on every row of an opportunity, as a rule."""

    def __init__(self, row: Mapping[str, Any]) -> None:
        get = row.get
        for attribute, key in _TEXT_KEYS.items():
            text = get(key)
            if text is not None:
                # Nearly every value is a short printable string or null: those are read here.
                text = text.strip() if text.__class__ is str else to_text(text)
                if text and (len(text) > Cap.NAME or not text.isprintable()):
                    text = shown(text, Cap.NAME)
            setattr(self, attribute, text or None)
        note = get(_NOTE)
        if note is not None:
            note = note.strip() if note.__class__ is str else to_text(note)
        self.note = note or None
        for attribute, key in _INT_KEYS.items():
            setattr(self, attribute, to_int(get(key)))
        for attribute, key in _FLOAT_KEYS.items():
            setattr(self, attribute, to_float(get(key)))
        created, modified = get(_CREATED), get(_MODIFIED)
        self.created_at = parse_date(created)
        # Most activities were never modified: the same text, read once.
        self.modified_at = self.created_at if modified == created else parse_date(modified)
        extras: dict[str, Any] = {}
        opportunity: dict[str, Any] = {}
        for key, value in row.items():
            if key not in _KNOWN_KEYS:
                (opportunity if key[:2] == "O_" else extras)[key] = value
        self.extras, self.opportunity_fields = extras, opportunity

    @property
    def key(self) -> str:
        """What tells this activity from the others: its id, or else everything it holds."""
        return self.id or repr([getattr(self, name) for name in self.__slots__])

    @classmethod
    def read(cls, row: Any) -> RawActivity:
        if not isinstance(row, Mapping):
            raise _Unreadable(None, row, "dict_type")
        return cls(row)


class RawList(BaseModel, Generic[Row]):
    """How LeadSquared answers a list: `{"RecordCount": N, "List": [...]}` (a null List is empty).
    RecordCount counts every matching row, on every page."""

    model_config = ConfigDict(extra="ignore")

    record_count: Annotated[int, BeforeValidator(to_int)] = Field(alias="RecordCount")
    rows: Annotated[list[Row], BeforeValidator(lambda v: [] if v is None else v)] = Field(
        default_factory=list, alias="List"
    )


class _Unreadable(ValueError):
    """A value of a row that cannot be read as what it stands for (`key` None: the row itself)."""

    def __init__(self, key: str | None, value: Any, kind: str) -> None:
        super().__init__(f"{key}: {kind}")
        self.key, self.value, self.kind = key, value, kind


@dataclass(frozen=True)
class RawActivitiesPage:
    """`{"RecordCount": N, "List": [...]}`."""

    record_count: int
    rows: list[RawActivity]

    @classmethod
    def read(cls, body: Any) -> RawActivitiesPage:
        """The page in `body`; raises ValueError or TypeError when it is not one, and pydantic's
        ValidationError naming where (`List[3].Status`) when one value in it cannot be read."""
        if not isinstance(body, Mapping):
            raise TypeError("the answer is not a JSON object")
        count = to_int(body.get("RecordCount"))
        if count is None:
            raise ValueError("the answer has no RecordCount")
        rows = body.get("List") or []
        if not isinstance(rows, list):
            raise TypeError("List is not a JSON array")
        activities = []
        for index, row in enumerate(rows):
            try:
                activities.append(RawActivity.read(row))
            except _Unreadable as exc:
                where = ("List", index) if exc.key is None else ("List", index, exc.key)
                error = {"type": exc.kind, "loc": where, "input": exc.value}
                raise ValidationError.from_exception_data("RawActivitiesPage", [error]) from None  # type: ignore[list-item]
        return cls(count, activities)


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


class RawWithFields(BaseModel):
    """Something LeadSquared describes with its custom fields' names (and values): an activity type
    (`GetActivitySetting`) or an opportunity (`GetOpportunityDetails`)."""

    model_config = ConfigDict(extra="allow")

    id: Text = Field(None, validation_alias=AliasChoices("ID", "Id", "OpportunityId"))
    name: Text = Field(None, alias="Name")
    display_name: Text = Field(None, alias="DisplayName")
    fields: Annotated[list[RawField], BeforeValidator(lambda v: [] if v is None else v)] = Field(
        default_factory=list, alias="Fields"
    )


class RawActivitySetting(RawWithFields):
    """`CustomActivity/GetActivitySetting?code=N`: an activity type and its custom fields' names."""


class RawOpportunityDetails(RawWithFields):
    """`GetOpportunityDetails`."""

    type_code: LooseInt = Field(None, alias="OpportunityEvent")
    type_name: Text = Field(None, alias="OpportunityEventName")
    lead_id: Text = Field(None, alias="RelatedProspectId")


class RawLead(BaseModel):
    """One lead, as `Leads.GetByEmailaddress`, `Leads.GetById`, Quick Search and `Leads.Get` send it."""

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


class RawLeadOpportunities(RawList[RawLeadOpportunity]):
    """`GetOpportunitiesOfLead`, whose RecordCount may be missing: the rows are what matter."""

    record_count: Annotated[int | None, BeforeValidator(to_int)] = Field(None, alias="RecordCount")  # type: ignore[assignment]


class RawTask(BaseModel):
    """One task of `RetrieveTasksByOpportunityId`'s `List`."""

    model_config = ConfigDict(extra="allow")

    id: Text = Field(None, alias="TaskID")
    name: Text = Field(None, alias="Name")
    description: TextAsSent = Field(None, alias="Description")
    due_at: LooseDate = Field(None, alias="DueDate")
    created_at: LooseDate = Field(None, alias="CreatedOn")
    owner: Text = Field(None, alias="OwnerName")
    created_by: Text = Field(None, alias="CreatedByName")
    status: Text = Field(None, alias="Status")


RawTasks = RawList[RawTask]


ACTIVITY_TYPES = TypeAdapter(list[RawActivityType])
LEADS = TypeAdapter(list[RawLead])
