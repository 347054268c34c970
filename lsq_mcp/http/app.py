"""The Starlette app: MCP at `/mcp`, `GET /healthz`, the middleware; and the socket it listens on.

`/healthz` answers 200 `{"status": "ok", ...}`; with LSQ_REDIS_URL set it also PINGs Redis, and
answers 503 `{"status": "degraded", "redis": "down", ...}` when Redis does not answer in time.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from lsq_mcp import __version__
from lsq_mcp.http.middleware import (
    HEALTH_PATH,
    MCP_PATH,
    CallsInFlight,
    CancellationMiddleware,
    LowerCaseHostMiddleware,
    NoStandaloneStreamMiddleware,
)
from lsq_mcp.http.security import default_allowed_hosts
from lsq_mcp.settings import ConfigError, Settings

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response


def create_http_app(
    settings: Settings, server: MCPServer[Any], *, host: str = "127.0.0.1", port: int = 8000
) -> Starlette:
    """The ASGI app: MCP at `/mcp` (stateless), `GET /healthz`, and the token check when a static token
    is set or signing in is configured (then the protected resource metadata too).

    `host` and `port` are where the app will listen; they set the default allowed Host headers.
    Call once per `server`: the SDK keeps one session manager per server.
    """
    from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
    from mcp.server.transport_security import TransportSecuritySettings

    from lsq_mcp.http.signin import BearerMiddleware, SignIn, metadata_routes

    allowed = settings.mcp_allowed_hosts or default_allowed_hosts(host, port, settings.public_url)
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
    signin = SignIn.of(settings)
    if signin is not None:
        app.router.routes.extend(metadata_routes(settings))
    app.state.calls = CallsInFlight()
    app.add_middleware(CancellationMiddleware, calls=app.state.calls)
    app.add_middleware(NoStandaloneStreamMiddleware)
    app.add_middleware(LowerCaseHostMiddleware)
    if settings.mcp_token is not None or signin is not None:  # added last, so they run first
        app.add_middleware(AuthContextMiddleware)  # the caller's token, known to the tool call
        app.add_middleware(BearerMiddleware, settings=settings, signin=signin)
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
