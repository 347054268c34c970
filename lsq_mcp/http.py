"""MCP over Streamable HTTP: `/mcp`, `/healthz`, a bearer token, and Host/Origin checks.

`create_http_app(settings, server, host=..., port=...)` builds the Starlette app (tests use it
too); `listen(host, port)` binds the socket, and `lsq_mcp.serving.run` serves it with uvicorn
(graceful stop on SIGTERM, a deadline for request headers).

Stateless: every POST to `/mcp` is served on its own, so any replica behind a load balancer can
answer any request. Answers are SSE streams rather than plain JSON so that a long `fetch_all`
can report progress per page while it runs (a JSON answer could carry only the final result).
The MCP server's lifespan (the pooled LeadSquared client, the activity type lookup) is entered
once, when the app starts, by the SDK's session manager, and shared by every request.

`/healthz` answers 200 `{"status": "ok", ...}`; with LSQ_REDIS_URL set it also PINGs Redis, and
answers 503 `{"status": "degraded", "redis": "down", ...}` when Redis does not answer in time.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import math
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio

from lsq_mcp import __version__
from lsq_mcp.settings import ConfigError, Settings

# The SDK, Starlette and uvicorn are imported where used: the start-up checks (a missing token,
# a malformed setting, a port in use) then answer at once, before a second of imports.
if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

MCP_PATH = "/mcp"
HEALTH_PATH = "/healthz"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
# What a client may send as a token: printable ASCII without spaces, the most a header carries intact.
_TOKEN_RE = re.compile(r"^[\x21-\x7e]+$")
# A token guarding a server other machines can reach must not be guessable.
MIN_TOKEN_LENGTH = 16
MIN_TOKEN_DISTINCT = 8
MIN_TOKEN_BITS = 64


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
    if is_loopback(host):
        return
    if token is None:
        raise ConfigError(
            "LSQ_MCP_TOKEN",
            f"must be set to serve HTTP on {host!r}, which other machines can reach; "
            "set LSQ_MCP_TOKEN to a long random value (e.g. from openssl rand -hex 32), or bind 127.0.0.1",
        )
    if (weakness := token_weakness(token)) is not None:
        raise ConfigError("LSQ_MCP_TOKEN", f"{weakness} to guard {host!r}, which other machines can reach")


def token_weakness(token: str) -> str | None:
    """Why `token` is too easy to guess to guard a server other machines can reach, or None."""
    bits = token_bits(token)
    if len(token) >= MIN_TOKEN_LENGTH and len(set(token)) >= MIN_TOKEN_DISTINCT and bits >= MIN_TOKEN_BITS:
        return None
    return (
        f"is weak (about {bits} bits, {len(set(token))} distinct characters; use at least "
        f"{MIN_TOKEN_LENGTH} random characters, e.g. from openssl rand -hex 32)"
    )


def token_bits(token: str) -> int:
    """A generous estimate of a token's randomness: its length times the bits of the smallest
    alphabet its characters come from (hex, then letters and digits, then printable ASCII)."""
    if all(c in "0123456789abcdef" for c in token) or all(c in "0123456789ABCDEF" for c in token):
        alphabet = 16
    elif token.isalnum():
        alphabet = 62
    else:
        alphabet = 94
    return int(len(token) * math.log2(alphabet))


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
    app.add_route(HEALTH_PATH, _health_check(app, settings), methods=["GET"])
    app.state.calls = CallsInFlight()
    app.add_middleware(CancellationMiddleware, calls=app.state.calls)
    app.add_middleware(NoStandaloneStreamMiddleware)
    app.add_middleware(LowerCaseHostMiddleware)
    if settings.mcp_token is not None:  # added last, so it runs first
        app.add_middleware(BearerTokenMiddleware, token=settings.mcp_token)
    return app


def _health_check(app: Starlette, settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """`GET /healthz`; with LSQ_REDIS_URL, Redis too, over a pool of its own closed with the app."""
    from starlette.responses import JSONResponse

    from lsq_mcp.redis_store import RedisStore

    store = RedisStore.open(settings, announce=False) if settings.redis_url else None
    if store is not None:
        inner = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[Any]:
            try:
                async with inner(app) as state:
                    yield state
            finally:
                await store.aclose()

        app.router.lifespan_context = lifespan

    async def health(_: Request) -> Response:
        answer: dict[str, str] = {"status": "ok", "version": __version__}
        if store is None:
            return JSONResponse(answer)
        if await store.ping():
            return JSONResponse({**answer, "redis": "ok"})
        return JSONResponse({**answer, "status": "degraded", "redis": "down"}, status_code=503)

    return health


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


class LowerCaseHostMiddleware:
    """Host and Origin headers are compared lower-cased: host names and schemes ignore case
    (`LOCALHOST:8000` is `localhost:8000`), and the allowed hosts are kept lower-cased."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(k, v.lower() if k in (b"host", b"origin") else v) for k, v in scope["headers"]]
            scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)


class CallsInFlight:
    """Every request POST to `/mcp` running now, each in a cancel scope filed under its caller (client
    address, Authorization and User-Agent headers) and JSON-RPC id: what a cancel names, and what
    a stopping server cuts once its grace period is over (`lsq_mcp.serving`)."""

    def __init__(self) -> None:
        self._running: dict[tuple[str, ...], list[anyio.CancelScope]] = {}

    def cancel(self, key: tuple[str, ...]) -> None:
        """Cancel the call `key` names; ids are the clients' own, so when two calls of one caller share
        it, neither is cancelled rather than perhaps the wrong one."""
        scopes = self._running.get(key, [])
        if len(scopes) == 1:
            scopes[0].cancel()

    def cancel_all(self) -> int:
        scopes = [scope for scopes in self._running.values() for scope in scopes]
        for scope in scopes:
            scope.cancel()
        return len(scopes)

    async def run(
        self, key: tuple[str, ...], app: ASGIApp, scope: Scope, receive: Receive, send: Send
    ) -> None:
        answer: dict[str, bool] = {"started": False, "done": False}

        async def tracked(message: Message) -> None:
            answer["started"] = True
            answer["done"] = message["type"] == "http.response.body" and not message.get("more_body")
            await send(message)

        with anyio.CancelScope() as cancel:
            self._running.setdefault(key, []).append(cancel)
            try:
                await app(scope, receive, tracked)
            finally:
                self._running[key].remove(cancel)
                if not self._running[key]:
                    del self._running[key]
        if cancel.cancelled_caught and not answer["done"]:
            # Cancelled by the client, which expects no answer, or cut by a stopping server: the
            # answer ends here, cleanly.
            if answer["started"]:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": b""})


class CancellationMiddleware:
    """A `notifications/cancelled` POST cancels the call it names, though every POST stands alone.

    Stateless, the SDK serves the notification on a fresh transport that knows nothing of the call
    and drops it (202), so the call ran on and kept spending the account's rate limit. Here the
    call's POST is cancelled (`CallsInFlight`): it ends, the SDK closes its transport, and its
    dispatcher cancels the tool.
    """

    def __init__(self, app: ASGIApp, calls: CallsInFlight) -> None:
        self.app = app
        self._calls = calls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != MCP_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, receive = await _read_body(receive)
        message = _json_object(body)
        if message.get("method") == "notifications/cancelled" and "id" not in message:
            params = message.get("params")
            if isinstance(params, dict) and "requestId" in params:
                self._calls.cancel(_call_key(scope, params["requestId"]))
        elif "method" in message and "id" in message:
            await self._calls.run(_call_key(scope, message["id"]), self.app, scope, receive, send)
            return
        await self.app(scope, receive, send)


def _call_key(scope: Scope, request_id: Any) -> tuple[str, ...]:
    """Who called (as near as a stateless server can tell) and the call's id (`1` is not `"1"`)."""
    headers = dict(scope["headers"])
    client = scope.get("client") or ("", 0)
    caller = (headers.get(b"authorization", b""), headers.get(b"user-agent", b""))
    return (str(client[0]), hashlib.sha256(b"\n".join(caller)).hexdigest(), json.dumps(request_id))


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The request's body (up to the SDK's own cap, past which it is not inspected), and a `receive`
    that hands the app the same messages."""
    from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE

    read: list[Message] = []
    size = 0
    while size <= DEFAULT_MAX_REQUEST_BODY_SIZE:
        message = await receive()
        read.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            break
        size += len(message.get("body", b""))
    body = b"".join(m.get("body", b"") for m in read) if size <= DEFAULT_MAX_REQUEST_BODY_SIZE else b""

    async def replay() -> Message:
        return read.pop(0) if read else await receive()

    return body, replay


def _json_object(body: bytes) -> dict[str, Any]:
    """`body` as a JSON object, or {} (the SDK answers what is not one)."""
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


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
