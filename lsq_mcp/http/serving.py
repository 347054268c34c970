"""The HTTP app (`lsq_mcp.http.app`) served by uvicorn as a service: a clean stop, no idle sockets held.

On SIGTERM or SIGINT the server stops taking connections, lets the calls in flight finish for up
to the grace period (LSQ_MCP_GRACE_SECONDS), cancels what is left (`middleware.CallsInFlight`, so each
answer ends cleanly rather than by uvicorn cancelling its task mid-way), and exits 0. Two things in
the stack stood in the way, both undone here:
- sse-starlette ends every SSE answer the moment uvicorn is told to stop, which cut a running
  call's answer within a poll; ours end with their call, and uvicorn's grace period bounds them.
- uvicorn raises the signal again once it has stopped, so the process died of it (exit 143).

A connection must send its request's headers within `HEADER_SECONDS` of opening (or of asking for
another request on a kept-alive connection), and its body within `BODY_SECONDS` of its headers:
uvicorn times out only idle kept-alive connections, so sockets that never send anything, or send a
body a byte at a time, were held for ever.

Imported only to serve HTTP: uvicorn costs a second of imports that other commands do not pay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator

import anyio
import uvicorn
from sse_starlette.sse import AppStatus
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol

from lsq_mcp.http.middleware import CallsInFlight

logger = logging.getLogger(__name__)

# Clients send a request's headers at once; a few seconds allow for a slow network.
HEADER_SECONDS = 5.0
# A request's body is at most a few MB (the SDK's cap): sent at once, it arrives well within this.
BODY_SECONDS = 10.0
# uvicorn's own limit, a backstop past the grace period for what `CallsInFlight` does not hold.
BACKSTOP_SECONDS = 5


def run(app: Starlette, sock: socket.socket, *, grace: int) -> None:
    """Serve `app` on `sock` until SIGINT or SIGTERM, then stop within `grace` seconds and return."""
    AppStatus.enable_automatic_graceful_drain = False
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_config=None,  # keep our stderr handler and its redaction
        access_log=False,
        server_header=False,
        http=HeaderDeadlineProtocol,
        timeout_graceful_shutdown=grace + BACKSTOP_SECONDS,
    )
    GracefulServer(config, app.state.calls, grace).run(sockets=[sock])


class GracefulServer(uvicorn.Server):
    """uvicorn's server, which cuts the calls still running after `grace` seconds, and returns after a
    signal instead of raising it again once stopped."""

    def __init__(self, config: uvicorn.Config, calls: CallsInFlight, grace: int) -> None:
        super().__init__(config)
        self._calls = calls
        self._grace = grace

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(self._cut_after_grace)
            await super().shutdown(sockets)
            group.cancel_scope.cancel()

    async def _cut_after_grace(self) -> None:
        await anyio.sleep(self._grace)
        if cut := self._calls.cancel_all():
            logger.warning("Stopping: cut %d call(s) still running after %ds of grace", cut, self._grace)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request headers, or body, do not come
    in time (a body cut short reaches the app as the client going away)."""

    _deadline: asyncio.TimerHandle | None = None
    _reading_body = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline = self.loop.call_later(HEADER_SECONDS, self._give_up)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        cycle = self.cycle
        if cycle is None or cycle.response_complete:  # awaiting a request's headers
            if self._deadline is None:
                # Part of a next request on a kept-alive connection: the rest must come in time too.
                self._deadline = self.loop.call_later(HEADER_SECONDS, self._give_up)
        elif not cycle.more_body:  # the whole request is in
            self._stop_deadline()
        elif not self._reading_body:
            self._stop_deadline()
            self._reading_body = True
            self._deadline = self.loop.call_later(BODY_SECONDS, self._cut)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_deadline()
        super().connection_lost(exc)

    def _stop_deadline(self) -> None:
        self._reading_body = False
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _cut(self) -> None:
        self._deadline = None
        self._reading_body = False
        logger.info("A request's body did not come within %gs: connection closed", BODY_SECONDS)
        self.transport.close()

    def _give_up(self) -> None:
        self._deadline = None
        # Closed as uvicorn closes an idle kept-alive connection: between requests, so nothing is cut.
        self.timeout_keep_alive_handler()
