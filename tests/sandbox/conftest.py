"""One sandbox for the sandbox's own tests, with its default configuration (the 25/5 rate limit on)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from lsq_mcp.sandbox import SandboxConfig, SandboxServer
from tests.sandbox.helpers import KEY_HEADERS


@pytest.fixture(scope="package")
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(server: SandboxServer) -> SandboxServer:
    """The shared server with fresh config, stats, log, window and fault queue."""
    server.state.config = SandboxConfig()
    server.state.reset()
    return server


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=sandbox.url, headers=KEY_HEADERS, timeout=10.0) as http:
        yield http
