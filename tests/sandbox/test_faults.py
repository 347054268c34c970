"""Injected faults: what each kind answers, in what order, and which requests take them."""

from __future__ import annotations

import time

import httpx2
import pytest

from lsq_mcp.sandbox import (
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    Fault,
    SandboxServer,
)
from tests.sandbox.helpers import (
    ACTIVITY_TYPES,
    activities,
    error_of,
)


def test_fault_slow(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("slow", delay=0.3))
    started = time.monotonic()
    response = activities(client)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert response.json()["RecordCount"] == 640


@pytest.mark.parametrize("reset", [False, True])
def test_fault_drop_is_a_transport_error(sandbox: SandboxServer, client: httpx2.Client, reset: bool) -> None:
    sandbox.state.push_fault(Fault("drop", reset=reset))
    with pytest.raises(httpx2.TransportError):
        activities(client)
    assert activities(client).status_code == 200  # the next call is normal again


def test_fault_status(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("status"))
    sandbox.state.push_fault(Fault("status", status=502, body="Bad Gateway"))
    first, second = activities(client), activities(client)
    assert (first.status_code, first.text) == (503, "Service Unavailable")
    assert (second.status_code, second.text) == (502, "Bad Gateway")


def test_fault_html(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("html"))
    response = activities(client)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html><html><head><title>Maintenance</title>")


def test_fault_truncated(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("truncated"))
    response = activities(client)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text.startswith('{"RecordCount":640,"List":[')
    with pytest.raises(ValueError, match=r".+"):
        response.json()


def test_fault_ratelimit(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("ratelimit"))
    sandbox.state.push_fault(Fault("ratelimit", status=200, limit=(20, 5.0)))
    assert error_of(activities(client)) == (
        429,
        "MXAPIRateLimitExceededException",
        "API calls exceeded the limit of 25 in 5 second(s)",
    )
    assert error_of(activities(client)) == (
        200,
        "MXAPIRateLimitExceededException",
        "API calls exceeded the limit of 20 in 5 second(s)",
    )


@pytest.mark.parametrize("status", [200, 400, 404, 500])
def test_fault_error(sandbox: SandboxServer, client: httpx2.Client, status: int) -> None:
    fault = Fault("error", status=status, exception_type="MXUnknownProspectActivityException", message="boom")
    sandbox.state.push_fault(fault)
    assert error_of(activities(client)) == (status, "MXUnknownProspectActivityException", "boom")


def test_fault_echo_keys(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("echo_keys"))
    response = activities(client)
    assert response.status_code == 500
    assert SANDBOX_ACCESS_KEY in response.text
    assert SANDBOX_SECRET_KEY in response.text


def test_fault_wrong_shape(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("wrong_shape"))
    sandbox.state.push_fault(Fault("wrong_shape", body="[1, 2, 3]"))
    assert activities(client).json() == {"Result": "OK"}
    assert activities(client).json() == [1, 2, 3]


def test_fault_count_and_order(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("status", count=2))
    sandbox.state.push_fault(Fault("html"))
    assert len(sandbox.state.faults) == 3
    codes = [activities(client).headers["content-type"].split(";")[0] for _ in range(4)]
    assert codes == ["text/plain", "text/plain", "text/html", "application/json"]
    assert sandbox.state.stats.faulted == 3


def test_fault_aimed_at_one_endpoint(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("status", path="GetActivitiesOfOpportunity"))
    sandbox.state.push_fault(Fault("html"))
    assert client.get(ACTIVITY_TYPES).headers["content-type"].startswith("text/html")  # skips the aimed one
    assert client.get(ACTIVITY_TYPES).status_code == 200
    assert activities(client).status_code == 503
    assert len(sandbox.state.faults) == 0


def test_faults_wait_for_an_authenticated_request(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.push_fault(Fault("status"))
    assert httpx2.get(sandbox.url + ACTIVITY_TYPES).status_code == 401
    assert client.get("/nowhere").status_code == 404
    assert client.get(ACTIVITY_TYPES).status_code == 503


def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="count"):
        Fault("drop", count=0)


def test_latency(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.config.latency = 0.2
    started = time.monotonic()
    assert client.get(ACTIVITY_TYPES).status_code == 200
    assert time.monotonic() - started >= 0.2
