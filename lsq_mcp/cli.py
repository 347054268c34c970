"""The `lsq-mcp` command: serve MCP, print an opportunity's timeline, or run the sandbox.

Exit codes: 0 success, 1 the API call failed, 2 bad usage or configuration.
In stdio mode stdout carries only the MCP protocol; everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import anyio

from lsq_mcp import __version__
from lsq_mcp.errors import NotConfiguredError
from lsq_mcp.logs import configure_logging
from lsq_mcp.settings import ConfigError, Settings, parse_allowed_hosts

logger = logging.getLogger("lsq_mcp")

EXIT_OK, EXIT_API_FAILED, EXIT_USAGE = 0, 1, 2
# Failed tool calls that are the caller's to fix (by their kind, `ERROR_KIND_META`): exit 2, not 1.
USAGE_ERRORS = frozenset({"InvalidArgumentError", "NotConfiguredError"})


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

    serve = commands.add_parser("serve", parents=[demo], help="serve MCP over stdio (default) or HTTP")
    serve.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="HTTP address to bind (default 127.0.0.1); any other than loopback needs LSQ_MCP_TOKEN",
    )
    serve.add_argument("--port", type=_port, default=8000, help="HTTP port (default 8000)")
    serve.add_argument(
        "--allowed-host",
        action="append",
        metavar="HOST[:PORT]",
        help="a Host header to accept (repeatable; HOST:* for any port); overrides LSQ_MCP_ALLOWED_HOSTS "
        "(default: 127.0.0.1, localhost, [::1] and --host, on --port)",
    )

    activities = commands.add_parser(
        "activities",
        parents=[demo],
        help="print an opportunity's activity timeline",
        description="Print the condensed activity timeline the MCP tool returns, e.g. to check credentials.",
    )
    activities.add_argument("opportunity_id", metavar="OPPORTUNITY_ID")
    activities.add_argument("--event-code", type=int, help="only activities of this event code")
    activities.add_argument("--page", type=int, default=1, help="page index, from 1")
    activities.add_argument("--page-size", type=int, default=25, help="activities per page, 1 to 1000")
    activities.add_argument("--oldest-first", action="store_true", help="oldest activities first")
    activities.add_argument("--all", action="store_true", help="every page, up to --max-activities")
    activities.add_argument("--max-activities", type=int, default=500, help="cap for --all (default 500)")
    activities.add_argument("--json", action="store_true", help="print the structured result as JSON")

    commands.add_parser(
        "sandbox",
        parents=[demo],  # accepted like on every command; the sandbox is the demo account already
        help="run the built-in LeadSquared sandbox over HTTP",
        description="Run the LeadSquared look-alike used by --demo, the tests and the benchmarks.",
        epilog=_sample_ids_epilog() if sandbox_help else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).add_argument("--port", type=_port, default=8765, help="port on 127.0.0.1 (default 8765)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(sandbox_help="sandbox" in words).parse_args(words)
    command = args.command or "serve"
    if command == "sandbox":
        return _run_sandbox(args.port)
    demo = getattr(args, "demo", False)
    over_http = command == "serve" and getattr(args, "transport", "stdio") == "http"
    try:
        settings = Settings.from_env()
        if over_http:
            settings = _http_settings(settings, args)
    except ConfigError as exc:
        print(f"lsq-mcp: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.secrets)
    if over_http:
        return _serve_http(settings, demo, args)
    with _account(settings, demo) as settings:
        if command == "activities":
            return anyio.run(_print_activities, settings, args)
        from lsq_mcp.server import create_server

        create_server(settings).run("stdio")
        return EXIT_OK


@contextlib.contextmanager
def _account(settings: Settings, demo: bool) -> Iterator[Settings]:
    """The settings to use: as configured, or pointed at an in-process sandbox with `--demo`."""
    if not demo:
        if not settings.has_keys:
            logger.warning(
                "%s not set: every tool call will fail until they are (or run with --demo)",
                " and ".join(settings.missing_keys),
            )
        yield settings
        return
    from lsq_mcp.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, SandboxServer

    with SandboxServer() as sandbox:
        logger.info("Demo mode: using the built-in sandbox at %s", sandbox.url)
        yield settings.with_overrides(
            access_key=SANDBOX_ACCESS_KEY, secret_key=SANDBOX_SECRET_KEY, base_url=sandbox.url
        )


def _port(value: str) -> int:
    port = int(value) if value.isdigit() else 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number from 1 to 65535")
    return port


def _http_settings(settings: Settings, args: argparse.Namespace) -> Settings:
    """Apply the HTTP flags, and refuse an unsafe set-up before anything starts or binds."""
    from lsq_mcp.http import check_http_settings

    if args.allowed_host:
        hosts = tuple(h for value in args.allowed_host for h in parse_allowed_hosts(value, "--allowed-host"))
        settings = settings.with_overrides(mcp_allowed_hosts=hosts)
    check_http_settings(settings, args.host)
    return settings


def _serve_http(settings: Settings, demo: bool, args: argparse.Namespace) -> int:
    from lsq_mcp import http

    try:  # bound first: a port in use stops start-up before anything else starts
        sock = http.listen(args.host, args.port)
    except ConfigError as exc:
        print(f"lsq-mcp: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with sock, _account(settings, demo) as settings:
        from lsq_mcp.server import create_server

        app = http.create_http_app(settings, create_server(settings), host=args.host, port=args.port)
        logger.info(
            "Serving MCP at http://%s%s (%s; Host headers allowed: %s)",
            http.host_header(args.host, args.port),
            http.MCP_PATH,
            "bearer token required" if settings.mcp_token else "no token: loopback only",
            ", ".join(settings.mcp_allowed_hosts or http.default_allowed_hosts(args.host, args.port)),
        )
        if http.is_wildcard(args.host) and settings.mcp_allowed_hosts is None:
            logger.warning(
                "Listening on every address, but only loopback Host headers are accepted: set "
                "LSQ_MCP_ALLOWED_HOSTS (or --allowed-host) to the names clients use to reach this server"
            )
        http.run(app, sock)
    return EXIT_OK


async def _print_activities(settings: Settings, args: argparse.Namespace) -> int:
    from mcp import Client

    from lsq_mcp.server import ERROR_KIND_META, create_server

    arguments: dict[str, Any] = {
        "opportunity_id": args.opportunity_id,
        "page_index": args.page,
        "page_size": args.page_size,
        "sort_direction": "oldest_first" if args.oldest_first else "newest_first",
    }
    if args.event_code is not None:
        arguments["activity_event_code"] = args.event_code
    if args.all:
        arguments |= {"fetch_all": True, "max_activities": args.max_activities}
    if not settings.has_keys:
        # The tool would say the same; without keys this command is a configuration error.
        print(f"lsq-mcp: {NotConfiguredError(settings.missing_keys)}", file=sys.stderr)
        return EXIT_USAGE
    progress = _ProgressBar() if args.all and sys.stderr.isatty() else None
    async with Client(create_server(settings)) as client:
        result = await client.call_tool(
            "get_opportunity_activities", arguments, progress_callback=progress.update if progress else None
        )
    if progress:
        progress.close()
    text = "".join(block.text for block in result.content if block.type == "text")
    if result.is_error:
        print(f"lsq-mcp: {text}", file=sys.stderr)
        kind = (result.meta or {}).get(ERROR_KIND_META)
        return EXIT_USAGE if kind in USAGE_ERRORS else EXIT_API_FAILED
    if args.json:
        print(json.dumps(result.structured_content, indent=2, ensure_ascii=False))
    else:
        print(text)
    return EXIT_OK


class _ProgressBar:
    """A one-line progress bar on stderr for `activities --all` at a terminal."""

    WIDTH = 30

    async def update(self, progress: float, total: float | None, message: str | None) -> None:
        if not total:
            return
        filled = int(self.WIDTH * min(progress / total, 1.0))
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        sys.stderr.write(f"\r[{bar}] {message or ''}   ")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


def _run_sandbox(port: int) -> int:
    from lsq_mcp.sandbox.server import serve_forever

    configure_logging(())
    try:
        serve_forever(port)
    except OSError as exc:
        print(f"lsq-mcp: --port: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK
