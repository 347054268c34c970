"""The app around the endpoints: routing as IIS does it, the request log, the counters."""

from __future__ import annotations

import httpx2
import pytest

from lsq_mcp.sandbox import (
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    Fault,
    SandboxServer,
)
from lsq_mcp.sandbox.data import (
    OPP_BIG,
)
from tests.sandbox.helpers import (
    ACTIVITIES,
    ACTIVITY_TYPES,
    activities,
)


def test_get_is_405(client: httpx2.Client) -> None:
    response = client.get(ACTIVITIES, params={"opportunityId": OPP_BIG})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("path", ["/v2/OpportunityManagement.svc/NoSuchThing", "/", "/favicon.ico"])
def test_unknown_path_is_iis_404(client: httpx2.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == "<html><body><h1>404 - File or directory not found.</h1></body></html>"


def test_paths_are_case_insensitive(client: httpx2.Client) -> None:
    assert client.get(ACTIVITY_TYPES.lower()).status_code == 200


def test_request_log_redacts_keys(sandbox: SandboxServer, client: httpx2.Client) -> None:
    activities(client, body={"Paging": {"PageIndex": 1, "PageSize": 5}})
    query = {"accessKey": SANDBOX_ACCESS_KEY, "secretKey": SANDBOX_SECRET_KEY}
    httpx2.get(sandbox.url + ACTIVITY_TYPES, params=query)
    with_headers, with_query = sandbox.state.requests
    assert with_headers.method == "POST"
    assert with_headers.path == ACTIVITIES
    assert with_headers.query == {"opportunityId": OPP_BIG}
    assert with_headers.headers["x-lsq-accesskey"] == with_headers.headers["x-lsq-secretkey"] == "<redacted>"
    assert (with_headers.had_key_headers, with_headers.keys_in_query) == (True, False)
    assert with_headers.body == {"Paging": {"PageIndex": 1, "PageSize": 5}}
    assert with_query.query == {"accessKey": "<redacted>", "secretKey": "<redacted>"}
    assert (with_query.had_key_headers, with_query.keys_in_query) == (False, True)
    assert with_query.body is None
    logged = repr(sandbox.state.requests)
    assert SANDBOX_ACCESS_KEY not in logged
    assert SANDBOX_SECRET_KEY not in logged


def test_stats_and_reset(sandbox: SandboxServer, client: httpx2.Client) -> None:
    client.get(ACTIVITY_TYPES)
    client.get(ACTIVITY_TYPES.upper())
    client.get("/nowhere")
    stats = sandbox.state.stats_snapshot()
    assert stats.requests == 3
    assert stats.by_path == {ACTIVITY_TYPES: 2, "/nowhere": 1}
    sandbox.state.push_fault(Fault("drop"))
    sandbox.state.reset()
    assert sandbox.state.requests == []
    assert sandbox.state.stats_snapshot().requests == 0
    assert len(sandbox.state.faults) == 0
