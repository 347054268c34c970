"""A Redis that stops answering (SIGSTOP, as in a network partition), through `lsq-mcp serve --transport
http`: every concurrent call fails on its own with an error naming Redis, /healthz says Redis is
down, and all is well again once Redis answers (SIGCONT). With a real redis-server (test_redis.py).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
import httpx2
import pytest

from lsq_mcp import __version__
from lsq_mcp.sandbox.data import OPP_BIG
from tests.conftest import ACTIVITIES, TOOL, env_for, hits, structured, text_of
from tests.http.test_app import HttpServer, client_for, free_port, http_server, own_sandbox
from tests.pacing.test_redis import redis_process

pytestmark = pytest.mark.anyio

# Only keeps a stalled server from hanging the suite (on main, 10 calls took some 124 s); no speed asserted.
HANG_GUARD = 60
CALLS = 10


@contextmanager
def served_with_redis() -> Iterator[tuple[HttpServer, int]]:
    """An HTTP server sharing its rate limit through a fresh redis-server; yields it and Redis's pid."""
    with (
        redis_process() as (url, redis),
        own_sandbox() as sandbox,
        http_server([], env_for(sandbox, LSQ_REDIS_URL=url), free_port(), sandbox) as server,
    ):
        try:
            yield server, redis.pid
        finally:
            redis.send_signal(signal.SIGCONT)  # so that it can be killed


def health(server: HttpServer) -> httpx2.Response:
    return httpx2.get(f"{server.base}/healthz", timeout=HANG_GUARD)


async def test_a_frozen_redis_fails_every_call_on_its_own_and_healthz_says_so() -> None:
    with served_with_redis() as (server, redis_pid):
        assert health(server).json() == {"status": "ok", "version": __version__, "redis": "ok"}
        answers: list[str] = []

        async def call() -> None:
            async with client_for(server) as client:
                result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 5})
                assert result.is_error
                answers.append(text_of(result))

        pages_before = hits(server.sandbox, ACTIVITIES)
        os.kill(redis_pid, signal.SIGSTOP)
        down = health(server)
        assert down.status_code == 503
        assert down.json() == {"status": "degraded", "version": __version__, "redis": "down"}
        with anyio.fail_after(HANG_GUARD):
            async with anyio.create_task_group() as group:
                for _ in range(CALLS):
                    group.start_soon(call)
        assert len(answers) == CALLS
        for text in answers:
            assert "Redis at 127.0.0.1:" in text
            assert "no answer within 2s" in text
        assert hits(server.sandbox, ACTIVITIES) == pages_before  # failing closed: LeadSquared never asked

        os.kill(redis_pid, signal.SIGCONT)
        assert health(server).json()["redis"] == "ok"
        async with client_for(server) as client:
            data = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 5}))
        assert data["returned"] == 5
    assert "Traceback" not in server.stderr
