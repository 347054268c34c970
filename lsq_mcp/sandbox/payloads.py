"""The companion endpoints' answers, rendered from catalog records the way LeadSquared shapes them.

Strings everywhere except where the real API is documented to send something else (the
``Fields`` lists carry booleans and numbers), so the client's loose parsing is what gets tested.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lsq_mcp.sandbox.data import REPS
from lsq_mcp.sandbox.records import SampleActivitySetting, SampleLead, SampleOpportunity, flag, fmt


def lead_record(lead: SampleLead) -> dict[str, str | None]:
    """A lead as Leads.GetByEmailaddress returns it (strings everywhere)."""
    rep = REPS[lead.owner]
    return {
        "ProspectID": lead.id,
        "FirstName": lead.first_name,
        "LastName": lead.last_name,
        "EmailAddress": lead.email,
        "Phone": lead.phone,
        "Mobile": None,
        "Company": lead.company,
        "mx_City": lead.city,
        "Source": "Website",
        "ProspectStage": lead.stage,
        "Score": "42",
        "EngagementScore": "",
        "DoNotCall": flag(lead.do_not_call),
        "DoNotEmail": flag(lead.do_not_email),
        "OwnerId": rep.id,
        "OwnerIdName": rep.name,
        "OwnerIdEmailAddress": rep.email,
        "CreatedOn": fmt(lead.created_on),
        "ModifiedOn": fmt(lead.created_on + timedelta(days=3)),
    }


def _field(schema: str, display: str, value: str | None, data_type: str) -> dict[str, str | None]:
    return {"SchemaName": schema, "DisplayName": display, "Value": value, "DataType": data_type}


def opportunity_details(opp: SampleOpportunity) -> dict[str, Any]:
    """GetOpportunityDetails' answer: a few top-level keys and a list of typed fields."""
    fields = [
        _field("mx_Custom_1", "Opportunity Name", opp.name, "String"),
        _field("Status", "Status", opp.status, "Dropdown"),
        _field("mx_Custom_2", "Stage", opp.stage, "Dropdown"),
        _field("Owner", "Owner", opp.owner, "ActiveUsers"),
        _field("mx_Custom_3", "Source", opp.source, "Dropdown"),
        _field(
            "mx_Custom_4",
            "Expected Closure Date",
            fmt(opp.expected_close) if opp.expected_close else None,
            "Date",
        ),
        _field("mx_Custom_5", "Deal Value", opp.deal_value, "Number"),
        _field("mx_Custom_6", "Currency", opp.currency, "Dropdown"),
        _field("mx_Custom_7", "Competitor", opp.competitor, "String"),
        _field("RelatedProspectId", "Lead", opp.lead_id, "Lead"),
        _field("CreatedOn", "Created On", fmt(opp.created_on), "DateTime"),
        _field("ModifiedOn", "Modified On", fmt(opp.modified_on), "DateTime"),
    ]
    return {
        "ID": opp.id,
        "Name": opp.name,
        "DisplayName": opp.name,
        "OpportunityEvent": str(opp.event_code),
        "OpportunityEventName": opp.event_name,
        "RelatedProspectId": opp.lead_id,
        "Fields": fields,
    }


def opportunity_summary(opp: SampleOpportunity) -> dict[str, str | None]:
    """One item of GetOpportunitiesOfLead's List."""
    return {
        "OpportunityId": opp.id,
        "OpportunityName": opp.name,
        "Status": opp.status,
        "Stage": opp.stage,
        "OpportunityEvent": str(opp.event_code),
        "OpportunityEventName": opp.event_name,
        "CreatedOn": fmt(opp.created_on),
        "ModifiedOn": fmt(opp.modified_on),
        "Owner": opp.owner,
    }


def activity_setting(setting: SampleActivitySetting) -> dict[str, Any]:
    """GetActivitySetting's answer: the type and its custom fields (``Value`` is always null here)."""
    fields = [
        {
            "SchemaName": field.schema,
            "DisplayName": field.display,
            "Value": None,
            "DataType": field.data_type,
            "IsMandatory": field.mandatory,
            "ShowInForm": field.in_form,
            "Sequence": sequence,
            "OptionSet": None,
        }
        for sequence, field in enumerate(setting.fields, start=1)
    ]
    return {"ID": setting.id, "Name": setting.name, "DisplayName": setting.display_name, "Fields": fields}
