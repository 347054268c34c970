"""The `lsq-mcp` command: serve MCP, print what a tool returns, or run the sandbox.

Exit codes: 0 success, 1 the API call failed, 2 bad usage or configuration.
In stdio mode stdout carries only the MCP protocol; everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone

import anyio

from lsq_mcp import __version__
from lsq_mcp.cli.account import account
from lsq_mcp.cli.check import add_check_command, run_check
from lsq_mcp.cli.exit_codes import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from lsq_mcp.cli.serve import add_serve_command, http_settings, port_number, serve_http, serve_stdio
from lsq_mcp.cli.tool_commands import (
    add_tool_commands,
    print_tool_result,
)
from lsq_mcp.errors import NotConfiguredError
from lsq_mcp.logs import configure_logging
from lsq_mcp.settings import ConfigError, Settings


def _sample_ids_epilog() -> str:
    from lsq_mcp.sandbox import SAMPLE_OPPORTUNITIES

    lines = ["sample opportunity ids (use with --demo):"]
    lines += [f"  {oid}  {about}" for oid, about in SAMPLE_OPPORTUNITIES]
    return "\n".join(lines)


def build_parser(*, sandbox_help: bool = False) -> argparse.ArgumentParser:
    """The parser; `sandbox_help` adds the sample ids to `sandbox --help` (it loads the sandbox's data,
    which serving MCP should not pay for at start-up)."""
    # --demo is accepted before or after the command; SUPPRESS keeps one from overwriting the other.
    demo = argparse.ArgumentParser(add_help=False)
    demo.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,
        help="use the built-in sandbox account instead of a real one (no keys needed)",
    )
    parser = argparse.ArgumentParser(
        prog="lsq-mcp",
        description="MCP server for LeadSquared opportunity activity history. "
        "With no command, serves MCP over stdio.",
        parents=[demo],
    )
    parser.add_argument("--version", action="version", version=f"lsq-mcp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_serve_command(commands, [demo])
    add_tool_commands(commands, [demo])
    add_check_command(commands, [demo])
    commands.add_parser(
        "sandbox",
        parents=[demo],  # accepted like on every command; the sandbox is the demo account already
        help="run the built-in LeadSquared sandbox over HTTP",
        description="Run the LeadSquared look-alike used by --demo, the tests and the benchmarks.",
        epilog=_sample_ids_epilog() if sandbox_help else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).add_argument("--port", type=port_number, default=8765, help="port on 127.0.0.1 (default 8765)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(sandbox_help="sandbox" in words).parse_args(words)
    command = args.command or "serve"
    if command == "sandbox":
        return _run_sandbox(args.port)
    demo = getattr(args, "demo", False)
    if command == "check":
        return run_check(demo)
    over_http = command == "serve" and getattr(args, "transport", "stdio") == "http"
    try:
        settings = Settings.from_env()
        if over_http:
            settings = http_settings(settings, args)
    except ConfigError as exc:
        print(f"lsq-mcp: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if command == "serve":
        configure_logging(settings.secrets)
        return serve_http(settings, demo, args) if over_http else serve_stdio(settings, demo)
    # A command's answer says what went wrong itself: its log lines would only say it twice.
    configure_logging(settings.secrets, logging.WARNING)
    if not (demo or settings.has_keys):
        # Said once, before the account's warning would say it too.
        print(f"lsq-mcp: {NotConfiguredError(settings.key_problems)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        with account(settings, demo) as settings:
            return anyio.run(print_tool_result, settings, args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED  # Ctrl-C: the person knows why; no traceback
    except BrokenPipeError:
        # The reader stopped reading (`| head`): what is left unprinted is not wanted, and
        # flushing it again at exit would raise once more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _run_sandbox(port: int) -> int:
    from lsq_mcp.sandbox.server import serve_forever
    from lsq_mcp.sandbox.today import as_of

    configure_logging(())
    try:
        serve_forever(port, catalog=as_of(datetime.now(timezone.utc)))
    except OSError as exc:
        print(f"lsq-mcp: --port: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK
