"""Which leads a query means, and their opportunities best first. Pure functions, no I/O.

A query's words that match a lead (its name, company, email address or phone) name the customer;
the rest name the deal. The leads kept are those that match the most words; their opportunities
are ranked by the deal's words in their names, then open before closed, then newest first.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsq_mcp.api.models import RawLead
from lsq_mcp.tools.find.query import digits, fold, words
from lsq_mcp.tools.find.result import LeadSummary, Match

# A person's question is about one deal or a few: more leads than this are not read.
MAX_LEADS = 5
MAX_MATCHES = 20
CLOSED_STATUSES = frozenset({"won", "lost", "closed", "closed won", "closed lost", "cancelled", "canceled"})
# A word this long (or in a script written without spaces) counts inside another: `path` in `brightpath`.
_INSIDE_FROM = 4


def holds(name: str | None, word: str) -> bool:
    """Whether `name` holds `word` (folded): as the start of one of its words, or inside one when the
    word is long or not in Latin letters (`物流` in `龙腾物流`)."""
    if not name:
        return False
    folded = words(name)
    if any(part.startswith(word) for part in folded):
        return True
    return (len(word) >= _INSIDE_FROM or not word.isascii()) and word in " ".join(folded)


def _matches_lead(lead: RawLead, word: str) -> bool:
    local_part = (lead.email or "").partition("@")[0]
    names = (lead.first_name, lead.last_name, lead.company, local_part)
    if any(holds(name, word) for name in names):
        return True
    return word.isdigit() and len(word) >= 6 and word in digits(lead.phone or "")


def choose_leads(
    leads: Sequence[RawLead], query_words: Sequence[str]
) -> list[tuple[RawLead, tuple[str, ...]]]:
    """The leads the query means most (those matching most of its words; each once, at most MAX_LEADS,
    in LeadSquared's order), each with the deal's words: the query's words it does not match."""
    seen: set[str] = set()
    scored: list[tuple[int, RawLead, tuple[str, ...]]] = []
    for lead in leads:
        if not lead.id or lead.id.lower() in seen:
            continue
        seen.add(lead.id.lower())
        deal = tuple(word for word in query_words if not _matches_lead(lead, word))
        scored.append((len(query_words) - len(deal), lead, deal))
    best = max((score for score, _, _ in scored), default=0)
    return [(lead, deal) for score, lead, deal in scored if score == best][:MAX_LEADS]


def is_open(status: str | None) -> bool:
    return fold(status or "") not in CLOSED_STATUSES


def rank_matches(found: Sequence[tuple[LeadSummary, Sequence[str]]]) -> list[Match]:
    """Every opportunity of the leads found, best first (at most MAX_MATCHES): those whose names hold
    most of their lead's deal words, then open before closed, then the newest (undated last)."""
    scored: list[tuple[int, Match]] = []
    for lead, deal in found:
        for opp in lead.opportunities:
            match = Match(
                **opp.model_dump(),
                lead=lead.name,
                lead_id=lead.id,
                company=lead.company,
            )
            scored.append((sum(holds(opp.name, word) for word in deal), match))
    scored.sort(key=lambda item: item[1].created_at or "", reverse=True)
    scored.sort(key=lambda item: (-item[0], not is_open(item[1].status)))
    return [match for _, match in scored][:MAX_MATCHES]
