"""The raw ASGI layer around the app: request log, latency, case-insensitive paths, dropped connections.

It sits outside Starlette so that it sees every request, 404s included, and can do what no
HTTP response can express: hang up on the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lsq_mcp.sandbox.auth import ACCESS_KEY_HEADER, SECRET_KEY_HEADER
from lsq_mcp.sandbox.faults import DropConnection, pause
from lsq_mcp.sandbox.state import REDACTED, RecordedRequest, SandboxState

ARRIVAL_KEY = "lsq_sandbox.arrival"
"""Where the middleware leaves the request's arrival time for the rate limiter."""
DROP_GRACE_SECONDS = 5.0


def _record(scope: Scope, body: bytes, arrival: float) -> RecordedRequest:
    """The log entry for a request, with the key values replaced by ``<redacted>``."""
    headers: dict[str, str] = {}
    for name, value in Headers(scope=scope).raw:
        key = name.decode("latin-1").lower()
        text = REDACTED if key in (ACCESS_KEY_HEADER, SECRET_KEY_HEADER) else value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    query: dict[str, str] = {}
    keys_in_query = False
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        secret = name.lower() in ("accesskey", "secretkey")
        keys_in_query = keys_in_query or secret
        query[name] = REDACTED if secret else value
    parsed: Any = None
    if body.strip():
        with contextlib.suppress(ValueError):
            parsed = json.loads(body)
    return RecordedRequest(
        method=scope["method"],
        path=scope["path"],
        query=query,
        headers=headers,
        had_key_headers=ACCESS_KEY_HEADER in headers or SECRET_KEY_HEADER in headers,
        keys_in_query=keys_in_query,
        body=parsed,
        at=arrival,
    )


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive() that hands the already-read body to the app, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class SandboxMiddleware:
    """Outermost layer: sees every request, including 404s, before Starlette routes it.

    ``paths`` are the endpoints' documented paths: IIS paths are case-insensitive, so any
    casing of one is logged, counted and routed as the documented one.
    """

    def __init__(self, app: ASGIApp, state: SandboxState, paths: Iterable[str]) -> None:
        self.app = app
        self.state = state
        self._canonical = {path.lower(): path for path in paths}
        self._rng = random.Random()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.state.started()
        try:
            await self._serve(scope, receive, send)
        finally:
            self.state.finished()

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        arrival = time.monotonic()
        body = await _read_body(receive)
        given: str = scope["path"]
        path = self._canonical.get(given.lower(), given)
        self.state.record(_record(scope, body, arrival), path)
        scope[ARRIVAL_KEY] = arrival
        scope["path"] = path
        await pause(self.state, self._latency())
        try:
            await self.app(scope, _replay(body, receive), send)
        except DropConnection as drop:
            await self._drop(scope, receive, drop)

    def _latency(self) -> float:
        config = self.state.config
        jitter = self._rng.uniform(0.0, config.latency_jitter) if config.latency_jitter > 0 else 0.0
        return max(0.0, config.latency + jitter)

    async def _drop(self, scope: Scope, receive: Receive, drop: DropConnection) -> None:
        """Close the client's socket with no answer, then wait for the server to notice.

        Waiting for ``http.disconnect`` before returning keeps the server from logging an
        "app returned without a response" error. Without a connection closer (the app is not
        running under SandboxServer) the exception goes to the server, which fails the request
        its own way.
        """
        closer = self.state.connection_closer
        client = scope.get("client")
        if closer is None or not closer(tuple(client) if client else None, drop.reset):
            raise drop
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_until_disconnect(receive), timeout=DROP_GRACE_SECONDS)
