"""Condensing on nasty data: nulls, blanks, unicode, entities, unknown fields, unreadable dates."""

from __future__ import annotations

from typing import Any

import pytest

from lsq_mcp.api.models import RawActivitiesPage, RawActivity
from lsq_mcp.api.values import iso_utc, parse_date, to_int
from lsq_mcp.api.walk import merge_pages
from lsq_mcp.text import html_to_text
from lsq_mcp.tools.activities.result import NOTE_LIMIT, ActivitiesResult, PageRequest, condense
from lsq_mcp.tools.activities.timeline import render_timeline

OPP = "9b2f3c4d-1111-4222-8333-444455556666"
LEAD = "69e1c27e-dd08-4b53-b509-f353ad1c7f4d"


def row(**overrides: Any) -> dict[str, Any]:
    """A row shaped like the documented example, with every quirk of it."""
    base: dict[str, Any] = {
        "ProspectId": LEAD,
        "FirstName": "Zoë",
        "LastName": "Müller",
        "EmailAddress": "zoe@example.com",
        "Phone": "+49-30-1234567",
        "DoNotCall": "0",
        "DoNotEmail": "1",
        "LeadName": "Zoë Müller",
        "LeadOwner": "Rohan Sane",
        "ProspectActivityId": "4ff82538-3e7c-4bc2-ab0d-81957e91865c",
        "ActivityType": "2",
        "ActivityEvent": "22",
        "Score": "5",
        "PACreatedOn": "2020-10-16 05:57:37",
        "PAModifiedOn": "",
        "ActivityEvent_Note": None,
        "IP_Latitude": None,
        "IP_Longitude": "",
        "PACreatedByName": "Rajesh Aggarwal",
        "Status": None,
        "O_ProspectActivityId": "",
        "Total": "1",
        "O_ActivityEventName": "Sales Opportunity",
        "O_ActivityEvent": "12002",
        "O_mx_Custom_1": "Acme – renewal",
        "O_Status": "Open",
        "O_Owner": "",
    }
    base.update(overrides)
    return base


def result_for(
    rows: list[dict[str, Any]], total: int | None = None, page_index: int = 1, page_size: int = 25
) -> ActivitiesResult:
    page = RawActivitiesPage.model_validate({"RecordCount": str(total or len(rows)), "List": rows})
    return condense(PageRequest(OPP, page_index, page_size, "newest_first"), page.record_count, page.rows)


def test_strings_become_numbers_and_blanks_disappear() -> None:
    result = result_for([row()]).to_json()
    activity = result["activities"][0]
    assert activity == {
        "id": "4ff82538-3e7c-4bc2-ab0d-81957e91865c",
        "event_code": 22,
        "created_at": "2020-10-16T05:57:37Z",
        "activity_type": 2,
        "created_by": "Rajesh Aggarwal",
        "score": 5,
    }


def test_no_value_is_null_or_empty_anywhere() -> None:
    def walk(value: Any) -> None:
        assert value is not None
        assert value != ""
        if isinstance(value, dict):
            assert value, "empty object"
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(result_for([row(), row(ProspectActivityId="a2", mx_Custom_3="", Extra=None)]).to_json())


def test_lead_details_given_once_not_per_row() -> None:
    rows = [row(ProspectActivityId=f"id-{i}", Phone="" if i else "+49-30-1234567") for i in range(5)]
    result = result_for(rows).to_json()
    assert result["leads"] == [
        {
            "id": LEAD,
            "name": "Zoë Müller",
            "first_name": "Zoë",
            "last_name": "Müller",
            "email": "zoe@example.com",
            "phone": "+49-30-1234567",
            "owner": "Rohan Sane",
            "do_not_call": False,
            "do_not_email": True,
        }
    ]
    assert all("lead_id" not in a and "email" not in a for a in result["activities"])


def test_activities_of_several_leads_say_whose_they_are() -> None:
    other = "11111111-2222-3333-4444-555555555555"
    rows = [row(), row(ProspectActivityId="b", ProspectId=other, LeadName="José Álvarez", FirstName="José")]
    result = result_for(rows).to_json()
    assert [lead["id"] for lead in result["leads"]] == [LEAD, other]
    assert [a["lead_id"] for a in result["activities"]] == [LEAD, other]
    assert "lead José Álvarez" in render_timeline(result_for(rows))


def test_opportunity_fields_that_repeat_are_given_once() -> None:
    result = result_for([row(), row(ProspectActivityId="b")]).to_json()
    assert result["opportunity"] == {
        "name": "Acme – renewal",
        "status": "Open",
        "type_code": 12002,
        "type_name": "Sales Opportunity",
    }
    assert all("fields" not in a for a in result["activities"])


def test_opportunity_fields_that_vary_stay_with_their_activity() -> None:
    result = result_for([row(O_Status="Open"), row(ProspectActivityId="b", O_Status="Won")]).to_json()
    assert "status" not in result["opportunity"]
    assert [a["fields"]["O_Status"] for a in result["activities"]] == ["Open", "Won"]


def test_custom_unknown_and_json_fields_are_kept_by_name() -> None:
    result = result_for(
        [row(mx_Custom_1=" Connected ", SourceTrackingId="x-9", mx_Custom_2='{"a": "1", "b": "", "c": null}')]
    ).to_json()
    assert result["activities"][0]["fields"] == {
        "SourceTrackingId": "x-9",
        "mx_Custom_1": "Connected",
        "mx_Custom_2": {"a": "1"},
    }


def test_html_notes_become_plain_text() -> None:
    note = "<p>Called &amp; discussed <b>pricing</b></p><br>Next:&nbsp;demo <script>x()</script>&lt;3"
    result = result_for([row(ActivityEvent_Note=note)]).to_json()
    assert result["activities"][0]["note"] == "Called & discussed pricing\nNext: demo <3"


def test_text_with_entities_but_no_tags_is_unescaped() -> None:
    assert html_to_text("Tom &amp; Jerry &#8211; 5 &lt; 6") == "Tom & Jerry – 5 < 6"
    assert html_to_text("a < b and c > d") == "a < b and c > d"


def test_very_long_notes_are_shortened_with_a_marker() -> None:
    note = "word " * 3000
    activity = result_for([row(ActivityEvent_Note=note)]).to_json()["activities"][0]
    assert len(activity["note"]) < NOTE_LIMIT + 60
    assert activity["note"].endswith("[shortened; 14,999 characters in all]")
    line = render_timeline(result_for([row(ActivityEvent_Note=note)])).splitlines()[-1]
    assert len(line) < 300


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2020-10-16 05:57:37", "2020-10-16T05:57:37Z"),
        ("2020-10-16 05:57:37.123", "2020-10-16T05:57:37Z"),
        ("2020-10-16T05:57:37Z", "2020-10-16T05:57:37Z"),
        ("2020-10-16T11:27:37+05:30", "2020-10-16T05:57:37Z"),
        ("/Date(1502992091000+0000)/", "2017-08-17T17:48:11Z"),
        ("/Date(1502992091000)/", "2017-08-17T17:48:11Z"),
        ("4/6/2023 3:23:31 PM", "2023-04-06T15:23:31Z"),
        ("sometime in May", "sometime in May"),
        ("2020-13-45 99:00:00", "2020-13-45 99:00:00"),
    ],
)
def test_dates_become_iso_utc_or_stay_as_they_came(raw: str, expected: str) -> None:
    assert iso_utc(parse_date(raw)) == expected
    assert result_for([row(PACreatedOn=raw)]).to_json()["activities"][0]["created_at"] == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [("12", 12), (" 7 ", 7), ("3.0", 3), ("", None), ("x", None), (None, None)]
)
def test_numbers_from_strings(raw: object, expected: int | None) -> None:
    assert to_int(raw) == expected


def test_garbage_codes_are_dropped_not_invented() -> None:
    activity = result_for([row(ActivityEvent="call", Score="n/a", ActivityType=None)]).to_json()[
        "activities"
    ][0]
    assert "event_code" not in activity
    assert "score" not in activity
    assert "activity_type" not in activity


def test_paging_fields() -> None:
    rows = [row(ProspectActivityId=f"p{i}") for i in range(25)]
    first = result_for(rows, total=60, page_index=1).to_json()
    assert (first["returned"], first["has_more"], first["next_page_index"]) == (25, True, 2)
    last = result_for(rows[:10], total=60, page_index=3).to_json()
    assert last["has_more"] is False
    assert "next_page_index" not in last


def test_empty_page() -> None:
    result = result_for([], total=0)
    assert result.to_json()["activities"] == []
    assert "No activities." in render_timeline(result)


def test_merge_pages_drops_activities_seen_on_an_earlier_page() -> None:
    pages = [
        RawActivitiesPage.model_validate(
            {"RecordCount": 3, "List": [row(ProspectActivityId="a"), row(ProspectActivityId="b")]}
        ),
        RawActivitiesPage.model_validate(
            {"RecordCount": 3, "List": [row(ProspectActivityId="b"), row(ProspectActivityId="c")]}
        ),
    ]
    total, rows = merge_pages(pages)
    assert total == 3
    assert [r.id for r in rows] == ["a", "b", "c"]


def test_raw_page_tolerates_null_list_and_string_count() -> None:
    page = RawActivitiesPage.model_validate({"RecordCount": "0", "List": None, "Other": 1})
    assert (page.record_count, page.rows) == (0, [])


def test_timeline_is_one_line_per_activity_and_readable() -> None:
    rows = [
        row(
            ProspectActivityId="a",
            ActivityEvent_Note="Line one\nLine two",
            Status="Completed",
            mx_Custom_1="Connected",
        ),
        row(ProspectActivityId="b", PACreatedOn="sometime in May"),
    ]
    lines = render_timeline(result_for(rows, total=40)).splitlines()
    assert lines[0] == f"Opportunity {OPP} · Acme – renewal · Sales Opportunity · Open"
    assert lines[1] == "Lead: Zoë Müller · zoe@example.com · +49-30-1234567 · owner Rohan Sane"
    assert lines[2] == "Activities 1-2 of 40, newest first, times UTC. More: page_index=2."
    assert lines[3] == (
        '2020-10-16 05:57 · [22] · by Rajesh Aggarwal · Completed · score +5 · "Line one / Line two" · '
        "mx_Custom_1=Connected"
    )
    assert lines[4].startswith("sometime in May · [22]")
    assert len(lines) == 5


def test_raw_activity_keeps_unknown_fields() -> None:
    raw = RawActivity.model_validate(row(Brand_New="yes"))
    assert raw.extras["Brand_New"] == "yes"
