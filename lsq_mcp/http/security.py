"""The start-up checks of an HTTP server: who can reach it, and whether its token can be guessed."""

from __future__ import annotations

import ipaddress
import itertools
import math
import re
from urllib.parse import urlsplit

from lsq_mcp.settings import ConfigError, Settings, is_loopback

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
# What a client may send as a token: printable ASCII without spaces, the most a header carries intact.
_TOKEN_RE = re.compile(r"^[\x21-\x7e]+$")
# A token guarding a server other machines can reach must not be guessable.
MIN_TOKEN_LENGTH = 16
MIN_TOKEN_DISTINCT = 8
MIN_TOKEN_BITS = 64


def is_wildcard(host: str) -> bool:
    """Whether binding `host` listens on every address (0.0.0.0, ::)."""
    name = host.strip().strip("[]")
    if not name:
        return True
    try:
        return ipaddress.ip_address(name).is_unspecified
    except ValueError:
        return False


def host_header(host: str, port: int) -> str:
    """`host` as it appears in a Host header for `port` (IPv6 addresses in brackets)."""
    name = host.strip().strip("[]").lower()
    return f"[{name}]:{port}" if ":" in name else f"{name}:{port}"


def default_allowed_hosts(host: str, port: int, public_url: str | None = None) -> tuple[str, ...]:
    """The Host headers accepted unless configured: the loopback names, `host` unless a wildcard, and
    the host of LSQ_MCP_PUBLIC_URL (what clients that sign in use)."""
    names = [f"{name}:{port}" for name in LOOPBACK_NAMES]
    if not is_wildcard(host):
        names.append(host_header(host, port))
    if public_url is not None:
        names.append(urlsplit(public_url).netloc.lower())
    return tuple(dict.fromkeys(names))


def check_http_settings(settings: Settings, host: str) -> None:
    """Refuse, before anything binds, a server reachable from the network that anyone could use."""
    token = settings.mcp_token
    if token is not None:
        check_token_form(token)
    check_signin_settings(settings)
    if is_loopback(host):
        return
    if token is None and settings.auth_issuer is None:
        raise ConfigError(
            "LSQ_MCP_TOKEN",
            f"must be set to serve HTTP on {host!r}, which other machines can reach; "
            "set LSQ_MCP_TOKEN to a long random value (e.g. from openssl rand -hex 32), set "
            "LSQ_MCP_AUTH_ISSUER for signing in, or bind 127.0.0.1",
        )
    if token is not None and (weakness := token_weakness(token)) is not None:
        raise ConfigError("LSQ_MCP_TOKEN", f"{weakness} to guard {host!r}, which other machines can reach")


def check_token_form(token: str) -> None:
    """What a header carries intact; the value itself is never shown: it is a secret."""
    if not _TOKEN_RE.fullmatch(token):
        raise ConfigError(
            "LSQ_MCP_TOKEN", "must be printable ASCII without spaces (e.g. from openssl rand -hex 32)"
        )


def check_signin_settings(settings: Settings) -> None:
    """Signing in needs the issuer and the public URL together; its other settings need the issuer."""
    if settings.auth_issuer is not None and settings.public_url is None:
        raise ConfigError(
            "LSQ_MCP_PUBLIC_URL",
            "must be set with LSQ_MCP_AUTH_ISSUER: the URL clients use for the MCP endpoint, e.g. "
            "https://lsq.example.com/mcp (tokens must be issued for it)",
        )
    if settings.auth_issuer is None:
        for variable, value in (
            ("LSQ_MCP_AUTH_AUDIENCE", settings.auth_audiences),
            ("LSQ_MCP_AUTH_SCOPES", settings.auth_scopes),
        ):
            if value:
                raise ConfigError(
                    variable, "is set, but signing in is off: set LSQ_MCP_AUTH_ISSUER too, or unset it"
                )


def token_weakness(token: str) -> str | None:
    """Why `token` is too easy to guess to guard a server other machines can reach, or None."""
    bits = token_bits(token)
    if len(token) >= MIN_TOKEN_LENGTH and len(set(token)) >= MIN_TOKEN_DISTINCT and bits >= MIN_TOKEN_BITS:
        return None
    return (
        f"is weak (about {bits} bits, {len(set(token))} distinct characters; use at least "
        f"{MIN_TOKEN_LENGTH} random characters, e.g. from openssl rand -hex 32)"
    )


def token_bits(token: str) -> int:
    """A generous estimate of a token's randomness: the bits of the smallest alphabet its characters
    come from (hex, then letters and digits, then printable ASCII) for each character that cannot be
    guessed from the ones before it. A token that repeats itself counts once (`Passw0rd!Passw0rd!`
    as `Passw0rd!`), and a run that goes on a step at a time (`0123`, `abcd`, `zzzz`) as its first
    two characters."""
    if all(c in "0123456789abcdef" for c in token) or all(c in "0123456789ABCDEF" for c in token):
        alphabet = 16
    elif token.isalnum():
        alphabet = 62
    else:
        alphabet = 94
    unit = _repeated_unit(token)
    steps = [ord(b) - ord(a) for a, b in itertools.pairwise(unit)]
    guessable = sum(1 for before, step in itertools.pairwise(steps) if step == before and abs(step) <= 1)
    return int((len(unit) - guessable) * math.log2(alphabet))


def _repeated_unit(token: str) -> str:
    """The shortest piece that `token` is made of, repeated (the token itself when it is none)."""
    for size in range(1, len(token) // 2 + 1):
        if len(token) % size == 0 and token[:size] * (len(token) // size) == token:
            return token[:size]
    return token
