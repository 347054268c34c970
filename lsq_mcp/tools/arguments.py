"""The tools' arguments: each rule written once, as the schema's constraint and as the words a model reads.

`argument(name, description)` gives the `Field` of an argument: its constraints come from
`RULES[name]`, so the JSON Schema, the error text of `describe_invalid` and docs/tools.md's
argument table never disagree. A bad argument is refused before any API call.

Types are strict where pydantic's lax reading would give a wrong answer (`Rule.read`): a JSON
boolean is never a number (`true` is not event code 1), a boolean is only true or false ("yes"
is refused), a fraction is not a whole number; a whole number written as text ("10") is read.
Sizes and integers are capped at what LeadSquared can take.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError
from pydantic.fields import FieldInfo

from lsq_mcp.api.window import Window, parse_edge
from lsq_mcp.reader import MODEL, Reader
from lsq_mcp.tools.base_result import Absent, drop_null_default

GUID_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
NAME_PATTERN = r"^[A-Za-z0-9_]+$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# LeadSquared's integers are 32-bit (.NET Int32): a larger one would fail there, or wrap.
INT32_MAX = 2**31 - 1
# page_index × page_size (at most 1000) is LeadSquared's row offset: it must fit in 32 bits as well.
MAX_PAGE_INDEX = INT32_MAX // 1000
# Field names: LeadSquared's are short (`mx_Custom_50`, `ActivityEvent_Note`); 100 of them is plenty.
MAX_NAME_LENGTH = 100
MAX_COLUMNS = 100
# What a person calls a deal: a name and a few words, never a paragraph.
MAX_QUERY_LENGTH = 200


def whole_number(value: Any) -> Any:
    """A JSON boolean is never a number (pydantic would read `true` as 1); the rest pydantic reads."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    return value


def boolean(value: Any) -> Any:
    """Only true or false (pydantic would read "yes", "on" or 1 as true)."""
    if not isinstance(value, bool):
        raise ValueError("not a boolean")
    return value


@dataclass(frozen=True)
class Rule:
    """What one argument must be: `words` for people (the error text, and docs/tools.md's table),
    `constraints` for pydantic and the schema, `read` (when pydantic's lax reading would accept what
    the rule does not) run on the value first, `absent` what leaving an optional one out means."""

    words: str
    constraints: dict[str, Any] = field(default_factory=dict)
    read: Callable[[Any], Any] | None = None
    absent: str = "none"

    @property
    def short(self) -> str:
        """The words as docs/tools.md's table shows them: what the argument must be."""
        return self.words.removeprefix("must be ")


_A_GUID = "8-4-4-4-12 hex digits, any case"

RULES: dict[str, Rule] = {
    "opportunity_id": Rule(
        f"must be a GUID, {_A_GUID} (e.g. 1b4e28ba-2fa1-11d2-883f-0016d3cca427)",
        {"pattern": GUID_PATTERN},
    ),
    "activity_event_code": Rule(
        f"must be a whole number from 0 to {INT32_MAX} (an activity type's event code)",
        {"ge": 0, "le": INT32_MAX},
        whole_number,
        absent="all types",
    ),
    "columns": Rule(
        f"must be a list of at most {MAX_COLUMNS} field names, each of at most {MAX_NAME_LENGTH} "
        "letters, digits and _",
        {"max_length": MAX_COLUMNS},
        absent="the standard fields",
    ),
    "column": Rule(
        f"must be a field name of at most {MAX_NAME_LENGTH} letters, digits and _",
        {"pattern": NAME_PATTERN, "max_length": MAX_NAME_LENGTH},
    ),
    "page_index": Rule(
        f"must be a whole number from 1 to {MAX_PAGE_INDEX}", {"ge": 1, "le": MAX_PAGE_INDEX}, whole_number
    ),
    "page_size": Rule("must be a whole number from 1 to 1000", {"ge": 1, "le": 1000}, whole_number),
    "sort_column": Rule(
        f"must be a field name of at most {MAX_NAME_LENGTH} letters, digits and _",
        {"pattern": NAME_PATTERN, "max_length": MAX_NAME_LENGTH},
    ),
    "sort_direction": Rule('must be "newest_first" or "oldest_first"'),
    "fetch_all": Rule("must be true or false", read=boolean),
    "max_activities": Rule("must be a whole number from 1 to 10000", {"ge": 1, "le": 10000}, whole_number),
    "lead_id": Rule(f"must be a GUID, {_A_GUID}", {"pattern": GUID_PATTERN}),
    "email": Rule("must be an email address such as name@example.com", {"pattern": EMAIL_PATTERN}),
    "query": Rule(
        f"must be 1 to {MAX_QUERY_LENGTH} characters, not all spaces: a person's name, a company, an "
        "email address, a phone number or a GUID, optionally followed by words of the deal's name",
        {"min_length": 1, "max_length": MAX_QUERY_LENGTH, "pattern": r"\S"},
    ),
    "since": Rule(
        "must be an ISO 8601 date (2025-03-01: the start of that day, UTC) or date-time "
        "(2025-03-01T09:30:00Z; an offset is honoured, none means UTC)"
    ),
    "until": Rule(
        "must be an ISO 8601 date (2025-03-01: all of that day) or date-time (2025-03-01T18:00:00Z)"
    ),
    "opportunity_type": Rule(
        f"must be a whole number from 0 to {INT32_MAX} (an opportunity type's code, e.g. 12002)",
        {"ge": 0, "le": INT32_MAX},
        whole_number,
        absent="all types",
    ),
}


def argument(name: str, description: str, *, optional: bool = False) -> FieldInfo:
    """The `Field` of argument `name`, constrained by its rule, its description ending with the rule
    and the default in words (`rule_sentence`). An `optional` one has no default shown: leaving it
    out is the default; its type carries the constraints (`constrained`), since on `X | None` they
    would apply to null as well and show in the schema under names it does not know."""
    rule = RULES[name]

    def in_words(schema: dict[str, Any]) -> None:
        if optional:
            drop_null_default(schema)
        schema["description"] += " " + rule_sentence(
            name, schema, required=not optional and "default" not in schema
        )

    info: FieldInfo = Field(
        description=description, json_schema_extra=in_words, **({} if optional else rule.constraints)
    )
    if rule.read is not None:
        info.metadata.append(BeforeValidator(rule.read))
    return info


def rule_sentence(name: str, prop: dict[str, Any], *, required: bool) -> str:
    """Argument `name`'s rule and default as its description says them: some clients (Gemini's among
    them) drop the schema's keywords (`minimum`, `pattern`, `default`...), and the model with them."""
    words = RULES[name].words
    if required:
        return f"It {words}."
    if "default" in prop:
        return f"It {words}; default {_value_words(prop['default'])}."
    absent = RULES[name].absent
    return f"It {words}; optional." if absent == "none" else f"It {words}; left out: {absent}."


def constrained(name: str) -> FieldInfo:
    """The bare constraints of `name`'s rule, for an item of a list or the inside of an optional type
    (`Annotated[int, constrained(name)] | Absent`)."""
    return Field(**RULES[name].constraints)  # type: ignore[no-any-return]


# The arguments several tools take, each with its rule and its usual words. A tool that means something
# narrower says so over them: `Annotated[Since, Field(description=...)]`.
OpportunityId = Annotated[str, argument("opportunity_id", "The opportunity's GUID.")]
Since = Annotated[
    str | Absent,
    argument("since", "Only activities created at or after this, e.g. 2025-03-01 (UTC).", optional=True),
]
Until = Annotated[
    str | Absent,
    argument("until", "Only activities created at or before this (a date: all of it).", optional=True),
]
MaxActivities = Annotated[int, argument("max_activities", "The cap for fetch_all and for a window.")]


class InvalidArgumentError(ValueError):
    """An argument broke its rule (or a rule between arguments); no API call was made."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{message} No API call was made.")


def describe_invalid(error: ValidationError, reader: Reader = MODEL) -> InvalidArgumentError:
    """One sentence per bad argument: its name (as `reader` knows it), its rule and what was given."""
    sentences = []
    details: dict[str, Any] = {}
    for detail in error.errors():
        details.setdefault(str(detail["loc"][0]) if detail["loc"] else "arguments", detail)
    for name, detail in details.items():
        if detail["type"] == "missing":
            sentences.append(f"Invalid argument {reader.name(name)}: it is required.")
            continue
        rule = RULES[name].words if name in RULES else detail["msg"].lower()
        sentences.append(invalid(reader.name(name), rule, detail.get("input")))
    return InvalidArgumentError(" ".join(sentences))


def unknown_arguments(tool: str, given: set[str], known: list[str]) -> InvalidArgumentError | None:
    """The error for arguments `tool` does not take, or None when there are none."""
    unknown = sorted(given - set(known))
    if not unknown:
        return None
    takes = f"it takes {', '.join(known)}" if known else "it takes no arguments"
    return InvalidArgumentError(
        f"Invalid argument: {', '.join(unknown)} is not an argument of {tool} ({takes})."
    )


def read_window(since: str | None, until: str | None, reader: Reader = MODEL) -> Window | None:
    """The window `since`/`until` give (None when neither is set), or the error naming the bad one
    as `reader` knows it."""
    if since is None and until is None:
        return None
    edges: dict[str, datetime | None] = {}
    for name, text in (("since", since), ("until", until)):
        try:
            edges[name] = None if text is None else parse_edge(text, end_of_day=name == "until")
        except ValueError:
            raise InvalidArgumentError(invalid(reader.name(name), RULES[name].words, text)) from None
    window = Window(since=edges["since"], until=edges["until"])
    if window.since and window.until and window.since > window.until:
        raise InvalidArgumentError(
            f"Invalid arguments: {reader.name('since')} ({since}) is after {reader.name('until')} ({until}); "
            "give a window whose start comes first."
        )
    return window


def invalid(name: str, rule: str, value: Any) -> str:
    """The sentence saying that argument `name` broke its rule (`rule`, in words) with `value`."""
    return f"Invalid argument {name}: {rule}; got {_shown(value)}."


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def argument_table(schema: dict[str, Any]) -> str:
    """docs/tools.md's table of a tool's arguments, from its input schema and `RULES`: the same rules
    the schema enforces and the errors quote."""
    rows = ["| argument | type | rule | default | meaning |", "| --- | --- | --- | --- | --- |"]
    for name, prop in schema.get("properties", {}).items():
        rule = RULES[name]
        required = name in schema.get("required", [])
        # The description ends with the rule and default in words: the table has columns for them.
        meaning = prop.get("description", "").removesuffix(" " + rule_sentence(name, prop, required=required))
        rows.append(
            f"| `{name}` | {_type_words(prop)} | {rule.short} | {_default_words(name, prop, required)} | "
            f"{meaning} |"
        )
    return "\n".join(rows)


def _type_words(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return " or ".join(f'`"{value}"`' for value in prop["enum"])
    if prop.get("type") == "array":
        return f"list of {prop.get('items', {}).get('type', 'value')}s"
    return str(prop.get("type", "any"))


def _default_words(name: str, prop: dict[str, Any], required: bool) -> str:
    if required:
        return "required"
    if "default" not in prop:
        return RULES[name].absent
    default = prop["default"]
    return f"`{default}`" if isinstance(default, str) else _value_words(default)


def _value_words(value: Any) -> str:
    """A default as JSON writes it (`false`, not Python's `False`)."""
    return str(value).lower() if isinstance(value, bool) else str(value)
