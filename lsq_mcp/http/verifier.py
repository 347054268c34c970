"""Access tokens checked as a resource server must (RFC 9068, the MCP authorization specification).

A token is accepted when it is a JWT signed with an asymmetric algorithm by a key of the issuer's
key set, `iss` is the issuer exactly, `aud` holds one of the audiences, `exp` is present and not
past, and `nbf` (and `iat`) are not in the future, a minute of clock skew allowed. Which algorithm
checks the signature is decided here, never by the token: `none` and HMAC are refused before any
key is looked at, so a token cannot have the issuer's public key used as an HMAC secret.
"""

from __future__ import annotations

from typing import Any

import jwt
from mcp.server.auth.provider import AccessToken

from lsq_mcp.http.issuer import ASYMMETRIC_ALGORITHMS, Issuer

# Clocks differ; a minute at most, so an expired token is not accepted for long.
LEEWAY_SECONDS = 60
# Claims kept to say who called (in the log of each tool call).
IDENTITY_CLAIMS = ("email", "preferred_username")


class TokenRefusedError(Exception):
    """Why a token is not accepted, for the log (never the token itself)."""


class JwtVerifier:
    """JWT access tokens of one issuer, checked; `check` says why one is refused."""

    def __init__(self, issuer: Issuer, audiences: tuple[str, ...]) -> None:
        self.issuer = issuer
        self._audiences = list(audiences)

    async def check(self, token: str) -> AccessToken:
        """The token's grant; raises TokenRefusedError saying why it is not valid, and
        IssuerUnreachableError when the issuer's keys are needed and cannot be read."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenRefusedError(f"not a JWT ({exc})") from None
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ASYMMETRIC_ALGORITHMS:
            raise TokenRefusedError(f"algorithm {str(algorithm)[:20]!r} is not an asymmetric one")
        if not isinstance(kid, str | None):
            raise TokenRefusedError("its kid is not a string")
        key = await self.issuer.key(kid, algorithm)
        if key is None:
            raise TokenRefusedError(f"the issuer has no {algorithm} key {str(kid)[:80]!r}")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self.issuer.issuer,
                audience=self._audiences,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenRefusedError(str(exc)) from None
        return access_token(token, claims)


def access_token(token: str, claims: dict[str, Any]) -> AccessToken:
    """The SDK's view of a verified token: its scopes, subject and the claims that name the caller."""
    client_id = next((claims[c] for c in ("client_id", "azp", "appid") if isinstance(claims.get(c), str)), "")
    return AccessToken(
        token=token,
        client_id=client_id,
        scopes=scopes_of(claims),
        expires_at=int(claims["exp"]),
        subject=str(claims["sub"]) if "sub" in claims else None,
        claims={c: str(claims[c]) for c in IDENTITY_CLAIMS if c in claims},
    )


def scopes_of(claims: dict[str, Any]) -> list[str]:
    """The scopes granted: `scope` (RFC 9068, space-separated), or `scp` (Entra ID and Okta: a string
    or a list)."""
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list):
            return [s for s in value if isinstance(s, str)]
    return []
