"""Who asked what: one stderr line per tool call, with the caller, the tool, what it was asked about,
the outcome and the time taken; never the token.

The caller is the one the HTTP server let in (`lsq_mcp.http.signin`): the token's `sub`, with its
`email` or `preferred_username` when it has one, or the holder of the static LSQ_MCP_TOKEN; a
client of the stdio server, or of an HTTP server on loopback without a token, is a local client.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from mcp.server.auth.middleware.auth_context import get_access_token

logger = logging.getLogger(__name__)

# Who holds the static token, as the log names them.
STATIC_TOKEN_HOLDER = "the LSQ_MCP_TOKEN holder"  # noqa: S105 - a description, not a token
# The arguments that say what a call is about, the first one given is logged.
SUBJECT_ARGUMENTS = ("opportunity_id", "query", "email", "lead_id")
# Arguments come from a model: each is shown quoted and escaped (one line), and cut.
MAX_SHOWN = 80


class CallRecord:
    """What a call's log line says of its outcome: `ok`, `error <kind>`; `crashed` unless told."""

    outcome = "crashed"


@contextmanager
def logged_call(tool: str, arguments: dict[str, Any]) -> Iterator[CallRecord]:
    """Log the call made in this block once it ends, however it ends."""
    record = CallRecord()
    started = time.perf_counter()
    try:
        yield record
    except anyio.get_cancelled_exc_class():
        record.outcome = "cancelled"
        raise
    finally:
        elapsed = (time.perf_counter() - started) * 1000
        logger.info(
            "call %s%s by %s: %s in %.0f ms", tool, about(arguments), caller(), record.outcome, elapsed
        )


def caller() -> str:
    """Who made the call being served, as the log names them."""
    token = get_access_token()
    if token is None:
        return "a local client"
    if token.subject is None:
        return (
            token.client_id if token.client_id == STATIC_TOKEN_HOLDER else f"client {quoted(token.client_id)}"
        )
    named = [v for k, v in (token.claims or {}).items() if k in ("email", "preferred_username")]
    return quoted(token.subject) + (f" ({quoted(named[0])})" if named else "")


def about(arguments: dict[str, Any]) -> str:
    """` opportunity_id='…'`: the first argument that says what the call is about, or nothing."""
    for name in SUBJECT_ARGUMENTS:
        if name in arguments:
            return f" {name}={quoted(arguments[name])}"
    return ""


def quoted(value: Any) -> str:
    """`value` on one line, quoted with its control characters escaped, at most MAX_SHOWN characters."""
    text = repr(str(value))
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"
