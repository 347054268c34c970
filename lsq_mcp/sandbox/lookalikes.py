"""Sample leads who look alike, so that finding a deal by what people call it can be seen and tested.

Two people at one company (Acme Corp), one person with deals at two companies (Ngozi Okafor, who
moved from Harmattan Agro to Gold Coast Cocoa: two leads, as LeadSquared keeps a lead per company),
companies that share a word (Pearl River Trading, Black Pearl Charters), names with accents and in
other scripts (Małgorzata Wójcik, 陈伟, Дмитрий Соколов). Plain data, like `data`.
"""

from __future__ import annotations

from datetime import datetime

from lsq_mcp.sandbox.records import UTC, SampleLead, SampleOpportunity

LEAD_KARL = "2c4e6a8b-1d3f-4a5b-8c7d-9e0f1a2b3c47"
LEAD_NGOZI = "a7c9e1b3-5d7f-4b9d-8f1a-3c5e7a9b1d52"
LEAD_NGOZI_BEFORE = "b8d0f2c4-6e8a-4c0e-9a2b-4d6f8b0c2e63"
LEAD_CHEN = "c9e1a3d5-7f9b-4d1f-8b3c-5e7a9c1d3f74"
LEAD_MALGORZATA = "d0f2b4e6-8a0c-4e2a-9c4d-6f8b0d2e4a85"
LEAD_DMITRY = "e1a3c5f7-9b1d-4f3b-8d5e-7a9c1e3f5b96"

OPP_ANALYTICS = "1a3c5e7f-2b4d-4c6e-8f0a-b1c3d5e7f901"
OPP_EXPANSION = "2b4d6f8a-3c5e-4d7f-9a1b-c2d4e6f8a012"
OPP_WAREHOUSE = "3c5e7a9b-4d6f-4e8a-8b2c-d3e5f7a9b123"
OPP_COLD_STORAGE = "4d6f8b0c-5e7a-4f9b-9c3d-e4f6a8b0c234"
OPP_CUSTOMS = "5e7a9c1d-6f8b-4a0c-8d4e-f5a7b9c1d345"
OPP_FLEET_BOOKING = "6f8b0d2e-7a9c-4b1d-9e5f-a6b8c0d2e456"
OPP_EXPORT_PORTAL = "7a9c1e3f-8b0d-4c2e-8f6a-b7c9d1e3f567"


def _at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


LOOKALIKE_LEADS: tuple[SampleLead, ...] = (
    SampleLead(
        LEAD_KARL,
        "Karl",
        "Weber",
        "karl.weber@acme.example",
        "+49-89-12345699",
        "Daniel Kim",
        "Acme Corp",
        "München",
        "Customer",
        _at(2024, 12, 2),
    ),
    SampleLead(
        LEAD_NGOZI,
        "Ngozi",
        "Okafor",
        "ngozi.okafor@goldcoastcocoa.example",
        "024 412 3456",  # national format, as many accounts store phones
        "Priya Nair",
        "Gold Coast Cocoa",
        "Accra",
        "Customer",
        _at(2024, 3, 18),
    ),
    SampleLead(
        LEAD_NGOZI_BEFORE,
        "Ngozi",
        "Okafor",
        "n.okafor@harmattan-agro.example",
        "+234-803-555-0142",
        "Priya Nair",
        "Harmattan Agro",
        "Lagos",
        "Prospect",
        _at(2023, 5, 30),
    ),
    SampleLead(
        LEAD_CHEN,
        "陈伟",
        None,
        "chen.wei@pearlriver.example",
        "+86-20-8888-1234",
        "Daniel Kim",
        "Pearl River Trading",
        "广州",
        "Prospect",
        _at(2024, 9, 9),
    ),
    SampleLead(
        LEAD_MALGORZATA,
        "Małgorzata",
        "Wójcik",
        "m.wojcik@blackpearl.example",
        "+48-58-555-0199",
        "Sofia Rossi",
        "Black Pearl Charters",
        "Gdańsk",
        "Prospect",
        _at(2025, 1, 14),
    ),
    SampleLead(
        LEAD_DMITRY,
        "Дмитрий",
        "Соколов",
        "d.sokolov@volgagrain.example",
        "+7-495-555-0123",
        "Rohan Sane",
        "Volga Grain",
        "Самара",
        "Prospect",
        _at(2024, 7, 1),
    ),
)


def _deal(
    opportunity_id: str,
    name: str,
    lead_id: str,
    status: str,
    stage: str,
    owner: str,
    created: datetime,
    modified: datetime,
    value: str,
) -> SampleOpportunity:
    """An SMB deal with what finding needs (name, status, stage, owner, dates); the rest plain."""
    return SampleOpportunity(
        opportunity_id,
        name,
        lead_id,
        12001,
        "SMB Deal",
        status,
        stage,
        owner,
        "Website",
        created,
        modified,
        None,
        value,
        "USD",
        None,
        "a look-alike for finding deals by name",
    )


LOOKALIKE_OPPORTUNITIES: tuple[SampleOpportunity, ...] = (
    _deal(
        OPP_ANALYTICS,
        "Acme Corp – Analytics add-on",
        LEAD_KARL,
        "Open",
        "Proposal",
        "Daniel Kim",
        _at(2025, 1, 15),
        _at(2025, 2, 24),
        "42000.00",
    ),
    _deal(
        OPP_EXPANSION,
        "Gold Coast Cocoa – Kumasi expansion",
        LEAD_NGOZI,
        "Open",
        "Negotiation",
        "Priya Nair",
        _at(2024, 11, 4),
        _at(2025, 2, 26),
        "96000.00",
    ),
    _deal(
        OPP_WAREHOUSE,
        "Gold Coast Cocoa – Warehouse pilot",
        LEAD_NGOZI,
        "Won",
        "Closed Won",
        "Priya Nair",
        _at(2024, 3, 20),
        _at(2024, 6, 28),
        "18000.00",
    ),
    _deal(
        OPP_COLD_STORAGE,
        "Harmattan Agro – Cold storage",
        LEAD_NGOZI_BEFORE,
        "Lost",
        "Closed Lost",
        "Priya Nair",
        _at(2023, 6, 2),
        _at(2023, 9, 15),
        "54000.00",
    ),
    _deal(
        OPP_CUSTOMS,
        "Pearl River Trading – Customs automation",
        LEAD_CHEN,
        "Open",
        "Qualification",
        "Daniel Kim",
        _at(2024, 9, 12),
        _at(2025, 1, 30),
        "120000.00",
    ),
    _deal(
        OPP_FLEET_BOOKING,
        "Black Pearl Charters – Fleet booking",
        LEAD_MALGORZATA,
        "Open",
        "Prospecting",
        "Sofia Rossi",
        _at(2025, 1, 16),
        _at(2025, 2, 11),
        "27000.00",
    ),
    _deal(
        OPP_EXPORT_PORTAL,
        "Volga Grain – Export portal",
        LEAD_DMITRY,
        "Lost",
        "Closed Lost",
        "Rohan Sane",
        _at(2024, 7, 3),
        _at(2024, 10, 21),
        "75000.00",
    ),
)
