"""Authentication as LeadSquared does it: two keys, in headers or the query, bound to a region."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from lsq_mcp.sandbox.state import SandboxConfig
from lsq_mcp.sandbox.wire import INVALID_ACCESS, lsq_error, query

ACCESS_KEY_HEADER = "x-lsq-accesskey"
SECRET_KEY_HEADER = "x-lsq-secretkey"  # noqa: S105 (a header name)


@dataclass(frozen=True)
class Credentials:
    """The keys a request carried, from the headers or else from the query string."""

    access: str | None
    secret: str | None

    @classmethod
    def of(cls, request: Request) -> Credentials:
        """Headers win over the query, key by key (the real API accepts either place)."""
        access = request.headers.get(ACCESS_KEY_HEADER)
        secret = request.headers.get(SECRET_KEY_HEADER)
        return cls(
            access if access is not None else query(request, "accessKey"),
            secret if secret is not None else query(request, "secretKey"),
        )


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def auth_error(config: SandboxConfig, keys: Credentials, any_region: bool) -> Response | None:
    """401 for wrong keys, or for right keys on the wrong region's host (unless ``any_region``)."""
    if not (_same(keys.access, config.access_key) and _same(keys.secret, config.secret_key)):
        return lsq_error(401, INVALID_ACCESS, "Invalid Access Key or Secret Key")
    if config.region_host and not any_region:
        message = (
            f"Access Key and Secret Key belong to another region. "
            f"Please use {config.region_host} for API calls."
        )
        return lsq_error(401, INVALID_ACCESS, message)
    return None
