"""The command line speaks in its own words: what it prints names its commands and flags, never the
tools' argument names a model reads, and a person's text is never cut to a model's token budget."""

from __future__ import annotations

import os
import pty
import re
import subprocess

from lsq_mcp.cli.tool_commands import PERSON
from lsq_mcp.errors import AnswerTooLargeError
from lsq_mcp.reader import MODEL
from lsq_mcp.sandbox.data import BIG_ACTIVITY_COUNT, OPP_BIG
from tests.cli.test_main import run
from tests.conftest import LSQ_MCP

# What a model reads and a person should not: the tools' names and arguments, as they are written.
MODEL_WORDS = re.compile(
    r"page_index|page_size|fetch_all|max_activities|activity_event_code|\bsince=|\buntil=|since/until|"
    r"get_opportunity|summarize_opportunity|find_opportunities"
)


def test_a_page_says_the_next_with_page() -> None:
    done = run("activities", OPP_BIG, "--demo", "--page-size", "3")
    assert done.returncode == 0
    assert "More: --page 2." in done.stdout
    assert not MODEL_WORDS.search(done.stdout)


def test_a_window_says_how_to_read_on_with_until() -> None:
    done = run("activities", OPP_BIG, "--demo", "--since", "2024-01-01", "--max-activities", "3")
    assert done.returncode == 0
    assert re.search(r"to read on, ask again with --until \d{4}-\d\d-\d\dT[\d:]+Z ", done.stdout)
    assert not MODEL_WORDS.search(done.stdout)


def test_the_summary_points_to_commands() -> None:
    done = run("summary", OPP_BIG, "--demo", "--max-activities", "10")
    assert done.returncode == 0
    assert "NOT complete: raise --max-activities, or narrow --since/--until" in done.stdout
    assert (
        f"For detail: lsq-mcp activities {OPP_BIG} (--since/--until for a window, --event-code" in done.stdout
    )
    assert f"lsq-mcp tasks {OPP_BIG} lists every task" in done.stdout
    assert not MODEL_WORDS.search(done.stdout)


def test_errors_name_the_flag() -> None:
    for args, flag in (
        (["--page-size", "0"], "--page-size"),
        (["--page", "0"], "--page"),
        (["--since", "2025-13-01"], "--since"),
        (["--event-code", "-1"], "--event-code"),
        (["--all", "--max-activities", "0"], "--max-activities"),
    ):
        done = run("activities", OPP_BIG, "--demo", *args)
        assert done.returncode == 2
        assert f"Invalid argument {flag}: " in done.stderr
        assert not MODEL_WORDS.search(done.stderr), done.stderr
    done = run("summary", "not-an-id", "--demo")
    assert done.returncode == 2
    assert "Invalid argument OPPORTUNITY_ID: must be " in done.stderr
    done = run("summary", OPP_BIG, "--demo", "--since", "2025-02-01", "--until", "2025-01-01")
    assert "--since (2025-02-01) is after --until (2025-01-01)" in done.stderr


def test_an_unknown_id_points_to_the_find_command() -> None:
    done = run("summary", "00000000-0000-0000-0000-000000000000", "--demo")
    assert done.returncode == 1
    assert "(lsq-mcp find finds them)" in done.stderr
    assert not MODEL_WORDS.search(done.stderr)


def test_an_answer_too_large_names_page_size_as_each_reader_does() -> None:
    error = AnswerTooLargeError(status=200, limit=2**25, compressed=False)
    assert "a smaller page_size" in error.for_reader(MODEL) == str(error)
    assert "a smaller --page-size" in error.for_reader(PERSON)


def test_all_is_read_whole_at_the_command_line() -> None:
    done = run("activities", OPP_BIG, "--demo", "--all", "--max-activities", str(BIG_ACTIVITY_COUNT))
    assert done.returncode == 0
    lines = [line for line in done.stdout.splitlines() if re.match(r"\d\d:\d\d ", line)]
    assert len(lines) == BIG_ACTIVITY_COUNT
    assert "not shown as text" not in done.stdout


def test_the_stdio_server_at_a_terminal_says_what_it_waits_for() -> None:
    leader, follower = pty.openpty()
    server = subprocess.Popen(
        [LSQ_MCP, "--demo"],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin"},
    )
    try:
        assert server.stderr is not None
        said = server.stderr.readline().decode()
    finally:
        server.terminate()
        server.communicate(timeout=30)
        os.close(follower)
        os.close(leader)
    assert said.startswith("lsq-mcp: serving MCP over stdio: waiting for an MCP client")
    assert "Stop it with Ctrl-C" in said
    assert f"lsq-mcp summary --demo {OPP_BIG}" in said
    piped = subprocess.run(
        [LSQ_MCP, "--demo"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )
    assert "waiting for an MCP client" not in piped.stderr


def test_find_points_to_the_summary_command() -> None:
    done = run("find", "--demo", "gold", "coast", "cocoa", "expansion")
    assert done.returncode == 0
    next_step = "Next: lsq-mcp summary OPPORTUNITY_ID with the id of the deal meant."
    assert done.stdout.splitlines()[-1] == next_step
    assert not MODEL_WORDS.search(done.stdout)
