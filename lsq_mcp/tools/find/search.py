"""Finding the leads a query names: LeadSquared's searches, in order, within a budget of calls.

For each text of the query (`Query.searches`: the whole query, then shorter parts), Quick Search
first, then, for words, Search Leads by Criteria on the company, until one finds a lead: a text
Quick Search matched is not searched again, and a company Quick Search does not match is still
found. What Quick Search matches is undocumented, so neither answer costs more than one call.
A search LeadSquared refuses (say `Leads.Get` not permitted for the keys' user) is not asked again
and does not fail the query, unless every search was refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from lsq_mcp.api.connection import Connection
from lsq_mcp.api.endpoints import quick_search_leads, search_leads_by_company
from lsq_mcp.api.models import RawLead
from lsq_mcp.errors import ApiError, AuthenticationError, RateLimitError
from lsq_mcp.tools.find.query import Query

QUICK_SEARCH = "Quick Search"
COMPANY_SEARCH = "Search Leads by Criteria (company)"


@dataclass
class Searches:
    """The searches of one query: the calls it may still make, and those LeadSquared refused."""

    conn: Connection
    calls_left: int
    refused: dict[str, ApiError] = field(default_factory=dict)
    answered: int = 0

    async def run(self, name: str, call: Callable[[], Awaitable[list[RawLead]]]) -> list[RawLead]:
        """The leads search `name` finds (none when it was refused before or no call is left). A refusal
        is kept, not raised, unless it concerns every call (the keys, the rate limit)."""
        if name in self.refused or self.calls_left <= 0:
            return []
        self.calls_left -= 1
        try:
            leads = await call()
        except (AuthenticationError, RateLimitError):
            raise
        except ApiError as exc:
            self.refused[name] = exc
            return []
        self.answered += 1
        return leads

    def refusals(self) -> list[str]:
        """Each search refused, with what LeadSquared said and what to do about it."""
        return [f"{name}: {exc}" for name, exc in self.refused.items()]

    def check_any_answered(self) -> None:
        """Raise the first refusal when no search could run at all: that is the query's failure."""
        if not self.answered and self.refused:
            raise next(iter(self.refused.values()))


async def search_leads(searches: Searches, query: Query) -> tuple[list[RawLead], str | None]:
    """The leads of the first text of `query` that finds any, and how they were found."""
    conn = searches.conn
    for key in query.searches:
        leads = await searches.run(QUICK_SEARCH, partial(quick_search_leads, conn, key))
        if leads:
            return leads, f'Quick Search "{key}"'
        if query.kind == "words":
            leads = await searches.run(COMPANY_SEARCH, partial(search_leads_by_company, conn, key))
            if leads:
                return leads, f'company "{key}"'
    searches.check_any_answered()
    return [], None
