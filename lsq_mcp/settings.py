"""Configuration: one validated settings object, read once from the environment.

Every variable of the README's configuration table (and docs/deployment.md's) lives here.
A malformed value raises `ConfigError` naming the variable, so start-up fails with a message a
person can act on instead of a traceback.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

DEFAULT_HOST = "api.leadsquared.com"
# Seconds the HTTP server gives calls in flight to finish after SIGTERM (LSQ_MCP_GRACE_SECONDS).
DEFAULT_GRACE_SECONDS = 10
# The shortest stretch of a key that must never be echoed (README: nor 8 characters of one).
_KEY_FRAGMENT = 8

_HOST_RE = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")
_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?|\.\d+)\s*$")
# A Host header pattern: a name or IPv4 address, or an IPv6 address in brackets, then an optional
# port or `*` (any port). Compared with the Host header as is, so no scheme, path or user.
_HOST_PATTERN_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::(\d{1,5}|\*))?$")
# A key not filled in yet: the example configuration's `your-access-key` / `your-secret-key` (and the
# older `u$r-your-access-key`) in any case or separator, with or without brackets (`<your access key>`),
# a row of x, * or dots, the README's own `u$r...`, a pair of quotes standing for nothing, or a
# variable left unexpanded (`${user_config.access_key}`, `$LSQ_ACCESS_KEY`).
_PLACEHOLDER_RE = re.compile(
    r"^[<\[{(\"']*(?:u\$r[-_ ]?)?(?:your|my|the)?[-_ ]?(?:leadsquared|lsq)?[-_ ]?(?:access|secret)[-_ ]?key"
    r"(?:[-_ ]?here)?[>\]})\"']*$|^<.*>$|^\$\{.*\}$|^\$[A-Za-z_]\w*$|^(?:x{3,}|\*{3,}|\.{3,}|…+)$"
    r"|^u\$r(?:\.{2,}|…+)$|^(?:''|\"\")$",
    re.IGNORECASE,
)
# LeadSquared's access keys start with `u$r`: in a shell, unquoted or in double quotes, `$r…` is read
# as a variable and `u$r3b8f…` becomes `u`. A value this short that does not start so was cut.
SHELL_CUT_KEY_LENGTH = 16
KEYS_PAGE = "LeadSquared → My Profile → Settings → API and Webhooks"


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable
        self.message = message


@dataclass(frozen=True)
class RateLimit:
    """At most `calls` API calls may start in any window of `seconds`: the configured limit, or the one
    LeadSquared names. `str()` writes it as LSQ_RATE_LIMIT takes it (`25/5`), `words` for a sentence."""

    calls: int
    seconds: float

    def __str__(self) -> str:
        return f"{self.calls}/{self.seconds:g}"

    @property
    def words(self) -> str:
        """`25 calls per 5 seconds` (`1 call per 60 seconds`)."""
        calls = "1 call" if self.calls == 1 else f"{self.calls} calls"
        return f"{calls} per {self.seconds:g} second{'' if self.seconds == 1 else 's'}"


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to know, validated."""

    access_key: str | None
    secret_key: str | None
    base_url: str
    rate_limit: RateLimit
    timeout: float
    max_retries: int
    redis_url: str | None = None
    mcp_token: str | None = None
    # Host headers the HTTP transport accepts; None: the loopback names and the bound host, on its port.
    mcp_allowed_hosts: tuple[str, ...] | None = None
    # Seconds calls in flight may take to finish once the HTTP server is told to stop.
    mcp_grace_seconds: int = DEFAULT_GRACE_SECONDS
    # Key variables that hold a placeholder (see `is_placeholder`): read as not set yet.
    placeholder_keys: tuple[str, ...] = ()
    # Signing in (OAuth 2.1): the authorization server whose access tokens HTTP clients present,
    # the URL clients use for `/mcp` (the resource tokens are issued for), the audiences tokens may
    # carry instead of it, and the scopes every request needs.
    auth_issuer: str | None = None
    public_url: str | None = None
    auth_audiences: tuple[str, ...] = ()
    auth_scopes: tuple[str, ...] = ()

    @property
    def has_keys(self) -> bool:
        return bool(self.access_key and self.secret_key)

    def key_state(self, variable: str) -> str:
        """What is wrong with key variable `variable`, not set, in the words every message uses."""
        return "holds a placeholder, not a key" if variable in self.placeholder_keys else "is not set"

    @property
    def key_problems(self) -> list[str]:
        """Each key variable not set, and why: `LSQ_ACCESS_KEY holds a placeholder, not a key`."""
        return [f"{variable} {self.key_state(variable)}" for variable in self.missing_keys]

    @property
    def access_key_cut_by_the_shell(self) -> bool:
        """Whether the access key looks cut by a shell (`u` from an unquoted `u$r…`)."""
        key = self.access_key
        return key is not None and not key.startswith("u$r") and len(key) < SHELL_CUT_KEY_LENGTH

    @property
    def missing_keys(self) -> list[str]:
        """The key variables that are not set, access key first."""
        missing = []
        if not self.access_key:
            missing.append("LSQ_ACCESS_KEY")
        if not self.secret_key:
            missing.append("LSQ_SECRET_KEY")
        return missing

    @property
    def audiences(self) -> tuple[str, ...]:
        """What a token's `aud` must hold one of: LSQ_MCP_AUTH_AUDIENCE, else LSQ_MCP_PUBLIC_URL."""
        if self.auth_audiences:
            return self.auth_audiences
        return (self.public_url,) if self.public_url else ()

    @property
    def host(self) -> str:
        """The host part of `base_url`, for messages (never carries keys)."""
        return self.base_url.split("://", 1)[1].split("/", 1)[0]

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields replaced (CLI flags override their variables)."""
        return replace(self, **changes)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in any output or log line."""
        return tuple(s for s in (self.access_key, self.secret_key, self.mcp_token) if s)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the `LSQ_*` variables (from `os.environ` unless given)."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        keys = {name: _parse_key(name, get(name)) for name in ("LSQ_ACCESS_KEY", "LSQ_SECRET_KEY")}
        try:
            return cls(
                access_key=keys["LSQ_ACCESS_KEY"],
                secret_key=keys["LSQ_SECRET_KEY"],
                base_url=parse_host(get("LSQ_HOST") or DEFAULT_HOST),
                rate_limit=parse_rate_limit(get("LSQ_RATE_LIMIT") or "25/5"),
                timeout=_parse_positive_float("LSQ_TIMEOUT", get("LSQ_TIMEOUT") or "30"),
                max_retries=_parse_whole("LSQ_MAX_RETRIES", get("LSQ_MAX_RETRIES") or "3", 20, "3"),
                redis_url=_parse_redis_url(get("LSQ_REDIS_URL")),
                mcp_token=get("LSQ_MCP_TOKEN"),
                mcp_allowed_hosts=_parse_optional_allowed_hosts(get("LSQ_MCP_ALLOWED_HOSTS")),
                mcp_grace_seconds=parse_grace(get("LSQ_MCP_GRACE_SECONDS") or str(DEFAULT_GRACE_SECONDS)),
                placeholder_keys=tuple(v for v in keys if is_placeholder(get(v))),
                auth_issuer=_parse_optional_url("LSQ_MCP_AUTH_ISSUER", get("LSQ_MCP_AUTH_ISSUER")),
                public_url=_parse_optional_url("LSQ_MCP_PUBLIC_URL", get("LSQ_MCP_PUBLIC_URL")),
                auth_audiences=_split(get("LSQ_MCP_AUTH_AUDIENCE"), ","),
                auth_scopes=_split(get("LSQ_MCP_AUTH_SCOPES"), " "),
            )
        except ConfigError as exc:
            raise _without_keys(exc, get(exc.variable) or "", keys) from None


def _without_keys(exc: ConfigError, value: str, keys: Mapping[str, str | None]) -> ConfigError:
    """`exc`, unless it would show a key pasted into another variable: then one that does not."""
    for name, key in keys.items():
        if key and _shares_fragment(value, key):
            shown = {repr(v) for v in (value, value.rstrip("/"))}
            message = exc.message
            for text in shown:
                message = message.replace(text, "the value given")
            if _shares_fragment(message, key):  # shown in some other form: keep nothing of it
                message = "is malformed"
            hidden = f"it holds {name}, so it is not shown: a key pasted into the wrong variable?"
            return ConfigError(exc.variable, f"{message} ({hidden})")
    return exc


def _shares_fragment(text: str, key: str) -> bool:
    """Whether `text` holds `key`, or any `_KEY_FRAGMENT` characters of it in a row."""
    size = min(len(key), _KEY_FRAGMENT)
    return any(key[i : i + size] in text for i in range(len(key) - size + 1))


def parse_host(value: str, variable: str = "LSQ_HOST") -> str:
    """Turn `LSQ_HOST` into a base URL: a bare host means https, a URL is used as is, http:// only to
    a loopback address (both keys travel in every request's headers: never in clear text)."""
    value = value.strip().rstrip("/")
    if "://" in value:
        scheme, rest = value.split("://", 1)
        scheme = scheme.lower()
        if scheme not in ("http", "https") or not rest or "@" in rest or "?" in rest:
            raise ConfigError(
                variable,
                f"{value!r} is not a usable base URL; use a host such as api-in21.leadsquared.com "
                "or a URL such as http://127.0.0.1:8765",
            )
        if scheme == "http" and not is_loopback(_url_host(rest)):
            raise ConfigError(
                variable,
                f"{value!r} would send both keys in clear text; use https://{rest} (http:// is for a "
                "loopback address only, such as http://127.0.0.1:8765)",
            )
        return f"{scheme}://{rest}"
    if not _HOST_RE.fullmatch(value):
        raise ConfigError(variable, f"{value!r} is not a host name such as api-in21.leadsquared.com")
    return f"https://{value}"


def _url_host(rest: str) -> str:
    """The host of a URL past its `scheme://` (an IPv6 address without its brackets), "" if none."""
    try:
        return urlsplit(f"//{rest}").hostname or ""
    except ValueError:
        return ""


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine's own (127.0.0.0/8, ::1, localhost): for a server, binding it
    keeps it on this machine; for a URL, what is sent to it never crosses a network."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # any other name may resolve anywhere


def parse_rate_limit(value: str, variable: str = "LSQ_RATE_LIMIT") -> RateLimit:
    """Parse `CALLS/SECONDS` (e.g. `25/5`, `40/0.5`)."""
    match = _RATE_RE.fullmatch(value)
    if match is None:
        raise ConfigError(variable, f"{value!r} is not CALLS/SECONDS, e.g. 25/5 or 10/5")
    calls, seconds = int(match.group(1)), float(match.group(2))
    if calls < 1 or seconds <= 0:
        raise ConfigError(variable, f"{value!r} must allow at least 1 call in more than 0 seconds")
    return RateLimit(calls, seconds)


def _parse_positive_float(variable: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(variable, f"{value!r} is not a number of seconds, e.g. 30") from None
    if not math.isfinite(number) or number <= 0:
        raise ConfigError(variable, f"{value!r} must be a number of seconds greater than 0")
    return number


def parse_grace(value: str, variable: str = "LSQ_MCP_GRACE_SECONDS") -> int:
    """Seconds calls in flight get to finish on SIGTERM: a whole number, 0 (stop at once) to 3600."""
    return _parse_whole(variable, value, 3600, str(DEFAULT_GRACE_SECONDS))


def _parse_whole(variable: str, value: str, most: int, example: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(variable, f"{value!r} is not a whole number, e.g. {example}") from None
    if not 0 <= number <= most:
        raise ConfigError(variable, f"{value!r} must be a whole number from 0 to {most}")
    return number


def _parse_optional_allowed_hosts(value: str | None) -> tuple[str, ...] | None:
    return None if value is None else parse_allowed_hosts(value)


def parse_allowed_hosts(value: str, variable: str = "LSQ_MCP_ALLOWED_HOSTS") -> tuple[str, ...]:
    """Parse comma-separated `host[:port]` patterns (`host:*` for any port), lower-cased."""
    patterns = tuple(part.strip().lower() for part in value.split(",") if part.strip())
    if not patterns:
        raise ConfigError(variable, f"{value!r} names no host; give host[:port] patterns, comma-separated")
    for pattern in patterns:
        match = _HOST_PATTERN_RE.fullmatch(pattern)
        port = match.group(1) if match else None
        if match is None or (port not in (None, "*") and not 1 <= int(port) <= 65535):
            raise ConfigError(
                variable,
                f"{pattern!r} is not a host[:port] pattern such as mcp.example.com, "
                "mcp.example.com:8443 or mcp.example.com:* (any port)",
            )
    return patterns


def _parse_redis_url(value: str | None, variable: str = "LSQ_REDIS_URL") -> str | None:
    """A Redis URL (`redis://`, `rediss://` or `unix://`); its password is never echoed back."""
    if value is None:
        return None
    scheme, _, rest = value.partition("://")
    if scheme not in ("redis", "rediss", "unix") or not rest.strip("/"):
        shown = f"{scheme}://..." if rest else "the value given"
        raise ConfigError(
            variable, f"{shown} is not a Redis URL; use redis://[:PASSWORD@]HOST:PORT/DB (rediss:// for TLS)"
        )
    return value


def _parse_optional_url(variable: str, value: str | None) -> str | None:
    return None if value is None else parse_secure_url(variable, value)


def parse_secure_url(variable: str, value: str) -> str:
    """An absolute https URL, or http to a loopback address (tokens and their keys must not travel
    in clear text), without a query, fragment or user; kept as given (issuers compare exactly)."""
    parts = urlsplit(value)
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or "@" in value
    ):
        raise ConfigError(variable, f"{value!r} is not an https URL such as https://login.example.com/tenant")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(variable, f"{value!r} must use https (http is allowed only on a loopback address)")
    return value


def _split(value: str | None, separator: str) -> tuple[str, ...]:
    """Comma- or space-separated values, each stripped, none empty."""
    return tuple(part.strip() for part in (value or "").split(separator) if part.strip())


def is_placeholder(value: str | None) -> bool:
    """Whether a key's value is a placeholder from an example (`your-access-key`...), not a key."""
    return value is not None and _PLACEHOLDER_RE.match(value) is not None


def _parse_key(variable: str, value: str | None) -> str | None:
    """A key travels in an HTTP header: printable ASCII only. The value is never echoed back.
    A placeholder counts as not set yet (`Settings.placeholder_keys` says which)."""
    if is_placeholder(value):
        return None
    if value is not None and not all("!" <= c <= "~" for c in value):
        raise ConfigError(
            variable,
            "holds characters an HTTP header cannot carry (spaces, accents, quotes pasted "
            "from a document?); copy the key again from LeadSquared",
        )
    return value
