"""Signing in (OAuth 2.1) on `lsq-mcp serve --transport http`, with tokens minted for every defect.

One server process serves most of the module: signing in with a look-alike issuer (`FakeIssuer`),
the scope `lsq.read` required, and the static token beside it. Tests that change the issuer (keys
rotated, the issuer down) start their own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx2
import jwt
import pytest

from lsq_mcp.sandbox.data import OPP_BIG
from tests.conftest import TOOL, env_for, structured
from tests.http.issuer import (
    EMAIL,
    HMAC_SECRET,
    RESOURCE,
    SUBJECT,
    FakeIssuer,
    ec_key,
    public_jwk,
    public_pem,
    rsa_key,
)
from tests.http.test_app import (
    EVERY_ADDRESS,
    HttpServer,
    assert_refused,
    client_for,
    free_port,
    http_server,
    own_sandbox,
    serve,
)

SCOPE = "lsq.read"
STATIC_TOKEN = "static-4c1e9b7a2f6d8035e1a7"
METADATA_PATH = "/.well-known/oauth-protected-resource/mcp"
METADATA_URL = f"https://lsq.example.test{METADATA_PATH}"


@contextmanager
def signin_server(issuer: FakeIssuer, **env: str) -> Iterator[HttpServer]:
    with own_sandbox() as sandbox:
        signing_in = {
            "LSQ_MCP_AUTH_ISSUER": issuer.url,
            "LSQ_MCP_PUBLIC_URL": RESOURCE,
            "LSQ_MCP_AUTH_SCOPES": SCOPE,
            "LSQ_MCP_TOKEN": STATIC_TOKEN,
        }
        variables = env_for(sandbox, **{**signing_in, **env})
        with http_server([], variables, free_port(), sandbox) as server:
            yield server


@pytest.fixture(scope="module")
def issuer() -> Iterator[FakeIssuer]:
    with FakeIssuer() as issuer:
        yield issuer


@pytest.fixture(scope="module")
def server(issuer: FakeIssuer) -> Iterator[HttpServer]:
    with signin_server(issuer) as server:
        yield server


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def hs256(payload: dict[str, object], secret: bytes, kid: str = "rsa-1") -> str:
    """An HMAC token built by hand: PyJWT rightly refuses to key HMAC with a public key."""

    def part(data: dict[str, object]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")

    signing_input = part({"alg": "HS256", "typ": "JWT", "kid": kid}) + b"." + part(payload)
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


def claims(issuer: FakeIssuer, **changes: object) -> dict[str, object]:
    now = int(time.time())
    return {"iss": issuer.url, "aud": RESOURCE, "sub": SUBJECT, "exp": now + 300, "scope": SCOPE, **changes}


# --- what a client finds ---


def test_protected_resource_metadata_at_both_well_known_urls(server: HttpServer, issuer: FakeIssuer) -> None:
    expected = {
        "resource": RESOURCE,
        "authorization_servers": [issuer.url],
        "scopes_supported": [SCOPE],
        "bearer_methods_supported": ["header"],
    }
    for path in (METADATA_PATH, "/.well-known/oauth-protected-resource"):
        answer = httpx2.get(f"{server.base}{path}", timeout=10)
        assert answer.status_code == 200, path
        assert answer.json() == expected


def test_without_a_token_a_challenge_names_the_metadata_and_the_scope(server: HttpServer) -> None:
    answer = server.post()
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == f'Bearer resource_metadata="{METADATA_URL}", scope="{SCOPE}"'
    assert httpx2.get(f"{server.base}/healthz", timeout=10).status_code == 200


def test_a_valid_token_lacking_the_scope_is_forbidden(server: HttpServer, issuer: FakeIssuer) -> None:
    answer = server.post(**bearer(issuer.mint(scope="other")))
    assert answer.status_code == 403
    challenge = answer.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert f'scope="{SCOPE}"' in challenge
    assert f'resource_metadata="{METADATA_URL}"' in challenge


@pytest.mark.parametrize(
    "grant",
    [
        {"scope": f"openid {SCOPE}"},
        {"scp": SCOPE},  # Entra ID
        {"scp": ["profile", SCOPE]},  # Okta
    ],
)
def test_scopes_are_read_from_scope_or_scp(
    server: HttpServer, issuer: FakeIssuer, grant: dict[str, Any]
) -> None:
    assert server.post(**bearer(issuer.mint(**grant))).status_code == 200


# --- tokens that must be accepted ---


def test_tokens_within_the_rules_are_accepted(server: HttpServer, issuer: FakeIssuer) -> None:
    now = int(time.time())
    accepted = [
        issuer.mint(scope=SCOPE),
        issuer.mint(key=issuer.ec, alg="ES256", kid="ec-1", scope=SCOPE),  # its JWK names no alg
        issuer.mint(scope=SCOPE, aud=["https://other.example", RESOURCE]),
        issuer.mint(scope=SCOPE, exp=now - 30),  # a clock 30 s behind the issuer's
        issuer.mint(scope=SCOPE, nbf=now + 30),  # a clock 30 s ahead
    ]
    for token in accepted:
        assert server.post(**bearer(token)).status_code == 200
    assert server.post(**bearer(STATIC_TOKEN)).status_code == 200  # the static token, beside


# --- tokens with a defect ---


def defective_tokens(issuer: FakeIssuer) -> dict[str, str]:
    now = int(time.time())
    other_rsa = rsa_key()
    return {
        "alg none": jwt.encode(claims(issuer), "", algorithm="none"),
        "HMAC with a secret": hs256(claims(issuer), b"a shared secret of some length!!"),
        "HMAC keyed with the issuer's public key": hs256(claims(issuer), public_pem(issuer.rsa)),
        "HMAC with a symmetric key the key set publishes": hs256(claims(issuer), HMAC_SECRET, kid="hmac-1"),
        "signed by another key under the issuer's kid": issuer.mint(key=other_rsa, scope=SCOPE),
        "an EC signature under the RSA key's kid": issuer.mint(key=ec_key(), alg="ES256", scope=SCOPE),
        "PS256 where the key is for RS256": issuer.mint(alg="PS256", scope=SCOPE),
        "another issuer": issuer.mint(iss="https://evil.example.test", scope=SCOPE),
        "the issuer with a trailing slash": issuer.mint(iss=issuer.url + "/", scope=SCOPE),
        "another audience": issuer.mint(aud="https://other.example/mcp", scope=SCOPE),
        "no audience": issuer.mint(drop=("aud",), scope=SCOPE),
        "no exp": issuer.mint(drop=("exp",), scope=SCOPE),
        "expired past the skew": issuer.mint(exp=now - 90, scope=SCOPE),
        "not valid before a time past the skew": issuer.mint(nbf=now + 90, scope=SCOPE),
        "issued in the future past the skew": issuer.mint(iat=now + 90, scope=SCOPE),
        "no kid, with two keys in the set": issuer.mint(kid=None, scope=SCOPE),
        "not a JWT": "not-a-jwt",
        "a JWT cut short": issuer.mint(scope=SCOPE).rsplit(".", 1)[0],
    }


def test_every_defective_token_is_refused(server: HttpServer, issuer: FakeIssuer) -> None:
    for defect, token in defective_tokens(issuer).items():
        answer = server.post(**bearer(token))
        assert answer.status_code == 401, defect
        assert answer.headers["www-authenticate"] == (
            f'Bearer resource_metadata="{METADATA_URL}", error="invalid_token", scope="{SCOPE}"'
        ), defect
    assert "a token was refused" in server.stderr


# --- who asked what ---


@pytest.mark.anyio
async def test_each_call_is_logged_with_who_made_it_and_never_the_token(
    server: HttpServer, issuer: FakeIssuer
) -> None:
    token = issuer.mint(scope=SCOPE, email=EMAIL)
    async with client_for(server, token) as client:
        data = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 2}))
        failed = await client.call_tool(TOOL, {"opportunity_id": "not-a-guid"})
    async with client_for(server, STATIC_TOKEN) as client:
        await client.call_tool("list_activity_types", {})
        await client.call_tool("find_opportunities", {"query": "Acme\nrenewal"})
    assert data["returned"] == 2
    assert failed.is_error
    log = server.stderr
    assert f"call {TOOL} opportunity_id='{OPP_BIG}' by '{SUBJECT}' ('{EMAIL}'): ok in " in log
    assert (
        f"call {TOOL} opportunity_id='not-a-guid' by '{SUBJECT}' ('{EMAIL}'): error InvalidArgumentError"
        in log
    )
    assert "call list_activity_types by the LSQ_MCP_TOKEN holder: ok in " in log
    # What a model sends is shown on one line, quoted: it cannot forge a log line.
    assert "call find_opportunities query='Acme\\nrenewal' by the LSQ_MCP_TOKEN holder: ok in " in log
    assert token not in log
    assert token.split(".")[2] not in log
    assert STATIC_TOKEN not in log


# --- the issuer's keys ---


def test_a_rotated_key_is_fetched_once_and_unknown_kids_at_most_once_in_30_s() -> None:
    with FakeIssuer() as issuer, signin_server(issuer) as server:
        assert server.post(**bearer(issuer.mint(scope=SCOPE))).status_code == 200
        assert issuer.jwks_fetches == 1
        rotated = rsa_key()
        issuer.keys.append(public_jwk(rotated, "rsa-2", "RS256"))
        assert server.post(**bearer(issuer.mint(key=rotated, kid="rsa-2", scope=SCOPE))).status_code == 200
        assert issuer.jwks_fetches == 2
        for kid in ("unknown-1", "unknown-2", "unknown-3"):
            assert server.post(**bearer(issuer.mint(kid=kid, scope=SCOPE))).status_code == 401
        assert issuer.jwks_fetches == 2


def test_other_requests_are_served_while_the_keys_are_fetched() -> None:
    with FakeIssuer() as issuer, signin_server(issuer) as server, ThreadPoolExecutor(1) as pool:
        issuer.jwks_delay = 4.0
        signed_in = pool.submit(server.post, **bearer(issuer.mint(scope=SCOPE)))
        time.sleep(1.0)  # its key set is on its way
        started = time.monotonic()
        assert server.post(**bearer(STATIC_TOKEN)).status_code == 200
        assert time.monotonic() - started < 2.0, "a request waited for the key set's fetch"
        assert not signed_in.done()
        assert signed_in.result().status_code == 200


def test_an_issuer_that_cannot_be_reached_fails_closed() -> None:
    with FakeIssuer() as issuer, signin_server(issuer) as server:
        issuer.down = True
        for _ in range(3):
            answer = server.post(**bearer(issuer.mint(scope=SCOPE)))
            assert answer.status_code == 503
            assert "authorization server could not be reached" in answer.text
        assert server.post(**bearer(STATIC_TOKEN)).status_code == 200  # the static token needs no issuer
        assert "could not be read" in server.stderr


def test_an_issuer_that_never_answers_is_given_up_within_one_timeout(issuer: FakeIssuer) -> None:
    with socket.socket() as silent:  # the handshake completes in the backlog; nothing is ever read
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with signin_server(issuer, LSQ_MCP_AUTH_ISSUER=url, LSQ_TIMEOUT="3") as server:
            started = time.monotonic()
            answer = server.post(**bearer(issuer.mint(iss=url, scope=SCOPE)))
            elapsed = time.monotonic() - started
    assert answer.status_code == 503
    assert elapsed < 5.5, "a well-known URL was tried after another timed out"  # one 3 s timeout


def test_openid_discovery_and_an_issuer_with_a_path() -> None:
    with FakeIssuer(openid_only=True, path="/realms/sales") as issuer, signin_server(issuer) as server:
        assert server.post(**bearer(issuer.mint(scope=SCOPE))).status_code == 200


def test_metadata_naming_another_issuer_is_not_trusted() -> None:
    with FakeIssuer() as issuer, signin_server(issuer) as server:
        issuer.metadata_issuer = "https://evil.example.test"
        assert server.post(**bearer(issuer.mint(scope=SCOPE))).status_code == 503
        assert "names the issuer 'https://evil.example.test'" in server.stderr


def test_a_scope_named_by_uri_is_held_by_its_short_name_as_entra_id_grants_it(issuer: FakeIssuer) -> None:
    entra = {"LSQ_MCP_AUTH_AUDIENCE": "api://lsq-mcp", "LSQ_MCP_AUTH_SCOPES": "api://lsq-mcp/access_as_user"}
    with signin_server(issuer, **entra) as server:
        assert (
            server.post(**bearer(issuer.mint(aud="api://lsq-mcp", scp="access_as_user"))).status_code == 200
        )
        assert server.post(**bearer(issuer.mint(aud="api://lsq-mcp", scp="other"))).status_code == 403


def test_a_configured_audience_replaces_the_public_url(issuer: FakeIssuer) -> None:
    with signin_server(issuer, LSQ_MCP_AUTH_AUDIENCE="api://lsq-mcp, https://api.example") as server:
        assert server.post(**bearer(issuer.mint(aud="api://lsq-mcp", scope=SCOPE))).status_code == 200
        assert server.post(**bearer(issuer.mint(scope=SCOPE))).status_code == 401


# --- start-up ---


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"LSQ_MCP_AUTH_ISSUER": "https://login.example.test"}, "LSQ_MCP_PUBLIC_URL: must be set with"),
        (
            {"LSQ_MCP_AUTH_ISSUER": "http://login.example.test", "LSQ_MCP_PUBLIC_URL": RESOURCE},
            "LSQ_MCP_AUTH_ISSUER",
        ),
        (
            {
                "LSQ_MCP_AUTH_ISSUER": "https://login.example.test",
                "LSQ_MCP_PUBLIC_URL": "http://lsq.example.test/mcp",
            },
            "LSQ_MCP_PUBLIC_URL: 'http://lsq.example.test/mcp' must use https",
        ),
        (
            {"LSQ_MCP_AUTH_ISSUER": "login.example.test", "LSQ_MCP_PUBLIC_URL": RESOURCE},
            "LSQ_MCP_AUTH_ISSUER",
        ),
        ({"LSQ_MCP_AUTH_SCOPES": SCOPE}, "LSQ_MCP_AUTH_SCOPES: is set, but signing in is off"),
        ({"LSQ_MCP_AUTH_AUDIENCE": "api://lsq"}, "LSQ_MCP_AUTH_AUDIENCE: is set, but signing in is off"),
    ],
)
def test_signing_in_misconfigured_exits_2_naming_the_variable(env: dict[str, str], names: str) -> None:
    done = serve("--port", str(free_port()), "--demo", env=env)
    assert_refused(done, names)


def test_with_signing_in_a_public_bind_needs_no_static_token(issuer: FakeIssuer) -> None:
    port = free_port()
    env = {"LSQ_MCP_AUTH_ISSUER": issuer.url, "LSQ_MCP_PUBLIC_URL": RESOURCE, "LSQ_MCP_AUTH_SCOPES": SCOPE}
    with (
        own_sandbox() as sandbox,
        http_server(["--host", EVERY_ADDRESS], env_for(sandbox, **env), port, sandbox) as server,
    ):
        assert server.post().status_code == 401
        assert server.post(**bearer(issuer.mint(scope=SCOPE))).status_code == 200
        # The public URL's host is allowed by default: it is where clients that sign in call.
        assert server.post(**bearer(issuer.mint(scope=SCOPE)), Host="lsq.example.test").status_code == 200
        assert server.post(**bearer(issuer.mint(scope=SCOPE)), Host="evil.example.test").status_code != 200
        # The start-up log says so, and does not warn that only loopback names are accepted.
        assert re.search(r"Host headers allowed: .*lsq\.example\.test", server.stderr), server.stderr
        assert "only loopback Host headers" not in server.stderr
