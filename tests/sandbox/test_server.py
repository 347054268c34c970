"""SandboxServer and serve_forever: start, stop, ports, signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx2
import pytest

from lsq_mcp.sandbox import (
    SANDBOX_ACCESS_KEY,
    Fault,
    SandboxServer,
)
from tests.sandbox.helpers import (
    KEY_HEADERS,
    USER,
)

# Beyond this a start, a stop or an exit has hung (each takes well under a second).
HANG_GUARD = 10.0


def test_start_stop_does_not_hang_and_leaves_no_threads() -> None:
    before = set(threading.enumerate())
    started = time.monotonic()
    with SandboxServer() as one, SandboxServer() as two:
        assert one.port != two.port
        assert httpx2.get(one.url + USER, headers=KEY_HEADERS).status_code == 200
        assert httpx2.get(two.url + USER, headers=KEY_HEADERS).status_code == 200
    assert time.monotonic() - started < HANG_GUARD
    assert set(threading.enumerate()) == before


def test_stop_does_not_wait_for_slow_faults() -> None:
    sandbox = SandboxServer().start()
    sandbox.state.push_fault(Fault("slow", delay=30))
    results: list[int] = []

    def call() -> None:
        results.append(httpx2.get(sandbox.url + USER, headers=KEY_HEADERS, timeout=10).status_code)

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.2)
    started = time.monotonic()
    sandbox.stop()
    caller.join(5)
    # Waiting for the fault would take 30 s.
    assert time.monotonic() - started < HANG_GUARD
    assert results == [200]
    sandbox.stop()  # idempotent


def test_busy_port_fails_fast(server: SandboxServer) -> None:
    with pytest.raises(OSError, match=r".+"):
        SandboxServer(port=server.port).start()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _default_sigint() -> None:
    """In the child, before exec: SIGINT back to its default action.

    A process started with SIGINT ignored (as some test runners and shells start their
    children) passes that on, and Python then never raises KeyboardInterrupt: the Ctrl-C test
    would wait for a signal the child ignores. With the default action, Python installs its own
    handler, which is what a person pressing Ctrl-C in a terminal gets.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_forever_prints_one_line_and_stops_on_a_signal(signum: signal.Signals) -> None:
    port = _free_port()
    code = f"from lsq_mcp.sandbox import serve_forever; serve_forever({port})"
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
        start_new_session=True,  # no stray Ctrl-C from the terminal running the tests
        preexec_fn=_default_sigint,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.startswith(
            f"LeadSquared sandbox on http://127.0.0.1:{port} (access key {SANDBOX_ACCESS_KEY}"
        )
        assert httpx2.get(f"http://127.0.0.1:{port}{USER}", headers=KEY_HEADERS).status_code == 200
        signalled = time.monotonic()
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=10)
        stopped_after = time.monotonic() - signalled
    finally:
        process.kill()
        process.wait()
    assert (process.returncode, stdout, stderr) == (0, "", "")
    assert stopped_after < HANG_GUARD
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"http://127.0.0.1:{port}{USER}", headers=KEY_HEADERS)
