"""The demo's data dated as of today: one offset moves every date, so its open deals read as live."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from lsq_mcp.sandbox.data import CATALOG, OPP_BIG, OPP_HTML, OPP_ODD, OPP_UNICODE
from lsq_mcp.sandbox.records import fmt
from lsq_mcp.sandbox.today import DATA_TODAY, as_of, shift_to
from tests.cli.test_main import run

NOW = datetime(2026, 12, 6, 9, 30, tzinfo=timezone.utc)
SHIFT = timedelta(days=642)  # 2025-03-04 to 2026-12-06


def test_the_shift_is_the_whole_days_from_the_datas_today() -> None:
    assert shift_to(NOW) == SHIFT
    assert shift_to(DATA_TODAY.replace(hour=23)) == timedelta(0)
    assert as_of(DATA_TODAY) == CATALOG


def test_every_activity_moves_by_the_shift_its_dates_in_the_row_too() -> None:
    dated = as_of(NOW)
    for opportunity_id, activities in CATALOG.activities.items():
        for before, after in zip(activities, dated.activities_of(opportunity_id), strict=True):
            assert (after.created, after.modified) == (before.created + SHIFT, before.modified + SHIFT)
            for key, value in before.row.items():
                if value is not None and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", value):
                    moved = datetime.fromisoformat(value).replace(tzinfo=timezone.utc) + SHIFT
                    assert after.row[key] == fmt(moved), (opportunity_id, key)
                else:
                    assert after.row[key] == value, "odd formats and other values stay as written"
    odd = [a.row["PACreatedOn"] for a in dated.activities_of(OPP_ODD)]
    assert "4/6/2023 3:23:31 PM" in odd


def test_open_deals_read_as_live_and_their_tasks_as_now() -> None:
    dated = as_of(NOW)
    for opportunity_id in (OPP_BIG, OPP_UNICODE):
        newest = max(activity.created for activity in dated.activities_of(opportunity_id))
        assert timedelta(0) < NOW - newest < timedelta(days=7), opportunity_id
    assert dated.tasks_of(OPP_BIG, NOW) == CATALOG.tasks_of(OPP_BIG, NOW), "dated from the day asked"
    assert [task.due for task in dated.tasks_of(OPP_HTML, NOW)] == [
        task.due + SHIFT if task.due else None for task in CATALOG.tasks_of(OPP_HTML, NOW)
    ]
    big = dated.opportunity(OPP_BIG)
    assert big is not None
    assert big.created_on == CATALOG.activities_of(OPP_BIG)[0].created + SHIFT


def test_the_demo_digest_of_the_big_deal_is_days_old() -> None:
    done = run("summary", OPP_BIG, "--demo")
    assert done.returncode == 0, done.stderr
    found = re.search(r"last activity (\d+) days? ago", done.stdout)
    assert found is not None, done.stdout
    assert int(found[1]) <= 6, done.stdout.splitlines()[2]
