"""The sample data: deterministic, and as the README and --help describe it."""

from __future__ import annotations

from lsq_mcp.sandbox import SAMPLE_OPPORTUNITIES, build_catalog
from lsq_mcp.sandbox.data import (
    CATALOG,
    OPP_BIG,
    OPP_EMPTY,
    OPP_HTML,
    OPP_HUGE,
    OPP_ODD,
    OPP_RESTRICTED,
    OPP_SUPPORT,
    OPP_UNICODE,
)
from tests.sandbox.helpers import GUID


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


def test_sample_opportunities_say_what_their_tasks_show() -> None:
    about = dict(SAMPLE_OPPORTUNITIES)
    assert about[OPP_BIG].endswith("; 10 tasks, 5 open, 2 overdue")
    assert about[OPP_EMPTY].endswith("; no tasks")
    assert about[OPP_RESTRICTED].endswith("; its tasks are refused (no permission)")


def test_huge_catalog_adds_one_opportunity_without_tasks() -> None:
    huge = build_catalog(huge_activities=30)
    assert len(huge.activities_of(OPP_HUGE)) == 30
    assert huge.opportunity(OPP_HUGE) is not None
    assert huge.tasks == CATALOG.tasks
