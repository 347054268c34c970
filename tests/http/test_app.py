"""`lsq-mcp serve --transport http`, run as an operator runs it, over real loopback HTTP.

Two server processes serve the whole module: `open_server` as started by default (loopback, no
token) and `token_server` bound to every address with a token and `--allowed-host` flags (only
ever reached over 127.0.0.1). Each has its own sandbox, so each request log is one process's.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer

from lsq_mcp import __version__
from lsq_mcp.http.app import create_http_app
from lsq_mcp.http.security import check_http_settings, default_allowed_hosts
from lsq_mcp.sandbox import SandboxConfig, SandboxServer
from lsq_mcp.sandbox.data import BIG_ACTIVITY_COUNT, OPP_BIG
from lsq_mcp.settings import ConfigError, Settings, is_loopback, parse_allowed_hosts
from tests.conftest import LSQ_MCP, TOOL, env_for, structured, text_of

TOKEN = "tok-LEAKCHECK-3f9a1c7e5b2d4086"
EVERY_ADDRESS = "0.0.0.0"  # noqa: S104 - the point of these tests
OTHER_HOST = "mcp.example.test"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class HttpServer:
    """A running `lsq-mcp serve --transport http` process, its sandbox and its stderr."""

    process: subprocess.Popen[str]
    port: int
    stderr_path: Path
    sandbox: SandboxServer

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def post(self, **headers: str) -> httpx2.Response:
        """A raw initialize POST to /mcp, with headers added or replaced."""
        return httpx2.post(self.url, json=INITIALIZE, headers={**MCP_HEADERS, **headers}, timeout=10)

    def activity_type_lookups(self) -> int:
        return sum(r.path.endswith("ActivityTypes.Get") for r in self.sandbox.state.requests)


@contextmanager
def http_server(
    args: list[str], env: dict[str, str], port: int, sandbox: SandboxServer
) -> Iterator[HttpServer]:
    """Start `lsq-mcp serve --transport http --port PORT ARGS`, wait for /healthz, stop it after."""
    stderr_path = Path(tempfile.mkdtemp(prefix="lsq-mcp-http-")) / "stderr.log"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [LSQ_MCP, "serve", "--transport", "http", "--port", str(port), *args],
            env={"PATH": "/usr/bin:/bin", **env},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )
    server = HttpServer(process, port, stderr_path, sandbox)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"lsq-mcp exited {process.returncode}: {server.stderr}"
            assert time.monotonic() < deadline, f"no /healthz within 30 s: {server.stderr}"
            try:
                if httpx2.get(f"{server.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def own_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(rate_limit=None)) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def open_server() -> Iterator[HttpServer]:
    """As started by default: 127.0.0.1, no token, default allowed hosts."""
    with own_sandbox() as sandbox, http_server([], env_for(sandbox), free_port(), sandbox) as server:
        yield server


@pytest.fixture(scope="module")
def token_server() -> Iterator[HttpServer]:
    """Bound to every address with a token; Host headers from --allowed-host only."""
    port = free_port()
    args = [
        "--host",
        EVERY_ADDRESS,
        "--allowed-host",
        f"127.0.0.1:{port}",
        "--allowed-host",
        f"{OTHER_HOST}:*",
    ]
    with (
        own_sandbox() as sandbox,
        http_server(args, env_for(sandbox, LSQ_MCP_TOKEN=TOKEN), port, sandbox) as server,
    ):
        yield server


@asynccontextmanager
async def client_for(
    server: HttpServer, token: str | None = None, mode: str = "auto"
) -> AsyncIterator[Client]:
    """An MCP client over Streamable HTTP, sending `Authorization: Bearer token` when given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(server.url, http_client=http), mode=mode) as client,
    ):
        yield client


# --- MCP over HTTP ---


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_tools_list_and_a_call_answer_as_documented(open_server: HttpServer, mode: str) -> None:
    """Both protocol eras: `auto` speaks 2026-07-28 (per-request), `legacy` the initialize handshake."""
    async with client_for(open_server, mode=mode) as client:
        assert client.server_info is not None
        assert client.server_info.name == "leadsquared"
        assert TOOL in [t.name for t in (await client.list_tools()).tools]
        result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 5})
        data = structured(result)
        assert (data["total"], data["returned"], data["next_page_index"]) == (BIG_ACTIVITY_COUNT, 5, 2)
        assert text_of(result).startswith(f"Opportunity {OPP_BIG}")
        bad = await client.call_tool(TOOL, {"opportunity_id": "x"})
        assert bad.is_error
        assert "opportunity_id" in text_of(bad)


@pytest.mark.anyio
async def test_fetch_all_reports_progress_over_http(open_server: HttpServer) -> None:
    """Why answers are SSE, not JSON: progress notifications reach the client while a call runs."""
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with client_for(open_server) as client:
        result = await client.call_tool(
            TOOL, {"opportunity_id": OPP_BIG, "fetch_all": True}, progress_callback=on_progress
        )
    assert structured(result)["returned"] == 500
    assert seen
    assert seen[-1][0] == seen[-1][1]


@pytest.mark.anyio
async def test_stateless_calls_share_one_lifespan(open_server: HttpServer) -> None:
    """Each request stands alone (no session id), yet the pooled client and the activity type
    names opened by the server's lifespan serve them all: names are fetched once per process."""
    answer = open_server.post()
    assert answer.status_code == 200
    assert "mcp-session-id" not in answer.headers
    for _ in range(2):
        async with client_for(open_server, mode="legacy") as client:
            for page in (1, 2):
                data = structured(
                    await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_index": page})
                )
                assert data["page_index"] == page
    assert open_server.activity_type_lookups() == 1


@pytest.mark.anyio
async def test_the_app_enters_the_server_lifespan_once_for_many_requests() -> None:
    """In-process, through `create_http_app`: the lifespan runs with the app, not per request."""
    entered: list[str] = []

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[None]:
        entered.append("start")
        yield
        entered.append("stop")

    server: MCPServer[Any] = MCPServer("counting", lifespan=lifespan)

    @server.tool()
    def hello() -> str:
        return "hi"

    app = create_http_app(Settings.from_env({}), server, port=8000)
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "hello", "arguments": {}}}
    headers = {**MCP_HEADERS, "MCP-Protocol-Version": "2025-11-25"}
    async with (
        app.router.lifespan_context(app),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as http,
    ):
        assert entered == ["start"]
        for body in (INITIALIZE, call, call, call):
            answer = await http.post("/mcp", json=body, headers=headers)
            assert answer.status_code == 200
            assert "mcp-session-id" not in answer.headers
        assert '"text":"hi"' in answer.text
        assert entered == ["start"]
    assert entered == ["start", "stop"]


def test_no_idle_get_stream_is_held_open(open_server: HttpServer) -> None:
    """Stateless, the server never pushes: GET /mcp says so (405) instead of opening a dead stream."""
    answer = httpx2.get(open_server.url, headers={"Accept": "text/event-stream"}, timeout=5)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"


def test_healthz_needs_no_token(open_server: HttpServer, token_server: HttpServer) -> None:
    for server in (open_server, token_server):
        answer = httpx2.get(f"{server.base}/healthz", headers={"Host": "anything.example"})
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok", "version": __version__}


# --- the token ---


def test_without_the_right_token_every_request_is_refused_alike(token_server: HttpServer) -> None:
    refusals = [
        token_server.post(),
        token_server.post(Authorization="Bearer wrong-token"),
        token_server.post(Authorization=f"Bearer {TOKEN}x"),
        token_server.post(Authorization=f"Basic {TOKEN}"),
        token_server.post(Authorization=TOKEN),
        httpx2.get(f"{token_server.base}/", timeout=10),
    ]
    for answer in refusals:
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.content == refusals[0].content
    assert TOKEN not in refusals[0].text
    assert token_server.post(Authorization=f"Bearer {TOKEN}").status_code == 200
    assert token_server.post(Authorization=f"bearer {TOKEN}").status_code == 200


@pytest.mark.anyio
async def test_a_client_with_the_token_calls_tools_and_the_token_is_never_logged(
    token_server: HttpServer,
) -> None:
    async with client_for(token_server, TOKEN) as client:
        data = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 2}))
    assert data["returned"] == 2
    token_server.post(Authorization=f"Bearer {TOKEN}", Host="evil.example")  # logs a warning
    token_server.post(Authorization=f"Bearer {TOKEN}", Origin="http://evil.example")
    assert "Serving MCP" in token_server.stderr
    assert TOKEN not in token_server.stderr


# --- Host and Origin (DNS rebinding) ---


def test_default_allowed_hosts_are_the_loopback_names_on_the_port(open_server: HttpServer) -> None:
    port = open_server.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"LOCALHOST:{port}"):
        assert open_server.post(Host=host).status_code == 200, host
    assert open_server.post(Host=f"LocalHost:{port}", Origin=f"HTTP://LOCALHOST:{port}").status_code == 200
    for host in ("evil.example", f"EVIL.example:{port}", f"{OTHER_HOST}:{port}", f"LOCALHOST:{port + 1}"):
        assert open_server.post(Host=host).status_code in (403, 421), host


def test_a_foreign_origin_is_refused(open_server: HttpServer) -> None:
    assert open_server.post(Origin="http://evil.example").status_code == 403
    assert open_server.post(Origin=f"http://evil.example:{open_server.port}").status_code == 403
    assert open_server.post(Origin="null").status_code == 403
    assert open_server.post(Origin=f"http://localhost:{open_server.port}").status_code == 200


def test_allowed_host_flags_replace_the_defaults(token_server: HttpServer) -> None:
    auth = f"Bearer {TOKEN}"
    port = token_server.port
    assert token_server.post(Authorization=auth, Host=f"{OTHER_HOST}:8443").status_code == 200
    assert token_server.post(Authorization=auth, Host=f"{OTHER_HOST}:{port}").status_code == 200
    answer = token_server.post(
        Authorization=auth, Host=f"{OTHER_HOST}:{port}", Origin=f"https://{OTHER_HOST}:443"
    )
    assert answer.status_code == 200
    assert token_server.post(Authorization=auth, Host=f"localhost:{port}").status_code in (403, 421)
    assert token_server.post(Authorization=auth, Host=OTHER_HOST).status_code in (403, 421)


# --- start-up refusals: exit 2, one line on stderr, nothing bound ---


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LSQ_MCP, "serve", "--transport", "http", *args],
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
    )


def assert_refused(done: subprocess.CompletedProcess[str], names: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert names in lines[0]


@pytest.mark.parametrize("host", [EVERY_ADDRESS, "::", "192.0.2.10", "db.internal.example"])
def test_a_reachable_address_without_a_token_refuses_to_start(host: str) -> None:
    # Someone else holds the port: a check made after binding would fail differently.
    with socket.socket() as holder:
        holder.bind((EVERY_ADDRESS, 0))
        holder.listen()
        done = serve("--host", host, "--port", str(holder.getsockname()[1]), "--demo")
    assert_refused(done, "LSQ_MCP_TOKEN")


@pytest.mark.parametrize(
    ("args", "env", "names"),
    [
        ([], {"LSQ_MCP_ALLOWED_HOSTS": "http://mcp.example.com"}, "LSQ_MCP_ALLOWED_HOSTS"),
        ([], {"LSQ_MCP_ALLOWED_HOSTS": ", ,"}, "LSQ_MCP_ALLOWED_HOSTS"),
        (["--allowed-host", "mcp.example.com:99999"], {}, "--allowed-host"),
        (["--allowed-host", "a b"], {"LSQ_MCP_ALLOWED_HOSTS": "ok.example"}, "--allowed-host"),
        (["--port", "70000"], {}, "--port"),
        ([], {"LSQ_MCP_TOKEN": "two words"}, "LSQ_MCP_TOKEN"),
        (["--host", EVERY_ADDRESS], {"LSQ_MCP_TOKEN": "x"}, "LSQ_MCP_TOKEN"),
        (["--host", EVERY_ADDRESS], {"LSQ_MCP_TOKEN": "fifteen-chars-x"}, "at least 16"),
        (["--host", EVERY_ADDRESS], {"LSQ_MCP_TOKEN": "a" * 20}, "weak"),  # as `check` judges it
        (["--host", EVERY_ADDRESS], {"LSQ_MCP_TOKEN": "Passw0rd!Passw0rd!"}, "weak"),
        (["--host", EVERY_ADDRESS], {"LSQ_MCP_TOKEN": "0123456789abcdef"}, "weak"),
        (["--grace", "soon"], {}, "--grace"),
    ],
)
def test_malformed_http_settings_exit_2_naming_them(args: list[str], env: dict[str, str], names: str) -> None:
    done = serve(*args, "--demo", env=env)
    assert done.returncode == 2, done.stderr
    assert names in done.stderr
    assert "two words" not in done.stderr


def test_a_port_in_use_exits_2_naming_the_flags() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        done = serve("--port", str(holder.getsockname()[1]), "--demo")
    assert done.returncode == 2, done.stderr
    assert "--port" in done.stderr
    assert "Traceback" not in done.stderr


# --- the rules, directly ---


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("::1", True),
        ("[::1]", True),
        (EVERY_ADDRESS, False),
        ("::", False),
        ("", False),
        ("10.1.2.3", False),
        ("example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_default_allowed_hosts() -> None:
    loopback = ("127.0.0.1:8000", "localhost:8000", "[::1]:8000")
    assert default_allowed_hosts("127.0.0.1", 8000) == loopback
    assert default_allowed_hosts(EVERY_ADDRESS, 8000) == loopback
    assert default_allowed_hosts("::", 8000) == loopback
    assert default_allowed_hosts("10.0.0.5", 9000)[-1] == "10.0.0.5:9000"
    assert default_allowed_hosts("fe80::1", 9000)[-1] == "[fe80::1]:9000"
    assert default_allowed_hosts("MCP.Example.com", 80)[-1] == "mcp.example.com:80"


def test_allowed_hosts_setting() -> None:
    assert Settings.from_env({}).mcp_allowed_hosts is None
    settings = Settings.from_env({"LSQ_MCP_ALLOWED_HOSTS": " MCP.example.com , 10.0.0.5:8000,[::1]:*,"})
    assert settings.mcp_allowed_hosts == ("mcp.example.com", "10.0.0.5:8000", "[::1]:*")
    for bad in ("https://x.example", "x.example/mcp", "user@x.example", "x.example:0", "*", "x.example:"):
        with pytest.raises(ConfigError) as caught:
            parse_allowed_hosts(bad)
        assert caught.value.variable == "LSQ_MCP_ALLOWED_HOSTS"


def test_token_rules_never_show_the_token() -> None:
    check_http_settings(Settings.from_env({"LSQ_MCP_TOKEN": TOKEN}), EVERY_ADDRESS)
    check_http_settings(Settings.from_env({}), "127.0.0.1")
    with pytest.raises(ConfigError) as caught:
        check_http_settings(Settings.from_env({"LSQ_MCP_TOKEN": "tøken"}), "127.0.0.1")
    assert caught.value.variable == "LSQ_MCP_TOKEN"
    assert "tøken" not in str(caught.value)
