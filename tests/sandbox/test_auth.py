"""Authentication: the two keys, in headers or the query, and the region they belong to."""

from __future__ import annotations

import httpx2
import pytest

from lsq_mcp.sandbox import (
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    SandboxServer,
)
from lsq_mcp.sandbox.data import (
    OPP_BIG,
    OPP_HTML,
)
from tests.sandbox.helpers import (
    ACTIVITIES,
    ACTIVITY_TYPES,
    USER,
    activities,
    error_of,
)


def test_auth_by_headers(client: httpx2.Client) -> None:
    assert activities(client).status_code == 200


def test_auth_header_names_are_case_insensitive(sandbox: SandboxServer) -> None:
    headers = {"X-LSQ-ACCESSKEY": SANDBOX_ACCESS_KEY, "x-lsq-secretkey": SANDBOX_SECRET_KEY}
    response = httpx2.get(sandbox.url + ACTIVITY_TYPES, headers=headers)
    assert response.status_code == 200


def test_auth_by_query(sandbox: SandboxServer) -> None:
    params = {"accessKey": SANDBOX_ACCESS_KEY, "secretKey": SANDBOX_SECRET_KEY, "opportunityId": OPP_HTML}
    response = httpx2.post(sandbox.url + ACTIVITIES, params=params, json={})
    assert response.status_code == 200
    assert response.json()["RecordCount"] == 7


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-LSQ-AccessKey": SANDBOX_ACCESS_KEY},
        {"x-LSQ-AccessKey": SANDBOX_ACCESS_KEY, "x-LSQ-SecretKey": "wrong"},
        {"x-LSQ-AccessKey": "wrong", "x-LSQ-SecretKey": SANDBOX_SECRET_KEY},
    ],
)
def test_bad_keys_get_401(sandbox: SandboxServer, headers: dict[str, str]) -> None:
    response = httpx2.post(
        sandbox.url + ACTIVITIES, params={"opportunityId": OPP_BIG}, headers=headers, json={}
    )
    assert response.status_code == 401
    assert response.json() == {
        "Status": "Error",
        "ExceptionType": "MXInvalidAccessDetailsException",
        "ExceptionMessage": "Invalid Access Key or Secret Key",
    }
    assert sandbox.state.stats.unauthorized == 1


def test_wrong_region_names_the_right_host(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.config.region_host = "api-in21.leadsquared.com"
    assert error_of(activities(client)) == (
        401,
        "MXInvalidAccessDetailsException",
        "Access Key and Secret Key belong to another region. "
        "Please use api-in21.leadsquared.com for API calls.",
    )
    # UserByAccessKey.Get answers on any region's host.
    assert client.get(USER).status_code == 200
