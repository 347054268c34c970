"""The sample data: deterministic, and as the README and --help describe it."""

from __future__ import annotations

from lsq_mcp.sandbox import (
    SAMPLE_OPPORTUNITIES,
    build_catalog,
)
from lsq_mcp.sandbox.data import (
    CATALOG,
    OPP_BIG,
    OPP_EMPTY,
    OPP_HTML,
    OPP_ODD,
    OPP_SUPPORT,
    OPP_UNICODE,
)
from tests.sandbox.helpers import (
    GUID,
)


def test_sample_data_is_deterministic() -> None:
    assert build_catalog() == CATALOG


def test_sample_opportunities() -> None:
    ids = [opportunity_id for opportunity_id, _ in SAMPLE_OPPORTUNITIES]
    assert ids[0] == OPP_BIG
    assert set(ids) == {OPP_BIG, OPP_EMPTY, OPP_HTML, OPP_ODD, OPP_UNICODE, OPP_SUPPORT}
    assert all(GUID.match(opportunity_id) for opportunity_id in ids)
    assert len(CATALOG.activities_of(OPP_BIG)) == 640
    span = CATALOG.activities_of(OPP_BIG)[-1].created - CATALOG.activities_of(OPP_BIG)[0].created
    assert 500 < span.days < 600
