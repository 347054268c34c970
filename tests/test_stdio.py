"""The installed `lsq-mcp` command over stdio, as Claude Desktop launches it, against the sandbox."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from lsq_mcp.sandbox import Fault, SandboxConfig, SandboxServer
from lsq_mcp.sandbox.data import OPP_BIG
from tests.conftest import ACTIVITIES, LSQ_MCP, TOOL, env_for, structured, text_of
from tests.http.test_app import INITIALIZE

pytestmark = pytest.mark.anyio

ACCESS_KEY = "u$rLEAKCHECK-access-5f1e0c2b"
SECRET_KEY = "LEAKCHECK-secret-9a8b7c6d5e4f"
# Only keeps a broken server from hanging the suite; asserts no speed.
HANG_GUARD = 30


@asynccontextmanager
async def stdio(
    env: dict[str, str], args: list[str] | None = None, command: str = LSQ_MCP
) -> AsyncIterator[tuple[Client, Path]]:
    """A client to a fresh `lsq-mcp` process; yields the client and the file its stderr goes to."""
    log = Path(tempfile.mkdtemp(prefix="lsq-mcp-test-")) / "stderr.log"
    with log.open("w") as errlog:
        params = StdioServerParameters(command=command, args=args or [], env=env)
        async with Client(stdio_client(params, errlog=errlog)) as client:
            yield client, log


async def test_stdio_server_answers_as_documented(sandbox: SandboxServer) -> None:
    async with stdio(env_for(sandbox)) as (client, log):
        assert client.server_info is not None
        assert client.server_info.name == "leadsquared"
        tools = [t.name for t in (await client.list_tools()).tools]
        assert TOOL in tools
        data = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 5}))
        assert data["returned"] == 5
        bad = await client.call_tool(TOOL, {"opportunity_id": "x"})
        assert bad.is_error
        assert "opportunity_id" in text_of(bad)
    stderr = log.read_text()
    # httpx2's per-request INFO lines (with URLs) stay quiet.
    assert "HTTP Request" not in stderr


async def test_python_dash_m_serves_the_same(sandbox: SandboxServer) -> None:
    async with stdio(env_for(sandbox), ["-m", "lsq_mcp"], command=sys.executable) as (client, _):
        data = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 3}))
    assert data["returned"] == 3


async def test_missing_keys_start_anyway_and_every_call_says_what_to_set(sandbox: SandboxServer) -> None:
    async with stdio(env_for(sandbox, LSQ_ACCESS_KEY="", LSQ_SECRET_KEY="")) as (client, log):
        result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG})
    assert result.is_error
    assert "LSQ_ACCESS_KEY" in text_of(result)
    assert "LSQ_SECRET_KEY" in text_of(result)
    warnings = [line for line in log.read_text().splitlines() if "WARNING" in line]
    assert len(warnings) == 1
    assert "LSQ_ACCESS_KEY" in warnings[0]


async def test_demo_needs_no_keys() -> None:
    async with stdio({}, ["serve", "--demo"]) as (client, _):
        data = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG}))
    assert data["total"] > 0


async def test_keys_never_appear_in_any_output_or_in_stderr(sandbox: SandboxServer) -> None:
    """Success, refusal, echoed keys, garbage, timeouts: neither key is ever shown or logged."""
    sandbox.state.config = SandboxConfig(access_key=ACCESS_KEY, secret_key=SECRET_KEY, rate_limit=(4, 0.5))
    env = env_for(sandbox, LSQ_ACCESS_KEY=ACCESS_KEY, LSQ_SECRET_KEY=SECRET_KEY, LSQ_TIMEOUT="0.5")
    outputs: list[str] = []
    async with stdio(env) as (client, log):
        for fault in (
            None,
            Fault("echo_keys", path=ACTIVITIES),
            Fault("echo_keys", status=200, path=ACTIVITIES),
            Fault(
                "error",
                status=401,
                exception_type="MXInvalidAccessDetailsException",
                message=ACCESS_KEY,
                path=ACTIVITIES,
            ),
            Fault("html", body=f"<html>{ACCESS_KEY} {SECRET_KEY}</html>", path=ACTIVITIES),
            Fault("status", status=503, count=5, body=SECRET_KEY, path=ACTIVITIES),
            Fault("slow", delay=2, count=5, path=ACTIVITIES),
            Fault("ratelimit", count=5, limit=(4, 0.5), path=ACTIVITIES),
        ):
            if fault is not None:
                sandbox.state.push_fault(fault)
            result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 2})
            outputs.append(text_of(result))
            outputs.append(str(result.structured_content))
            sandbox.state.faults.clear()
        for _ in range(10):  # a burst into the sandbox's limit
            outputs.append(text_of(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 1})))
    seen = "\n".join(outputs) + log.read_text()
    assert "[redacted]" in seen, "the echoed keys were there to be caught"
    assert ACCESS_KEY not in seen
    assert SECRET_KEY not in seen
    assert all(r.had_key_headers and not r.keys_in_query for r in sandbox.state.requests)


# --- prompt errors, signals ---


async def test_prompt_errors_are_invalid_params_without_a_traceback(sandbox: SandboxServer) -> None:
    async with stdio(env_for(sandbox)) as (client, log):
        for name, arguments, names in [
            ("deal_history", {}, "opportunity_id"),
            ("no_such_prompt", {"opportunity_id": OPP_BIG}, "deal_history"),
            ("deal_history", {"opportunity_id": " \n "}, "opportunity_id: must be 1 to 200 characters"),
            ("deal_history", {"opportunity_id": "x" * 201}, "opportunity_id: must be 1 to 200 characters"),
            ("deal_history", {"opportunity_id": OPP_BIG, "colour": "red"}, "'colour'"),
        ]:
            with pytest.raises(MCPError) as caught:
                await client.get_prompt(name, arguments)
            assert caught.value.code == INVALID_PARAMS
            assert names in str(caught.value)
        prompt = await client.get_prompt("deal_history", {"opportunity_id": OPP_BIG})
        assert OPP_BIG in str(prompt.messages[0].content)
    assert "Traceback" not in log.read_text()


def test_every_call_read_before_stdin_closes_is_answered(sandbox: SandboxServer) -> None:
    """`lsq-mcp < requests.jsonl`: the server reads every line, stdin ends, and each call still gets
    its answer before the server leaves."""
    sandbox.state.config = SandboxConfig(rate_limit=None, latency=0.3)
    calls = [
        {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": TOOL, "arguments": arguments}}
        for n, arguments in enumerate(
            [{"opportunity_id": OPP_BIG, "page_size": n} for n in (1, 2, 3)] + [{"opportunity_id": "x"}],
            start=2,
        )
    ]
    prompt = {"jsonrpc": "2.0", "id": 9, "method": "prompts/get", "params": {"name": "deal_history"}}
    lines = [INITIALIZE, {"jsonrpc": "2.0", "method": "notifications/initialized"}, *calls, prompt]
    done = subprocess.run(
        [LSQ_MCP],
        input="".join(json.dumps(line) + "\n" for line in lines),
        env=env_for(sandbox),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )
    answers = {answer["id"]: answer for answer in map(json.loads, done.stdout.splitlines()) if "id" in answer}
    assert sorted(answers) == [1, 2, 3, 4, 5, 9], done.stderr
    assert [answers[n]["result"]["structuredContent"]["returned"] for n in (2, 3, 4)] == [1, 2, 3]
    assert answers[5]["result"]["isError"] is True
    assert answers[9]["error"]["code"] == INVALID_PARAMS
    assert done.returncode == 0
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_idle_stdio_server_at_once_and_quietly(sandbox: SandboxServer, sig: int) -> None:
    """The server waits on stdin, which the client keeps open without writing: a signal must not
    wait for the next line."""
    process = subprocess.Popen(
        [LSQ_MCP], env=env_for(sandbox), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdin.write(json.dumps(INITIALIZE).encode() + b"\n")
    process.stdin.flush()
    assert b'"result"' in process.stdout.readline()  # serving, and reading stdin again
    process.send_signal(sig)
    try:
        code = process.wait(HANG_GUARD)
    finally:
        process.kill()
    assert code == 0
    assert b"Traceback" not in process.stderr.read()
