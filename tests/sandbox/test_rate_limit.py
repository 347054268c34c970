"""The sliding-window rate limit, and how it answers calls over the limit."""

from __future__ import annotations

import time

import httpx2

from lsq_mcp.sandbox import (
    Fault,
    SandboxConfig,
    SandboxServer,
    SandboxState,
)
from tests.sandbox.helpers import (
    ACTIVITY_TYPES,
    USER,
    activities,
    error_of,
)


def test_rate_limit_rejects_the_call_over_the_limit(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.config.rate_limit = (3, 5.0)
    assert [client.get(ACTIVITY_TYPES).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(ACTIVITY_TYPES)
    assert error_of(response) == (
        429,
        "MXAPIRateLimitExceededException",
        "API calls exceeded the limit of 3 in 5 second(s)",
    )
    assert "retry-after" not in response.headers
    stats = sandbox.state.stats_snapshot()
    assert (stats.accepted, stats.rejected) == (3, 1)


def test_rate_limit_with_status_200_and_retry_after(sandbox: SandboxServer, client: httpx2.Client) -> None:
    config = sandbox.state.config
    config.rate_limit, config.rate_limit_status, config.retry_after = (1, 2.5), 200, 1.2
    assert client.get(ACTIVITY_TYPES).status_code == 200
    response = client.get(ACTIVITY_TYPES)
    assert error_of(response) == (
        200,
        "MXAPIRateLimitExceededException",
        "API calls exceeded the limit of 1 in 2.5 second(s)",
    )
    assert response.headers["retry-after"] == "2"


def test_rate_limit_window_slides(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.config.rate_limit = (2, 1.0)
    assert client.get(ACTIVITY_TYPES).status_code == 200
    first_done = time.monotonic()
    time.sleep(0.5)
    assert client.get(ACTIVITY_TYPES).status_code == 200
    assert client.get(ACTIVITY_TYPES).status_code == 429  # rejected calls do not count...
    time.sleep(max(0.0, first_done + 1.05 - time.monotonic()))
    assert client.get(ACTIVITY_TYPES).status_code == 200  # ...so the first call leaving frees a slot
    assert client.get(ACTIVITY_TYPES).status_code == 429


def test_sliding_window_arithmetic() -> None:
    state = SandboxState(SandboxConfig(rate_limit=(2, 5.0)))
    assert state.admit("k", 100.0) is None
    assert state.admit("k", 103.0) is None
    assert state.admit("k", 104.9) == (2, 5.0)
    assert state.admit("other-key", 104.9) is None  # one window per access key
    assert state.admit("k", 105.1) is None  # 100.0 has left the window; the rejection never counted
    assert state.admit("k", 107.9) == (2, 5.0)
    assert state.admit("k", 108.1) is None
    stats = state.stats_snapshot()
    assert (stats.accepted, stats.rejected) == (5, 2)


def test_rate_limit_counts_every_endpoint_but_not_faults(
    sandbox: SandboxServer, client: httpx2.Client
) -> None:
    sandbox.state.config.rate_limit = (2, 5.0)
    sandbox.state.push_fault(Fault("slow", count=3))
    assert [client.get(ACTIVITY_TYPES).status_code for _ in range(3)] == [200, 200, 200]
    assert client.get(USER).status_code == 200
    assert activities(client).status_code == 200
    assert client.get(ACTIVITY_TYPES).status_code == 429


def test_rate_limit_off(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.config.rate_limit = None
    assert {client.get(USER).status_code for _ in range(40)} == {200}
