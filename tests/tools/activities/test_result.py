"""Condensing on nasty data: nulls, blanks, unicode, entities, unknown fields, unreadable dates."""

from __future__ import annotations

from typing import Any

import pytest

from lsq_mcp.api.models import RawActivitiesPage, RawActivity, RawActivitySetting
from lsq_mcp.api.values import iso_utc, parse_date, to_int
from lsq_mcp.api.walk import Seen
from lsq_mcp.metadata import field_names
from lsq_mcp.text import Cap, html_to_text
from lsq_mcp.tools.activities.result import Condenser, PageRequest
from lsq_mcp.tools.activities.timeline import render_timeline
from lsq_mcp.tools.base_result import Json

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
    rows: list[dict[str, Any]],
    total: int | None = None,
    page_index: int = 1,
    page_size: int = 25,
    names: dict[int, dict[str, str]] | None = None,
    events: dict[int, str] | None = None,
) -> Json:
    """The result of one page of `rows`, as the tool condenses it."""
    page = RawActivitiesPage.read({"RecordCount": str(total or len(rows)), "List": rows})
    condenser = Condenser(OPP)
    activities = condenser.add(page.rows, events or {}, names or {})
    has_more = (page_index - 1) * page_size + len(rows) < page.record_count
    request = PageRequest(OPP, page_index, page_size, "newest_first")
    return condenser.result(
        request, page.record_count, activities, has_more=has_more, next_page=page_index + 1
    )


def test_strings_become_numbers_and_blanks_disappear() -> None:
    result = result_for([row()])
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

    walk(result_for([row(), row(ProspectActivityId="a2", mx_Custom_3="", Extra=None)]))


def test_lead_details_given_once_not_per_row() -> None:
    rows = [row(ProspectActivityId=f"id-{i}", Phone="" if i else "+49-30-1234567") for i in range(5)]
    result = result_for(rows)
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
    result = result_for(rows)
    assert [lead["id"] for lead in result["leads"]] == [LEAD, other]
    assert [a["lead_id"] for a in result["activities"]] == [LEAD, other]
    assert "lead José Álvarez" in render_timeline(result_for(rows))


def test_opportunity_fields_that_repeat_are_given_once() -> None:
    result = result_for([row(), row(ProspectActivityId="b")])
    assert result["opportunity"] == {
        "name": "Acme – renewal",
        "status": "Open",
        "type_code": 12002,
        "type_name": "Sales Opportunity",
    }
    assert all("fields" not in a for a in result["activities"])


def test_opportunity_fields_that_vary_stay_with_their_activity() -> None:
    result = result_for([row(O_Status="Open"), row(ProspectActivityId="b", O_Status="Won")])
    assert "status" not in result["opportunity"]
    assert [a["fields"]["O_Status"] for a in result["activities"]] == ["Open", "Won"]


def test_custom_unknown_and_json_fields_are_kept_by_name() -> None:
    result = result_for(
        [row(mx_Custom_1=" Connected ", SourceTrackingId="x-9", mx_Custom_2='{"a": "1", "b": "", "c": null}')]
    )
    assert result["activities"][0]["fields"] == {
        "SourceTrackingId": "x-9",
        "mx_Custom_1": "Connected",
        "mx_Custom_2": {"a": "1"},
    }


def test_html_notes_become_plain_text() -> None:
    note = "<p>Called &amp; discussed <b>pricing</b></p><br>Next:&nbsp;demo <script>x()</script>&lt;3"
    result = result_for([row(ActivityEvent_Note=note)])
    assert result["activities"][0]["note"] == "Called & discussed pricing\nNext: demo <3"


def test_text_with_entities_but_no_tags_is_unescaped() -> None:
    assert html_to_text("Tom &amp; Jerry &#8211; 5 &lt; 6") == "Tom & Jerry – 5 < 6"
    assert html_to_text("a < b and c > d") == "a < b and c > d"


def test_very_long_notes_are_shortened_with_a_marker() -> None:
    note = "word " * 3000
    activity = result_for([row(ActivityEvent_Note=note)])["activities"][0]
    assert len(activity["note"]) < Cap.NOTE + 20
    assert activity["note"].endswith("…[+12,999 chars]")
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
        # At the calendar's edge, an offset takes them past it in UTC: no date, kept as sent.
        ("9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59-01:00"),
        ("0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00+01:00"),
    ],
)
def test_dates_become_iso_utc_or_stay_as_they_came(raw: str, expected: str) -> None:
    assert iso_utc(parse_date(raw)) == expected
    assert result_for([row(PACreatedOn=raw)])["activities"][0]["created_at"] == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [("12", 12), (" 7 ", 7), ("3.0", 3), ("", None), ("x", None), (None, None)]
)
def test_numbers_from_strings(raw: object, expected: int | None) -> None:
    assert to_int(raw) == expected


def test_garbage_codes_are_dropped_not_invented() -> None:
    activity = result_for([row(ActivityEvent="call", Score="n/a", ActivityType=None)])["activities"][0]
    assert "event_code" not in activity
    assert "score" not in activity
    assert "activity_type" not in activity


def test_paging_fields() -> None:
    rows = [row(ProspectActivityId=f"p{i}") for i in range(25)]
    first = result_for(rows, total=60, page_index=1)
    assert (first["returned"], first["has_more"], first["next_page_index"]) == (25, True, 2)
    last = result_for(rows[:10], total=60, page_index=3)
    assert last["has_more"] is False
    assert "next_page_index" not in last


def test_empty_page() -> None:
    result = result_for([], total=0)
    assert result["activities"] == []
    assert "No activities." in render_timeline(result)


def test_a_walk_drops_activities_seen_on_an_earlier_page() -> None:
    pages = [
        RawActivitiesPage.read(
            {"RecordCount": 3, "List": [row(ProspectActivityId="a"), row(ProspectActivityId="b")]}
        ),
        RawActivitiesPage.read(
            {"RecordCount": 3, "List": [row(ProspectActivityId="b"), row(ProspectActivityId="c")]}
        ),
    ]
    seen = Seen()
    assert [r.id for page in pages for r in seen.fresh(page.rows)] == ["a", "b", "c"]
    assert seen.repeated == 1


def test_raw_page_tolerates_null_list_and_string_count() -> None:
    page = RawActivitiesPage.read({"RecordCount": "0", "List": None, "Other": 1})
    assert (page.record_count, page.rows) == (0, [])
    bad: list[Any] = [
        [],
        {"List": []},
        {"RecordCount": "many"},
        {"RecordCount": 1, "List": "x"},
        {"RecordCount": 1, "List": [1]},
    ]
    for body in bad:
        with pytest.raises((ValueError, TypeError)):
            RawActivitiesPage.read(body)


def test_timeline_is_a_line_per_activity_under_its_day() -> None:
    rows = [
        row(
            ProspectActivityId="a",
            ActivityEvent_Note="Line one\nLine two",
            Status="Completed",
            mx_Custom_1="Connected",
            mx_Custom_2="2020-10-17 09:00:00",
        ),
        row(ProspectActivityId="b", PACreatedOn="sometime in May"),
    ]
    names = {22: {"mx_Custom_1": "Call Outcome", "mx_Custom_2": "Call Back At"}}
    result = result_for(rows, total=40, names=names, events={22: "Outbound Phone Call"})
    assert render_timeline(result).splitlines() == [
        f"Opportunity {OPP} · Acme – renewal · Sales Opportunity · Open",
        "Lead: Zoë Müller · zoe@example.com · +49-30-1234567 · owner Rohan Sane",
        "Activities 1-2 of 40, newest first, times UTC. More: page_index=2.",
        # What every activity of a type shares is said once, with the type's code.
        "Types: 22 Outbound Phone Call (score +5)",
        "16 Oct 2020",
        "05:57 Outbound Phone Call by Rajesh Aggarwal · Completed · Line one / Line two"
        " · Call Outcome=Connected · Call Back At=2020-10-17 09:00",
        "sometime in May",
        "Outbound Phone Call by Rajesh Aggarwal",
    ]


def test_custom_fields_take_their_display_names_and_keep_apart() -> None:
    setting = RawActivitySetting.model_validate(
        {
            "Fields": [
                {"SchemaName": "mx_Custom_1", "DisplayName": "Meeting Location"},
                {"SchemaName": "mx_Custom_4", "DisplayName": "Visit Notes"},
                {"SchemaName": "mx_Custom_5", "DisplayName": "Visit Notes"},
                {"SchemaName": "mx_Custom_6", "DisplayName": "Source"},
                {"SchemaName": "mx_Custom_7", "DisplayName": None},
            ]
        }
    )
    names = field_names(setting)
    rows = [
        row(
            mx_Custom_1="Berlin",
            mx_Custom_4="A",
            mx_Custom_5="B",
            mx_Custom_6="web",
            Source="x",
            mx_Custom_7="y",
        )
    ]
    result = result_for(rows, names={22: names})
    assert result["activities"][0]["fields"] == {
        "Meeting Location": "Berlin",
        "Visit Notes (mx_Custom_4)": "A",
        "Visit Notes (mx_Custom_5)": "B",
        "Source (mx_Custom_6)": "web",  # another field has its display name
        "Source": "x",
        "mx_Custom_7": "y",
    }
    assert "Visit Notes (mx_Custom_4)=A · Visit Notes (mx_Custom_5)=B" in render_timeline(result)
    assert result_for(rows, names={21: names})["activities"][0]["fields"]["mx_Custom_1"] == "Berlin"


def test_what_repeats_the_result_is_left_out() -> None:
    rows = [
        row(ProspectActivityId="a", PAModifiedOn="2020-10-16 05:57:37", PAModifiedByName="Rajesh Aggarwal"),
        row(ProspectActivityId="b", PAModifiedOn="2020-10-17 08:00:00", PAModifiedByName="Rajesh Aggarwal"),
        row(ProspectActivityId="c", PAModifiedByName="Priya Nair"),
        row(ProspectActivityId="d", O_ProspectActivityId=OPP.upper()),
    ]
    first, second, third, _ = result_for(rows)["activities"]
    assert "modified_at" not in first
    assert "modified_by" not in first
    assert (second["modified_at"], second["modified_by"]) == ("2020-10-17T08:00:00Z", "Rajesh Aggarwal")
    assert third["modified_by"] == "Priya Nair"
    assert "fields" not in result_for(rows).get("opportunity", {}), (
        "O_ProspectActivityId is the opportunity's id"
    )


def test_raw_activity_keeps_unknown_fields() -> None:
    raw = RawActivity.read(row(Brand_New="yes", Status=12))
    assert raw.extras["Brand_New"] == "yes"
    assert raw.status == "12", "a number sent where text is documented is read as its text"
    assert "Total" not in raw.extras
