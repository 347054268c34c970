"""`lsq-mcp serve --transport http` run as a service: stopped by a signal, cancelled calls, idle sockets.

Each test starts its own server process (tests/http/test_app.py's `http_server`), as an operator
runs it, against its own sandbox over loopback, and signals it as a process manager would.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import anyio
import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from lsq_mcp.http.serving import BODY_SECONDS
from lsq_mcp.sandbox import SandboxServer
from lsq_mcp.sandbox.data import OPP_BIG
from tests.conftest import ACTIVITIES, TOOL, env_for, hits, structured
from tests.http.test_app import MCP_HEADERS, HttpServer, client_for, free_port, http_server, own_sandbox

pytestmark = pytest.mark.anyio

# Generous bounds that only keep a broken server from hanging the suite; they assert no speed.
HANG_GUARD = 60
FETCH_ALL = {"opportunity_id": OPP_BIG, "fetch_all": True}


@contextmanager
def server_for(**env: str) -> Iterator[HttpServer]:
    with own_sandbox() as sandbox, http_server([], env_for(sandbox, **env), free_port(), sandbox) as server:
        yield server


async def until(condition: str, check: Callable[[], bool]) -> None:
    """Wait until `check()` is true (polled), or fail naming `condition` after HANG_GUARD seconds."""
    deadline = time.monotonic() + HANG_GUARD
    while not check():
        assert time.monotonic() < deadline, f"not within {HANG_GUARD}s: {condition}"
        await anyio.sleep(0.05)


def leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions an exception group holds, however deeply nested (or `exc` itself)."""
    inner: Sequence[BaseException] | None = getattr(exc, "exceptions", None)
    return [leaf for e in inner for leaf in leaves(e)] if inner is not None else [exc]


def exit_code(server: HttpServer) -> int:
    return server.process.wait(HANG_GUARD)


# --- SIGTERM: stop taking requests, finish the calls in flight, exit 0 ---


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_lets_the_call_in_flight_finish_then_exits_0(sig: signal.Signals) -> None:
    with server_for() as server:
        server.sandbox.state.config.latency = 3.0
        result: dict[str, object] = {}

        async def call() -> None:
            async with client_for(server) as client:
                await client.list_tools()  # the client checks results against the schemas: read them now
                result["data"] = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG}))

        async with anyio.create_task_group() as group:
            group.start_soon(call)
            await until("the call reaches LeadSquared", lambda: hits(server.sandbox, ACTIVITIES) == 1)
            server.process.send_signal(sig)
            await anyio.sleep(0.5)
            # Stopping: a new connection is refused while the call in flight runs on.
            with pytest.raises(httpx2.TransportError):
                httpx2.get(f"{server.base}/healthz", timeout=5)
        assert exit_code(server) == 0, server.stderr
    assert result["data"]["returned"] == 25  # type: ignore[index]
    assert "Traceback" not in server.stderr


async def test_past_the_grace_period_the_call_is_cut_and_the_exit_still_clean() -> None:
    with server_for(LSQ_MCP_GRACE_SECONDS="0") as server:
        server.sandbox.state.config.latency = 5.0
        failures: list[BaseException] = []

        async def call() -> None:
            try:
                async with client_for(server) as client:
                    await client.call_tool(TOOL, {"opportunity_id": OPP_BIG})
            except Exception as exc:  # asserted below: what the client raised, once out of its task groups
                failures.extend(leaves(exc))

        async with anyio.create_task_group() as group:
            group.start_soon(call)
            await until("the call reaches LeadSquared", lambda: hits(server.sandbox, ACTIVITIES) == 1)
            server.process.terminate()
        assert exit_code(server) == 0, server.stderr
    # No result: the call ends as an MCP error response, not a transport failure nor a crash.
    assert failures, "the call cut past the grace period returned a result"
    assert all(isinstance(exc, MCPError) for exc in failures), failures
    assert "Traceback" not in server.stderr


# --- cancellation: no API call after a cancel, nor after the client leaves ---


async def calls_after(sandbox: SandboxServer) -> tuple[int, int]:
    """The activity pages asked for once a cancel has landed, and 3 s later."""
    await anyio.sleep(0.5)
    landed = hits(sandbox, ACTIVITIES)
    await anyio.sleep(3)
    return landed, hits(sandbox, ACTIVITIES)


def slow_walk(server: HttpServer) -> None:
    """A walk of 26 pages of 25 at 2 calls a second: some 13 s of calls to interrupt."""
    server.sandbox.state.config.page_size_limit = 25


async def test_notifications_cancelled_stops_a_fetch_all_over_http() -> None:
    with server_for(LSQ_RATE_LIMIT="2/1") as server:
        slow_walk(server)
        async with client_for(server, mode="legacy") as client:  # the era that POSTs its cancels
            async with anyio.create_task_group() as group:
                group.start_soon(client.call_tool, TOOL, FETCH_ALL)
                await until("the walk is under way", lambda: hits(server.sandbox, ACTIVITIES) >= 3)
                group.cancel_scope.cancel()  # the client sends notifications/cancelled
            landed, later = await calls_after(server.sandbox)
            assert later == landed
            # The server serves on.
            assert structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 2}))
        assert "Traceback" not in server.stderr


async def test_a_client_going_away_stops_a_fetch_all_over_http() -> None:
    with server_for(LSQ_RATE_LIMIT="2/1") as server:
        slow_walk(server)
        params = {"name": TOOL, "arguments": FETCH_ALL}
        call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params}
        headers = {**MCP_HEADERS, "MCP-Protocol-Version": "2025-11-25"}
        async with (
            httpx2.AsyncClient(timeout=30) as http,
            http.stream("POST", server.url, json=call, headers=headers) as answer,
        ):
            assert answer.status_code == 200
            await until("the walk is under way", lambda: hits(server.sandbox, ACTIVITIES) >= 3)
        landed, later = await calls_after(server.sandbox)
        assert later == landed
        assert "Traceback" not in server.stderr


# --- connections that never send a request ---


def test_connections_that_send_nothing_are_closed() -> None:
    with server_for() as server:
        silent = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(40)]
        partial = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(10)]
        for sock in partial:  # headers begun, never finished
            sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        start = time.monotonic()
        for sock in silent + partial:
            with sock:
                sock.settimeout(HANG_GUARD)
                assert sock.recv(1024) == b"", "the server still holds the connection open"
        held = time.monotonic() - start
        # A request still gets its answer after all that.
        assert httpx2.get(f"{server.base}/healthz", timeout=10).status_code == 200
    print(f"50 idle connections closed by the server after {held:.1f}s")


def test_a_body_that_trickles_in_is_cut_and_a_deeply_nested_one_answers_400() -> None:
    with server_for() as server:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n")
            sock.settimeout(1)
            start, cut = time.monotonic(), False
            while not cut and time.monotonic() - start < BODY_SECONDS + 10:
                try:
                    sock.sendall(b"{")  # a byte a second: the body would take 1,000 s
                    cut = sock.recv(1024) == b""
                except TimeoutError:
                    continue
                except OSError:
                    cut = True
            assert cut, "the server still reads a body that trickles in"
            assert time.monotonic() - start < BODY_SECONDS + 5
        nested = b"[" * 100_000 + b"]" * 100_000
        answer = httpx2.post(server.url, content=nested, headers=MCP_HEADERS, timeout=HANG_GUARD)
        assert answer.status_code == 400
        assert httpx2.get(f"{server.base}/healthz", timeout=10).status_code == 200
    assert "Traceback" not in server.stderr
