"""`lsq-mcp check`, run as a user runs it: the installed command, against the sandbox over HTTP."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lsq_mcp.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Fault, SandboxConfig, SandboxServer
from tests.conftest import LSQ_MCP, env_for, hits
from tests.http.issuer import RESOURCE, FakeIssuer
from tests.pacing.test_redis import free_port, redis_server

ITEMS = ["configuration", "host", "keys", "region", "rate limit", "redis", "token", "signing in"]
LINE_RE = re.compile(r"^(ok|FAIL|skip) +(\S+(?: \S+)?) {2,}(.*)$")
WRONG_ACCESS_KEY = "u$rLEAKCHECK-check-access-91f2a7"
REGION_HOST = "api-in21.leadsquared.com"
STRONG_TOKEN = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def check(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LSQ_MCP, "check", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
        timeout=timeout,
    )


def verdicts(done: subprocess.CompletedProcess[str]) -> dict[str, tuple[str, str]]:
    """item → (mark, text), from the lines before the closing verdict; every line must parse."""
    lines = done.stdout.splitlines()
    assert lines, done.stderr
    found: dict[str, tuple[str, str]] = {}
    for line in lines[:-1]:
        match = LINE_RE.match(line)
        assert match, f"not an item line: {line!r}"
        mark, item, text = match.groups()
        found.setdefault(item, (mark, text))  # configuration may fail on several lines
    return found


def marks(done: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    return [(item, mark) for item, (mark, _) in verdicts(done).items()]


def no_key_fragment(output: str, *keys: str) -> None:
    for key in keys:
        for start in range(len(key) - 7):
            assert key[start : start + 8] not in output, f"8 characters of a key: {key[start : start + 8]!r}"


def test_everything_passes_against_the_sandbox_in_two_cheap_calls(sandbox: SandboxServer) -> None:
    done = check(env=env_for(sandbox))
    assert done.returncode == 0, done.stdout + done.stderr
    found = verdicts(done)
    assert list(found) == ITEMS
    assert marks(done) == [(i, "ok") for i in ITEMS[:5]] + [
        (i, "skip") for i in ("redis", "token", "signing in")
    ]
    assert (
        "LSQ_ACCESS_KEY, LSQ_SECRET_KEY, LSQ_HOST, LSQ_RATE_LIMIT, LSQ_TIMEOUT" in found["configuration"][1]
    )
    assert "Sandbox User" in found["keys"][1]
    assert "1000 calls per 1 second (LSQ_RATE_LIMIT)" in found["rate limit"][1]
    assert done.stdout.splitlines()[-1] == "All 5 checks passed."
    assert done.stderr == ""
    paths = [r.path.rsplit("/", 1)[1] for r in sandbox.state.requests]
    # From its first call on (an earlier test's server may still be looking its activity types up,
    # late on a loaded machine, as this one starts): check's two calls, and no other.
    assert paths[paths.index("UserByAccessKey.Get") :] == ["UserByAccessKey.Get", "ActivityTypes.Get"]
    no_key_fragment(done.stdout, SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY)


def test_demo_needs_no_keys() -> None:
    for args in (["--demo"], []):
        words = [LSQ_MCP, *args, "check", *(["--demo"] if not args else [])]
        done = subprocess.run(
            words, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "--demo: the sandbox's keys and host" in verdicts(done)["configuration"][1]


def test_refused_keys_exit_1_and_name_the_variables(sandbox: SandboxServer) -> None:
    done = check(env=env_for(sandbox, LSQ_ACCESS_KEY=WRONG_ACCESS_KEY))
    assert done.returncode == 1
    found = verdicts(done)
    assert found["host"][0] == "ok"
    assert found["keys"][0] == "FAIL"
    assert "401" in found["keys"][1]
    assert "LSQ_ACCESS_KEY and LSQ_SECRET_KEY" in found["keys"][1]
    assert found["region"][0] == "skip"
    assert found["rate limit"][0] == "ok"
    no_key_fragment(done.stdout + done.stderr, WRONG_ACCESS_KEY, SANDBOX_SECRET_KEY)


def test_another_regions_host_says_which_lsq_host_to_set(sandbox: SandboxServer) -> None:
    sandbox.state.config = SandboxConfig(rate_limit=None, region_host=REGION_HOST)
    done = check(env=env_for(sandbox))
    assert done.returncode == 1
    found = verdicts(done)
    assert found["keys"][0] == "ok"  # the keys call works on any region's host...
    assert found["region"] == (
        "FAIL",
        f"the account lives on {REGION_HOST}, not 127.0.0.1:{sandbox.port}: set LSQ_HOST={REGION_HOST}",
    )


def test_an_answer_echoing_the_keys_never_shows_them(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(Fault("echo_keys"))
    done = check(env=env_for(sandbox))
    assert done.returncode == 1
    assert verdicts(done)["keys"][0] == "FAIL"
    assert "[redacted]" in done.stdout
    no_key_fragment(done.stdout + done.stderr, SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY)


def test_a_closed_port_is_refused_and_exits_1() -> None:
    port = free_port()
    done = check(env={**_keys(), "LSQ_HOST": f"http://127.0.0.1:{port}"})
    assert done.returncode == 1
    found = verdicts(done)
    assert found["host"][0] == "FAIL"
    assert "the connection was refused" in found["host"][1]
    assert "LSQ_HOST" in found["host"][1]
    assert (found["keys"][0], found["region"][0]) == ("skip", "skip")


def test_a_name_that_does_not_resolve_says_so() -> None:
    done = check(env={**_keys(), "LSQ_HOST": "api-zz99.leadsquared.invalid"})
    assert done.returncode == 1
    assert "could not be resolved" in verdicts(done)["host"][1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        accepted: list[socket.socket] = []
        stop = threading.Event()

        def accept() -> None:
            server.settimeout(0.1)
            while not stop.is_set():
                try:
                    accepted.append(server.accept()[0])
                except TimeoutError:
                    continue

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        yield server.getsockname()[1]
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()


def test_a_failure_is_shown_at_once_not_retried(sandbox: SandboxServer) -> None:
    sandbox.state.push_fault(Fault("status", status=503, count=5))
    done = check(env=env_for(sandbox, LSQ_MAX_RETRIES="3"))
    assert done.returncode == 1
    assert "503" in verdicts(done)["keys"][1]
    assert hits(sandbox, "UserByAccessKey.Get") == 1


def test_a_host_that_never_answers_times_out(silent_port: int) -> None:
    done = check(env={**_keys(), "LSQ_HOST": f"http://127.0.0.1:{silent_port}", "LSQ_TIMEOUT": "1"})
    assert done.returncode == 1
    assert "within 1s" in verdicts(done)["host"][1]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"LSQ_RATE_LIMIT": "fast", "LSQ_TIMEOUT": "-1"}, ["LSQ_RATE_LIMIT: 'fast'", "LSQ_TIMEOUT: '-1'"]),
        ({"LSQ_HOST": "api leadsquared com"}, ["LSQ_HOST: "]),
        ({"LSQ_ACCESS_KEY": ""}, ["LSQ_ACCESS_KEY is not set"]),
        (
            {"LSQ_MAX_RETRIES": "many", "LSQ_SECRET_KEY": ""},
            ["LSQ_MAX_RETRIES: ", "LSQ_SECRET_KEY is not set"],
        ),
    ],
)
def test_bad_configuration_exits_2_naming_every_variable(
    sandbox: SandboxServer, env: dict[str, str], named: list[str]
) -> None:
    done = check(env=env_for(sandbox, **env))
    assert done.returncode == 2
    failures = [line for line in done.stdout.splitlines() if line.startswith("FAIL  configuration")]
    assert len(failures) == len(named)
    for line, name in zip(failures, named, strict=True):
        assert name in line
    assert "fix the configuration first" in done.stdout
    assert sandbox.state.requests == []


@pytest.mark.parametrize(
    "placeholder",
    ["your-access-key", "u$r-your-access-key", "<your access key>", "YOUR_ACCESS_KEY", "xxxxxxxx"],
)
def test_placeholders_are_keys_not_set_yet(sandbox: SandboxServer, placeholder: str) -> None:
    done = check(env=env_for(sandbox, LSQ_ACCESS_KEY=placeholder, LSQ_SECRET_KEY="your-secret-key"))
    assert done.returncode == 2
    lines = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert [line.split()[2] for line in lines] == ["LSQ_ACCESS_KEY", "LSQ_SECRET_KEY"]
    for line in lines:
        assert "holds a placeholder, not a key" in line
        assert "My Profile → Settings → API and Webhooks" in line
    assert sandbox.state.requests == []


def test_redis_down_exits_1_and_the_rest_still_checked(sandbox: SandboxServer) -> None:
    done = check(env=env_for(sandbox, LSQ_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"))
    assert done.returncode == 1
    found = verdicts(done)
    assert found["redis"][0] == "FAIL"
    assert "the connection was refused" in found["redis"][1]
    assert "LSQ_REDIS_URL" in found["redis"][1]
    assert [found[item][0] for item in ITEMS[:5]] == ["ok"] * 5


def test_redis_up_answers_and_its_password_is_never_shown(sandbox: SandboxServer) -> None:
    password = "LEAKCHECK-check-redis-pw-3c9e"
    with redis_server(password=password) as url:
        done = check(env=env_for(sandbox, LSQ_REDIS_URL=url))
    assert done.returncode == 0, done.stdout
    assert verdicts(done)["redis"][0] == "ok"
    no_key_fragment(done.stdout + done.stderr, password)


@pytest.mark.parametrize(
    ("token", "exit_code", "says"),
    [
        (STRONG_TOKEN, 0, "strong enough (about 256 bits)"),
        ("hunter2", 2, "weak"),
        ("passwordpasswordpasswordpassword", 2, "weak"),
        ("Passw0rd!Passw0rd!", 2, "weak"),  # a 9-character password, twice
        ("0123456789abcdef", 2, "weak"),  # every hex digit, in order
        ("tok en", 2, "printable ASCII"),
    ],
)
def test_the_tokens_strength(sandbox: SandboxServer, token: str, exit_code: int, says: str) -> None:
    done = check(env=env_for(sandbox, LSQ_MCP_TOKEN=token))
    assert done.returncode == exit_code, done.stdout
    mark, text = verdicts(done)["token"]
    assert (mark, says in text) == ("ok" if exit_code == 0 else "FAIL", True)
    assert token not in done.stdout + done.stderr


def test_signing_in_reports_the_issuers_metadata_and_keys(sandbox: SandboxServer) -> None:
    with FakeIssuer() as issuer:
        signing_in = env_for(sandbox, LSQ_MCP_AUTH_ISSUER=issuer.url, LSQ_MCP_PUBLIC_URL=RESOURCE)
        done = check(env=signing_in)
        assert done.returncode == 0, done.stdout
        mark, text = verdicts(done)["signing in"]
        assert mark == "ok"
        assert f"metadata found at {issuer.url}/.well-known/oauth-authorization-server" in text
        assert f"{issuer.url}/jwks holds 2 key(s); tokens for {RESOURCE}" in text
        mark, text = verdicts(done)["token"]
        assert mark == "skip"
        assert "loopback" not in text  # a public bind needs no static token when clients sign in
        assert f"clients sign in with {issuer.url}; LSQ_MCP_TOKEN is optional" in text
        issuer.down = True
        down = check(env=signing_in)
    assert down.returncode == 1, down.stdout
    mark, text = verdicts(down)["signing in"]
    assert mark == "FAIL"
    assert f"the authorization server {issuer.url} could not be read" in text
    assert "answered 503" in text


def test_signing_in_names_an_issuer_that_refuses_the_connection(sandbox: SandboxServer) -> None:
    issuer = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    done = check(env=env_for(sandbox, LSQ_MCP_AUTH_ISSUER=issuer, LSQ_MCP_PUBLIC_URL=RESOURCE))
    assert done.returncode == 1, done.stdout
    mark, text = verdicts(done)["signing in"]
    assert mark == "FAIL"
    assert f"the authorization server {issuer} could not be read" in text
    assert "the connection was refused" in text


def test_signing_in_without_the_public_url_exits_2_naming_it(sandbox: SandboxServer) -> None:
    done = check(env=env_for(sandbox, LSQ_MCP_AUTH_ISSUER="https://login.example.test/tenant"))
    assert done.returncode == 2, done.stdout
    mark, text = verdicts(done)["signing in"]
    assert mark == "FAIL"
    assert text.startswith("LSQ_MCP_PUBLIC_URL: must be set with LSQ_MCP_AUTH_ISSUER")


def _keys() -> dict[str, str]:
    return {
        "LSQ_ACCESS_KEY": SANDBOX_ACCESS_KEY,
        "LSQ_SECRET_KEY": SANDBOX_SECRET_KEY,
        "LSQ_MAX_RETRIES": "3",
    }


def test_the_troubleshooting_pages_sample_is_what_check_prints() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md").read_text()
    sample = page.split("$ LSQ_ACCESS_KEY='u$r...' LSQ_SECRET_KEY='...' lsq-mcp check\n", 1)[1]
    lines = sample.split("```", 1)[0].splitlines()
    items = [match.group(2) for match in map(LINE_RE.match, lines[:-1]) if match]
    assert items == ITEMS
    assert lines[-1] == "1 failed: each FAIL line says what to change."
