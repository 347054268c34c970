"""`lsq-mcp serve`: MCP over stdio (the default) or Streamable HTTP, on a real or the demo account."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from types import FrameType

from lsq_mcp.cli.account import account
from lsq_mcp.cli.exit_codes import EXIT_OK, EXIT_USAGE
from lsq_mcp.cli.tool_commands import Commands
from lsq_mcp.settings import ConfigError, Settings, parse_allowed_hosts, parse_grace

logger = logging.getLogger("lsq_mcp")


def add_serve_command(commands: Commands, parents: list[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", parents=parents, help="serve MCP over stdio (default) or HTTP")
    serve.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="HTTP address to bind (default 127.0.0.1); any other than loopback needs LSQ_MCP_TOKEN "
        "or LSQ_MCP_AUTH_ISSUER",
    )
    serve.add_argument("--port", type=port_number, default=8000, help="HTTP port (default 8000)")
    serve.add_argument(
        "--allowed-host",
        action="append",
        metavar="HOST[:PORT]",
        help="a Host header to accept (repeatable; HOST:* for any port); overrides LSQ_MCP_ALLOWED_HOSTS "
        "(default: 127.0.0.1, localhost, [::1] and --host, on --port, and LSQ_MCP_PUBLIC_URL's host)",
    )
    serve.add_argument(
        "--grace",
        metavar="SECONDS",
        help="on SIGTERM, how long HTTP calls in flight may take to finish; overrides LSQ_MCP_GRACE_SECONDS "
        "(default 10)",
    )


def port_number(value: str) -> int:
    port = int(value) if value.isdigit() else 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number from 1 to 65535")
    return port


def serve_stdio(settings: Settings, demo: bool) -> int:
    from lsq_mcp.server import create_server

    # The SDK reads stdin in a worker thread that no signal interrupts: without this, SIGINT and
    # SIGTERM would wait until the client next writes. Nothing is lost by leaving at once: every
    # call is a read, and a call's place in a shared rate limit expires by itself.
    signal.signal(signal.SIGINT, _leave_now)
    signal.signal(signal.SIGTERM, _leave_now)
    if sys.stdin.isatty():
        print(_at_a_terminal(demo), file=sys.stderr)
    with account(settings, demo) as settings:
        create_server(settings).run("stdio")
    return EXIT_OK


def _at_a_terminal(demo: bool) -> str:
    """Typed at a terminal, the stdio server shows nothing and seems to hang: what it waits for, and
    what to do instead."""
    if demo:
        from lsq_mcp.sandbox import SAMPLE_OPPORTUNITIES

        example = f"lsq-mcp summary --demo {SAMPLE_OPPORTUNITIES[0][0]}"
    else:
        example = "lsq-mcp summary OPPORTUNITY_ID"
    return (
        "lsq-mcp: serving MCP over stdio: waiting for an MCP client (Claude Desktop, an agent...) to "
        "start it and talk on stdin; typing here does nothing useful. Stop it with Ctrl-C. To ask a "
        f"question from the terminal instead, run a command, e.g. {example} (lsq-mcp --help lists them)."
    )


def _leave_now(_signal: int, _frame: FrameType | None) -> None:
    sys.stderr.flush()
    os._exit(EXIT_OK)


def http_settings(settings: Settings, args: argparse.Namespace) -> Settings:
    """Apply the HTTP flags, and refuse an unsafe set-up before anything starts or binds."""
    from lsq_mcp.http.security import check_http_settings

    if args.allowed_host:
        hosts = tuple(h for value in args.allowed_host for h in parse_allowed_hosts(value, "--allowed-host"))
        settings = settings.with_overrides(mcp_allowed_hosts=hosts)
    if args.grace is not None:
        settings = settings.with_overrides(mcp_grace_seconds=parse_grace(args.grace, "--grace"))
    check_http_settings(settings, args.host)
    return settings


def serve_http(settings: Settings, demo: bool, args: argparse.Namespace) -> int:
    from lsq_mcp.http import app as http_app
    from lsq_mcp.http import security, serving
    from lsq_mcp.http.middleware import MCP_PATH

    try:  # bound first: a port in use stops start-up before anything else starts
        sock = http_app.listen(args.host, args.port)
    except ConfigError as exc:
        print(f"lsq-mcp: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with sock, account(settings, demo) as settings:
        from lsq_mcp.server import create_server

        app = http_app.create_http_app(settings, create_server(settings), host=args.host, port=args.port)
        logger.info(
            "Serving MCP at http://%s%s (%s; Host headers allowed: %s)",
            security.host_header(args.host, args.port),
            MCP_PATH,
            _who_may_call(settings),
            ", ".join(
                settings.mcp_allowed_hosts
                or security.default_allowed_hosts(args.host, args.port, settings.public_url)
            ),
        )
        # With a public URL its host is allowed too: the warning would then be false.
        if security.is_wildcard(args.host) and settings.mcp_allowed_hosts is None and not settings.public_url:
            logger.warning(
                "Listening on every address, but only loopback Host headers are accepted: set "
                "LSQ_MCP_ALLOWED_HOSTS (or --allowed-host) to the names clients use to reach this server"
            )
        serving.run(app, sock, grace=settings.mcp_grace_seconds)
    return EXIT_OK


def _who_may_call(settings: Settings) -> str:
    if settings.auth_issuer is not None:
        static = " or the LSQ_MCP_TOKEN" if settings.mcp_token else ""
        return f"signing in with {settings.auth_issuer} for {settings.public_url}{static}"
    return "bearer token required" if settings.mcp_token else "no token: loopback only"
