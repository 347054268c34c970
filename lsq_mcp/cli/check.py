"""`lsq-mcp check`: the set-up checked at once, one line per item, without asking a model anything.

Items, in order: the configuration (every variable), the host reached, the keys accepted, the
region, the rate limit, Redis (when `LSQ_REDIS_URL` is set), the HTTP token (when `LSQ_MCP_TOKEN`
is set), signing in (when `LSQ_MCP_AUTH_ISSUER` is set: the issuer's metadata and keys). Exit 0
when all pass, 1 when LeadSquared, Redis or the issuer refuses or cannot be reached, 2 for
configuration. No line shows a key: only variable names, the host, and what LeadSquared or Redis
said, which the errors have scrubbed already (and every line is scrubbed again before printing).
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

import anyio

from lsq_mcp.api.connection import Connection
from lsq_mcp.api.endpoints import get_activity_types, get_user_by_access_key
from lsq_mcp.cli.account import account
from lsq_mcp.cli.exit_codes import EXIT_API_FAILED, EXIT_OK, EXIT_USAGE
from lsq_mcp.cli.tool_commands import Commands
from lsq_mcp.errors import (
    AuthenticationError,
    LeadSquaredError,
    RedisUnavailableError,
    UnreachableError,
)
from lsq_mcp.logs import configure_logging
from lsq_mcp.redaction import redact
from lsq_mcp.settings import KEYS_PAGE, ConfigError, Settings

# The variables `Settings.from_env` reads, named in the configuration line.
VARIABLES = (
    "LSQ_ACCESS_KEY",
    "LSQ_SECRET_KEY",
    "LSQ_HOST",
    "LSQ_RATE_LIMIT",
    "LSQ_TIMEOUT",
    "LSQ_MAX_RETRIES",
    "LSQ_REDIS_URL",
    "LSQ_MCP_TOKEN",
    "LSQ_MCP_ALLOWED_HOSTS",
    "LSQ_MCP_AUTH_ISSUER",
    "LSQ_MCP_PUBLIC_URL",
    "LSQ_MCP_AUTH_AUDIENCE",
    "LSQ_MCP_AUTH_SCOPES",
)
# What LeadSquared documents as the most generous plan: a higher LSQ_RATE_LIMIT will draw 429s.
DOCUMENTED_CALLS_PER_SECOND = 25 / 5
# The smallest round trip Redis can make through the scripts the limiter uses.
PING = "return redis.call('PING')"


@dataclass(frozen=True)
class Line:
    """One item's verdict: `mark` is ok, FAIL or skip; a FAIL says the fix and its exit code."""

    mark: str
    item: str
    text: str
    exit_code: int = EXIT_OK

    def __str__(self) -> str:
        return f"{self.mark:<4}  {self.item:<13}  {self.text}"


def passed(item: str, text: str) -> Line:
    return Line("ok", item, text)


def failed(item: str, text: str, exit_code: int) -> Line:
    return Line("FAIL", item, text, exit_code)


def skipped(item: str, text: str) -> Line:
    return Line("skip", item, text)


def add_check_command(commands: Commands, parents: list[argparse.ArgumentParser]) -> None:
    commands.add_parser(
        "check",
        parents=parents,
        help="check the set-up: configuration, host, keys, region, rate limit, Redis, token, signing in",
        description="Check the set-up without asking a model anything: one line per item. Exit 0 when "
        "all pass, 1 when LeadSquared, Redis or the issuer refuses or cannot be reached, 2 for "
        "configuration.",
    )


def run_check(demo: bool, env: Mapping[str, str] | None = None) -> int:
    """Check everything, print one line per item and a verdict, and return the exit code."""
    settings, lines = read_configuration(os.environ if env is None else env, demo)
    secrets = settings.secrets if settings else ()
    # Each line says what went wrong and the fix: log lines would only repeat them.
    configure_logging(secrets, level=logging.CRITICAL)
    if settings is None:
        lines.append(skipped("the rest", "fix the configuration first, then run lsq-mcp check again"))
    else:
        lines += anyio.run(_check_services, settings, demo)
    for line in lines:
        print(redact(str(line), secrets))
    failures = [line for line in lines if line.mark == "FAIL"]
    if not failures:
        print(f"All {sum(line.mark == 'ok' for line in lines)} checks passed.")
        return EXIT_OK
    print(f"{len(failures)} failed: each FAIL line says what to change.")
    return max(line.exit_code for line in failures)


def read_configuration(env: Mapping[str, str], demo: bool) -> tuple[Settings | None, list[Line]]:
    """The settings, or None and a FAIL line per variable that is malformed or (without --demo) missing.

    Settings are read as the server reads them; each malformed variable is reported, then left out so
    that the next one is found too."""
    env = dict(env)
    problems: list[Line] = []
    while True:
        try:
            settings = Settings.from_env(env)
            break
        except ConfigError as exc:
            problems.append(failed("configuration", str(exc), EXIT_USAGE))
            if env.pop(exc.variable, None) is None:
                return None, problems
    reported = {line.text.split(":", 1)[0] for line in problems}
    if not demo:
        problems += [
            failed("configuration", _key_not_set(variable, settings), EXIT_USAGE)
            for variable in settings.missing_keys
            if variable not in reported
        ]
        if settings.access_key_cut_by_the_shell:
            problems.append(failed("configuration", SHELL_CUT, EXIT_USAGE))
    if problems:
        return None, problems
    given = [name for name in VARIABLES if env.get(name, "").strip()]
    text = (
        f"{', '.join(given)} valid; the rest at their defaults" if given else "every variable at its default"
    )
    if demo:
        text += "; --demo: the sandbox's keys and host"
    return settings, [passed("configuration", text)]


def _key_not_set(variable: str, settings: Settings) -> str:
    state = settings.key_state(variable)
    return f"{variable} {state}: paste your key from {KEYS_PAGE} (or try the sandbox: lsq-mcp check --demo)"


SHELL_CUT = (
    "LSQ_ACCESS_KEY does not look like an access key: LeadSquared's start with u$r and are longer. A "
    "shell reads an unquoted (or double-quoted) u$r… as u followed by the variable $r…: put the key in "
    "single quotes, LSQ_ACCESS_KEY='u$r…'"
)


async def _check_services(settings: Settings, demo: bool) -> list[Line]:
    with account(settings, demo) as used:
        lines = await _check_leadsquared(used)
    return [
        *lines,
        _check_rate_limit(settings),
        await _check_redis(settings),
        _check_token(settings),
        await _check_signin(settings),
    ]


async def _check_leadsquared(settings: Settings) -> list[Line]:
    """Host, keys, region: the keys by the call that works on any region's host, then the region by
    one that only the account's own host serves. One try each, so a failure shows at once."""
    host = settings.host
    async with Connection(settings.with_overrides(max_retries=0)) as conn:
        started = time.perf_counter()
        try:
            user = await get_user_by_access_key(conn)
        except UnreachableError as exc:
            return [
                failed("host", str(exc), EXIT_API_FAILED),
                skipped("keys", "needs the host"),
                skipped("region", "needs the host"),
            ]
        except LeadSquaredError as exc:
            reached = passed("host", f"{host} answered in {time.perf_counter() - started:.2f} s")
            return [reached, failed("keys", str(exc), EXIT_API_FAILED), skipped("region", "needs the keys")]
        reached = passed("host", f"{host} answered in {time.perf_counter() - started:.2f} s")
        keys = passed("keys", f"accepted (user {user})" if user else "accepted")
        try:
            types = await get_activity_types(conn)
        except AuthenticationError as exc:
            if exc.right_host is None:
                return [reached, keys, failed("region", str(exc), EXIT_API_FAILED)]
            fix = f"the account lives on {exc.right_host}, not {host}: set LSQ_HOST={exc.right_host}"
            return [reached, keys, failed("region", fix, EXIT_API_FAILED)]
        except LeadSquaredError as exc:
            return [reached, keys, failed("region", str(exc), EXIT_API_FAILED)]
    return [reached, keys, passed("region", f"{host} serves this account ({len(types)} activity types)")]


def _check_rate_limit(settings: Settings) -> Line:
    limit = settings.rate_limit
    text = (
        f"{limit.words} (LSQ_RATE_LIMIT); a call is tried up to "
        f"{settings.max_retries + 1} times, {settings.timeout:g} s each (LSQ_MAX_RETRIES, LSQ_TIMEOUT)"
    )
    if limit.calls / limit.seconds > DOCUMENTED_CALLS_PER_SECOND:
        text += "; more than the 25 per 5 s LeadSquared documents: its 429s will teach the real limit"
    return passed("rate limit", text)


async def _check_redis(settings: Settings) -> Line:
    if settings.redis_url is None:
        return skipped("redis", "LSQ_REDIS_URL not set: each process paces itself")
    from lsq_mcp.redis_store import RedisStore

    store = RedisStore.open(settings)
    started = time.perf_counter()
    try:
        await store.run(PING, [], [])
    except RedisUnavailableError as exc:
        return failed("redis", str(exc), EXIT_API_FAILED)
    finally:
        await store.aclose()
    elapsed_ms = (time.perf_counter() - started) * 1000
    return passed("redis", f"{store.address} answered in {elapsed_ms:.0f} ms: the rate limit is shared")


def _check_token(settings: Settings) -> Line:
    token = settings.mcp_token
    if token is None and settings.auth_issuer is not None:
        return skipped("token", f"clients sign in with {settings.auth_issuer}; LSQ_MCP_TOKEN is optional")
    if token is None:
        return skipped("token", "LSQ_MCP_TOKEN not set: serve --transport http takes loopback clients only")
    from lsq_mcp.http.security import check_token_form, token_bits, token_weakness

    try:
        check_token_form(token)
    except ConfigError as exc:
        return failed("token", str(exc), EXIT_USAGE)
    weakness = token_weakness(token)
    if weakness is not None:
        return failed(
            "token",
            f"LSQ_MCP_TOKEN {weakness}: whoever guesses it reads your LeadSquared account",
            EXIT_USAGE,
        )
    return passed("token", f"LSQ_MCP_TOKEN strong enough (about {token_bits(token)} bits)")


async def _check_signin(settings: Settings) -> Line:
    """The issuer's metadata found and its key set holding keys, as the HTTP server will read them."""
    if settings.auth_issuer is None:
        return skipped(
            "signing in", "LSQ_MCP_AUTH_ISSUER not set: HTTP clients sign in with no identity provider"
        )
    from lsq_mcp.http.issuer import Issuer, IssuerUnreachableError
    from lsq_mcp.http.security import check_signin_settings

    try:
        check_signin_settings(settings)
    except ConfigError as exc:
        return failed("signing in", str(exc), EXIT_USAGE)
    try:
        keys = await Issuer(settings.auth_issuer, timeout=settings.timeout).fetch()
    except IssuerUnreachableError as exc:
        return failed("signing in", f"{exc}; check LSQ_MCP_AUTH_ISSUER", EXIT_API_FAILED)
    if not keys.keys:
        return failed("signing in", f"{keys.jwks_uri} holds no public signing key", EXIT_API_FAILED)
    scopes = f", scopes {' '.join(settings.auth_scopes)}" if settings.auth_scopes else ""
    return passed(
        "signing in",
        f"metadata found at {keys.metadata_url}; {keys.jwks_uri} holds {len(keys.keys)} key(s); "
        f"tokens for {', '.join(settings.audiences)}{scopes}",
    )
