"""Run the sandbox app over real HTTP on 127.0.0.1, in a background thread or in the foreground.

Tests and benchmarks want a real socket (so the client's transport, pooling, timeouts and
connection errors are exercised), started and stopped in a fraction of a second, several at
once. So each SandboxServer binds its own socket (port 0 = any free port, known before the
thread starts), runs uvicorn on a private event loop in a daemon thread, and on stop cuts short
any deliberate sleeps so shutdown never waits for a "slow" fault.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import struct
import sys
import threading
import time
from types import FrameType, TracebackType

import uvicorn

from lsq_mcp.sandbox.app import create_app
from lsq_mcp.sandbox.catalog import Catalog
from lsq_mcp.sandbox.data import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY
from lsq_mcp.sandbox.state import ClientAddress, SandboxConfig, SandboxState

HOST = "127.0.0.1"
START_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0
# What IIS in front of LeadSquared says about itself.
SERVER_HEADERS = [("Server", "Microsoft-IIS/10.0"), ("X-Powered-By", "ASP.NET")]


def _bind(port: int) -> socket.socket:
    """Bind and listen here, so a busy port fails in the caller's thread and port 0 is resolved.

    ``proto=IPPROTO_TCP`` matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    says TCP, and without it every response (headers and body are two writes) stalls ~40 ms on
    Nagle plus delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _close_connection(server: uvicorn.Server, client: ClientAddress | None, reset: bool) -> bool:
    """Find the connection serving ``client`` and close it without a word (FIN, or RST if ``reset``).

    ASGI has no way to say "hang up", so this reaches into uvicorn's connection set (public
    attributes of uvicorn.Server) to find the transport of the peer the request came from.
    """
    if client is None:
        return False
    for connection in list(server.server_state.connections):
        transport = getattr(connection, "transport", None)
        if getattr(connection, "client", None) != client or transport is None:
            continue
        if reset:
            sock = transport.get_extra_info("socket")
            if sock is not None:  # linger 0: close() sends RST instead of FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
        return True
    return False


class SandboxServer:
    """A LeadSquared look-alike on ``http://127.0.0.1:<port>``; use as a context manager.

    ``state`` (a SandboxState) holds the config, fault queue, stats and request log; it stays
    valid after stop() for inspection.
    """

    def __init__(
        self, config: SandboxConfig | None = None, port: int = 0, *, catalog: Catalog | None = None
    ) -> None:
        self.state = SandboxState(config, catalog)
        self.host = HOST
        self._requested_port = port
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._failure: BaseException | None = None

    @property
    def port(self) -> int:
        """The bound port (only while running)."""
        if self._port is None:
            raise RuntimeError("the sandbox is not running")
        return self._port

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._thread is not None

    def start(self) -> SandboxServer:
        """Start serving; returns once the server accepts requests."""
        if self._thread is not None:
            raise RuntimeError("the sandbox is already running")
        sock = _bind(self._requested_port)
        server = uvicorn.Server(self._uvicorn_config())
        self._socket, self._server, self._failure = sock, server, None
        self._port = sock.getsockname()[1]
        self.state.closing.clear()
        self.state.connection_closer = lambda client, reset: _close_connection(server, client, reset)
        self._thread = threading.Thread(
            target=self._run, args=(server, sock), name=f"lsq-sandbox-{self._port}", daemon=True
        )
        self._thread.start()
        self._wait_started(server)
        return self

    def stop(self) -> None:
        """Stop serving and join the thread; idempotent."""
        thread, server = self._thread, self._server
        if thread is None or server is None:
            return
        self.state.closing.set()
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(STOP_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
        self.state.connection_closer = None
        self._thread = self._server = self._socket = None
        self._port = None

    def __enter__(self) -> SandboxServer:
        return self if self.running else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _uvicorn_config(self) -> uvicorn.Config:
        return uvicorn.Config(
            create_app(self.state),
            log_config=None,  # never reconfigure the host process's logging
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            ws="none",
            proxy_headers=False,  # the drop fault finds the connection by the real peer address
            server_header=False,
            headers=SERVER_HEADERS,
            timeout_graceful_shutdown=1,
        )

    def _run(self, server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported by start(); a thread has nowhere else to raise
            self._failure = exc

    def _wait_started(self, server: uvicorn.Server) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            thread = self._thread
            if (
                self._failure is not None
                or thread is None
                or not thread.is_alive()
                or time.monotonic() > deadline
            ):
                failure = self._failure
                self.stop()
                raise RuntimeError("the LeadSquared sandbox failed to start") from failure
            time.sleep(0.002)


def _describe_keys(config: SandboxConfig) -> str:
    """The demo keys are public; anything else is not printed."""
    if (config.access_key, config.secret_key) == (SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY):
        return f"access key {config.access_key}, secret key {config.secret_key}"
    return "custom keys"


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve_forever(port: int, config: SandboxConfig | None = None, *, catalog: Catalog | None = None) -> None:
    """Foreground sandbox for ``lsq-mcp sandbox --port P``; Ctrl-C or SIGTERM stops it.

    Writes a single line to stderr and nothing to stdout.
    """
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with SandboxServer(config, port, catalog=catalog) as sandbox:
            print(
                f"LeadSquared sandbox on {sandbox.url} ({_describe_keys(sandbox.state.config)})",
                file=sys.stderr,
                flush=True,
            )
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
