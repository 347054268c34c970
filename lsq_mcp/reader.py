"""Who reads a tool's text, and so how it names what to ask for next.

A model calls tools by name with arguments (`get_opportunity_tasks`, `page_index=2`); a person at
the command line types commands and flags (`lsq-mcp tasks`, `--page 2`). The tools' texts and the
errors name what to ask for through a `Reader`, so one renderer serves both: `MODEL` is the
server's reader; the command line builds its own (`lsq_mcp.cli.tool_commands.PERSON`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reader:
    """`person`: someone at a terminal, who reads long texts whole (a model's are cut to its token
    budget); `flags`: each tool argument's flag (`page_index` → `--page`); `commands`: each tool's
    command (`get_opportunity_tasks` → `lsq-mcp tasks`)."""

    person: bool = False
    flags: Mapping[str, str] = field(default_factory=dict)
    commands: Mapping[str, str] = field(default_factory=dict)

    def name(self, argument: str) -> str:
        """How the reader names `argument`: as it is, or its flag."""
        return self.flags.get(argument, argument) if self.person else argument

    def names(self, *arguments: str) -> str:
        """One argument or another: `since/until`, `--since/--until`."""
        return "/".join(self.name(argument) for argument in arguments)

    def ask(self, argument: str, value: object) -> str:
        """`argument` set to `value`, as the reader types it: `page_index=2`, `--page 2`."""
        return f"{self.name(argument)} {value}" if self.person else f"{argument}={value}"

    def call(self, tool: str, subject: str = "") -> str | None:
        """How the reader asks `tool` (about `subject`, the id a command takes), or None when it has
        no way to: a command line without that command."""
        if not self.person:
            return tool
        command = self.commands.get(tool)
        return f"{command} {subject}".rstrip() if command else None


MODEL = Reader()
