"""Who may call: the static token (LSQ_MCP_TOKEN), and with signing in (LSQ_MCP_AUTH_ISSUER) the
access tokens of the team's authorization server, as an OAuth 2.1 resource server (RFC 9728, RFC 6750).

The SDK's pieces do most of it: its `AccessToken` (what our `JwtVerifier` grants),
the protected resource metadata model and handler, and `AuthContextMiddleware`, which makes the
caller's token known to the tool call (for the log of who asked what). Its `RequireAuthMiddleware`
is not used: it cannot accept the static token beside OAuth, it says `invalid_token` to a client
that sent none, names no required scope, and cannot tell a bad token (401) from an issuer that
cannot be reached (503).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.authentication import AuthCredentials

from lsq_mcp.call_log import STATIC_TOKEN_HOLDER
from lsq_mcp.http.issuer import Issuer, IssuerUnreachableError
from lsq_mcp.http.middleware import HEALTH_PATH, send_error
from lsq_mcp.http.verifier import JwtVerifier, TokenRefusedError
from lsq_mcp.settings import Settings

if TYPE_CHECKING:
    from starlette.routing import Route
    from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

WELL_KNOWN = "/.well-known/oauth-protected-resource"
# Seconds a client is asked to wait when the issuer cannot be reached.
RETRY_AFTER = b"5"


@dataclass(frozen=True)
class SignIn:
    """Signing in as configured: the verifier, the metadata's URL (for challenges), the scopes needed."""

    verifier: JwtVerifier
    metadata_url: str
    scopes: tuple[str, ...]

    @classmethod
    def of(cls, settings: Settings) -> SignIn | None:
        if settings.auth_issuer is None or settings.public_url is None:
            return None
        issuer = Issuer(settings.auth_issuer, timeout=settings.timeout)
        return cls(
            JwtVerifier(issuer, settings.audiences), metadata_url(settings.public_url), settings.auth_scopes
        )


def metadata_url(public_url: str) -> str:
    """RFC 9728's URL of the metadata: the well-known path inserted before the resource's path."""
    from mcp.server.auth.routes import build_resource_metadata_url
    from pydantic import AnyHttpUrl

    return str(build_resource_metadata_url(AnyHttpUrl(public_url)))


def metadata_routes(settings: Settings) -> list[Route]:
    """`GET` the protected resource metadata, at its path-inserted URL and at the root form."""
    from mcp.server.auth.handlers.metadata import ProtectedResourceMetadataHandler
    from mcp.server.auth.routes import cors_middleware
    from mcp.shared.auth import ProtectedResourceMetadata
    from starlette.routing import Route

    # From strings, so that the model keeps each URL as configured (no slash added to a bare host):
    # clients compare the issuer exactly.
    metadata = ProtectedResourceMetadata.model_validate(
        {
            "resource": settings.public_url,
            "authorization_servers": [settings.auth_issuer],
            "scopes_supported": list(settings.auth_scopes),
            "bearer_methods_supported": ["header"],
        }
    )
    endpoint = cors_middleware(ProtectedResourceMetadataHandler(metadata).handle, ["GET", "OPTIONS"])
    paths = sorted(open_paths(settings) - {HEALTH_PATH})
    return [Route(path, endpoint=endpoint, methods=["GET", "OPTIONS"]) for path in paths]


def open_paths(settings: Settings) -> frozenset[str]:
    """The paths served without a token: `/healthz`, and the metadata when signing in."""
    if settings.auth_issuer is None or settings.public_url is None:
        return frozenset({HEALTH_PATH})
    from urllib.parse import urlsplit

    return frozenset({HEALTH_PATH, WELL_KNOWN, urlsplit(metadata_url(settings.public_url)).path})


class BearerMiddleware:
    """Every HTTP request but the open paths must carry `Authorization: Bearer <token>`: the static
    token, or an access token of the issuer. The caller is then the request's `user`.

    With the static token alone, a refusal is the same whatever was wrong (no header, another
    scheme, a wrong token), so it tells a prober nothing. Signing in, it is the challenge RFC 6750
    and RFC 9728 describe, so that a client can find where to sign in.
    """

    def __init__(self, app: ASGIApp, settings: Settings, signin: SignIn | None) -> None:
        self.app = app
        token = settings.mcp_token
        self._digest = hashlib.sha256(token.encode()).digest() if token is not None else None
        self._signin = signin
        self._open = open_paths(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._open:
            await self.app(scope, receive, send)
            return
        credentials = bearer_credentials(scope)
        try:
            grant = self._static(credentials) or await self._verified(credentials)
        except IssuerUnreachableError:
            message = "Service Unavailable: the authorization server could not be reached to check the token"
            await send_error(send, 503, [(b"retry-after", RETRY_AFTER)], message)
            return
        if grant is None:
            await self._challenge(send, 401, "invalid_token" if credentials else None, "Unauthorized")
            return
        if missing := [s for s in self._signin.scopes if not granted(s, grant)] if self._signin else []:
            message = f"Forbidden: the token lacks the scope(s) {' '.join(missing)}"
            await self._challenge(send, 403, "insufficient_scope", message)
            return
        scope = {**scope, "user": AuthenticatedUser(grant), "auth": AuthCredentials(grant.scopes)}
        await self.app(scope, receive, send)

    def _static(self, credentials: bytes | None) -> AccessToken | None:
        if self._digest is None or credentials is None:
            return None
        # Comparing digests takes the same time whatever the token's length or its first difference.
        if not hmac.compare_digest(hashlib.sha256(credentials).digest(), self._digest):
            return None
        scopes = list(self._signin.scopes) if self._signin else []
        return AccessToken(token="", client_id=STATIC_TOKEN_HOLDER, scopes=scopes)

    async def _verified(self, credentials: bytes | None) -> AccessToken | None:
        if self._signin is None or not credentials:
            return None
        try:
            return await self._signin.verifier.check(credentials.decode("latin-1"))
        except TokenRefusedError as exc:
            logger.info("Signing in: a token was refused: %s", exc)
            return None

    async def _challenge(self, send: Send, status: int, error: str | None, message: str) -> None:
        if self._signin is None:
            await send_error(send, status, [(b"www-authenticate", b"Bearer")], message)
            return
        parts = [f'resource_metadata="{self._signin.metadata_url}"']
        if error is not None:
            parts.append(f'error="{error}"')
        if self._signin.scopes:
            parts.append(f'scope="{" ".join(self._signin.scopes)}"')
        challenge = ("Bearer " + ", ".join(parts)).encode()
        await send_error(send, status, [(b"www-authenticate", challenge)], message)


def granted(scope: str, grant: AccessToken) -> bool:
    """Whether `grant` holds `scope`. A scope named by URI (`api://lsq-mcp/access_as_user`, as Entra ID
    has clients ask for it) is also held by its last segment, which is what Entra ID puts in `scp`:
    the token's issuer and audience are ours already, so the short name can only mean this scope."""
    return scope in grant.scopes or ("/" in scope and scope.rsplit("/", 1)[1] in grant.scopes)


def bearer_credentials(scope: Scope) -> bytes | None:
    """The token of the request's one `Authorization: Bearer` header, or None."""
    values = [value for name, value in scope["headers"] if name == b"authorization"]
    if len(values) != 1:
        return None
    scheme, _, credentials = values[0].strip().partition(b" ")
    return credentials.strip() if scheme.lower() == b"bearer" else None
