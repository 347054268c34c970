"""The `lsq-mcp` command line: output, exit codes and help, run as a user runs it."""

from __future__ import annotations

import json
import os
import pty
import shutil
import signal
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lsq_mcp import __version__
from lsq_mcp.sandbox import SAMPLE_OPPORTUNITIES, SandboxServer
from lsq_mcp.sandbox.data import BIG_ACTIVITY_COUNT, CATALOG, OPP_BIG, OPP_EMPTY, OPP_RESTRICTED
from tests.conftest import LSQ_MCP, env_for

ROOT = Path(__file__).resolve().parents[2]


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LSQ_MCP, *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        timeout=timeout,
    )


def test_version() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"lsq-mcp {__version__}"


def test_activities_demo_prints_the_timeline() -> None:
    done = run("activities", OPP_BIG, "--demo", "--page-size", "5")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"Opportunity {OPP_BIG}")
    assert f"Activities 1-5 of {BIG_ACTIVITY_COUNT}" in done.stdout
    assert lines[3].startswith("Types: ")
    assert len([line for line in lines if line[:2].isdigit() and line[2] == ":"]) == 5


def test_activities_in_a_window(sandbox: SandboxServer) -> None:
    done = run(
        "activities",
        OPP_BIG,
        "--since",
        "2025-02-14",
        "--until",
        "2025-02-24",
        "--json",
        env=env_for(sandbox),
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["since"], data["until"]) == ("2025-02-14T00:00:00Z", "2025-02-24T23:59:59Z")
    created = [a["created_at"] for a in data["activities"]]
    assert created
    assert all("2025-02-14" <= c[:10] <= "2025-02-24" for c in created)
    text = run(
        "activities", OPP_BIG, "--since", "2025-02-14", "--until", "2025-02-24", env=env_for(sandbox)
    ).stdout
    assert f"Activities created 2025-02-14T00:00:00Z to 2025-02-24T23:59:59Z: {len(created)}," in text


def test_a_bad_window_is_a_usage_error(sandbox: SandboxServer) -> None:
    done = run("activities", OPP_BIG, "--since", "2025-03-01", "--until", "2025-02-01", env=env_for(sandbox))
    assert done.returncode == 2
    assert "since" in done.stderr
    assert "No API call was made." in done.stderr


def test_demo_before_the_command_and_json_output() -> None:
    done = run("--demo", "activities", OPP_BIG, "--json", "--oldest-first", "--page", "2", "--page-size", "3")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["page_index"], data["returned"], data["sort_direction"]) == (2, 3, "oldest_first")


def test_all_reads_every_page() -> None:
    done = run("activities", OPP_BIG, "--demo", "--all", "--max-activities", "1000", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["returned"] == BIG_ACTIVITY_COUNT


def test_event_code_filter(sandbox: SandboxServer) -> None:
    done = run("activities", OPP_BIG, "--event-code", "22", "--json", env=env_for(sandbox))
    assert done.returncode == 0, done.stderr
    assert {a["event_code"] for a in json.loads(done.stdout)["activities"]} == {22}


def test_empty_opportunity() -> None:
    done = run("activities", OPP_EMPTY, "--demo")
    assert done.returncode == 0
    assert "No activities." in done.stdout


def test_api_failure_exits_1(sandbox: SandboxServer) -> None:
    done = run("activities", OPP_BIG, env=env_for(sandbox, LSQ_SECRET_KEY="wrong"))
    assert done.returncode == 1
    assert "401" in done.stderr
    assert done.stdout == ""


def test_missing_keys_are_a_configuration_error_naming_them(sandbox: SandboxServer) -> None:
    done = run("activities", OPP_BIG, env=env_for(sandbox, LSQ_ACCESS_KEY="", LSQ_SECRET_KEY=""))
    assert done.returncode == 2
    assert "LSQ_ACCESS_KEY" in done.stderr


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["activities", "not-a-guid", "--demo"], {}, "OPPORTUNITY_ID"),
        (["activities", OPP_BIG, "--demo", "--page-size", "5000"], {}, "--page-size"),
        (["activities", OPP_BIG, "--demo", "--page", "x"], {}, "--page"),
        (["activities", OPP_BIG, "--demo", "--max-activities", "50"], {}, "--max-activities caps --all"),
        (["activities", OPP_BIG, "--demo"], {"LSQ_RATE_LIMIT": "fast"}, "LSQ_RATE_LIMIT"),
        (["serve"], {"LSQ_TIMEOUT": "never"}, "LSQ_TIMEOUT"),
        (["serve"], {"LSQ_ACCESS_KEY": "ключ"}, "LSQ_ACCESS_KEY"),
        (["activities", OPP_BIG], {"LSQ_ACCESS_KEY": "a", "LSQ_SECRET_KEY": "two words"}, "LSQ_SECRET_KEY"),
        (["sandbox", "--port", "99999"], {}, "--port"),
        (["frobnicate"], {}, "invalid choice"),
    ],
)
def test_bad_usage_or_configuration_exits_2(args: list[str], env: dict[str, str], says: str) -> None:
    done = run(*args, env=env)
    assert done.returncode == 2
    assert says in done.stderr
    assert done.stdout == ""


def test_sandbox_help_lists_the_sample_ids() -> None:
    done = run("sandbox", "--help")
    assert done.returncode == 0
    for opportunity_id, _ in SAMPLE_OPPORTUNITIES:
        assert opportunity_id in done.stdout


def test_readme_lists_the_sample_ids_and_keeps_its_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    for opportunity_id, _ in SAMPLE_OPPORTUNITIES:
        assert opportunity_id in readme
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = next(line for line in ci.splitlines() if "pytest" in line and not line.startswith("#"))
    assert test_command.strip() in readme


def test_claude_desktop_example_config_names_a_command_that_exists() -> None:
    config = json.loads((ROOT / "claude_desktop_config.example.json").read_text())
    server = config["mcpServers"]["leadsquared"]
    assert shutil.which(server["command"], path=str(Path(LSQ_MCP).parent)) is not None
    assert set(server["env"]) >= {"LSQ_ACCESS_KEY", "LSQ_SECRET_KEY", "LSQ_HOST"}


def test_all_shows_a_progress_bar_on_a_terminal_only() -> None:
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [
                LSQ_MCP,
                "activities",
                OPP_BIG,
                "--demo",
                "--all",
                "--max-activities",
                "100",
                "--page-size",
                "50",
            ],
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin"},
        )
        os.close(follower)
        terminal = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            terminal += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    assert "[##############################] page 1 of 1" in terminal.decode()
    piped = run("activities", OPP_BIG, "--demo", "--all", "--max-activities", "100")
    assert "[#" not in piped.stderr


def test_demo_is_accepted_on_every_command() -> None:
    for args in (
        ["sandbox", "--demo", "--help"],
        ["--demo", "sandbox", "--help"],
        ["serve", "--demo", "--help"],
    ):
        done = run(*args)
        assert done.returncode == 0, (args, done.stderr)


def test_sandbox_port_in_use_exits_2() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        done = run("sandbox", "--port", str(sock.getsockname()[1]))
    assert done.returncode == 2
    assert "--port" in done.stderr


def test_ctrl_c_stops_a_command_quietly(sandbox: SandboxServer) -> None:
    sandbox.state.config.latency = 10.0  # a call in flight when the person gives up
    process = subprocess.Popen(
        [LSQ_MCP, "activities", OPP_BIG, "--all"],
        env={"PATH": "/usr/bin:/bin", **env_for(sandbox)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not any(r.path.endswith("GetActivitiesOfOpportunity") for r in sandbox.state.requests):
        assert time.monotonic() < deadline, "the command never called the API"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)  # only a hang guard
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) <= 2, stderr
    assert stdout == ""


def test_tasks_demo_prints_open_and_overdue_counts() -> None:
    done = run("tasks", OPP_BIG, "--demo")
    now = datetime.now(timezone.utc)
    assert done.returncode == 0, done.stderr
    tasks = CATALOG.tasks_of(OPP_BIG, now)
    open_tasks = [t for t in tasks if t.is_open]
    overdue = [t for t in open_tasks if t.due is not None and t.due < now]
    lines = done.stdout.splitlines()
    assert lines[0] == (
        f"Tasks of opportunity {OPP_BIG}: {len(tasks)} tasks, {len(open_tasks)} open, "
        f"{len(overdue)} overdue. Times UTC."
    )
    assert len(lines) == 1 + 2 + len(tasks)
    assert done.stdout.count("OVERDUE · ") == len(overdue)


def test_summary_demo_json_counts_a_window(sandbox: SandboxServer) -> None:
    done = run(
        "summary", OPP_BIG, "--since", "2025-01-01", "--until", "2025-01-31", "--json", env=env_for(sandbox)
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    since, until = datetime(2025, 1, 1, tzinfo=timezone.utc), datetime(2025, 2, 1, tzinfo=timezone.utc)
    inside = [a for a in CATALOG.activities_of(OPP_BIG) if since <= a.created < until]
    assert (data["since"], data["until"]) == ("2025-01-01T00:00:00Z", "2025-01-31T23:59:59Z")
    assert data["history"]["counted"] == len(inside)
    assert data["history"]["complete"] is True


def test_summary_demo_prints_the_digest() -> None:
    done = run("--demo", "summary", OPP_BIG)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"Opportunity {OPP_BIG} · Acme Corp – Enterprise renewal")
    assert f"History: {BIG_ACTIVITY_COUNT} of {BIG_ACTIVITY_COUNT} activities counted" in done.stdout
    assert lines[-1].startswith("For detail: ")


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["tasks", "not-a-guid", "--demo"], 2, "OPPORTUNITY_ID"),
        (["summary", OPP_BIG, "--demo", "--since", "last week"], 2, "--since"),
        (
            ["summary", OPP_BIG, "--demo", "--since", "2025-03-01", "--until", "2025-02-01"],
            2,
            "is after --until",
        ),
        (["tasks", OPP_RESTRICTED, "--demo"], 1, "permission to view the tasks"),
        (["summary", "00000000-0000-4000-8000-000000000000", "--demo"], 1, "500"),
    ],
)
def test_tasks_and_summary_exit_codes(args: list[str], code: int, says: str) -> None:
    done = run(*args)
    assert done.returncode == code
    assert says in done.stderr
    assert done.stdout == ""


def test_a_failed_call_is_said_once() -> None:
    # The refused tasks of the sandbox's restricted deal: one line, no log line repeating it.
    done = run("--demo", "tasks", OPP_RESTRICTED)
    assert done.returncode == 1
    assert done.stderr.count("MXUnAuthorizedAccessException") == 1, done.stderr


def test_a_reader_that_stops_reading_ends_the_command_quietly() -> None:
    """`lsq-mcp activities ... | head`: the pipe closed before the answer is printed costs no traceback."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [LSQ_MCP, "activities", OPP_BIG, "--demo", "--all"],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin"},
        )
    finally:
        os.close(writer)
    assert done.stderr == ""
    assert done.returncode == 141
