"""A hostile LeadSquared look-alike: a tiny real HTTP server on 127.0.0.1 that misbehaves on purpose.

The sandbox plays LeadSquared as documented; this plays it on its worst day, or plays something
that only claims to be it: endless bodies, gzip bombs, pages far larger than asked for, text
fields sent as numbers, keys echoed back escaped. It is a fake of LeadSquared over real HTTP
(our client's whole stack runs: httpx2, streaming, decompression), not a mock of our code.

    with HostileServer(types_or(lambda request: Reply(body=endless_json()))) as hostile:
        async with connect_to(hostile) as client: ...
        hostile.paths                            # every request it took, in order

Every stream is bounded (STREAM_SECONDS, STREAM_BYTES) and stops when the client goes away.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache
from types import TracebackType
from typing import Any

from mcp import Client

from lsq_mcp.server import create_server
from lsq_mcp.settings import Settings

# Keys whose characters all change when escaped somewhere: `$`, `/`, `+`, `&`, `<`, `>`.
ACCESS_KEY = "u$r-Acc3ss/K3y+Hostile&Look<al>ike9"
SECRET_KEY = "s3cr3t/K3y+$hostile&<look>alike%41x"
OPP = "6f1c2a9e-4b7d-4e52-9c0a-1d3e5f7a9b21"
# No stream runs longer or holds more than this, whatever the client does: 8 times the server's cap,
# and bounded so that a server without the cap, under test, does not take the machine down.
STREAM_SECONDS = 30.0
STREAM_BYTES = 256 * 2**20
_READ_SECONDS = 10.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    """An answer: `body` as bytes (sent with its length), or chunks (sent chunked, as they come)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    body: bytes | Iterable[bytes] = b""


Answer = Callable[[Request], Reply]


def json_reply(data: Any, status: int = 200) -> Reply:
    return Reply(status=status, body=json.dumps(data).encode())


def row(index: int, **fields: Any) -> dict[str, Any]:
    """One activity as LeadSquared sends it (strings everywhere), with `fields` on top."""
    return {
        "ProspectActivityId": f"4ff82538-3e7c-4bc2-ab0d-{index:012d}",
        "ActivityEvent": "22",
        "PACreatedOn": f"2024-01-{1 + index % 28:02d} 10:00:00",
        "ActivityEvent_Note": f"Call {index}",
        **fields,
    }


def page(rows: list[dict[str, Any]], count: int | None = None) -> Reply:
    return json_reply({"RecordCount": len(rows) if count is None else count, "List": rows})


def paged(rows: list[dict[str, Any]], count: int | None = None) -> Answer:
    """The page of `rows` each activities call asks for (the body's Paging), in the order given,
    with `count` as RecordCount (else the number of rows)."""

    def answer(request: Request) -> Reply:
        paging = json.loads(request.body)["Paging"]
        index, size = paging["PageIndex"], paging["PageSize"]
        return page(rows[(index - 1) * size : index * size], len(rows) if count is None else count)

    return answer


def types_or(answer: Answer) -> Answer:
    """Activity type names answered as LeadSquared does; every other call by `answer`."""

    def either(request: Request) -> Reply:
        if request.path.endswith("ActivityTypes.Get"):
            return json_reply([{"ActivityEvent": "22", "ActivityEventName": "Outbound Phone Call"}])
        return answer(request)

    return either


def routes(answers: dict[str, Answer]) -> Answer:
    """Each call answered by the answer of the endpoint its path ends with (`"GetActivitySetting"`);
    a call to any other, as LeadSquared answers an unknown path (404)."""

    def route(request: Request) -> Reply:
        for endpoint, answer in answers.items():
            if request.path.endswith(endpoint):
                return answer(request)
        return json_reply({"Message": "No HTTP resource was found"}, 404)

    return route


def endless_json() -> Iterator[bytes]:
    """A 200 page that never ends (until STREAM_BYTES): activity after activity, each with a 64 KB note."""
    yield b'{"RecordCount":1,"List":['
    activity = json.dumps(row(0, ActivityEvent_Note="x" * 65536)).encode() + b","
    for _ in range(STREAM_BYTES // len(activity)):
        yield activity


@cache
def gzip_bomb(size: int) -> bytes:
    """`size` zero bytes, gzipped: about a thousandth of that on the wire."""
    return gzip.compress(bytes(size), compresslevel=9)


def endless_gzip() -> Iterator[bytes]:
    """A gzip stream of zeros that never ends (until STREAM_BYTES unpacked): each piece, 1 KB on the
    wire, unpacks to 1 MiB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(2**20)
    yield compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    # After a full flush the compressor starts afresh: the same input gives the same bytes.
    piece = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    for _ in range(STREAM_BYTES // len(zeros)):
        yield piece


class HostileServer:
    """Serves `answer` over HTTP/1.1 on 127.0.0.1 (one request per connection) in a thread of its own."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.paths: list[str] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        )
        self._server = future.result(timeout=10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(_read_request(reader), _READ_SECONDS)
            self.paths.append(request.path)
            await _write_reply(writer, self.answer(request))
        except (ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            pass  # the client went away (as it should, past its cap) or sent nothing
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Request:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    start, *lines = head.split("\r\n")
    method, target, _ = start.split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines if ":" in line)}
    length = min(int(headers.get("content-length", "0")), 2**20)
    body = await reader.readexactly(length)
    path, _, query = target.partition("?")
    return Request(method, path, query, headers, body)


async def _write_reply(writer: asyncio.StreamWriter, reply: Reply) -> None:
    body = reply.body
    chunked = {"Transfer-Encoding": "chunked"}
    sized = {"Content-Length": str(len(body))} if isinstance(body, bytes) else chunked
    headers = {**reply.headers, **sized, "Connection": "close"}
    head = f"HTTP/1.1 {reply.status} Hostile\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(head.encode("latin-1") + b"\r\n")
    if isinstance(body, bytes):
        writer.write(body)
        await writer.drain()
        return
    deadline, sent = time.monotonic() + STREAM_SECONDS, 0
    for chunk in body:
        writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        await writer.drain()
        sent += len(chunk)
        if time.monotonic() > deadline or sent > STREAM_BYTES:
            break
    writer.write(b"0\r\n\r\n")
    await writer.drain()


def hostile_env(hostile: HostileServer, **overrides: str) -> dict[str, str]:
    """The LSQ_* environment of a server pointed at `hostile` (no retries: one answer, one error)."""
    return {
        "LSQ_ACCESS_KEY": ACCESS_KEY,
        "LSQ_SECRET_KEY": SECRET_KEY,
        "LSQ_HOST": hostile.url,
        "LSQ_TIMEOUT": "20",
        "LSQ_MAX_RETRIES": "0",
        "LSQ_RATE_LIMIT": "1000/1",
        **overrides,
    }


@asynccontextmanager
async def connect_to(hostile: HostileServer, **env: str) -> AsyncIterator[Client]:
    """An in-process MCP client to our server, pointed at `hostile`."""
    async with Client(create_server(Settings.from_env(hostile_env(hostile, **env)))) as client:
        yield client
