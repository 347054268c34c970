"""What runs around the SDK's app: Host/Origin lower-cased, `GET /mcp` refused, and the cancellation of
a call though every POST stands alone (the bearer token: `signin`)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

MCP_PATH = "/mcp"
HEALTH_PATH = "/healthz"


class NoStandaloneStreamMiddleware:
    """`GET /mcp` answers 405, as the spec allows for a server that offers no SSE stream there.

    Stateless, nothing is ever sent on that stream (each request has its own transport), yet the
    SDK would hold it open, one idle connection per client on every replica.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == MCP_PATH and scope["method"] == "GET":
            await send_error(send, 405, [(b"allow", b"POST")], "Method Not Allowed: send requests by POST")
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
    a stopping server cuts once its grace period is over (`lsq_mcp.http.serving`)."""

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
    """`body` as a JSON object, or {} (the SDK answers what is not one: malformed, or nested deeper
    than Python's stack allows, which its own parser refuses with a 400)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


async def send_error(send: Send, status: int, headers: list[tuple[bytes, bytes]], message: str) -> None:
    """An error answer with a JSON-RPC body, so that MCP clients show `message`, not a bare status."""
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
