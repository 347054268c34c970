"""MCP over stdio that answers every request it has read before it leaves.

The SDK ends a connection the moment stdin closes, cancelling the calls in flight: a client that
writes its requests and closes its end (`lsq-mcp < requests.jsonl`, a script, a pipe) loses the
replies. Here the end of stdin is held back from the server until each request read so far has
been answered (or cancelled by the client), within a bound; then the server leaves as before.
"""

from __future__ import annotations

import contextvars
from types import TracebackType
from typing import Any

import anyio
from mcp.shared._stream_protocols import ReadStream, WriteStream
from mcp.shared.message import SessionMessage
from mcp_types import JSONRPCError, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse

Incoming = SessionMessage | Exception
RequestId = int | str


class Unanswered:
    """The requests read and not yet answered nor cancelled; `settled` is set while there are none."""

    def __init__(self) -> None:
        self._ids: set[RequestId] = set()
        self.settled = anyio.Event()
        self.settled.set()

    def read(self, item: Incoming) -> None:
        if not isinstance(item, SessionMessage):
            return
        message = item.message
        if isinstance(message, JSONRPCRequest):
            self._ids.add(message.id)
            self.settled = anyio.Event()
        elif isinstance(message, JSONRPCNotification) and message.method == "notifications/cancelled":
            self._settle((message.params or {}).get("requestId"))

    def written(self, item: SessionMessage) -> None:
        message = item.message
        if isinstance(message, JSONRPCResponse | JSONRPCError):
            self._settle(message.id)

    def _settle(self, request_id: Any) -> None:
        self._ids.discard(request_id)
        if not self._ids:
            self.settled.set()


class AnsweringReader:
    """The server's read stream: at the end of stdin, waits (at most `drain_seconds`) for the
    requests read to be answered before it says the stream has ended."""

    def __init__(self, inner: ReadStream[Incoming], unanswered: Unanswered, drain_seconds: float) -> None:
        self._inner = inner
        self._unanswered = unanswered
        self._drain_seconds = drain_seconds

    @property
    def last_context(self) -> contextvars.Context | None:
        context: contextvars.Context | None = getattr(self._inner, "last_context", None)
        return context

    async def receive(self) -> Incoming:
        try:
            item = await self._inner.receive()
        except anyio.EndOfStream:
            with anyio.move_on_after(self._drain_seconds):
                await self._unanswered.settled.wait()
            raise
        self._unanswered.read(item)
        return item

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> AnsweringReader:
        return self

    async def __anext__(self) -> Incoming:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> AnsweringReader:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class NotingWriter:
    """The server's write stream: notes each answer as it goes out."""

    def __init__(self, inner: WriteStream[SessionMessage], unanswered: Unanswered) -> None:
        self._inner = inner
        self._unanswered = unanswered

    async def send(self, item: SessionMessage, /) -> None:
        await self._inner.send(item)
        self._unanswered.written(item)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> NotingWriter:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def answering_streams(
    read_stream: ReadStream[Incoming], write_stream: WriteStream[SessionMessage], drain_seconds: float
) -> tuple[AnsweringReader, NotingWriter]:
    """The stdio streams, wrapped so that the server answers what it read before stdin ended."""
    unanswered = Unanswered()
    return AnsweringReader(read_stream, unanswered, drain_seconds), NotingWriter(write_stream, unanswered)
