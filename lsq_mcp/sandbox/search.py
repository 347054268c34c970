"""The lead searches: Quick Search (`Leads.GetByQuickSearch`) and Search Leads by Criteria (`Leads.Get`).

What the real Quick Search matches is undocumented. The sandbox answers one plausible way, the
narrow one, so that clients are tested against it: text is compared as a MySQL `_ai_ci` collation
does (case and accents ignored); a key matches a lead whose first name, last name, full name or
email address starts with it, or whose phone holds it, as stored (`+91-9876543210`) or as digits
alone (`919876543210`): `+91 98765 43210` and `098765 43210` find nobody, `9876543210` does. The
company is matched only when `SandboxConfig.quick_search_company` says so (the other plausible
answer). `Leads.Get` compares one field with `=`, `<>`, `LIKE` (`%` and `_`), `<`, `>`, `<=`, `>=`
under the same collation. Both answer a JSON array of leads, the most recently modified first.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lsq_mcp.sandbox.payloads import lead_record
from lsq_mcp.sandbox.records import SampleLead
from lsq_mcp.sandbox.state import SandboxState
from lsq_mcp.sandbox.wire import INVALID_INPUT, SandboxApiError, json_body, page, paging, query, section

# How many leads Quick Search answers at most (the real number is undocumented).
QUICK_SEARCH_MOST = 20
_COMPARISONS: dict[str, Callable[[str, str], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_OPERATORS = ", ".join(["LIKE", *_COMPARISONS])


def collate(text: str) -> str:
    """`text` as the database compares it: case and accents ignored (MySQL's `_ai_ci` collations)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _newest_first(leads: Iterable[SampleLead]) -> list[dict[str, str | None]]:
    records = [lead_record(lead) for lead in leads]
    return sorted(records, key=lambda record: record["ModifiedOn"] or "", reverse=True)


def quick_search_matches(lead: SampleLead, key: str, *, company: bool) -> bool:
    """Whether Quick Search finds `lead` for `key` (see the module's docstring)."""
    wanted = collate(key.strip())
    names = [lead.first_name, lead.last_name, lead.full_name, lead.email] + (
        [lead.company] if company else []
    )
    if any(name and collate(name).startswith(wanted) for name in names):
        return True
    phone = lead.phone or ""
    return bool(wanted) and (wanted in phone or wanted in "".join(c for c in phone if c.isdigit()))


async def quick_search(request: Request, state: SandboxState) -> Response:
    """GET Leads.GetByQuickSearch?key=TEXT: the leads it finds, `[]` when none."""
    key = (query(request, "key") or "").strip()
    if not key:
        raise SandboxApiError(400, INVALID_INPUT, "Search key cannot be empty")
    company = state.config.quick_search_company
    found = [lead for lead in state.catalog.leads if quick_search_matches(lead, key, company=company)]
    return JSONResponse(_newest_first(found)[:QUICK_SEARCH_MOST])


def _like(pattern: str) -> re.Pattern[str]:
    parts = ("." if c == "_" else ".*" if c == "%" else re.escape(c) for c in collate(pattern))
    return re.compile("".join(parts), re.DOTALL)


def _criterion(parameter: dict[str, Any]) -> tuple[str, Callable[[str], bool]]:
    """(the field's schema name, the test of its value) of a body's `Parameter`."""
    field, value, sql = (parameter.get(k) for k in ("LookupName", "LookupValue", "SqlOperator"))
    if not isinstance(field, str) or not field.strip():
        raise SandboxApiError(400, INVALID_INPUT, "LookupName is mandatory")
    if not isinstance(value, str):
        raise SandboxApiError(400, INVALID_INPUT, "LookupValue is mandatory")
    sql = (sql or "=").strip().upper() if isinstance(sql, str) else sql
    if sql == "LIKE":
        pattern = _like(value)
        return field, lambda text: pattern.fullmatch(collate(text)) is not None
    compare = _COMPARISONS.get(sql) if isinstance(sql, str) else None
    if compare is None:
        raise SandboxApiError(400, INVALID_INPUT, f"Invalid SqlOperator; use one of {_OPERATORS}")
    wanted = collate(value)
    return field, lambda text: compare(collate(text), wanted)


async def leads_by_criteria(request: Request, state: SandboxState) -> Response:
    """POST Leads.Get: the leads whose field `LookupName` passes `SqlOperator` `LookupValue`, sorted
    and paged as asked, with the columns of `Columns.Include_CSV` (all when none)."""
    body = await json_body(request)
    field, passes = _criterion(section(body, "Parameter"))
    if field not in lead_record(state.catalog.leads[0]):
        raise SandboxApiError(400, INVALID_INPUT, f"Invalid LookupName: {field}")
    records = [lead_record(lead) for lead in state.catalog.leads]
    found = [record for record in records if passes(record.get(field) or "")]
    sorting = section(body, "Sorting")
    column = str(sorting.get("ColumnName") or "ModifiedOn")
    newest = str(sorting.get("Direction", "1")) != "0"
    found.sort(key=lambda record: collate(record.get(column) or ""), reverse=newest)
    index, size = paging(body)
    columns = [
        c.strip() for c in str(section(body, "Columns").get("Include_CSV") or "").split(",") if c.strip()
    ]
    answer = [{c: r[c] for c in columns if c in r} if columns else r for r in page(found, index, size)]
    return JSONResponse(answer)
