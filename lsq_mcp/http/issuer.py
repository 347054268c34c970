"""The authorization server's signing keys: found through its metadata, fetched without blocking, cached.

The metadata is looked for as MCP clients look for it (RFC 8414, then OpenID discovery); it must
name the configured issuer exactly, and its `jwks_uri` is read for the keys. Only public keys of
asymmetric types are kept: a symmetric (`oct`) key in the set could be used to forge tokens.

The keys are fetched again when a token names a key not held (a rotation), at most once in
`REFETCH_SECONDS` for such tokens, and once they are `MAX_AGE_SECONDS` old (a key the issuer
withdrew stops being accepted then). When a fetch fails, the keys held go on serving; with none
held, every token is refused (`IssuerUnreachableError`): closed, never open.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2
from jwt import PyJWK, PyJWKError
from mcp.client.auth.utils import build_oauth_authorization_server_metadata_discovery_urls

from lsq_mcp.errors import connection_failure
from lsq_mcp.settings import is_loopback

logger = logging.getLogger(__name__)

# The JWS algorithms accepted: public-key signatures only (`none` and HMAC are never accepted).
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
ASYMMETRIC_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})
REFETCH_SECONDS = 30.0
# Without any key held, a failed fetch is tried again sooner: every request is refused meanwhile.
RETRY_SECONDS = 5.0
MAX_AGE_SECONDS = 3600.0
# Requests wait for a fetch: each of its reads is bounded by LSQ_TIMEOUT, and by this.
MAX_FETCH_SECONDS = 10.0
# Metadata documents and key sets are small; anything larger is not one.
MAX_DOCUMENT_BYTES = 1_000_000


class IssuerUnreachableError(Exception):
    """The issuer's metadata or keys could not be read: tokens cannot be checked, so none is accepted."""

    def __init__(self, issuer: str, reason: str) -> None:
        super().__init__(f"the authorization server {issuer} could not be read: {reason}")
        self.reason = reason


class NotThereError(IssuerUnreachableError):
    """The issuer answered, but not with a JSON object: another well-known URL may hold the metadata."""


@dataclass
class KeySet:
    """What a fetch found: where, and the public keys by `kid` (None for a key without one)."""

    metadata_url: str
    jwks_uri: str
    keys: dict[str | None, dict[str, Any]]
    fetched_at: float = field(default_factory=time.monotonic)


class Issuer:
    """The keys of one authorization server, fetched with httpx2 (async) when needed and cached."""

    def __init__(self, issuer: str, *, timeout: float) -> None:
        self.issuer = issuer
        self._timeout = min(timeout, MAX_FETCH_SECONDS)
        self._held: KeySet | None = None
        self._attempted_at = self._refetched_at = -float("inf")
        self._failure: IssuerUnreachableError | None = None
        self._lock = anyio.Lock()
        self._parsed: dict[tuple[str | None, str], PyJWK] = {}

    async def key(self, kid: str | None, algorithm: str) -> PyJWK | None:
        """The key `kid` for `algorithm`, or None when the issuer has no such key (or it is not of
        that algorithm's type). Raises IssuerUnreachableError when the keys needed cannot be read."""
        if self._due(kid):
            async with self._lock:
                if self._due(kid):  # not fetched meanwhile by a request that waited for the lock
                    if self._held is not None and kid not in self._held.keys:
                        self._refetched_at = time.monotonic()
                    await self._refresh()
        held = self._held
        if held is None or (kid not in held.keys and self._failure is not None):
            raise self._failure or IssuerUnreachableError(self.issuer, "no keys fetched yet")
        jwk = held.keys.get(kid)
        if jwk is None or jwk.get("alg", algorithm) != algorithm:
            return None
        if (kid, algorithm) not in self._parsed:
            try:
                self._parsed[(kid, algorithm)] = PyJWK(jwk, algorithm)
            except PyJWKError:  # a key of another type than the algorithm's, or malformed
                return None
        return self._parsed[(kid, algorithm)]

    async def fetch(self) -> KeySet:
        """Read the metadata and the key set now (what `lsq-mcp check` reports)."""
        async with httpx2.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
            metadata_url, metadata = await self._metadata(client)
            jwks_uri = metadata.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not _secure(jwks_uri):
                raise IssuerUnreachableError(
                    self.issuer, f"its metadata ({metadata_url}) has no https jwks_uri: {jwks_uri!r:.100}"
                )
            return KeySet(metadata_url, jwks_uri, public_keys(await _document(client, jwks_uri, self.issuer)))

    def _due(self, kid: str | None) -> bool:
        """Whether to fetch the keys: none held (tried again after RETRY_SECONDS), held too long, or
        `kid` unknown (at most once in REFETCH_SECONDS: tokens naming made-up keys cost nothing)."""
        now = time.monotonic()
        held = self._held
        if held is None:
            return now - self._attempted_at >= RETRY_SECONDS
        if now - held.fetched_at > MAX_AGE_SECONDS:
            return now - self._attempted_at >= REFETCH_SECONDS
        return kid not in held.keys and now - self._refetched_at >= REFETCH_SECONDS

    async def _refresh(self) -> None:
        self._attempted_at = time.monotonic()
        try:
            self._held = await self.fetch()
        except IssuerUnreachableError as exc:
            logger.warning("Signing in: %s", exc)
            self._failure = exc
            return
        self._failure = None
        self._parsed.clear()
        logger.info("Signing in: %d key(s) read from %s", len(self._held.keys), self._held.jwks_uri)

    async def _metadata(self, client: httpx2.AsyncClient) -> tuple[str, dict[str, Any]]:
        """The first metadata document found (RFC 8414, then OpenID discovery); it must name this issuer."""
        tried: list[str] = []
        for url in build_oauth_authorization_server_metadata_discovery_urls(self.issuer, self.issuer):
            try:
                metadata = await _document(client, url, self.issuer)
            except NotThereError as exc:  # a timeout or a refusal is not tried again at the next URL
                tried.append(exc.reason)
                continue
            if metadata.get("issuer") != self.issuer:
                found = metadata.get("issuer")
                raise IssuerUnreachableError(
                    self.issuer, f"{url} names the issuer {found!r:.100}, not this one"
                )
            return url, metadata
        raise IssuerUnreachableError(self.issuer, "no metadata found: " + "; ".join(tried))


def public_keys(jwks: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    """The signing keys of a JWKS by `kid`: public keys of asymmetric types only."""
    keys = jwks.get("keys")
    found: dict[str | None, dict[str, Any]] = {}
    for key in keys if isinstance(keys, list) else []:
        if (
            isinstance(key, dict)
            and key.get("kty") in ASYMMETRIC_KEY_TYPES
            and key.get("use", "sig") == "sig"
            and "d" not in key
        ):
            kid = key.get("kid")
            found[kid if isinstance(kid, str) else None] = key
    return found


async def _document(client: httpx2.AsyncClient, url: str, issuer: str) -> dict[str, Any]:
    """The JSON object at `url`, read up to MAX_DOCUMENT_BYTES."""
    try:
        async with client.stream("GET", url, headers={"Accept": "application/json"}) as answer:
            body = b""
            async for chunk in answer.aiter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise IssuerUnreachableError(issuer, f"{url} sent more than {MAX_DOCUMENT_BYTES} bytes")
    except httpx2.HTTPError as exc:
        reason = connection_failure(exc) or f"{type(exc).__name__} {exc}".strip()
        raise IssuerUnreachableError(issuer, f"{url}: {reason}") from None
    if answer.status_code != 200:
        raise NotThereError(issuer, f"{url} answered {answer.status_code}")
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise NotThereError(issuer, f"{url} did not answer a JSON object")
    return document


def _secure(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname or ""))
