"""`find_opportunities`: the deals a person names (a customer, a person, a phone, an id, deal words).

At most MAX_CALLS LeadSquared calls per query: the searches take what the MAX_LEADS leads' reads
leave, and those reads run concurrently (the connection paces them within the rate limit).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Annotated

from mcp_types import CallToolResult

from lsq_mcp.api.connection import Connection
from lsq_mcp.api.endpoints import (
    get_lead_by_id,
    get_leads_by_email,
    get_opportunities_of_lead,
    get_opportunity,
)
from lsq_mcp.api.models import RawLead
from lsq_mcp.api.walk import gather_all
from lsq_mcp.errors import UNKNOWN_ID, ApiError, AuthenticationError, RateLimitError
from lsq_mcp.tools.arguments import InvalidArgumentError, argument, constrained
from lsq_mcp.tools.base_result import Absent, call_tool_result
from lsq_mcp.tools.context import ToolContext, deps_of
from lsq_mcp.tools.find.query import Query, read_query
from lsq_mcp.tools.find.rank import MAX_LEADS, choose_leads, rank_matches
from lsq_mcp.tools.find.result import FoundOpportunities, LeadSummary, Match, condense_lead, render_found
from lsq_mcp.tools.find.search import Searches, search_leads
from lsq_mcp.tools.opportunity import condense_opportunity

TITLE = "Find opportunities"
DESCRIPTION = (
    "Turn what the user calls a deal into opportunity ids, best match first: give query as they said "
    "it (a person, a company, an email, a phone number or an id, then words of the deal's name, e.g. "
    '"gold coast cocoa expansion"). email or lead_id instead still work. Then call summarize_opportunity.'
)
MAX_CALLS = 12

logger = logging.getLogger(__name__)

Found = tuple[FoundOpportunities, str | None]


async def find_opportunities(
    ctx: ToolContext,
    query: Annotated[
        Annotated[str, constrained("query")] | Absent,
        argument(
            "query",
            "What the user calls the deal, as they typed it.",
            optional=True,
        ),
    ] = None,
    email: Annotated[
        Annotated[str, constrained("email")] | Absent,
        argument("email", "The lead's email address.", optional=True),
    ] = None,
    lead_id: Annotated[
        Annotated[str, constrained("lead_id")] | Absent,
        argument("lead_id", "The lead's GUID.", optional=True),
    ] = None,
    opportunity_type: Annotated[
        Annotated[int, constrained("opportunity_type")] | Absent,
        argument("opportunity_type", "Only this opportunity type (code, e.g. 12002).", optional=True),
    ] = None,
) -> Annotated[CallToolResult, FoundOpportunities]:
    if sum(value is not None for value in (query, email, lead_id)) != 1:
        raise InvalidArgumentError(
            "Invalid arguments: give exactly one of query (what the user calls the deal), email (a lead's "
            "email address) and lead_id (a lead's GUID)."
        )
    deps = deps_of(ctx)
    conn = deps.conn
    if lead_id is not None:
        found, how = await _lead_by_id(conn, lead_id, (), opportunity_type, keep_empty=True)
    else:
        read = read_query(query) if query is not None else Query("email", email or "", (), ())
        found, how = await find(conn, read, opportunity_type)
        found.query = query
    return call_tool_result(render_found(found, how, deps.reader), found)


async def find(conn: Connection, query: Query, opportunity_type: int | None = None) -> Found:
    """The opportunities `query` names, best first, and how their leads were found."""
    if query.kind == "guid":
        return await _by_guid(conn, query, opportunity_type)
    # The searches may spend what reading MAX_LEADS leads leaves of MAX_CALLS.
    searches = Searches(conn, 0 if query.kind == "email" else MAX_CALLS - MAX_LEADS)
    how: str | None
    if query.kind == "email":
        leads, how = await get_leads_by_email(conn, query.key), "email address"
    else:
        leads, how = await search_leads(searches, query)
    chosen = choose_leads(leads, query.words)
    summaries = await gather_all(
        [partial(_read_lead, conn, lead, lead.id or "", opportunity_type) for lead, _ in chosen]
    )
    found = list(zip(summaries, [deal for _, deal in chosen], strict=True))
    result = FoundOpportunities(
        matches=rank_matches(found), leads=summaries, refused=searches.refusals() or None
    )
    return result, how if summaries else None


async def _read_lead(
    conn: Connection, lead: RawLead | None, lead_id: str, opportunity_type: int | None
) -> LeadSummary:
    """A lead and its opportunities; the lead itself is read by its id when no search sent it."""
    if lead is None:
        lead = await _lead_of_id(conn, lead_id)
    page = await get_opportunities_of_lead(conn, lead_id, opportunity_type)
    return condense_lead(lead, lead_id, page.rows)


async def _lead_of_id(conn: Connection, lead_id: str) -> RawLead | None:
    """The lead with this id, for its name and company; None when LeadSquared will not say (its
    `Leads.GetById` is unconfirmed): the opportunities are what was asked for."""
    try:
        return await get_lead_by_id(conn, lead_id)
    except (AuthenticationError, RateLimitError):
        raise
    except ApiError as exc:
        logger.warning("Leads.GetById failed for lead %s, shown without its name: %s", lead_id, exc)
        return None


async def _by_guid(conn: Connection, query: Query, opportunity_type: int | None) -> Found:
    """An opportunity's id (with its lead's other opportunities), or else a lead's."""
    try:
        raw = await get_opportunity(conn, query.key)
    except ApiError as exc:
        if not _unknown_id(exc):  # a failure, not "no such opportunity"
            raise
        # No opportunity has this id: perhaps a lead does.
        return await _lead_by_id(conn, query.key, query.words, opportunity_type, keep_empty=False)
    details = condense_opportunity(raw, query.key)
    if opportunity_type is not None and details.type_code != opportunity_type:
        return FoundOpportunities(matches=[], leads=[]), None
    lead = await _read_lead(conn, None, details.lead_id, opportunity_type) if details.lead_id else None
    match = Match(
        **details.model_dump(include=set(Match.model_fields)),
        lead=lead.name if lead else None,
        company=lead.company if lead else None,
    )
    return FoundOpportunities(matches=[match], leads=[lead] if lead else []), "opportunity id"


def _unknown_id(exc: ApiError) -> bool:
    """Whether LeadSquared refused an id as none of the account's records ("does not exist", "not a
    valid ... Id"), rather than failing to answer."""
    said = (exc.upstream_message or "").lower()
    return exc.exception_type in UNKNOWN_ID or "does not exist" in said or "not a valid" in said


async def _lead_by_id(
    conn: Connection, lead_id: str, deal: tuple[str, ...], opportunity_type: int | None, *, keep_empty: bool
) -> Found:
    """A lead's opportunities, ranked by the deal's words; a lead without any is kept when asked for by
    `lead_id`, and counts as nothing found when a query's GUID named it (it may be no lead at all)."""
    lead = await _read_lead(conn, None, lead_id, opportunity_type)
    if not lead.opportunities and not keep_empty:
        return FoundOpportunities(matches=[], leads=[]), None
    return FoundOpportunities(matches=rank_matches([(lead, deal)]), leads=[lead]), "lead id"
