"""Every error of docs/tools.md#errors, through the MCP client, caused by the sandbox over real HTTP."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from lsq_mcp.errors import RateLimitWaitError
from lsq_mcp.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Fault, SandboxConfig, SandboxServer
from lsq_mcp.sandbox.data import OPP_BIG
from lsq_mcp.server import ERROR_KIND_META, error_kind
from tests.conftest import ACTIVITIES, LSQ_MCP, TOOL, connect, env_for, structured, text_of

pytestmark = pytest.mark.anyio

ARGS = {"opportunity_id": OPP_BIG}
UNKNOWN_OPPORTUNITY = "00000000-0000-4000-8000-000000000000"


async def call_error(sandbox: SandboxServer, arguments: dict[str, object] | None = None, **env: str) -> str:
    async with connect(sandbox, **env) as client:
        result = await client.call_tool(TOOL, arguments or ARGS)
    text = text_of(result)
    assert result.is_error, text
    assert result.structured_content is None
    assert not text.startswith("Error executing tool")
    assert SANDBOX_ACCESS_KEY not in text
    assert SANDBOX_SECRET_KEY not in text
    return text


def calls(sandbox: SandboxServer) -> int:
    """Calls to the activities API (the activity type names are fetched on the side)."""
    return sum(1 for r in sandbox.state.requests if r.path.endswith("GetActivitiesOfOpportunity"))


async def test_401_keys_refused(sandbox: SandboxServer) -> None:
    text = await call_error(sandbox, LSQ_SECRET_KEY="wrong-secret")
    assert "401" in text
    assert "refused" in text
    assert "LSQ_ACCESS_KEY" in text
    assert calls(sandbox) == 1, "a refused key is not retried"


async def test_401_from_the_wrong_region_names_the_right_host(sandbox: SandboxServer) -> None:
    sandbox.state.config = SandboxConfig(rate_limit=None, region_host="api-in21.leadsquared.com")
    text = await call_error(sandbox)
    assert "401" in text
    assert "api-in21.leadsquared.com" in text
    assert "LSQ_HOST" in text


async def test_400_carries_leadsquareds_message(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(
        Fault(
            "error",
            status=400,
            exception_type="MXInvalidInputException",
            message="Invalid Paging parameters",
            path=ACTIVITIES,
        )
    )
    text = await call_error(sandbox)
    assert "400" in text
    assert "Invalid Paging parameters" in text
    assert calls(sandbox) == 1


async def test_404_names_lsq_host(sandbox: SandboxServer) -> None:
    text = await call_error(sandbox, LSQ_HOST=f"{sandbox.url}/wrong-prefix")
    assert "404" in text
    assert "LSQ_HOST" in text
    assert calls(sandbox) == 1


async def test_500_with_exception_message_is_not_retried(sandbox: SandboxServer) -> None:
    text = await call_error(sandbox, {"opportunity_id": UNKNOWN_OPPORTUNITY})
    assert "500" in text
    assert "Opportunity does not exist" in text
    assert calls(sandbox) == 1


async def test_500_without_detail_is_retried_then_reported(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(
        Fault("status", status=500, count=10, body="Internal Server Error", path=ACTIVITIES)
    )
    text = await call_error(sandbox, LSQ_MAX_RETRIES="2")
    assert "500" in text
    assert calls(sandbox) == 3


async def test_errors_inside_http_200_are_errors(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(
        Fault(
            "error",
            status=200,
            exception_type="MXInvalidInputException",
            message="PageSize can not be more than 1000",
            path=ACTIVITIES,
        )
    )
    text = await call_error(sandbox)
    assert "PageSize can not be more than 1000" in text
    assert calls(sandbox) == 1


async def test_transient_503s_are_retried_and_the_call_succeeds(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(Fault("status", status=503, count=2, path=ACTIVITIES))
    async with connect(sandbox, LSQ_MAX_RETRIES="3") as client:
        data = structured(await client.call_tool(TOOL, ARGS))
    assert data["returned"] == 25
    assert calls(sandbox) == 3


async def test_429_after_the_retries_names_the_limit_and_when_to_retry(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(Fault("ratelimit", count=10, limit=(5, 0.2), path=ACTIVITIES))
    text = await call_error(sandbox, LSQ_MAX_RETRIES="2")
    assert "429" in text
    assert "rate limit" in text
    assert "5 calls per 0.2 seconds" in text
    assert "Try again in 0.2 seconds" in text
    assert calls(sandbox) == 3


async def test_rate_limit_inside_http_200_is_retried(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(Fault("ratelimit", status=200, limit=(25, 0.2), path=ACTIVITIES))
    async with connect(sandbox) as client:
        data = structured(await client.call_tool(TOOL, ARGS))
    assert data["returned"] == 25
    assert calls(sandbox) == 2


async def test_retry_after_is_honoured(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(Fault("ratelimit", limit=(25, 0.05), retry_after=1, path=ACTIVITIES))
    began = time.monotonic()
    async with connect(sandbox) as client:
        structured(await client.call_tool(TOOL, ARGS))
    assert time.monotonic() - began >= 1.0


async def test_timeout_names_the_host(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(Fault("slow", delay=3, count=5, path=ACTIVITIES))
    # The slow answer would come after 3 s and succeed: the error shows that LSQ_TIMEOUT cut it off.
    text = await call_error(sandbox, LSQ_TIMEOUT="0.3", LSQ_MAX_RETRIES="0")
    assert "127.0.0.1" in text
    assert "Could not reach" in text
    assert "0.3s" in text


async def test_refused_connection_names_the_host(sandbox: SandboxServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    text = await call_error(sandbox, LSQ_HOST=f"http://127.0.0.1:{port}", LSQ_MAX_RETRIES="0")
    assert f"127.0.0.1:{port}" in text
    assert "refused" in text


async def test_unknown_host_names_the_host(sandbox: SandboxServer) -> None:
    text = await call_error(sandbox, LSQ_HOST="lsq-mcp-test.invalid", LSQ_MAX_RETRIES="0")
    assert "lsq-mcp-test.invalid" in text
    assert "Could not reach" in text


async def test_dropped_connections_are_retried_then_reported(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(Fault("drop", count=10, path=ACTIVITIES))
    text = await call_error(sandbox, LSQ_MAX_RETRIES="1")
    assert "Could not reach" in text
    assert calls(sandbox) == 2


@pytest.mark.parametrize("kind", ["html", "truncated", "wrong_shape"])
async def test_malformed_bodies(sandbox: SandboxServer, kind: str) -> None:
    sandbox.state.push_fault(Fault(kind, path=ACTIVITIES))  # type: ignore[arg-type]
    text = await call_error(sandbox)
    assert "200" in text
    assert "malformed" in text
    quoted = text.split("expected: ", 1)[1].rsplit(". Check", 1)[0]
    assert len(quoted) <= 200 + 2


async def test_keys_echoed_by_the_api_never_reach_the_model(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(Fault("echo_keys", path=ACTIVITIES))
    text = await call_error(sandbox)
    assert "500" in text
    assert "[redacted]" in text


async def test_rate_limit_inside_http_200_after_the_retries(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(Fault("ratelimit", status=200, count=10, limit=(20, 0.1), path=ACTIVITIES))
    text = await call_error(sandbox, LSQ_MAX_RETRIES="1")
    assert "429 rate limit, sent inside HTTP 200" in text
    assert "20 calls per 0.1 seconds" in text
    assert calls(sandbox) == 2


async def test_a_call_that_waited_out_its_time_in_the_local_queue_says_so(sandbox: SandboxServer) -> None:
    """1 call a minute: the first API call (a tool's, or the activity type names at start-up) takes
    the only place, and the next tool call waits past its time without LeadSquared being asked."""
    async with connect(sandbox, LSQ_RATE_LIMIT="1/60", LSQ_TIMEOUT="3", LSQ_MAX_RETRIES="0") as client:
        results = [await client.call_tool(TOOL, ARGS) for _ in range(2)]
    text = text_of(results[-1])
    assert results[-1].is_error
    assert (results[-1].meta or {}).get(ERROR_KIND_META) == error_kind(RateLimitWaitError)
    assert "waited 3 seconds for a place under the rate limit (1 call per 60 seconds)" in text
    assert "LeadSquared was never asked" in text
    assert "Could not reach" not in text
    assert len(sandbox.state.requests) == 1


def test_the_cli_refuses_a_bad_argument_without_any_api_call(sandbox: SandboxServer) -> None:
    env = {"PATH": "/usr/bin:/bin", **env_for(sandbox)}
    command = [LSQ_MCP, "activities", "not-a-guid"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "OPPORTUNITY_ID" in done.stderr
    assert "No API call was made" in done.stderr
    assert sandbox.state.requests == [], "not even the activity type names"
