"""Set-up mistakes with the keys: each named once, in the same words by `check`, the stdio server and
the commands, a key cut by the shell included."""

from __future__ import annotations

import pytest

from lsq_mcp.sandbox import SandboxServer
from lsq_mcp.sandbox.data import OPP_BIG
from tests.cli.test_check import check
from tests.cli.test_main import run
from tests.conftest import TOOL, env_for, text_of
from tests.test_stdio import stdio

PLACEHOLDER = "LSQ_ACCESS_KEY holds a placeholder, not a key"

# What people leave in a key's place: the README's own example, a variable the shell or the client
# did not expand, a pair of quotes standing for nothing.
NOT_KEYS = ["u$r...", "u$r…", "$LSQ_ACCESS_KEY", "${LSQ_ACCESS_KEY}", "''", '""']


@pytest.mark.parametrize("value", NOT_KEYS)
def test_check_reads_what_stands_for_a_key_as_a_placeholder(sandbox: SandboxServer, value: str) -> None:
    done = check(env=env_for(sandbox, LSQ_ACCESS_KEY=value))
    assert done.returncode == 2
    failures = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failures) == 1
    assert f"FAIL  configuration  {PLACEHOLDER}: paste your key from" in failures[0]
    assert sandbox.state.requests == []


@pytest.mark.parametrize("value", ["u", "u-7f3a", "u.b2c4"])
def test_check_names_a_key_cut_by_the_shell_and_says_to_quote_it(sandbox: SandboxServer, value: str) -> None:
    """`LSQ_ACCESS_KEY=u$r3b8f…` unquoted: the shell reads `$r3b8f…` as a variable, leaving `u`."""
    done = check(env=env_for(sandbox, LSQ_ACCESS_KEY=value))
    assert done.returncode == 2
    failures = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failures) == 1, "one problem, one line: not a refused key as well"
    assert "LSQ_ACCESS_KEY does not look like an access key" in failures[0]
    assert "put the key in single quotes, LSQ_ACCESS_KEY='u$r…'" in failures[0]
    assert sandbox.state.requests == []


def test_a_real_looking_key_is_not_taken_for_a_cut_one(sandbox: SandboxServer) -> None:
    done = check(env=env_for(sandbox))
    assert done.returncode == 0, done.stdout


@pytest.mark.anyio
async def test_the_stdio_server_says_it_in_checks_words_once_at_start(sandbox: SandboxServer) -> None:
    async with stdio(env_for(sandbox, LSQ_ACCESS_KEY="u$r...")) as (client, log):
        result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG})
    assert result.is_error
    assert PLACEHOLDER in text_of(result)
    warnings = [line for line in log.read_text().splitlines() if "WARNING" in line]
    assert len(warnings) == 1
    assert PLACEHOLDER in warnings[0]


def test_a_command_without_keys_says_so_once(sandbox: SandboxServer) -> None:
    done = run("summary", OPP_BIG, env=env_for(sandbox, LSQ_ACCESS_KEY="$LSQ_ACCESS_KEY"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"lsq-mcp: LeadSquared keys are not configured: {PLACEHOLDER}. Set them in the MCP server's "
        "environment (LeadSquared → My Profile → Settings → API and Webhooks), or run it with --demo to "
        "try the sandbox."
    ]
