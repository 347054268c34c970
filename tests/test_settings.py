"""Configuration from the environment: defaults, forms, and errors that name the variable."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from lsq_mcp.sandbox import SandboxServer
from lsq_mcp.sandbox.data import OPP_BIG
from lsq_mcp.settings import ConfigError, RateLimit, Settings
from tests.conftest import LSQ_MCP, TOOL, env_for, text_of

ROOT = Path(__file__).resolve().parent.parent


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.base_url == "https://api.leadsquared.com"
    assert settings.rate_limit == RateLimit(25, 5.0)
    assert (settings.timeout, settings.max_retries) == (30.0, 3)
    assert settings.missing_keys == ["LSQ_ACCESS_KEY", "LSQ_SECRET_KEY"]
    assert settings.redis_url is None
    assert settings.mcp_token is None


@pytest.mark.parametrize(
    ("host", "base_url"),
    [
        ("api-in21.leadsquared.com", "https://api-in21.leadsquared.com"),
        (" api-us11.leadsquared.com/ ", "https://api-us11.leadsquared.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://localhost:8765/", "http://localhost:8765"),
        ("http://[::1]:8765", "http://[::1]:8765"),
        ("https://proxy.example.com/lsq/", "https://proxy.example.com/lsq"),
        ("HTTPS://api-in21.leadsquared.com", "https://api-in21.leadsquared.com"),
    ],
)
def test_host_forms(host: str, base_url: str) -> None:
    assert Settings.from_env({"LSQ_HOST": host}).base_url == base_url


@pytest.mark.parametrize(
    ("value", "limit"),
    [("25/5", RateLimit(25, 5)), ("10/5", RateLimit(10, 5)), ("40/0.5", RateLimit(40, 0.5))],
)
def test_rate_limit_forms(value: str, limit: RateLimit) -> None:
    assert Settings.from_env({"LSQ_RATE_LIMIT": value}).rate_limit == limit


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LSQ_RATE_LIMIT", "fast"),
        ("LSQ_RATE_LIMIT", "0/5"),
        ("LSQ_RATE_LIMIT", "10/0"),
        ("LSQ_TIMEOUT", "soon"),
        ("LSQ_TIMEOUT", "-1"),
        ("LSQ_TIMEOUT", "nan"),
        ("LSQ_MAX_RETRIES", "many"),
        ("LSQ_MAX_RETRIES", "-2"),
        ("LSQ_HOST", "ftp://example.com"),
        ("LSQ_HOST", "api leadsquared com"),
        ("LSQ_HOST", "https://user:pw@example.com"),
    ],
)
def test_malformed_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    assert caught.value.variable == variable
    assert str(caught.value).startswith(f"{variable}: ")
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize(
    "host",
    [
        "http://api-in21.leadsquared.com",
        "http://10.1.2.3:8080",
        "http://localhost.example.com",
        "http://[::2]",
    ],
)
def test_http_to_anything_but_a_loopback_address_is_refused_asking_for_https(host: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"LSQ_HOST": host})
    assert caught.value.variable == "LSQ_HOST"
    assert "clear text" in str(caught.value)
    assert f"https://{host.removeprefix('http://')}" in str(caught.value)


@pytest.mark.parametrize("command", [["serve"], ["check"]])
def test_the_server_and_check_exit_2_on_an_http_host(command: list[str]) -> None:
    env = {"PATH": "/usr/bin:/bin", "LSQ_HOST": "http://api-in21.leadsquared.com"}
    env |= {"LSQ_ACCESS_KEY": KEY, "LSQ_SECRET_KEY": KEY[::-1]}
    done = subprocess.run(
        [LSQ_MCP, *command], capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 2
    assert "LSQ_HOST" in done.stdout + done.stderr
    assert "https://api-in21.leadsquared.com" in done.stdout + done.stderr


@pytest.mark.parametrize("url", ["localhost:6379", "http://redis:6379", "redis://", "pass@redis"])
def test_a_malformed_redis_url_names_the_variable_without_echoing_it(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"LSQ_REDIS_URL": url})
    assert caught.value.variable == "LSQ_REDIS_URL"
    assert "pass@" not in str(caught.value)


def test_redis_url_forms() -> None:
    for url in (
        "redis://:s3cret@127.0.0.1:6379/0",
        "rediss://cache.example.com:6380",
        "unix:///run/redis.sock",
    ):
        assert Settings.from_env({"LSQ_REDIS_URL": url}).redis_url == url


def test_keys_and_secrets() -> None:
    settings = Settings.from_env(
        {"LSQ_ACCESS_KEY": "u$abc", "LSQ_SECRET_KEY": " s3 ", "LSQ_MCP_TOKEN": "tok"}
    )
    assert settings.has_keys
    assert settings.secret_key == "s3"
    assert settings.secrets == ("u$abc", "s3", "tok")


KEY = "u$rLEAKCHECK-pasted-key-8c2e91"


@pytest.mark.parametrize("variable", ["LSQ_RATE_LIMIT", "LSQ_HOST", "LSQ_TIMEOUT", "LSQ_MAX_RETRIES"])
@pytest.mark.parametrize("value", [KEY, f"{KEY}/5", f"{KEY} x"])
def test_a_key_pasted_into_another_variable_is_not_echoed(variable: str, value: str) -> None:
    for key_variable in ("LSQ_ACCESS_KEY", "LSQ_SECRET_KEY"):
        with pytest.raises(ConfigError) as caught:
            Settings.from_env({key_variable: KEY, variable: value})
        message = str(caught.value)
        assert caught.value.variable == variable
        assert key_variable in message
        assert not any(KEY[i : i + 8] in message for i in range(len(KEY) - 7)), message


def test_a_malformed_value_without_a_key_is_still_shown() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"LSQ_ACCESS_KEY": KEY, "LSQ_RATE_LIMIT": "fast"})
    assert "'fast'" in str(caught.value)


def test_grace_period() -> None:
    assert Settings.from_env({}).mcp_grace_seconds == 10
    assert Settings.from_env({"LSQ_MCP_GRACE_SECONDS": "0"}).mcp_grace_seconds == 0
    for bad in ("soon", "-1", "2.5", "3601"):
        with pytest.raises(ConfigError) as caught:
            Settings.from_env({"LSQ_MCP_GRACE_SECONDS": bad})
        assert caught.value.variable == "LSQ_MCP_GRACE_SECONDS"


PLACEHOLDERS = [
    "your-access-key",
    "your-secret-key",
    "u$r-your-access-key",
    "<your access key>",
    "<ACCESS_KEY>",
    "YOUR_SECRET_KEY",
    "Your Access Key Here",
    "xxxxxxxxxxxx",
    "***",
    "${user_config.access_key}",
]


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_a_placeholder_is_a_key_not_set_yet(placeholder: str) -> None:
    settings = Settings.from_env({"LSQ_ACCESS_KEY": placeholder, "LSQ_SECRET_KEY": placeholder})
    assert not settings.has_keys
    assert settings.missing_keys == ["LSQ_ACCESS_KEY", "LSQ_SECRET_KEY"]
    assert settings.placeholder_keys == ("LSQ_ACCESS_KEY", "LSQ_SECRET_KEY")
    assert settings.secrets == ()


@pytest.mark.parametrize(
    "key", ["u$r3b7f0c2a9d8e4f61", "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", "u$rxxx", "access", "sk"]
)
def test_a_real_looking_key_is_no_placeholder(key: str) -> None:
    settings = Settings.from_env({"LSQ_ACCESS_KEY": key, "LSQ_SECRET_KEY": "s3cret"})
    assert settings.access_key == key
    assert settings.placeholder_keys == ()


def test_the_example_config_holds_placeholders_the_server_recognises() -> None:
    example = json.loads((ROOT / "claude_desktop_config.example.json").read_text())
    env = example["mcpServers"]["leadsquared"]["env"]
    settings = Settings.from_env(env)
    assert settings.placeholder_keys == ("LSQ_ACCESS_KEY", "LSQ_SECRET_KEY")
    assert (settings.base_url, settings.rate_limit) == ("https://api.leadsquared.com", RateLimit(25, 5))


@pytest.mark.anyio
async def test_the_stdio_server_starts_with_placeholders_and_calls_say_what_to_set(
    sandbox: SandboxServer,
) -> None:
    env = env_for(sandbox, LSQ_ACCESS_KEY="your-access-key", LSQ_SECRET_KEY="your-secret-key")
    params = StdioServerParameters(command=LSQ_MCP, args=[], env=env)
    with tempfile.TemporaryFile("w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            result = await client.call_tool(TOOL, {"opportunity_id": OPP_BIG})
        errlog.seek(0)
        warnings = [line for line in errlog.read().splitlines() if "WARNING" in line]
    assert result.is_error
    said = "LSQ_ACCESS_KEY holds a placeholder, not a key; LSQ_SECRET_KEY holds a placeholder, not a key"
    assert said in text_of(result)
    assert "API and Webhooks" in text_of(result)
    assert len(warnings) == 1
    assert "LSQ_ACCESS_KEY" in warnings[0]
    assert sandbox.state.requests == []
