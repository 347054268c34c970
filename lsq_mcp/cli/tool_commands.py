"""The commands that print what a tool returns (`activities`, ...), for a person at a terminal.

Each calls its tool through an in-process MCP client, so a person sees what a model reads, in
the command line's words (`PERSON`: `--page 2` where a model reads `page_index=2`) and whole (a
model's text is cut to its token budget); the exit code comes from the failed call's kind of
error, never from its text.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, TypeAlias

from lsq_mcp.cli.exit_codes import EXIT_API_FAILED, EXIT_OK, EXIT_USAGE
from lsq_mcp.errors import NotConfiguredError
from lsq_mcp.reader import Reader
from lsq_mcp.settings import Settings

# What `ArgumentParser.add_subparsers()` returns: each command module adds its commands to it.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


FIND_TOOL = "find_opportunities"

# The tools' arguments and the commands and flags that set them: how the texts address a person.
PERSON = Reader(
    person=True,
    flags={
        "opportunity_id": "OPPORTUNITY_ID",
        "activity_event_code": "--event-code",
        "page_index": "--page",
        "page_size": "--page-size",
        "fetch_all": "--all",
        "max_activities": "--max-activities",
        "since": "--since",
        "until": "--until",
        "query": "QUERY",
        "opportunity_type": "--type",
    },
    commands={
        "get_opportunity_activities": "lsq-mcp activities",
        "get_opportunity_tasks": "lsq-mcp tasks",
        "summarize_opportunity": "lsq-mcp summary",
        FIND_TOOL: "lsq-mcp find",
    },
)


class UsageError(ValueError):
    """Options that parse but make no sense together: the message says which, and what to do."""


def tool_command(
    commands: Commands,
    parents: list[argparse.ArgumentParser],
    name: str,
    *,
    tool: str,
    arguments: Callable[[argparse.Namespace], dict[str, Any]],
    about: str,
    window: bool = False,
) -> argparse.ArgumentParser:
    """A command that prints what `tool` returns for one opportunity (`--json`: its structured
    content), with `--since`/`--until` when the tool reads a `window`."""
    parser = commands.add_parser(name, parents=parents, help=about, description=f"{about} ({tool}).")
    if tool != FIND_TOOL:
        parser.add_argument("opportunity_id", metavar="OPPORTUNITY_ID")
    if window:
        parser.add_argument("--since", metavar="D", help="only activities created at or after D (ISO 8601)")
        parser.add_argument(
            "--until", metavar="D", help="only activities created at or before D (a date: that whole day)"
        )
    parser.add_argument("--json", action="store_true", help="print the structured result as JSON")
    parser.set_defaults(tool=tool, arguments=arguments)
    return parser


def add_tool_commands(commands: Commands, parents: list[argparse.ArgumentParser]) -> None:
    find = tool_command(
        commands,
        parents,
        "find",
        tool=FIND_TOOL,
        arguments=find_arguments,
        about="find the deals a person names: a person, a company, an email, a phone or an id, then "
        "perhaps words of the deal's name",
    )
    # The words need no quotes: `lsq-mcp find gold coast cocoa` asks for "gold coast cocoa".
    find.add_argument("query", metavar="QUERY", nargs="+")
    find.add_argument(
        "--type", type=int, metavar="CODE", help="only opportunities of this type code (e.g. 12002)"
    )
    activities = tool_command(
        commands,
        parents,
        "activities",
        tool="get_opportunity_activities",
        arguments=activities_arguments,
        about="print an opportunity's activity timeline",
        window=True,
    )
    activities.add_argument("--event-code", type=int, help="only activities of this event code")
    activities.add_argument("--page", type=int, default=1, help="page index, from 1")
    activities.add_argument("--page-size", type=int, default=25, help="activities per page, 1 to 1000")
    activities.add_argument("--oldest-first", action="store_true", help="oldest activities first")
    activities.add_argument("--all", action="store_true", help="every page, up to --max-activities")
    activities.add_argument("--max-activities", type=int, help="cap for --all and a window (default 500)")
    tool_command(
        commands,
        parents,
        "tasks",
        tool="get_opportunity_tasks",
        arguments=lambda args: {"opportunity_id": args.opportunity_id},
        about="print an opportunity's tasks, open and overdue first",
    )
    summary = tool_command(
        commands,
        parents,
        "summary",
        tool="summarize_opportunity",
        arguments=summary_arguments,
        about="print the state of a deal: details, activity counts, last activity, tasks",
        window=True,
    )
    summary.add_argument(
        "--max-activities", type=int, help="the most activities read and counted (default 2000)"
    )


def find_arguments(args: argparse.Namespace) -> dict[str, Any]:
    type_code = {} if args.type is None else {"opportunity_type": args.type}
    return {"query": " ".join(args.query)} | type_code


def window_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """`since` and `until`, where the command line gives them."""
    return {edge: getattr(args, edge) for edge in ("since", "until") if getattr(args, edge) is not None}


def summary_arguments(args: argparse.Namespace) -> dict[str, Any]:
    cap = {} if args.max_activities is None else {"max_activities": args.max_activities}
    return {"opportunity_id": args.opportunity_id} | window_arguments(args) | cap


def activities_arguments(args: argparse.Namespace) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "opportunity_id": args.opportunity_id,
        "page_index": args.page,
        "page_size": args.page_size,
        "sort_direction": "oldest_first" if args.oldest_first else "newest_first",
    }
    if args.event_code is not None:
        arguments["activity_event_code"] = args.event_code
    window = window_arguments(args)
    if args.max_activities is not None:
        if not (args.all or window):
            raise UsageError(
                "--max-activities caps --all and a window (--since/--until), and one page has "
                "--page-size activities at most: add --all or a window, or leave it out."
            )
        arguments["max_activities"] = args.max_activities
    return arguments | window | ({"fetch_all": True} if args.all else {})


async def print_tool_result(settings: Settings, args: argparse.Namespace) -> int:
    """Call `args.tool` with the arguments `args.arguments(args)` makes; print its text (or `--json`)."""
    from mcp import Client

    from lsq_mcp.server import ERROR_KIND_META, create_server, error_kind
    from lsq_mcp.tools.arguments import InvalidArgumentError

    make_arguments: Callable[[argparse.Namespace], dict[str, Any]] = args.arguments
    try:
        arguments = make_arguments(args)
    except UsageError as exc:
        print(f"lsq-mcp: {exc}", file=sys.stderr)
        return EXIT_USAGE
    server = create_server(settings, reader=PERSON)
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
        # Told by the kind of error, never by its text: the caller's to fix (exit 2), or not (exit 1).
        usage = {error_kind(InvalidArgumentError), error_kind(NotConfiguredError)}
        return EXIT_USAGE if (result.meta or {}).get(ERROR_KIND_META) in usage else EXIT_API_FAILED
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
