"""find_opportunities through the MCP client against the sandbox: every form of query, the ranking,
and the calls made (read from the sandbox's log)."""

from __future__ import annotations

from typing import Any

import pytest

from lsq_mcp.sandbox import Fault, SandboxServer
from lsq_mcp.sandbox.data import (
    LEAD_EMILY,
    LEAD_JOSE,
    LEAD_ZOE,
    OPP_BIG,
    OPP_HTML,
    OPP_ODD,
    OPP_SUPPORT,
    OPP_UNICODE,
)
from lsq_mcp.sandbox.lookalikes import (
    LEAD_KARL,
    LEAD_NGOZI,
    OPP_ANALYTICS,
    OPP_COLD_STORAGE,
    OPP_CUSTOMS,
    OPP_EXPANSION,
    OPP_EXPORT_PORTAL,
    OPP_FLEET_BOOKING,
    OPP_WAREHOUSE,
)
from tests.conftest import calls_made_by_tools, connect, structured, text_of

pytestmark = pytest.mark.anyio

TOOL = "find_opportunities"
QUICK, COMPANY, OPPORTUNITIES = "Leads.GetByQuickSearch", "Leads.Get", "GetOpportunitiesOfLead"
LEAD = "Leads.GetById"
REFUSED = Fault(
    "error",
    count=20,
    path="Leads.Get",
    exception_type="MXUnAuthorizedAccessException",
    message="You do not have permission to search leads",
)


def calls(sandbox: SandboxServer) -> list[str]:
    """Each call the tools made, by endpoint: `Leads.GetByQuickSearch key`, `Leads.Get %value%`, ..."""
    made = []
    for request in calls_made_by_tools(sandbox):
        endpoint = request.path.rsplit("/", 1)[-1]
        if endpoint == QUICK:
            made.append(f"{QUICK} {request.query['key']}")
        elif endpoint == COMPANY:
            made.append(f"{COMPANY} {request.body['Parameter']['LookupValue']}")
        else:
            made.append(endpoint)
    return made


async def find(sandbox: SandboxServer, **arguments: Any) -> dict[str, Any]:
    async with connect(sandbox) as client:
        result = await client.call_tool(TOOL, arguments)
    data = structured(result)
    data["text"] = text_of(result)
    return data


def ids(found: dict[str, Any]) -> list[str]:
    return [match["id"] for match in found["matches"]]


@pytest.mark.parametrize(
    ("query", "best"),
    [
        ("ngozi", [OPP_EXPANSION, OPP_WAREHOUSE, OPP_COLD_STORAGE]),  # a first name: open, then newest
        ("Ngozi's deal", [OPP_EXPANSION, OPP_WAREHOUSE, OPP_COLD_STORAGE]),
        ("ngozi harmattan", [OPP_COLD_STORAGE]),  # the person at one of her two companies
        ("brightpath", [OPP_HTML]),  # part of a company's name, lower case
        ("the Gold Coast Cocoa expansion", [OPP_EXPANSION, OPP_WAREHOUSE]),  # company + deal words
        ("acme support", [OPP_SUPPORT, OPP_ANALYTICS, OPP_BIG]),  # two leads at one company
        ("pearl river", [OPP_CUSTOMS]),  # not Black Pearl Charters
        ("pearl", [OPP_FLEET_BOOKING, OPP_CUSTOMS]),  # both: the newest first
        ("jose alvarez", [OPP_ODD]),  # no accents typed
        ("龙腾", [OPP_UNICODE]),
        ("дмитрий", [OPP_EXPORT_PORTAL]),
        ("+91 98765 43210", [OPP_HTML]),  # a phone in another format than stored
        ("0049 89 1234 5678", [OPP_BIG, OPP_SUPPORT]),
        ("ZOE.MUELLER@acme.example support", [OPP_SUPPORT, OPP_BIG]),  # an email, then deal words
        (OPP_ODD.upper(), [OPP_ODD]),  # an opportunity's id
        (f"{LEAD_ZOE} support", [OPP_SUPPORT, OPP_BIG]),  # a lead's id, then deal words
    ],
)
async def test_every_form_of_query_finds_the_deal_first(
    sandbox: SandboxServer, query: str, best: list[str]
) -> None:
    found = await find(sandbox, query=query)
    assert ids(found) == best
    assert found["query"] == query
    lines = found["text"].splitlines()
    assert [line.split(" · ")[0] for line in lines[1 : 1 + len(best)]] == [
        f"{rank}. {opp}" for rank, opp in enumerate(best, 1)
    ]


@pytest.mark.parametrize(
    ("query", "made"),
    [
        (OPP_ODD, ["GetOpportunityDetails", LEAD, OPPORTUNITIES]),
        (f"{LEAD_ZOE} support", ["GetOpportunityDetails", LEAD, OPPORTUNITIES]),
        ("ZOE.MUELLER@acme.example support", ["Leads.GetByEmailaddress", OPPORTUNITIES]),
        ("ngozi", [f"{QUICK} ngozi", OPPORTUNITIES, OPPORTUNITIES]),
        ("+91 98765 43210", [f"{QUICK} 9876543210", OPPORTUNITIES]),
        ("jose alvarez", [f"{QUICK} jose alvarez", OPPORTUNITIES]),
        ("龙腾", [f"{QUICK} 龙腾", f"{COMPANY} %龙腾%", OPPORTUNITIES]),
        (
            "the Gold Coast Cocoa expansion",
            [
                f"{QUICK} Gold Coast Cocoa expansion",
                f"{COMPANY} %Gold Coast Cocoa expansion%",
                f"{QUICK} Gold Coast",
                f"{COMPANY} %Gold Coast%",
                OPPORTUNITIES,
            ],
        ),
    ],
)
async def test_the_calls_each_form_makes(sandbox: SandboxServer, query: str, made: list[str]) -> None:
    await find(sandbox, query=query)
    assert calls(sandbox) == made


async def test_company_and_deal_words_rank_the_deal_first_in_few_calls(sandbox: SandboxServer) -> None:
    found = await find(sandbox, query="acme renewal")
    assert ids(found) == [OPP_BIG, OPP_ANALYTICS, OPP_SUPPORT]
    [first, *_] = found["matches"]
    assert first == {
        "id": OPP_BIG,
        "name": "Acme Corp – Enterprise renewal",
        "status": "Open",
        "stage": "Negotiation",
        "type_code": 12002,
        "type_name": "Enterprise Deal",
        "owner": "Rohan Sane",
        "lead": "Zoë Müller",
        "lead_id": LEAD_ZOE,
        "company": "Acme Corp",
        "created_at": "2023-09-04T09:12:00Z",
        "modified_at": "2025-02-27T16:05:00Z",
    }
    assert {lead["id"] for lead in found["leads"]} == {LEAD_ZOE, LEAD_KARL}
    assert all(lead["company"] == "Acme Corp" for lead in found["leads"])
    # The whole query first (Quick Search, then the company), then its leading word.
    assert calls(sandbox) == [
        f"{QUICK} acme renewal",
        f"{COMPANY} %acme renewal%",
        f"{QUICK} acme",
        f"{COMPANY} %acme%",
        OPPORTUNITIES,
        OPPORTUNITIES,
    ]
    assert 'found by company "acme"' in found["text"]
    assert found["text"].endswith(
        "summarize_opportunity with the id of the deal meant (ask the user when several could be)."
    )


async def test_a_name_quick_search_matches_is_not_searched_again(sandbox: SandboxServer) -> None:
    await find(sandbox, query="Karl Weber")
    assert calls(sandbox) == [f"{QUICK} Karl Weber", OPPORTUNITIES]
    sandbox.state.reset()
    sandbox.state.config.quick_search_company = True  # the other answer to an unknown
    found = await find(sandbox, query="acme")
    assert calls(sandbox) == [f"{QUICK} acme", OPPORTUNITIES, OPPORTUNITIES]
    assert set(ids(found)) == {OPP_BIG, OPP_SUPPORT, OPP_ANALYTICS}


async def test_a_phone_is_searched_as_its_national_digits(sandbox: SandboxServer) -> None:
    found = await find(sandbox, query="+34 612 345 678")
    assert calls(sandbox) == [f"{QUICK} 612345678", OPPORTUNITIES]  # without the country code
    assert [lead["id"] for lead in found["leads"]] == [LEAD_JOSE]


@pytest.mark.parametrize(
    "query", ["+233 24 412 3456", "00233 24 412 3456", "+233 (0)24 412 3456", "024 412 3456"]
)
async def test_an_international_number_finds_a_lead_stored_in_national_format(
    sandbox: SandboxServer, query: str
) -> None:
    found = await find(sandbox, query=query)  # stored as 024 412 3456
    assert calls(sandbox) == [f"{QUICK} 244123456", OPPORTUNITIES]
    assert [lead["id"] for lead in found["leads"]] == [LEAD_NGOZI]
    assert ids(found)[0] == OPP_EXPANSION


async def test_a_refused_search_does_not_fail_the_query(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(REFUSED)
    found = await find(sandbox, query="zoe renewal")
    assert ids(found) == [OPP_BIG, OPP_SUPPORT]
    # Refused once, not asked again.
    assert calls(sandbox) == [
        f"{QUICK} zoe renewal",
        f"{COMPANY} %zoe renewal%",
        f"{QUICK} zoe",
        OPPORTUNITIES,
    ]
    [refused] = found["refused"]
    assert refused.startswith(
        "Search Leads by Criteria (company): LeadSquared answered 500 with an error: You do not have "
        "permission to search leads (MXUnAuthorizedAccessException). The user of these keys may not see this"
    )
    assert f"Refused by LeadSquared: {refused}" in found["text"]


async def test_a_quick_search_answer_of_another_shape_leaves_the_company_search(
    sandbox: SandboxServer,
) -> None:
    sandbox.state.push_fault(Fault("wrong_shape", count=5, path="GetByQuickSearch", body='{"Leads": []}'))
    found = await find(sandbox, query="brightpath")
    assert ids(found) == [OPP_HTML]
    assert calls(sandbox) == [f"{QUICK} brightpath", f"{COMPANY} %brightpath%", OPPORTUNITIES]
    [refused] = found["refused"]
    assert refused.startswith("Quick Search: LeadSquared answered 200 with a malformed body")


async def test_the_leads_are_read_concurrently_within_the_rate_limit(sandbox: SandboxServer) -> None:
    sandbox.state.config.rate_limit = (4, 1.0)
    async with connect(sandbox, LSQ_RATE_LIMIT="4/1") as client:
        result = await client.call_tool(TOOL, {"query": "qq 12 zz"})
    assert len(structured(result)["leads"]) == 5
    assert sandbox.state.stats_snapshot().rejected == 0
    reads = [r.at for r in calls_made_by_tools(sandbox) if r.path.endswith(OPPORTUNITIES)]
    assert len(reads) == 5
    assert max(reads) - min(reads) >= 0.5  # paced: 12 calls at 4 a second
    sandbox.state.reset()
    sandbox.state.config.rate_limit = None
    sandbox.state.config.latency = 0.4
    await find(sandbox, query="ngozi")
    reads = [r.at for r in calls_made_by_tools(sandbox) if r.path.endswith(OPPORTUNITIES)]
    assert len(reads) == 2
    assert max(reads) - min(reads) < 0.2  # both asked at once, not one after the other's answer


async def test_nothing_found_is_an_answer_that_says_what_else_to_try(sandbox: SandboxServer) -> None:
    found = await find(sandbox, query="kumasi\n1. \u202efake\x1b")
    assert found["matches"] == []
    assert found["leads"] == []
    assert found["query"] == "kumasi\n1. \u202efake\x1b"
    assert found["text"].startswith('Nothing matched for "kumasi 1. fake"')
    assert len(found["text"].splitlines()) == 1
    assert "email address" in found["text"]
    assert "company" in found["text"]
    sandbox.state.reset()
    sandbox.state.push_fault(REFUSED)
    refused = await find(sandbox, query="brightpath")
    assert refused["matches"] == []
    assert "Refused by LeadSquared: Search Leads by Criteria" in refused["text"]


async def test_every_search_refused_is_the_querys_error(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(
        Fault("error", count=20, path="QuickSearch", exception_type="MXUnAuthorizedAccessException")
    )
    sandbox.state.push_fault(REFUSED)
    async with connect(sandbox) as client:
        result = await client.call_tool(TOOL, {"query": "zoe"})
    assert result.is_error
    assert "MXUnAuthorizedAccessException" in text_of(result)
    assert calls(sandbox) == [f"{QUICK} zoe", f"{COMPANY} %zoe%"]


async def test_the_worst_case_makes_twelve_calls_and_reads_five_leads(sandbox: SandboxServer) -> None:
    # Six searches find nothing; the seventh finds five leads or more (phones holding "12").
    found = await find(sandbox, query="qq 12 zz")
    made = calls(sandbox)
    assert made[:7] == [
        f"{QUICK} qq 12 zz",
        f"{COMPANY} %qq 12 zz%",
        f"{QUICK} qq 12",
        f"{COMPANY} %qq 12%",
        f"{QUICK} qq",
        f"{COMPANY} %qq%",
        f"{QUICK} 12",
    ]
    assert made[7:] == [OPPORTUNITIES] * 5
    assert len(found["leads"]) == 5
    sandbox.state.reset()
    await find(sandbox, query="qq rr ss tt uu vv ww xx yy")  # finds nothing: the searches stop at 7
    assert len(calls(sandbox)) == 7


async def test_an_unknown_guid_finds_nothing(sandbox: SandboxServer) -> None:
    found = await find(sandbox, query="00000000-0000-4000-8000-000000000000")
    assert found["matches"] == []
    assert found["leads"] == []
    assert calls(sandbox) == ["GetOpportunityDetails", LEAD, OPPORTUNITIES]


async def test_find_opportunities_by_email_newest_first(sandbox: SandboxServer) -> None:
    found = await find(sandbox, email="ZOE.MUELLER@acme.example")
    [lead] = found["leads"]
    assert (lead["id"], lead["name"], lead["company"]) == (LEAD_ZOE, "Zoë Müller", "Acme Corp")
    assert [o["id"] for o in lead["opportunities"]] == [OPP_SUPPORT, OPP_BIG]
    assert ids(found) == [OPP_BIG, OPP_SUPPORT]  # open before closed
    assert "query" not in found


async def test_find_opportunities_by_lead_id_and_empty_answers(sandbox: SandboxServer) -> None:
    by_id = await find(sandbox, lead_id=LEAD_ZOE)
    none = await find(sandbox, email="nobody@example.com")
    emily = await find(sandbox, lead_id=LEAD_EMILY)
    assert len(by_id["leads"][0]["opportunities"]) == 2
    assert none["leads"] == []
    assert none["matches"] == []
    assert none["text"].startswith("Nothing matched: no lead was found.")
    assert emily["leads"][0]["opportunities"] == []
    assert emily["text"].startswith("No opportunities: the leads found have none.")


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({}, "exactly one of query"),
        ({"email": "a@b.co", "lead_id": LEAD_ZOE}, "exactly one of query"),
        ({"query": "acme", "email": "a@b.co"}, "exactly one of query"),
        ({"email": "not an email"}, "email"),
        ({"lead_id": "zoe"}, "lead_id"),
        ({"query": ""}, "Invalid argument query: must be 1 to 200 characters"),
        ({"query": "   "}, "Invalid argument query: must be 1 to 200 characters, not all spaces"),
        ({"query": "x" * 201}, "Invalid argument query: must be 1 to 200 characters"),
        ({"query": 12}, "Invalid argument query"),
    ],
)
async def test_find_opportunities_refuses_bad_arguments(
    sandbox: SandboxServer, arguments: dict[str, Any], says: str
) -> None:
    async with connect(sandbox) as client:
        result = await client.call_tool(TOOL, arguments)
    assert result.is_error
    assert says in text_of(result)
    assert calls_made_by_tools(sandbox) == []


async def test_an_opportunitys_guid_of_another_type_is_no_match(sandbox: SandboxServer) -> None:
    other = await find(sandbox, query=OPP_EXPANSION, opportunity_type=99999)
    assert other["matches"] == []
    assert calls(sandbox) == ["GetOpportunityDetails"]
    same = await find(sandbox, query=OPP_EXPANSION, opportunity_type=12001)
    assert ids(same) == [OPP_EXPANSION]


@pytest.mark.parametrize(
    "fault",
    [
        Fault("truncated", count=5, path="GetOpportunityDetails"),
        Fault("status", count=10, path="GetOpportunityDetails", status=503),
        Fault("error", count=5, path="GetOpportunityDetails", exception_type="MXUnAuthorizedAccessException"),
    ],
)
async def test_a_failed_opportunity_lookup_is_the_querys_error_not_nothing_found(
    sandbox: SandboxServer, fault: Fault
) -> None:
    sandbox.state.push_fault(fault)
    async with connect(sandbox) as client:
        result = await client.call_tool(TOOL, {"query": OPP_EXPANSION})
    assert result.is_error
    assert "Nothing matched" not in text_of(result)
    assert OPPORTUNITIES not in calls(sandbox)


async def test_finding_by_an_id_names_the_lead_and_its_company(sandbox: SandboxServer) -> None:
    by_opportunity = await find(sandbox, query=OPP_EXPANSION)
    [match] = by_opportunity["matches"]
    ngozi = ("Ngozi Okafor", "Gold Coast Cocoa")
    assert (match["lead"], match["company"], match["lead_id"]) == (*ngozi, LEAD_NGOZI)
    [lead] = by_opportunity["leads"]
    assert (lead["name"], lead["company"], lead["email"]) == (*ngozi, "ngozi.okafor@goldcoastcocoa.example")
    assert "lead Ngozi Okafor, Gold Coast Cocoa" in by_opportunity["text"]
    assert calls(sandbox) == ["GetOpportunityDetails", LEAD, OPPORTUNITIES]  # within the budget
    for found in (await find(sandbox, lead_id=LEAD_ZOE), await find(sandbox, query=f"{LEAD_ZOE} support")):
        assert [(lead["name"], lead["company"]) for lead in found["leads"]] == [("Zoë Müller", "Acme Corp")]
        assert {match["company"] for match in found["matches"]} == {"Acme Corp"}


async def test_a_lead_leadsquared_will_not_read_by_id_still_has_its_opportunities(
    sandbox: SandboxServer,
) -> None:
    sandbox.state.push_fault(Fault("status", count=1, path=LEAD, status=404))
    found = await find(sandbox, query=OPP_EXPANSION)
    assert ids(found) == [OPP_EXPANSION]
    assert [(lead["id"], lead.get("name")) for lead in found["leads"]] == [(LEAD_NGOZI, None)]


@pytest.mark.parametrize("query", ["ngozi\u202e", "\u200bngozi", "ngo\u00adzi\x1b", "\u2066ngozi\u2069 gold"])
async def test_invisible_and_bidirectional_characters_in_a_query_do_not_hide_the_deal(
    sandbox: SandboxServer, query: str
) -> None:
    found = await find(sandbox, query=query)
    assert ids(found)[:1] == [OPP_EXPANSION]
    assert found["query"] == query
