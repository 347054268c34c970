"""LeadSquared's endpoints, one small function each: the path, the parameters, the answer's model.

Each takes a `Connection` (pacing, retries, errors) and knows nothing of MCP.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from lsq_mcp.api.connection import Connection
from lsq_mcp.api.models import (
    ACTIVITY_TYPES,
    LEADS,
    RawActivitiesPage,
    RawActivitySetting,
    RawActivityType,
    RawLead,
    RawLeadOpportunities,
    RawOpportunityDetails,
    RawTasks,
    SortDirection,
)
from lsq_mcp.errors import ApiError

logger = logging.getLogger(__name__)

ACTIVITIES_PATH = "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity"
ACTIVITY_TYPES_PATH = "/v2/ProspectActivity.svc/ActivityTypes.Get"
ACTIVITY_SETTING_PATH = "/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting"
OPPORTUNITY_PATH = "/v2/OpportunityManagement.svc/GetOpportunityDetails"
OPPORTUNITIES_OF_LEAD_PATH = "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead"
LEADS_BY_EMAIL_PATH = "/v2/LeadManagement.svc/Leads.GetByEmailaddress"
LEAD_BY_ID_PATH = "/v2/LeadManagement.svc/Leads.GetById"
QUICK_SEARCH_PATH = "/v2/LeadManagement.svc/Leads.GetByQuickSearch"
LEADS_BY_CRITERIA_PATH = "/v2/LeadManagement.svc/Leads.Get"
# The lead fields a search asks for: what a person needs to tell one lead from another.
LEAD_COLUMNS = "ProspectID,FirstName,LastName,EmailAddress,Phone,Company,ProspectStage,OwnerIdName"
# Leads of one search by criteria: a company's people, more than a question can be about.
LEADS_PAGE_SIZE = 25
USER_PATH = "/v2/Authentication.svc/UserByAccessKey.Get"
TASKS_PATH = "/v2/OpportunityManagement.svc/RetrieveTasksByOpportunityId"
# Opportunities of one lead, in one call: more than any real lead has.
OPPORTUNITIES_PAGE_SIZE = 200
# The request-side name of the activity creation time (the answer calls it PACreatedOn).
DEFAULT_SORT_COLUMN = "CreatedOn"
FALLBACK_SORT_COLUMN = "PACreatedOn"
# `Connection.learned` key: the creation-time column this account's API accepts.
_CREATION_COLUMN = "creation_column"


@dataclass(frozen=True)
class ActivitiesQuery:
    """The parameters of Get Activities of an Opportunity, in Python's terms."""

    opportunity_id: str
    activity_event_code: int | None = None
    columns: tuple[str, ...] = ()
    page_index: int = 1
    page_size: int = 25
    sort_column: str = DEFAULT_SORT_COLUMN
    sort_direction: SortDirection = "newest_first"

    def params(self) -> dict[str, str]:
        params = {"opportunityId": self.opportunity_id}
        if self.activity_event_code is not None:
            params["activityEventCode"] = str(self.activity_event_code)
        return params

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Paging": {"PageIndex": self.page_index, "PageSize": self.page_size},
            "Sorting": {
                "ColumnName": self.sort_column,
                "Direction": 1 if self.sort_direction == "newest_first" else 0,
            },
        }
        if self.columns:
            body["Columns"] = {"Include_CSV": ",".join(self.columns)}
        return body


async def get_activities_page(conn: Connection, query: ActivitiesQuery) -> RawActivitiesPage:
    """One page of an opportunity's activities.

    The request-side name of the creation time is unconfirmed: when LeadSquared refuses the
    default sort column by name, the answer's own name for it is tried, and kept if it works.
    """
    if query.sort_column == DEFAULT_SORT_COLUMN:
        query = replace(query, sort_column=conn.learned.get(_CREATION_COLUMN, DEFAULT_SORT_COLUMN))
    try:
        return await _activities_page(conn, query)
    except ApiError as exc:
        refused = (exc.upstream_message or "").lower()
        if query.sort_column != DEFAULT_SORT_COLUMN or DEFAULT_SORT_COLUMN.lower() not in refused:
            raise
    page = await _activities_page(conn, replace(query, sort_column=FALLBACK_SORT_COLUMN))
    logger.info("LeadSquared refused sorting on %s; sorting on %s", DEFAULT_SORT_COLUMN, FALLBACK_SORT_COLUMN)
    conn.learned[_CREATION_COLUMN] = FALLBACK_SORT_COLUMN
    return page


async def _activities_page(conn: Connection, query: ActivitiesQuery) -> RawActivitiesPage:
    page = await conn.call(
        "POST", ACTIVITIES_PATH, RawActivitiesPage.read, params=query.params(), json=query.body()
    )
    if len(page.rows) > query.page_size:
        # More rows than asked for: what was asked for is what the caller pages (and budgets) by.
        logger.warning("LeadSquared sent %d rows for a page of %d", len(page.rows), query.page_size)
        page = replace(page, rows=page.rows[: query.page_size])
    return page


async def get_activity_types(conn: Connection) -> list[RawActivityType]:
    """The account's activity types (code → name)."""
    return await conn.call("GET", ACTIVITY_TYPES_PATH, ACTIVITY_TYPES.validate_python)


async def get_activity_setting(conn: Connection, event_code: int) -> RawActivitySetting:
    """An activity type's settings: its custom fields' schema and display names. Documented for custom
    types; some system types answer an error instead."""
    return await conn.call(
        "GET", ACTIVITY_SETTING_PATH, RawActivitySetting.model_validate, params={"code": str(event_code)}
    )


async def get_user_by_access_key(conn: Connection) -> str:
    """Who the keys belong to, as `First Last <email>` ("" when the answer names nobody): the cheapest
    call that proves the keys, answered on any region's host. Its answer's shape is unconfirmed, so
    any JSON that is not an error proves the keys, and the name is read where it is found."""

    def name(answer: Any) -> str:
        user = answer[0] if isinstance(answer, list) and answer else answer
        if not isinstance(user, dict):
            return ""
        full = " ".join(str(user.get(k) or "").strip() for k in ("FirstName", "LastName")).strip()
        email = str(user.get("EmailAddress") or "").strip()
        return f"{full} <{email}>" if full and email else full or email

    return await conn.call("GET", USER_PATH, name)


async def get_opportunity(conn: Connection, opportunity_id: str) -> RawOpportunityDetails:
    return await conn.call(
        "GET",
        OPPORTUNITY_PATH,
        RawOpportunityDetails.model_validate,
        params={"OpportunityId": opportunity_id},
    )


async def get_leads_by_email(conn: Connection, email: str) -> list[RawLead]:
    return await conn.call("GET", LEADS_BY_EMAIL_PATH, LEADS.validate_python, params={"emailaddress": email})


async def get_lead_by_id(conn: Connection, lead_id: str) -> RawLead | None:
    """The lead with this id, None when there is none. `Leads.GetById?id=` answers a JSON array of
    leads, as public client code uses it (not on LeadSquared's pages we have: unconfirmed)."""
    leads = await conn.call("GET", LEAD_BY_ID_PATH, LEADS.validate_python, params={"id": lead_id})
    return leads[0] if leads else None


async def quick_search_leads(conn: Connection, key: str) -> list[RawLead]:
    """Quick Search: the leads LeadSquared finds for `key`, as people use it with a name, an email
    or a phone number. Which fields it matches (the company? parts of words? accents?) and how many
    leads it returns are undocumented."""
    return await conn.call("GET", QUICK_SEARCH_PATH, LEADS.validate_python, params={"key": key})


async def search_leads_by_company(conn: Connection, text: str) -> list[RawLead]:
    """Search Leads by Criteria: the leads whose company holds `text` (`LIKE %text%`), the most
    recently modified first."""
    body = {
        "Parameter": {"LookupName": "Company", "LookupValue": f"%{text}%", "SqlOperator": "LIKE"},
        "Columns": {"Include_CSV": LEAD_COLUMNS},
        "Sorting": {"ColumnName": "ModifiedOn", "Direction": "1"},
        "Paging": {"PageIndex": 1, "PageSize": LEADS_PAGE_SIZE},
    }
    return await conn.call("POST", LEADS_BY_CRITERIA_PATH, LEADS.validate_python, json=body)


async def get_opportunities_of_lead(
    conn: Connection, lead_id: str, opportunity_type: int | None = None
) -> RawLeadOpportunities:
    params = {"leadId": lead_id}
    if opportunity_type is not None:
        params["opportunityType"] = str(opportunity_type)
    body = {"Paging": {"PageIndex": 1, "PageSize": OPPORTUNITIES_PAGE_SIZE}}
    return await conn.call(
        "POST", OPPORTUNITIES_OF_LEAD_PATH, RawLeadOpportunities.model_validate, params=params, json=body
    )


async def get_tasks_of_opportunity(conn: Connection, opportunity_id: str) -> RawTasks:
    """An opportunity's tasks (only those the keys' user may see)."""
    return await conn.call(
        "GET", TASKS_PATH, RawTasks.model_validate, params={"opportunityId": opportunity_id}
    )
