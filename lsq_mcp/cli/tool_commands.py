"""The commands that print what a tool returns (`activities`, ...), for a person at a terminal.

Each calls its tool through an in-process MCP client, so a person sees exactly what a model
reads; the exit code comes from the failed call's kind of error, never from its text.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, TypeAlias

from lsq_mcp.errors import NotConfiguredError
from lsq_mcp.settings import Settings

EXIT_OK, EXIT_API_FAILED, EXIT_USAGE = 0, 1, 2
# Failed tool calls that are the caller's to fix (by their kind, `ERROR_KIND_META`): exit 2, not 1.
USAGE_ERRORS = frozenset({"InvalidArgumentError", "NotConfiguredError"})
# What `ArgumentParser.add_subparsers()` returns: each command module adds its commands to it.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_activities_command(commands: Commands, parents: list[argparse.ArgumentParser]) -> None:
    activities = commands.add_parser(
        "activities",
        parents=parents,
        help="print an opportunity's activity timeline",
        description="Print the condensed activity timeline the MCP tool returns, e.g. to check credentials.",
    )
    activities.add_argument("opportunity_id", metavar="OPPORTUNITY_ID")
    activities.add_argument("--event-code", type=int, help="only activities of this event code")
    activities.add_argument("--page", type=int, default=1, help="page index, from 1")
    activities.add_argument("--page-size", type=int, default=25, help="activities per page, 1 to 1000")
    activities.add_argument("--oldest-first", action="store_true", help="oldest activities first")
    activities.add_argument("--all", action="store_true", help="every page, up to --max-activities")
    activities.add_argument(
        "--max-activities", type=int, default=500, help="cap for --all and a window (default 500)"
    )
    activities.add_argument("--since", metavar="D", help="only activities created at or after D (ISO 8601)")
    activities.add_argument(
        "--until", metavar="D", help="only activities created at or before D (a date: that day)"
    )
    add_json_flag(activities)
    activities.set_defaults(tool="get_opportunity_activities", arguments=activities_arguments)


def add_tasks_command(commands: Commands, parents: list[argparse.ArgumentParser]) -> None:
    tasks = commands.add_parser(
        "tasks",
        parents=parents,
        help="print an opportunity's tasks, open and overdue first",
        description="Print the opportunity's tasks as the MCP tool get_opportunity_tasks returns them.",
    )
    tasks.add_argument("opportunity_id", metavar="OPPORTUNITY_ID")
    add_json_flag(tasks)
    tasks.set_defaults(
        tool="get_opportunity_tasks", arguments=lambda args: {"opportunity_id": args.opportunity_id}
    )


def add_summary_command(commands: Commands, parents: list[argparse.ArgumentParser]) -> None:
    summary = commands.add_parser(
        "summary",
        parents=parents,
        help="print the state of a deal: details, activity counts, last activity, tasks",
        description="Print the digest the MCP tool summarize_opportunity returns.",
    )
    summary.add_argument("opportunity_id", metavar="OPPORTUNITY_ID")
    summary.add_argument("--since", help="count only activities created at or after this date (ISO 8601)")
    summary.add_argument("--until", help="count only activities created at or before this date (ISO 8601)")
    add_json_flag(summary)
    summary.set_defaults(tool="summarize_opportunity", arguments=summary_arguments)


def summary_arguments(args: argparse.Namespace) -> dict[str, Any]:
    arguments: dict[str, Any] = {"opportunity_id": args.opportunity_id}
    for name in ("since", "until"):
        if getattr(args, name) is not None:
            arguments[name] = getattr(args, name)
    return arguments


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the structured result as JSON")


def activities_arguments(args: argparse.Namespace) -> dict[str, Any]:
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
    for edge in ("since", "until"):
        if getattr(args, edge) is not None:
            arguments |= {edge: getattr(args, edge), "max_activities": args.max_activities}
    return arguments


async def print_tool_result(settings: Settings, args: argparse.Namespace) -> int:
    """Call `args.tool` with the arguments `args.arguments(args)` makes; print its text (or `--json`)."""
    from mcp import Client

    from lsq_mcp.server import ERROR_KIND_META, create_server

    make_arguments: Callable[[argparse.Namespace], dict[str, Any]] = args.arguments
    if not settings.has_keys:
        # The tool would say the same; without keys this command is a configuration error.
        print(f"lsq-mcp: {NotConfiguredError(settings.missing_keys)}", file=sys.stderr)
        return EXIT_USAGE
    arguments = make_arguments(args)
    server = create_server(settings)
    # A bad argument is told before the server starts: starting it looks activity types up.
    if invalid := await server.check_arguments(args.tool, arguments):
        print(f"lsq-mcp: {invalid}", file=sys.stderr)
        return EXIT_USAGE
    progress = _ProgressBar() if sys.stderr.isatty() else None
    async with Client(server) as client:
        result = await client.call_tool(
            args.tool, arguments, progress_callback=progress.update if progress else None
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
    """A one-line progress bar on stderr while a tool reports progress, at a terminal."""

    WIDTH = 30

    def __init__(self) -> None:
        self._shown = False

    async def update(self, progress: float, total: float | None, message: str | None) -> None:
        if not total:
            return
        filled = int(self.WIDTH * min(progress / total, 1.0))
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        sys.stderr.write(f"\r[{bar}] {message or ''}   ")
        sys.stderr.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            sys.stderr.write("\n")
