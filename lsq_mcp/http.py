"""MCP over Streamable HTTP: `/mcp`, `/healthz`, a bearer token, and Host/Origin checks.

`create_http_app(settings, server, host=..., port=...)` builds the Starlette app (tests use it
too); `listen(host, port)` binds the socket and `run(app, sock)` serves it with uvicorn.

Stateless: every POST to `/mcp` is served on its own, so any replica behind a load balancer can
answer any request. Answers are SSE streams rather than plain JSON so that a long `fetch_all`
can report progress per page while it runs (a JSON answer could carry only the final result).
The MCP server's lifespan (the pooled LeadSquared client, the activity type lookup) is entered
once, when the app starts, by the SDK's session manager, and shared by every request.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import socket
from typing import TYPE_CHECKING, Any

from lsq_mcp import __version__
from lsq_mcp.settings import ConfigError, Settings

# The SDK, Starlette and uvicorn are imported where used: the start-up checks (a missing token,
# a malformed setting, a port in use) then answer at once, before a second of imports.
if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Receive, Scope, Send

MCP_PATH = "/mcp"
HEALTH_PATH = "/healthz"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
# What a client may send as a token: printable ASCII without spaces, the most a header carries intact.
_TOKEN_RE = re.compile(r"^[\x21-\x7e]+$")


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server on this machine (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # any other name may resolve anywhere


def is_wildcard(host: str) -> bool:
    """Whether binding `host` listens on every address (0.0.0.0, ::)."""
    name = host.strip().strip("[]")
    if not name:
        return True
    try:
        return ipaddress.ip_address(name).is_unspecified
    except ValueError:
        return False


def host_header(host: str, port: int) -> str:
    """`host` as it appears in a Host header for `port` (IPv6 addresses in brackets)."""
    name = host.strip().strip("[]").lower()
    return f"[{name}]:{port}" if ":" in name else f"{name}:{port}"


def default_allowed_hosts(host: str, port: int) -> tuple[str, ...]:
    """The Host headers accepted unless configured: the loopback names, and `host` unless a wildcard."""
    names = [f"{name}:{port}" for name in LOOPBACK_NAMES]
    if not is_wildcard(host) and host_header(host, port) not in names:
        names.append(host_header(host, port))
    return tuple(names)


def check_http_settings(settings: Settings, host: str) -> None:
    """Refuse, before anything binds, a server reachable from the network that anyone could use."""
    token = settings.mcp_token
    if token is not None and not _TOKEN_RE.fullmatch(token):
        # The value itself is never shown: it is a secret.
        raise ConfigError(
            "LSQ_MCP_TOKEN", "must be printable ASCII without spaces (e.g. from openssl rand -hex 32)"
        )
    if token is None and not is_loopback(host):
        raise ConfigError(
            "LSQ_MCP_TOKEN",
            f"must be set to serve HTTP on {host!r}, which other machines can reach; "
            "set LSQ_MCP_TOKEN to a long random value, or bind 127.0.0.1",
        )


def create_http_app(
    settings: Settings, server: MCPServer[Any], *, host: str = "127.0.0.1", port: int = 8000
) -> Starlette:
    """The ASGI app: MCP at `/mcp` (stateless), `GET /healthz`, and the token check when one is set.

    `host` and `port` are where the app will listen; they set the default allowed Host headers.
    Call once per `server`: the SDK keeps one session manager per server.
    """
    from mcp.server.transport_security import TransportSecuritySettings

    allowed = settings.mcp_allowed_hosts or default_allowed_hosts(host, port)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(allowed),
        # A browser page may call us only from an origin on an allowed host.
        allowed_origins=[f"{scheme}://{name}" for name in allowed for scheme in ("http", "https")],
    )
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=False,
        transport_security=security,
        host=host,
    )
    app.add_route(HEALTH_PATH, _health, methods=["GET"])
    app.add_middleware(NoStandaloneStreamMiddleware)
    if settings.mcp_token is not None:  # added last, so it runs first
        app.add_middleware(BearerTokenMiddleware, token=settings.mcp_token)
    return app


async def _health(_: Request) -> Response:
    from starlette.responses import JSONResponse

    return JSONResponse({"status": "ok", "version": __version__})


class BearerTokenMiddleware:
    """Every HTTP request but `/healthz` must carry `Authorization: Bearer <token>`.

    A refusal is the same whatever was wrong (no header, another scheme, a wrong token), so it
    tells a prober nothing.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._digest = hashlib.sha256(token.encode()).digest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != HEALTH_PATH and not self._authorized(scope):
            # The same answer whatever was wrong; no detail for a prober.
            await _send(send, 401, [(b"www-authenticate", b"Bearer")], "Unauthorized")
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        values = [value for name, value in scope["headers"] if name == b"authorization"]
        if len(values) != 1:
            return False
        scheme, _, credentials = values[0].strip().partition(b" ")
        # Comparing digests takes the same time whatever the token's length or its first difference.
        given = hashlib.sha256(credentials.strip()).digest()
        return scheme.lower() == b"bearer" and hmac.compare_digest(given, self._digest)


class NoStandaloneStreamMiddleware:
    """`GET /mcp` answers 405, as the spec allows for a server that offers no SSE stream there.

    Stateless, nothing is ever sent on that stream (each request has its own transport), yet the
    SDK would hold it open, one idle connection per client on every replica.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == MCP_PATH and scope["method"] == "GET":
            await _send(send, 405, [(b"allow", b"POST")], "Method Not Allowed: send requests by POST")
            return
        await self.app(scope, receive, send)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], message: str) -> None:
    """An error answer with a JSON-RPC body, so that MCP clients show `message`, not a bare status."""
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port`, or a ConfigError naming the flags (port in use, no such address)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError("--host", f"cannot listen on {host!r}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError("--host/--port", f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def run(app: Starlette, sock: socket.socket) -> None:
    """Serve `app` on `sock` until SIGINT or SIGTERM; logs go to our stderr handler, no access log."""
    import uvicorn

    config = uvicorn.Config(
        app,
        lifespan="on",
        log_config=None,  # keep our stderr handler and its redaction
        access_log=False,
        server_header=False,
        # In-flight calls get this long to finish on shutdown; SSE answers would otherwise hold it up.
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run(sockets=[sock])
