"""A look-alike authorization server for minted tokens: its metadata and JWKS over real loopback HTTP.

It signs nothing itself: tests mint tokens with its private keys (`mint`), good ones and ones with
every defect a resource server must refuse. The real authorization server (oidc-provider) is in
`test_provider.py`; this one can be turned off, can rotate its keys, and counts its JWKS fetches.

    with FakeIssuer() as issuer:
        token = issuer.mint(aud=RESOURCE)
        issuer.jwks_fetches          # how often the key set was read
        issuer.down = True           # every request answers 503
"""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

RESOURCE = "https://lsq.example.test/mcp"
SUBJECT = "user-7f3a"
EMAIL = "asha@example.test"
HMAC_SECRET = b"published-by-mistake-0123456789ab"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(key: PrivateKeyTypes, kid: str, alg: str | None) -> dict[str, Any]:
    algorithm = jwt.get_algorithm_by_name("RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256")
    jwk: dict[str, Any] = json.loads(algorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig"})
    if alg is not None:
        jwk["alg"] = alg
    return jwk


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class FakeIssuer:
    """An issuer on 127.0.0.1: RFC 8414 metadata (or OpenID discovery only), and its JWKS."""

    def __init__(self, *, openid_only: bool = False, path: str = "") -> None:
        self.rsa = rsa_key()
        self.ec = ec_key()
        # The EC key's JWK names no algorithm: a token's must then suit the key's type. The symmetric
        # key is one published by mistake: anyone who read the set could sign with it.
        self.keys: list[dict[str, Any]] = [
            public_jwk(self.rsa, "rsa-1", "RS256"),
            public_jwk(self.ec, "ec-1", None),
            {"kty": "oct", "kid": "hmac-1", "k": base64.urlsafe_b64encode(HMAC_SECRET).rstrip(b"=").decode()},
        ]
        self.down = False
        self.jwks_delay = 0.0  # seconds the key set takes to come
        self.jwks_fetches = 0
        self.metadata_issuer: str | None = None  # another issuer named in the metadata, when set
        self._openid_only = openid_only
        self._path = path
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self._path}"

    def mint(
        self,
        *,
        key: PrivateKeyTypes | bytes | str | None = None,
        alg: str = "RS256",
        kid: str | None = "rsa-1",
        lifetime: float = 300,
        drop: tuple[str, ...] = (),
        **claims: Any,
    ) -> str:
        """A token signed with `key` (the RSA key by default): `iss`, `aud`, `sub`, `iat`, `exp` set
        unless given or dropped; the header's `kid` unless None."""
        now = int(time.time())
        payload = {"iss": self.url, "aud": RESOURCE, "sub": SUBJECT, "iat": now, "exp": now + lifetime}
        payload.update(claims)
        for name in drop:
            payload.pop(name)
        headers = {"kid": kid} if kid is not None else None
        signing_key = self.rsa if key is None else key
        return jwt.encode(payload, signing_key, algorithm=alg, headers=headers)  # type: ignore[arg-type]

    def __enter__(self) -> FakeIssuer:
        self._thread.start()
        return self

    def __exit__(self, *exc: tuple[type[BaseException], BaseException, TracebackType] | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _document(self, path: str) -> dict[str, Any] | None:
        base = self.url.removesuffix(self._path)
        metadata = {"issuer": self.metadata_issuer or self.url, "jwks_uri": f"{base}/jwks"}
        if path == f"/.well-known/oauth-authorization-server{self._path}" and not self._openid_only:
            return metadata
        if path == f"{self._path}/.well-known/openid-configuration":
            return metadata
        if path == "/jwks":
            time.sleep(self.jwks_delay)
            self.jwks_fetches += 1
            return {"keys": self.keys}
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                document = None if issuer.down else issuer._document(self.path)
                status = 503 if issuer.down else 200 if document is not None else 404
                body = json.dumps(document or {"error": "not found"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
