"""Deterministic sample data for the LeadSquared sandbox.

Everything here is plain data: a few leads, a few opportunities and their activity timelines,
shaped exactly like LeadSquared's raw answers (strings everywhere, ``null`` and ``""`` mixed in,
odd date formats, HTML and JSON inside notes). Tests, benchmarks and demos all rely on the ids
and counts below, so nothing is random at import time: the generated timelines use
``random.Random`` with fixed seeds and always come out the same.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from lsq_mcp.sandbox.catalog import Catalog
from lsq_mcp.sandbox.lookalikes import LOOKALIKE_LEADS, LOOKALIKE_OPPORTUNITIES, OPP_EXPANSION
from lsq_mcp.sandbox.records import (
    UTC,
    Row,
    SalesRep,
    SampleActivity,
    SampleActivitySetting,
    SampleField,
    SampleLead,
    SampleOpportunity,
    TaskPlan,
    flag,
    fmt,
)

SANDBOX_ACCESS_KEY = "u$r3b8f2c6e9a1d4f7b0c5e8a2d6f9b3c7e1"
SANDBOX_SECRET_KEY = "8f3c1a9e5b7d2f6a0c4e8b1d5f9a3c7e2b6d0f4a"  # noqa: S105 (public demo key)

# --------------------------------------------------------------------------------------------
# Fixed ids (lowercase 8-4-4-4-12). Documented in the README and relied on by tests.
# --------------------------------------------------------------------------------------------

LEAD_ZOE = "3f2b8c1a-6d4e-4f7a-9b2c-5e1d0a8f7c34"
LEAD_ANANYA = "8a4d2e6f-1c3b-4a5d-8e7f-9b0c1d2e3f45"
LEAD_JOSE = "c1e5a7b9-3d2f-4e6a-b8c0-7f9e1d3a5b26"
LEAD_LI = "5d7f9b1c-2e4a-4c6e-a8b0-1c3e5f7a9d38"
LEAD_MANISH = "69e1c27e-dd08-4b53-b509-f353ad1c7f4d"
LEAD_EMILY = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c61"

OPP_BIG = "6f1c2a9e-4b7d-4e52-9c0a-1d3e5f7a9b21"
OPP_EMPTY = "0a7d3c55-2e91-4f6b-8d14-7c9e2b4a6f03"
OPP_HTML = "b3e8f1d2-7a64-4c09-a5e3-92f0c6d18e47"
OPP_ODD = "d94a6b2c-1f3e-4a8d-b7c5-3e2f1a0b9c68"
OPP_UNICODE = "e5c71f08-93ab-4d2e-8f61-b4a0d7c3e912"
OPP_SUPPORT = "7c2e9d41-5b08-4f3a-9e6d-a1b2c3d4e5f6"
# Only in a catalog built with `build_catalog(huge_activities=N)`, for benchmarks and budget tests.
OPP_HUGE = "4e0f7d21-8c3a-4b5e-9f60-2a1b3c4d5e6f"

BIG_ACTIVITY_COUNT = 640

SANDBOX_USER: dict[str, str] = {
    "Id": "a0c1e2f3-0000-4000-8000-5a4db0c5e001",
    "FirstName": "Sandbox",
    "LastName": "User",
    "EmailAddress": "sandbox@example.com",
    "Tenant": "sandbox",
}

# --------------------------------------------------------------------------------------------
# People and activity types
# --------------------------------------------------------------------------------------------

REPS: dict[str, SalesRep] = {
    rep.name: rep
    for rep in (
        SalesRep("Rohan Sane", "1b2c3d4e-0001-4a00-8000-00000000a001", "rohan.sane@sandbox.example"),
        SalesRep("Priya Nair", "1b2c3d4e-0002-4a00-8000-00000000a002", "priya.nair@sandbox.example"),
        SalesRep("Daniel Kim", "1b2c3d4e-0003-4a00-8000-00000000a003", "daniel.kim@sandbox.example"),
        SalesRep("Sofia Rossi", "1b2c3d4e-0004-4a00-8000-00000000a004", "sofia.rossi@sandbox.example"),
    )
}

# code: (ActivityEventName, DisplayName, Category, Score, ActivityType value used in rows)
_TYPE_SPECS: dict[int, tuple[str, str, str, int, str]] = {
    21: ("Inbound Phone Call Activity", "Inbound Phone Call", "Phone", 2, "2"),
    22: ("Outbound Phone Call Activity", "Outbound Phone Call", "Phone", 2, "2"),
    23: ("Lead Capture", "Lead Capture", "System", 0, "0"),
    33: ("Opportunity Captured", "Opportunity Captured", "System", 0, "0"),
    34: ("Opportunity Shared", "Opportunity Shared", "System", 0, "0"),
    35: ("Opportunity Access Revoked", "Opportunity Access Revoked", "System", 0, "0"),
    201: ("Demo Scheduled", "Demo Scheduled", "Sales Activity", 10, "2"),
    202: ("Proposal Sent", "Proposal Sent", "Sales Activity", 15, "2"),
    203: ("Meeting", "Meeting", "Sales Activity", 8, "2"),
    204: ("Email Sent", "Email Sent", "Email", 3, "1"),
    205: ("Follow-up Task", "Follow-up Task", "Sales Activity", 1, "2"),
    206: ("Stage Changed", "Opportunity Stage Changed", "Sales Activity", 5, "2"),
    207: ("Contract Signed", "Contract Signed", "Sales Activity", 15, "2"),
    208: ("Support Ticket Raised", "Support Ticket", "Support", 0, "2"),
    209: ("Webinar Attended", "Webinar Attended", "Marketing", 4, "2"),
}

UNLISTED_EVENT_CODE = 299
"""Used by one activity but absent from ActivityTypes.Get (a deleted custom type)."""


def build_activity_types() -> tuple[dict[str, Any], ...]:
    """ActivityTypes.Get's answer: loosely typed on purpose (ints, strings, a string code)."""
    types: list[dict[str, Any]] = []
    for code, (name, display, category, score, _) in _TYPE_SPECS.items():
        custom = code >= 200
        types.append(
            {
                # The real API is loose; one custom type carries its code as a string.
                "ActivityEvent": str(code) if code == 206 else code,
                "ActivityEventName": name,
                "DisplayName": display,
                "Category": category,
                "Score": str(score) if custom else score,
                "IsCustom": custom,
                "Direction": "Outbound" if code == 22 else ("Inbound" if code == 21 else None),
            }
        )
    return tuple(types)


# Custom field names per activity type (GetActivitySetting). Every mx_Custom_N that a sample row
# of the type carries is named for what it holds. Types not listed here have no settings to tell:
# system types other than phone calls, custom types without custom fields, and unknown codes.
_CALL_FIELDS = (
    SampleField("mx_Custom_1", "Call Duration"),
    SampleField("mx_Custom_2", "Call Outcome", "Dropdown", mandatory=True),
    SampleField("mx_Custom_3", "Call Recording", in_form=False),
    SampleField("mx_Custom_5", "Call Language", "Dropdown"),
)
ACTIVITY_FIELDS: dict[int, tuple[SampleField, ...]] = {
    21: _CALL_FIELDS,
    22: _CALL_FIELDS,
    201: (
        SampleField("mx_Custom_1", "Demo Date", "DateTime", mandatory=True),
        SampleField("mx_Custom_2", "Product", "Dropdown"),
    ),
    202: (
        SampleField("mx_Custom_1", "Proposal Amount", "Number", mandatory=True),
        SampleField("mx_Custom_2", "Currency", "Dropdown"),
        SampleField("mx_Custom_3", "Proposal Version"),
        SampleField("mx_Custom_4", "Pricing Details"),
    ),
    203: (
        SampleField("mx_Custom_1", "Meeting Location"),
        SampleField("mx_Custom_2", "Duration (Minutes)", "Number"),
        SampleField("mx_Custom_3", "Attendees"),
        # Two fields with one display name, as accounts do end up with: clients must keep them apart.
        SampleField("mx_Custom_4", "Visit Notes"),
        SampleField("mx_Custom_5", "Visit Notes"),
    ),
    204: (
        SampleField("mx_Custom_1", "Email Subject"),
        SampleField("mx_Custom_2", "Email Status", "Dropdown"),
    ),
    205: (SampleField("mx_Custom_1", "Due Date", "DateTime", mandatory=True),),
    206: (
        SampleField("mx_Custom_1", "Previous Stage", "Dropdown"),
        SampleField("mx_Custom_2", "New Stage", "Dropdown", mandatory=True),
        SampleField("mx_Custom_3", "Loss Reason", "Dropdown"),
    ),
    207: (
        SampleField("mx_Custom_1", "Contract Value", "Number", mandatory=True),
        SampleField("mx_Custom_2", "Signed Via", "Dropdown"),
    ),
}
_SETTING_NAMESPACE = uuid.UUID("5a4db0c5-0000-4000-8000-000000000203")
DUPLICATE_NAME_EVENT_CODE = 203
"""The activity type (Meeting) whose mx_Custom_4 and mx_Custom_5 are both called "Visit Notes"."""


def build_activity_settings() -> dict[int, SampleActivitySetting]:
    """GetActivitySetting's answers by event code, for the types that have custom field names."""
    return {
        code: SampleActivitySetting(
            code=code,
            id=str(uuid.uuid5(_SETTING_NAMESPACE, str(code))),
            name=_TYPE_SPECS[code][0],
            display_name=_TYPE_SPECS[code][1],
            fields=fields,
        )
        for code, fields in ACTIVITY_FIELDS.items()
    }


# --------------------------------------------------------------------------------------------
# Leads and opportunities
# --------------------------------------------------------------------------------------------


def _at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


LEADS: tuple[SampleLead, ...] = (
    SampleLead(
        LEAD_ZOE,
        "Zoë",
        "Müller",
        "zoe.mueller@acme.example",
        "+49-89-12345678",
        "Rohan Sane",
        "Acme Corp",
        "München",
        "Customer",
        _at(2023, 8, 28, 14, 3, 11),
    ),
    SampleLead(
        LEAD_ANANYA,
        "Ananya",
        "Iyer",
        "ananya.iyer@brightpath.example",
        "+91-9876543210",
        "Priya Nair",
        "BrightPath Learning",
        "Mumbai",
        "Customer",
        _at(2024, 1, 5, 6, 40, 2),
    ),
    SampleLead(
        LEAD_JOSE,
        "José",
        "Álvarez",
        "jose.alvarez@solmar.example",
        "+34-612-345-678",
        "Sofia Rossi",
        "Solmar Hoteles",
        "Málaga",
        "Prospect",
        _at(2023, 3, 20, 9, 0, 0),
    ),
    SampleLead(
        LEAD_LI,
        "李小龙",
        None,
        "xiaolong.li@dragonlogistics.example",
        "+86-138-0013-8000",
        "Daniel Kim",
        "龙腾物流 (Dragon Logistics)",
        "深圳",
        "Prospect",
        _at(2024, 11, 4, 2, 15, 0),
        do_not_call=True,
    ),
    SampleLead(
        LEAD_MANISH,
        "Manish",
        "Garg",
        "manish.garg@northwind.example",
        "+91-9999999999",
        "Rohan Sane",
        "Northwind Traders",
        "Pune",
        "Prospect",
        _at(2025, 2, 18, 11, 2, 45),
    ),
    SampleLead(
        LEAD_EMILY,
        "Emily",
        "O'Brien",
        "Emily.OBrien@harborfinch.example",
        None,
        "Sofia Rossi",
        "Harbor & Finch",
        None,
        "Prospect",
        _at(2024, 6, 12, 16, 30, 0),
        do_not_email=True,
    ),
)
"""Six leads; unicode names on purpose, one without a phone and with DoNotEmail set."""


OPPORTUNITIES: tuple[SampleOpportunity, ...] = (
    SampleOpportunity(
        OPP_BIG,
        "Acme Corp – Enterprise renewal",
        LEAD_ZOE,
        12002,
        "Enterprise Deal",
        "Open",
        "Negotiation",
        "Rohan Sane",
        "Existing Customer",
        _at(2023, 9, 4, 9, 12, 0),
        _at(2025, 2, 27, 16, 5, 0),
        _at(2025, 6, 30),
        "248000.00",
        "EUR",
        "Salesforce",
        f"{BIG_ACTIVITY_COUNT} activities, 18 months, 4 reps: calls, emails, meetings, demos, proposals",
    ),
    SampleOpportunity(
        OPP_EMPTY,
        "Northwind Traders – Pilot expansion",
        LEAD_MANISH,
        12001,
        "SMB Deal",
        "Open",
        "Prospecting",
        "Rohan Sane",
        "Website",
        _at(2025, 2, 20, 10, 0, 0),
        _at(2025, 2, 20, 10, 0, 0),
        None,
        "15000.00",
        "USD",
        None,
        "no activities at all",
    ),
    SampleOpportunity(
        OPP_HTML,
        "BrightPath Learning – LMS licences",
        LEAD_ANANYA,
        12001,
        "SMB Deal",
        "Won",
        "Closed Won",
        "Priya Nair",
        "Referral",
        _at(2024, 1, 8, 10, 2, 11),
        _at(2024, 2, 2, 12, 0, 0),
        _at(2024, 2, 15),
        "3200000.00",
        "INR",
        "",
        "7 activities with HTML notes",
    ),
    SampleOpportunity(
        OPP_ODD,
        "Solmar Hoteles – Booking engine",
        LEAD_JOSE,
        12002,
        "Enterprise Deal",
        "Lost",
        "Closed Lost",
        "Sofia Rossi",
        "Website",
        _at(2023, 3, 20, 9, 5, 12),
        _at(2023, 5, 23, 8, 0, 0),
        _at(2023, 6, 30),
        "180000.00",
        "EUR",
        "BookingSuite",
        "10 activities: a 5,000-character note, a JSON note, odd and unparseable dates",
    ),
    SampleOpportunity(
        OPP_UNICODE,
        "龙腾物流 – Fleet tracking",
        LEAD_LI,
        12002,
        "Enterprise Deal",
        "Open",
        "Qualification",
        "Daniel Kim",
        "Partner",
        _at(2024, 11, 5, 3, 0, 0),
        _at(2025, 3, 3, 4, 0, 0),
        None,
        "560000.00",
        "CNY",
        None,
        "14 activities: Chinese text, emoji, nulls, an activity type with no name",
    ),
    SampleOpportunity(
        OPP_SUPPORT,
        "Acme Corp – Support add-on",
        LEAD_ZOE,
        12003,
        "Support Contract",
        "Won",
        "Closed Won",
        "Priya Nair",
        "Existing Customer",
        _at(2024, 5, 6, 8, 30, 0),
        _at(2024, 8, 30, 15, 0, 0),
        _at(2024, 8, 31),
        "36000.00",
        "EUR",
        None,
        "12 activities; the same lead's second opportunity",
    ),
)
"""Six opportunities covering the shapes a client must cope with (see SAMPLE_OPPORTUNITIES)."""


# --------------------------------------------------------------------------------------------
# Activity rows
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """What one activity says; turned into a raw row by ``_activity``."""

    when: datetime
    event: int
    by: str | None
    note: str | None = None
    status: str | None = None
    custom: Mapping[str, str | None] = field(default_factory=dict)
    created_text: str | None = None
    modified: datetime | None = None
    modified_text: str | None = None
    score: str | None = None
    location: tuple[str, str] | None = None
    extra: Mapping[str, str | None] = field(default_factory=dict)
    blank_opportunity: bool = False


def _lead_part(lead: SampleLead) -> Row:
    return {
        "ProspectId": lead.id,
        "FirstName": lead.first_name,
        "LastName": lead.last_name,
        "EmailAddress": lead.email,
        "Phone": lead.phone,
        "DoNotCall": flag(lead.do_not_call),
        "DoNotEmail": flag(lead.do_not_email),
        "LeadName": lead.full_name,
        "LeadOwner": lead.owner,
    }


def _opportunity_part(opp: SampleOpportunity, blank: bool) -> Row:
    if blank:  # as in the documentation's example item
        return {
            "O_ProspectActivityId": "",
            "Total": "",
            "O_ActivityEventName": "",
            "O_ActivityEvent": "",
            "O_mx_Custom_1": "",
            "O_Status": "",
            "O_Owner": "",
        }
    return {
        "O_ProspectActivityId": opp.id,
        "Total": "",  # filled in per answer with the matching count
        "O_ActivityEventName": opp.event_name,
        "O_ActivityEvent": str(opp.event_code),
        "O_mx_Custom_1": opp.name,
        "O_Status": opp.status,
        "O_Owner": opp.owner,
    }


def _activity(lead: SampleLead, opp: SampleOpportunity, spec: _Spec, activity_id: str) -> SampleActivity:
    """Build one row in the documented field order, then custom and extra fields."""
    modified = spec.modified or spec.when
    _, _, _, type_score, row_type = _TYPE_SPECS.get(spec.event, ("", "", "", 0, "2"))
    latitude, longitude = spec.location or (None, None)
    row: Row = _lead_part(lead)
    row.update(
        {
            "ProspectActivityId": activity_id,
            "ActivityType": row_type,
            "ActivityEvent": str(spec.event),
            "Score": spec.score if spec.score is not None else str(type_score),
            "PACreatedOn": spec.created_text if spec.created_text is not None else fmt(spec.when),
            "PAModifiedOn": spec.modified_text if spec.modified_text is not None else fmt(modified),
            "ActivityEvent_Note": spec.note,
            "IP_Latitude": latitude,
            "IP_Longitude": longitude,
            "PACreatedByName": spec.by,
            "Status": spec.status,
        }
    )
    row.update(_opportunity_part(opp, spec.blank_opportunity))
    row.update(spec.custom)
    row.update(spec.extra)
    return SampleActivity(row=row, created=spec.when, modified=modified)


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _materialise(
    lead: SampleLead, opp: SampleOpportunity, specs: Sequence[_Spec], seed: int
) -> tuple[SampleActivity, ...]:
    rng = random.Random(seed)
    activities = [_activity(lead, opp, spec, _guid(rng)) for spec in specs]
    return tuple(sorted(activities, key=lambda activity: activity.created))


# ---- the big one ---------------------------------------------------------------------------

_TOPICS = (
    "SSO integration with Azure AD",
    "data residency in the EU",
    "a volume discount above 1,000 seats",
    "a 3-year renewal term",
    "the SOC 2 Type II report",
    "API rate limits",
    "the onboarding plan",
    "the 7% price uplift",
    "migration from the legacy CRM",
    "the invoice schedule",
    "the DPA redlines",
    "uptime SLA credits",
    "the analytics add-on",
    "training for the Vienna office",
)
_SUBJECTS = (
    "Renewal proposal – next steps",
    "SOC 2 report (NDA)",
    "Follow-up: pricing questions",
    "Agenda for Thursday",
    "Recap of today's call",
    "Updated order form",
    "Re: DPA redlines",
    "Invitation: quarterly business review",
    "Your questions about SSO",
    "Contract draft v{n}",
)
_CALL_OUTCOMES = (
    "Connected",
    "Connected",
    "Connected",
    "Connected",
    "Connected",
    "Connected",
    "No Answer",
    "No Answer",
    "Left Voicemail",
    "Busy",
)
_MEETING_PLACES = ("Zoom", "Microsoft Teams", "On-site, München", "Google Meet")
_BIG_STAGES = (
    (40, "Prospecting", "Qualification"),
    (120, "Qualification", "Needs Analysis"),
    (220, "Needs Analysis", "Demo"),
    (330, "Demo", "Proposal"),
    (470, "Proposal", "Negotiation"),
)
_BIG_SHARES = {
    90: ("34", "Priya Nair"),
    200: ("34", "Daniel Kim"),
    310: ("34", "Sofia Rossi"),
    455: ("35", "Daniel Kim"),
}
_BIG_DEMOS = (214, 226, 238, 251, 262, 288)
_BIG_PROPOSALS = {335: "265000.00", 410: "258000.00", 520: "251500.00", 600: "248000.00"}
_ROUTINE_EVENTS = (22, 22, 22, 22, 22, 22, 21, 21, 204, 204, 204, 204, 204, 204, 203, 203, 203, 205, 205, 205)
_MUNICH = ("48.1372", "11.5756")


def _big_times(rng: random.Random, start: datetime, end: datetime, count: int) -> list[datetime]:
    """Business-hour weekday timestamps between start and end, oldest first, start included."""
    days = (end - start).days
    times: list[datetime] = []
    for _ in range(count - 1):
        day = start + timedelta(days=rng.randint(1, days))
        if day.weekday() >= 5:
            day += timedelta(days=7 - day.weekday())
        times.append(
            day.replace(hour=rng.randint(7, 16), minute=rng.randint(0, 59), second=rng.randint(0, 59))
        )
    return [start, *sorted(times)]


def _big_rep(rng: random.Random, index: int) -> str:
    """Who logs activity ``index``: reps join as the deal is shared, Daniel leaves when revoked."""
    reps = ["Rohan Sane"] * 5
    if index > 90:
        reps += ["Priya Nair"] * 2
    if 200 < index < 455:
        reps += ["Daniel Kim"] * 2
    if index > 310:
        reps += ["Sofia Rossi"] * 2
    return rng.choice(reps)


def _call(rng: random.Random, when: datetime, by: str, event: int, first: str) -> _Spec:
    outcome = rng.choice(_CALL_OUTCOMES)
    connected = outcome == "Connected"
    minutes = rng.randint(2, 35) if connected else 0
    duration = f"00:{minutes:02d}:{rng.randint(0, 59):02d}"
    note: str | None
    if connected:
        verb = "Called" if event == 22 else f"{first} called in;"
        note = f"{verb} discussed {rng.choice(_TOPICS)}. Next: {rng.choice(_TOPICS)}."
    else:
        note = rng.choice((None, "", f"{outcome} – try again tomorrow"))
    recording = f"https://recordings.sandbox.example/{rng.getrandbits(32):08x}.mp3" if connected else None
    return _Spec(
        when,
        event,
        by,
        note=note,
        score="2" if connected else "0",
        custom={
            "mx_Custom_1": duration,
            "mx_Custom_2": outcome,
            "mx_Custom_3": recording if rng.random() < 0.5 else None,
        },
    )


def _email(rng: random.Random, when: datetime, by: str, first: str) -> _Spec:
    state = rng.choice(("Sent", "Opened", "Opened", "Clicked", "Bounced"))
    subject = rng.choice(_SUBJECTS).format(n=rng.randint(2, 6))
    topic = rng.choice(_TOPICS)
    note = rng.choice(
        (
            f"<p>Hi {first},</p><p>as promised, a short note on {topic}.</p><p>Best regards</p>",
            f"Sent {topic} summary",
            None,
        )
    )
    extra: dict[str, str | None] = {}
    if rng.random() < 0.08:
        extra["SourceTrackingId"] = f"utm_source=crm&utm_campaign=renewal-{when.year}"
    return _Spec(
        when,
        204,
        by,
        note=note,
        status=state,
        location=_MUNICH if state in ("Opened", "Clicked") else None,
        custom={"mx_Custom_1": subject, "mx_Custom_2": state},
        extra=extra,
    )


def _meeting(rng: random.Random, when: datetime, by: str, first: str) -> _Spec:
    status = rng.choice(("Completed",) * 8 + ("Cancelled", "No Show"))
    note = (
        f"Met {first} and Jonas Weber (IT) about {rng.choice(_TOPICS)}; agreed to revisit "
        f"{rng.choice(_TOPICS)}."
        if status == "Completed"
        else rng.choice(("", None))
    )
    return _Spec(
        when,
        203,
        by,
        note=note,
        status=status,
        modified=when + timedelta(minutes=rng.randint(0, 240)),
        custom={
            "mx_Custom_1": rng.choice(_MEETING_PLACES),
            "mx_Custom_2": str(rng.choice((30, 45, 60))),
            "mx_Custom_3": f"{first} Müller; Jonas Weber",
        },
    )


def _task(rng: random.Random, when: datetime, by: str) -> _Spec:
    due = when + timedelta(days=rng.randint(1, 14))
    status = rng.choice(("Completed", "Completed", "Completed", "Overdue", "Pending"))
    return _Spec(
        when,
        205,
        by,
        note=f"Send {rng.choice(_TOPICS)} details",
        status=status,
        custom={"mx_Custom_1": fmt(due)},
    )


def _routine(rng: random.Random, when: datetime, by: str, first: str) -> _Spec:
    event = rng.choice(_ROUTINE_EVENTS)
    if event in (21, 22):
        return _call(rng, when, by, event, first)
    if event == 204:
        return _email(rng, when, by, first)
    if event == 203:
        return _meeting(rng, when, by, first)
    return _task(rng, when, by)


def _big_milestone(rng: random.Random, index: int, when: datetime, by: str) -> _Spec | None:
    """The scripted activities of the big timeline (stage changes, shares, demos, proposals)."""
    for at, old, new in _BIG_STAGES:
        if index == at:
            return _Spec(
                when,
                206,
                by,
                note=f"Stage moved from {old} to {new}",
                custom={"mx_Custom_1": old, "mx_Custom_2": new},
            )
    if index in _BIG_SHARES:
        code, who = _BIG_SHARES[index]
        verb = "Shared with" if code == "34" else "Access revoked for"
        return _Spec(when, int(code), "Rohan Sane", note=f"{verb} {who}")
    if index in _BIG_DEMOS:
        status = "Completed" if index != _BIG_DEMOS[2] else "Rescheduled"
        return _Spec(
            when,
            201,
            by,
            status=status,
            note=f"Demo of the analytics add-on for {rng.randint(3, 12)} people",
            custom={"mx_Custom_1": fmt(when + timedelta(days=3)), "mx_Custom_2": "Analytics Suite"},
        )
    if index in _BIG_PROPOSALS:
        version = sorted(_BIG_PROPOSALS).index(index) + 1
        return _Spec(
            when,
            202,
            by,
            note=f"Proposal v{version} sent",
            status="Completed",
            custom={"mx_Custom_1": _BIG_PROPOSALS[index], "mx_Custom_2": "EUR", "mx_Custom_3": f"v{version}"},
        )
    return None


def _big_specs(
    lead: SampleLead, opp: SampleOpportunity, count: int = BIG_ACTIVITY_COUNT, seed: int = 6402023
) -> list[_Spec]:
    rng = random.Random(seed)
    times = _big_times(rng, opp.created_on, _at(2025, 2, 27, 16, 5, 0), count)
    specs = [_Spec(times[0], 33, "Rohan Sane", note="Renewal opportunity created from the account plan")]
    for index, when in enumerate(times[1:], start=1):
        by = _big_rep(rng, index)
        spec = _big_milestone(rng, index, when, by) or _routine(rng, when, by, lead.first_name)
        if rng.random() < 0.02:
            spec = replace(spec, blank_opportunity=True)
        specs.append(spec)
    return specs


# ---- the support add-on (Zoë's second opportunity) ------------------------------------------


def _routine_run(
    lead: SampleLead, opp: SampleOpportunity, seed: int, created_note: str, days: Sequence[int]
) -> list[_Spec]:
    """An opportunity's capture, then routine activities by Priya or Rohan on these days after it."""
    rng = random.Random(seed)
    start = opp.created_on
    specs = [_Spec(start, 33, "Priya Nair", note=created_note)]
    for day in days:
        when = (start + timedelta(days=day)).replace(hour=rng.randint(8, 15), minute=rng.randint(0, 59))
        specs.append(_routine(rng, when, rng.choice(("Priya Nair", "Rohan Sane")), lead.first_name))
    return specs


def _support_specs(lead: SampleLead, opp: SampleOpportunity) -> list[_Spec]:
    start = opp.created_on
    days = (3, 10, 17, 24, 31, 45, 52, 66, 80)
    specs = _routine_run(lead, opp, 120032024, "Created from renewal discussion", days)
    specs.append(
        _Spec(
            start + timedelta(days=101, hours=2),
            206,
            "Priya Nair",
            note="Stage moved to Closed Won",
            custom={"mx_Custom_1": "Proposal", "mx_Custom_2": "Closed Won"},
        )
    )
    specs.append(
        _Spec(
            start + timedelta(days=116, hours=6, minutes=30),
            207,
            "Priya Nair",
            status="Completed",
            note="Signed: 24×7 support, 12 months",
            custom={"mx_Custom_1": "36000.00"},
        )
    )
    return specs


def _expansion_specs(lead: SampleLead, opp: SampleOpportunity) -> list[_Spec]:
    """A short live deal among the look-alikes: the one found by "the Gold Coast Cocoa expansion"."""
    days = (2, 9, 16, 30, 44, 58, 73, 87, 101, 112)
    specs = _routine_run(lead, opp, 120012024, "Created after the warehouse pilot's review", days)
    specs.append(
        _Spec(
            opp.created_on + timedelta(days=64, hours=3),
            206,
            "Priya Nair",
            note="Stage moved to Negotiation",
            custom={"mx_Custom_1": "Proposal", "mx_Custom_2": "Negotiation"},
        )
    )
    return specs


# ---- HTML notes ------------------------------------------------------------------------------


def _html_specs() -> list[_Spec]:
    return [
        _Spec(_at(2024, 1, 8, 10, 2, 11), 33, "Priya Nair", note=None),
        _Spec(
            _at(2024, 1, 9, 5, 45, 0),
            22,
            "Priya Nair",
            note="<p>Called &amp; discussed <b>pricing</b></p><br>Next: demo",
            custom={"mx_Custom_1": "00:12:05", "mx_Custom_2": "Connected"},
        ),
        _Spec(
            _at(2024, 1, 15, 8, 30, 0),
            201,
            "Priya Nair",
            status="Completed",
            note="<ul><li>Showed the gradebook</li><li>Asked about SCORM &amp; xAPI</li></ul>",
            custom={"mx_Custom_1": "2024-01-15 08:30:00", "mx_Custom_2": "LMS Cloud"},
        ),
        _Spec(
            _at(2024, 1, 16, 11, 0, 0),
            204,
            "",
            status="Opened",
            location=("19.0760", "72.8777"),
            note='<div style="color:#c00">Quote attached&nbsp;– valid for 30 days &gt; please confirm</div>',
            custom={"mx_Custom_1": "Quote Q-2024-0116", "mx_Custom_2": ""},
        ),
        _Spec(
            _at(2024, 1, 24, 9, 15, 0),
            203,
            "Priya Nair",
            status="Completed",
            note='<script>alert("x")</script><p>Budget approved by the CFO — ₹32&nbsp;lakh</p>',
            # The second of the two "Visit Notes" fields alone.
            custom={
                "mx_Custom_1": "On-site, Mumbai",
                "mx_Custom_2": "45",
                "mx_Custom_5": "Send the order form",
            },
        ),
        _Spec(
            _at(2024, 2, 1, 7, 0, 0),
            206,
            None,
            note="",
            score="",
            custom={"mx_Custom_1": "Negotiation", "mx_Custom_2": "Closed Won"},
        ),
        _Spec(
            _at(2024, 2, 2, 12, 0, 0),
            207,
            "Priya Nair",
            status="Completed",
            note='<p>Signed via DocuSign<br/>Envelope: <a href="https://docusign.example/env/8842">8842</a></p>',
            custom={"mx_Custom_1": "3200000.00", "mx_Custom_2": "DocuSign"},
        ),
    ]


# ---- a long note, a JSON note, odd dates ----------------------------------------------------

_WORKSHOP_SECTIONS = (
    "Participants: José Álvarez (CTO, Solmar Hoteles), Lucía Fernández (Revenue), Marc Puig (IT Ops), "
    "Sofia Rossi and Priya Nair (us).",
    "Context: Solmar runs 14 hotels on the Costa del Sol and the Balearics with 2,140 rooms in total. "
    "The current booking engine is a 2011 in-house build on PHP 5 that nobody wants to touch; it "
    "fails under load every August and costs them an estimated 3–4% of direct bookings.",
    "Goals for the new engine: direct-booking share from 38% to 50% in two seasons; one rate plan "
    "model across all properties; mobile checkout under 60 seconds; payments through Redsys and Adyen; "
    "a channel manager link that does not double-book when Booking.com and Expedia sync late.",
    "Integration: PMS is Opera (on-premise at 9 hotels, cloud at 5). They need two-way sync of "
    "availability every 5 minutes at most, rate pushes within 1 minute, and reservations written back "
    "with the guest profile including loyalty number and dietary notes (ñ, ü and ç must survive).",
    "Security and compliance: PCI DSS SAQ-A only, so card data must never touch their servers. GDPR: "
    "all guest data stays in the EU; they asked for the sub-processor list and our DPA in Spanish.",
    "Pricing discussion: list price for 2,140 rooms is 212.000 € per year; we floated 180.000 € with a "
    "3-year commitment. Lucía pushed back: BookingSuite offered 164.000 € with the first year at 50%.",
    "Risks raised by Marc: the Opera on-premise instances are behind a VPN that only allows inbound "
    "connections from a fixed IP list, so our integration workers need static egress IPs. He also "
    "worries about the cut-over weekend; they want it in November when occupancy is lowest.",
    "Demo feedback: they liked the rate calendar and the promo-code engine; the group-booking flow was "
    "judged 'too many clicks' (7 steps vs 4 today). Accessibility: they need WCAG 2.1 AA for a public "
    "tender in Andalucía next year.",
    "Content and languages: the site runs in Spanish, English, German and French; they want Italian "
    "and Dutch next year. Room descriptions are maintained per property by front-office managers, who "
    "currently paste Word documents into the CMS, so we must strip stray formatting and keep accents.",
    "Reporting: revenue managers want pick-up reports per rate plan and per channel every morning at "
    "07:00, exported to their BI tool (Power BI) and e-mailed as CSV. Historical data since 2019 has to "
    "be migrated, roughly 1.9 million reservations, including cancelled and no-show bookings.",
    "Decision process: José recommends, the board approves anything above 150.000 €. Board meets on "
    "the first Tuesday of each month. Legal needs 3 weeks for contract review.",
)
_WORKSHOP_TASKS = (
    "send the DPA in Spanish",
    "confirm static egress IPs",
    "price a 5-year option",
    "share the group-booking roadmap",
    "book a reference call with a Balearic hotel group",
    "draft the cut-over runbook",
    "answer the WCAG 2.1 AA questionnaire",
    "send the PCI SAQ-A attestation",
    "estimate Opera on-premise connector effort",
    "propose a pilot at Hotel Solmar Málaga Centro",
)
_WORKSHOP_OWNERS = ("Sofia", "Priya", "José", "Marc", "Lucía")


def _workshop_note() -> str:
    """A 5,000+ character note (workshop minutes), the kind that must be truncated, not dropped."""
    lines = ["WORKSHOP MINUTES – Solmar Hoteles booking engine (30 March 2023, Málaga)", ""]
    for number, section in enumerate(_WORKSHOP_SECTIONS, start=1):
        lines += [f"{number}. {section}", ""]
    lines.append("Action items:")
    for number in range(1, 41):
        task = _WORKSHOP_TASKS[number % len(_WORKSHOP_TASKS)]
        owner = _WORKSHOP_OWNERS[number % len(_WORKSHOP_OWNERS)]
        lines.append(
            f"  {number:02d}. {owner}: {task} (due {_at(2023, 4, 1 + number % 28).date().isoformat()})"
        )
    lines += ["", "Next meeting: 18 April 2023, 10:00 CEST, on Teams. ¡Gracias a todos!"]
    note = "\n".join(lines)
    assert len(note) > 5000, len(note)
    return note


_SOFIA = "Sofia Rossi"
_JSON_NOTE = (
    '{"channel":"email","template":"proposal_followup","language":"es",'
    '"opened":true,"links":["https://solmar.example/propuesta"],"sentiment":0.82}'
)
_ODD_SPECS: tuple[_Spec, ...] = (
    _Spec(
        _at(2023, 3, 20, 9, 0, 0),
        23,
        "System",
        note="Lead captured from website form (Solmar Hoteles)",
        score="5",
        location=("36.7213", "-4.4214"),
    ),
    _Spec(_at(2023, 3, 20, 9, 5, 12), 33, _SOFIA, note=""),
    _Spec(
        _at(2023, 3, 22, 14, 10, 0),
        22,
        _SOFIA,
        note="Llamada con José: interesados en un motor de reservas para 14 hoteles. Presupuesto aprox. "
        "180.000 €.",
        custom={"mx_Custom_1": "00:21:40", "mx_Custom_2": "Connected"},
    ),
    _Spec(
        _at(2023, 3, 30, 8, 0, 0),
        203,
        _SOFIA,
        status="Completed",
        note=_workshop_note(),
        modified=_at(2023, 3, 31, 17, 45, 9),
        custom={
            "mx_Custom_1": "On-site, Málaga",
            "mx_Custom_2": "240",
            "mx_Custom_3": None,
            # Both "Visit Notes" fields (the type has two fields of that name).
            "mx_Custom_4": "Walked the Málaga Centro front desk: 3 Opera terminals, weak back-office Wi-Fi.",
            "mx_Custom_5": "Marc sends the VPN allow-list form; José wants a 2nd visit with Lucía.",
        },
    ),
    _Spec(
        _at(2023, 4, 6, 15, 23, 31),
        22,
        "Priya Nair",
        note="Follow-up call with Marc (IT)",
        created_text="4/6/2023 3:23:31 PM",
        modified_text="4/6/2023 3:23:31 PM",
        custom={"mx_Custom_1": "00:08:02", "mx_Custom_2": "Connected"},
    ),
    _Spec(
        _at(2023, 4, 18, 9, 30, 0),
        204,
        _SOFIA,
        status="Opened",
        note=_JSON_NOTE,
        created_text="/Date(1681810200000+0000)/",
        modified_text="/Date(1681810200000+0000)/",
        custom={"mx_Custom_1": "Propuesta Solmar – motor de reservas", "mx_Custom_2": "Opened"},
    ),
    _Spec(
        _at(2023, 4, 20, 10, 0, 0),
        202,
        _SOFIA,
        status="Completed",
        note="Proposal v1 (ES/EN)",
        custom={
            "mx_Custom_1": "180000.00",
            "mx_Custom_2": "EUR",
            "mx_Custom_3": "v1",
            "mx_Custom_4": '{"rooms":2140,"properties":["Málaga","Sevilla","Palma"],"discount":0.12}',
        },
        extra={"SourceTrackingId": "utm_source=partner&utm_campaign=spring23"},
    ),
    _Spec(
        _at(2023, 5, 9, 11, 0, 0),
        205,
        None,
        note="Chase the board decision",
        status=None,
        created_text="sometime in May",
        modified_text=None,
        score=None,
    ),
    _Spec(
        _at(2023, 5, 22, 16, 40, 0),
        206,
        _SOFIA,
        note="Lost to competitor — chose BookingSuite (9% cheaper)",
        custom={"mx_Custom_1": "Proposal", "mx_Custom_2": "Closed Lost", "mx_Custom_3": "Price"},
    ),
    _Spec(_at(2023, 5, 23, 8, 0, 0), 34, _SOFIA, note=None, blank_opportunity=True),
)


# ---- unicode, nulls everywhere ----------------------------------------------------------------


_DANIEL = "Daniel Kim"
_CALL_IN_MANDARIN = {"mx_Custom_1": "00:06:12", "mx_Custom_2": "Connected", "mx_Custom_5": "普通话"}
_UNICODE_SPECS: tuple[_Spec, ...] = (
    _Spec(_at(2024, 11, 5, 3, 0, 0), 33, _DANIEL, note="来自合作伙伴的商机"),
    _Spec(
        _at(2024, 11, 6, 2, 30, 0),
        22,
        _DANIEL,
        note="与李先生通话：确认车队规模 320 辆，需要实时 GPS 追踪。",
        custom=_CALL_IN_MANDARIN,
    ),
    _Spec(
        _at(2024, 11, 8, 6, 0, 0),
        204,
        _DANIEL,
        status="Sent",
        note="",
        custom={"mx_Custom_1": "报价单 / Quotation", "mx_Custom_2": None},
    ),
    _Spec(
        _at(2024, 11, 12, 1, 15, 0),
        21,
        None,
        note=None,
        score=None,
        custom={"mx_Custom_1": "", "mx_Custom_2": "No Answer"},
    ),
    _Spec(
        _at(2024, 11, 20, 4, 0, 0),
        203,
        _DANIEL,
        status="Completed",
        note="客户要求提供中文界面和本地数据存储（深圳机房）。",
        location=("22.5431", "114.0579"),
        custom={"mx_Custom_1": "腾讯会议", "mx_Custom_2": "60", "mx_Custom_3": "李小龙; 王芳（IT）"},
    ),
    _Spec(
        _at(2024, 12, 2, 3, 45, 0),
        205,
        _DANIEL,
        status="Completed",
        note="Follow-up: 需要 API 文档 (REST + Webhooks)",
    ),
    _Spec(
        _at(2024, 12, 10, 2, 0, 0),
        UNLISTED_EVENT_CODE,
        _DANIEL,
        note="实地考察仓库（已停用的活动类型）",
        status="Completed",
    ),
    _Spec(
        _at(2024, 12, 18, 5, 20, 0),
        204,
        "",
        status="",
        note="报价已发送 ✅ 等待采购审批 🙏",
        custom={"mx_Custom_1": "RE: 报价单", "mx_Custom_2": "Opened"},
    ),
    _Spec(
        _at(2025, 1, 7, 6, 0, 0),
        22,
        _DANIEL,
        note="Partner in Dubai replied: شكراً، سنراجع العرض",
        custom={**_CALL_IN_MANDARIN, "mx_Custom_1": "00:02:47"},
    ),
    _Spec(
        _at(2025, 1, 15, 3, 0, 0),
        206,
        _DANIEL,
        note="阶段：Prospecting → Qualification",
        custom={"mx_Custom_1": "Prospecting", "mx_Custom_2": "Qualification"},
    ),
    _Spec(
        _at(2025, 2, 3, 2, 0, 0),
        203,
        _DANIEL,
        status="Cancelled",
        note=None,
        blank_opportunity=True,
        custom={"mx_Custom_1": None, "mx_Custom_2": None},
    ),
    _Spec(_at(2025, 2, 14, 4, 30, 0), 34, "Rohan Sane", note="Shared with Priya Nair", score=""),
    _Spec(
        _at(2025, 2, 26, 3, 0, 0),
        204,
        "Priya Nair",
        status="Clicked",
        note=None,
        custom={"mx_Custom_1": "演示邀请 – 4月15日", "mx_Custom_2": "Clicked"},
        extra={"SourceTrackingId": None},
    ),
    _Spec(
        _at(2025, 3, 3, 4, 0, 0),
        201,
        _DANIEL,
        status="Scheduled",
        note="演示安排在 2025-04-15，参会者：李小龙、王芳（IT）",
        custom={"mx_Custom_1": "2025-04-15 02:00:00", "mx_Custom_2": "Fleet Tracking"},
    ),
)


# --------------------------------------------------------------------------------------------
# Tasks (RetrieveTasksByOpportunityId)
# --------------------------------------------------------------------------------------------

OPP_RESTRICTED = OPP_SUPPORT
"""The opportunity whose tasks the sandbox user may not see (MXUnAuthorizedAccessException)."""


def _task_id(opportunity_id: str, number: int) -> str:
    return str(uuid.uuid5(uuid.UUID(opportunity_id), f"task-{number}"))


def _day(days: int, hour: int, minute: int = 0) -> timedelta:
    """``days`` from the start of the day the tasks are asked for, at ``hour:minute`` UTC."""
    return timedelta(days=days, hours=hour, minutes=minute)


_ROHAN, _PRIYA, _DANIEL_REP, _SOFIA_REP = (
    REPS[name] for name in ("Rohan Sane", "Priya Nair", "Daniel Kim", "Sofia Rossi")
)

# Open deals' tasks are due relative to today, so the demo always has overdue and upcoming ones.
_BIG_TASKS = (
    (
        "Book the analytics add-on demo",
        _ROHAN,
        None,
        "Completed",
        -60,
        -75,
        "Six people; Jonas joins for SSO.",
        "15",
    ),
    ("Send the SOC 2 Type II report (NDA)", _PRIYA, None, "Completed", -40, -50, "", None),
    (
        "Share the SSO integration guide",
        _DANIEL_REP,
        _ROHAN,
        "Completed",
        -25,
        -35,
        "Azure AD, SAML 2.0.",
        "60",
    ),
    ("Confirm training dates for the Vienna office", _SOFIA_REP, None, "Completed", -15, -30, None, None),
    ("Chase the DPA redlines with Acme legal", _SOFIA_REP, None, "Pending", -8, -20, "", "30"),
    ("On-site visit in München", _ROHAN, None, "Cancelled", -5, -18, "Replaced by a Teams call.", None),
    (
        "Send the revised order form (v5)",
        _ROHAN,
        None,
        "Pending",
        -3,
        -10,
        "3-year term, uplift capped at 4%.",
        "30",
    ),
    (
        "Quarterly business review with Zoë and Jonas",
        _ROHAN,
        None,
        "Pending",
        2,
        -6,
        "Usage, SSO rollout.",
        "15",
    ),
    ("Prepare final pricing for the 3-year term", _PRIYA, _ROHAN, "Pending", 6, -4, None, None),
    (
        "Renewal signature deadline",
        _ROHAN,
        None,
        "Pending",
        30,
        -2,
        "Legal needs the signed order form.",
        "1440",
    ),
)
_UNICODE_TASKS = (
    ("发送 API 文档 (REST + Webhooks)", _DANIEL_REP, None, "Completed", -33, -40, "", None),
    ("跟进采购审批 🙏", _DANIEL_REP, None, "Pending", -2, -9, "王芳（IT）在等财务签字", "60"),
    ("准备演示：车队实时追踪", _DANIEL_REP, _PRIYA, "Pending", 4, -5, None, "30"),
)

_EXPANSION_TASKS = (
    ("Send the Kumasi warehouse layout to Ngozi", _PRIYA, None, "Completed", -12, -20, None, None),
    (
        "Revised quote for the second cold room",
        _PRIYA,
        None,
        "Pending",
        -3,
        -10,
        "Ngozi asked for it by Friday",
        "60",
    ),
    ("Site visit in Kumasi with the installer", _ROHAN, _PRIYA, "Pending", 6, -4, None, "120"),
)


def _relative_tasks(
    opportunity_id: str,
    rows: Sequence[tuple[str, SalesRep, SalesRep | None, str, int, int, str | None, str | None]],
) -> tuple[TaskPlan, ...]:
    """Tasks due ``due`` days from today at 10:00, created ``created`` days from today at 09:30."""
    return tuple(
        TaskPlan(
            _task_id(opportunity_id, number),
            name,
            owner,
            status,
            due=_day(due, 10),
            created=_day(created, 9, 30),
            created_by=creator,
            description=description,
            reminder=reminder,
        )
        for number, (name, owner, creator, status, due, created, description, reminder) in enumerate(rows, 1)
    )


# Closed deals' tasks are history: fixed dates, odd cases for the odd deal.
_CLOSED_DEAL_TASKS: dict[str, tuple[TaskPlan, ...]] = {
    OPP_HTML: (
        TaskPlan(
            _task_id(OPP_HTML, 1),
            "Send the signed order form to finance",
            _PRIYA,
            "Completed",
            due=_at(2024, 2, 5, 10, 0, 0),
            created=_at(2024, 2, 2, 12, 5, 0),
        ),
        TaskPlan(
            _task_id(OPP_HTML, 2),
            "Kick-off call with BrightPath IT",
            _PRIYA,
            "Completed",
            due=_at(2024, 2, 9, 6, 30, 0),
            created=_at(2024, 2, 2, 12, 10, 0),
            description="<p>Agenda: SSO, SCORM import &amp; gradebook migration</p>",
            reminder="30",
        ),
    ),
    OPP_ODD: (
        TaskPlan(
            _task_id(OPP_ODD, 1),
            "Send the DPA in Spanish",
            _SOFIA_REP,
            "completed",  # the status in lower case: compare statuses ignoring case
            due=_at(2023, 4, 5, 9, 0, 0),
            created=_at(2023, 3, 31, 18, 0, 0),
        ),
        TaskPlan(
            _task_id(OPP_ODD, 2),
            "Chase the board decision",
            _SOFIA_REP,
            "Cancelled",
            due=_at(2023, 6, 6, 8, 0, 0),
            created=_at(2023, 5, 9, 11, 0, 0),
            description=None,
        ),
        TaskPlan(
            _task_id(OPP_ODD, 3),
            "Ask José for a loss debrief",
            _SOFIA_REP,
            "Pending",
            due=None,  # open, with no due date: never overdue
            created=_at(2023, 5, 23, 8, 10, 0),
            created_by=_PRIYA,
            description="Why BookingSuite? Price only, or the group-booking flow too?",
        ),
    ),
}


def build_tasks() -> dict[str, tuple[TaskPlan, ...]]:
    """Each opportunity's tasks, keyed by opportunity id (OPP_EMPTY has none)."""
    return {
        OPP_BIG: _relative_tasks(OPP_BIG, _BIG_TASKS),
        OPP_EMPTY: (),
        OPP_UNICODE: _relative_tasks(OPP_UNICODE, _UNICODE_TASKS),
        OPP_EXPANSION: _relative_tasks(OPP_EXPANSION, _EXPANSION_TASKS),
        **_CLOSED_DEAL_TASKS,
    }


# --------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------


def build_activities(
    leads: Sequence[SampleLead], opportunities: Sequence[SampleOpportunity]
) -> dict[str, tuple[SampleActivity, ...]]:
    """Each opportunity's timeline, keyed by opportunity id."""
    by_lead = {lead.id: lead for lead in leads}
    by_id = {opp.id: opp for opp in opportunities}

    def timeline(opp_id: str, specs: Sequence[_Spec], seed: int) -> tuple[SampleActivity, ...]:
        opp = by_id[opp_id]
        return _materialise(by_lead[opp.lead_id], opp, specs, seed)

    big, support, expansion = by_id[OPP_BIG], by_id[OPP_SUPPORT], by_id[OPP_EXPANSION]
    return {
        OPP_BIG: timeline(OPP_BIG, _big_specs(by_lead[big.lead_id], big), 1),
        OPP_EMPTY: (),
        OPP_HTML: timeline(OPP_HTML, _html_specs(), 2),
        OPP_ODD: timeline(OPP_ODD, _ODD_SPECS, 3),
        OPP_UNICODE: timeline(OPP_UNICODE, _UNICODE_SPECS, 4),
        OPP_SUPPORT: timeline(OPP_SUPPORT, _support_specs(by_lead[support.lead_id], support), 5),
        OPP_EXPANSION: timeline(OPP_EXPANSION, _expansion_specs(by_lead[expansion.lead_id], expansion), 6),
    }


def build_catalog(huge_activities: int = 0) -> Catalog:
    """Build the default data set (fresh objects each call; always the same content).

    With `huge_activities`, one more opportunity (`OPP_HUGE`, Manish Garg's) holds that many
    activities, generated like the big one's (and no tasks).
    """
    leads = LEADS + LOOKALIKE_LEADS
    opportunities = OPPORTUNITIES + LOOKALIKE_OPPORTUNITIES
    activities = build_activities(leads, opportunities)
    if huge_activities > 0:
        huge = replace(
            opportunities[0],
            id=OPP_HUGE,
            name="Northwind Traders – Global rollout",
            lead_id=LEAD_MANISH,
            description=f"{huge_activities} activities (a benchmark-sized timeline)",
        )
        opportunities = (*opportunities, huge)
        lead = next(lead for lead in LEADS if lead.id == LEAD_MANISH)
        activities[OPP_HUGE] = _materialise(lead, huge, _big_specs(lead, huge, huge_activities, 7), 7)
    return Catalog(
        leads=leads,
        opportunities=opportunities,
        activities=activities,
        activity_types=build_activity_types(),
        user=dict(SANDBOX_USER),
        tasks=build_tasks(),
        tasks_refused=frozenset({OPP_RESTRICTED}),
        activity_settings=build_activity_settings(),
    )


CATALOG = build_catalog()
"""The default data set, shared read-only by every sandbox."""


def _tasks_in_brief(catalog: Catalog, opportunity_id: str) -> str:
    """What ``--help`` says about an opportunity's tasks (the counts hold whenever it runs)."""
    if catalog.refuses_tasks(opportunity_id):
        return "its tasks are refused (no permission)"
    now = datetime.now(UTC)
    tasks = catalog.tasks_of(opportunity_id, now)
    if not tasks:
        return "no tasks"
    open_tasks = [task for task in tasks if task.is_open]
    overdue = [task for task in open_tasks if task.due is not None and task.due < now]
    return f"{len(tasks)} tasks, {len(open_tasks)} open, {len(overdue)} overdue"


SAMPLE_OPPORTUNITIES: list[tuple[str, str]] = [
    (opp.id, f"{opp.name} ({opp.status}): {opp.description}; {_tasks_in_brief(CATALOG, opp.id)}")
    for opp in OPPORTUNITIES
]
"""(opportunity id, one-line description) for the README and ``--help``; the big one first. The
look-alikes (`lookalikes`) are there to be found by name, not listed."""
