"""`lsq-mcp find QUERY`: the deals a person names, from a terminal, with the usual exit codes."""

from __future__ import annotations

import json

import pytest

from lsq_mcp.sandbox import SandboxServer
from lsq_mcp.sandbox.data import OPP_SUPPORT
from lsq_mcp.sandbox.lookalikes import OPP_EXPANSION, OPP_WAREHOUSE
from tests.cli.test_main import run
from tests.conftest import env_for


def test_find_prints_the_matches_best_first() -> None:
    done = run("find", "gold", "coast", "cocoa", "expansion", "--demo")  # no quotes needed
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == '2 opportunities for "gold coast cocoa expansion", best first:'
    assert lines[1].startswith(f"1. {OPP_EXPANSION} · Gold Coast Cocoa – Kumasi expansion · Open")
    assert lines[2].startswith(f"2. {OPP_WAREHOUSE} · ")


def test_find_by_type_as_json(sandbox: SandboxServer) -> None:
    done = run("find", "Zoë", "--type", "12003", "--json", env=env_for(sandbox))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["query"] == "Zoë"
    assert [match["id"] for match in data["matches"]] == [OPP_SUPPORT]
    asked = [r.query for r in sandbox.state.requests if r.path.endswith("GetOpportunitiesOfLead")]
    assert [query.get("opportunityType") for query in asked] == ["12003"]


def test_find_nothing_is_no_failure() -> None:
    done = run("find", "kumasi", "--demo")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('Nothing matched for "kumasi"')


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["find", "--demo"], "QUERY"),
        (["find", "x" * 201, "--demo"], "Invalid argument QUERY: must be 1 to 200 characters"),
        (["find", "zoe", "--type", "smb", "--demo"], "--type"),
    ],
)
def test_find_usage_errors_exit_2(args: list[str], says: str) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert says in done.stderr
    assert done.stdout == ""


def test_find_api_failure_exits_1(sandbox: SandboxServer) -> None:
    done = run("find", "zoe", env=env_for(sandbox, LSQ_SECRET_KEY="wrong"))
    assert done.returncode == 1
    assert "401" in done.stderr


def test_find_is_listed_among_the_commands() -> None:
    listed = run("--help")
    assert listed.returncode == 0
    assert "find" in listed.stdout
    helped = run("find", "--demo", "--help")
    assert helped.returncode == 0
    assert "--type CODE" in helped.stdout
