"""Text for people and models: LeadSquared's values made safe to show, one-line clips, HTML notes as
plain text, joins.

Pure functions, no I/O; every tool's rendering uses them. Every value LeadSquared sends was typed
by someone: `shown` is the one rule it goes through before it is shown (one line, no control,
bidirectional or invisible characters, at most its `Cap`), so that no value can pass for a line of
our own text, and none is unbounded.
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from typing import Any


class Cap:
    """The longest a value of each kind may be, in characters, in the structured result and the text
    alike; past it, the value is cut and a marker says how many characters were left out. (Plain
    ints, not an enum: read for every value of every row.)"""

    NAME = 200  # a name, status, owner, stage, type, email, phone, id; a date sent as no date
    FIELD = 1000  # a custom or requested field's value (a set of values: as JSON)
    NOTE = 2000  # a note, a task's description: lines kept


# Characters that end a line (those `str.splitlines` splits on, and the tab): a space in a value.
_BREAKS = re.compile("[\n\r\t\v\f\x1c-\x1e\x85\u2028\u2029]+")
# Characters removed from a value: the other C0 and C1 controls (ESC, NUL...), bidirectional
# embeddings, overrides, isolates and marks, invisible ones (zero-width space, word joiner, BOM,
# soft hyphen), the "tag" characters that spell ASCII unseen, and lone surrogates. Zero-width
# (non-)joiners stay: scripts and emoji need them.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\xad\u061c\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]"
)


def shown(value: str, cap: int, *, lines: bool = False) -> str:
    """`value` as it may be shown: on one line (line breaks and tabs become spaces; with `lines`, line
    breaks stay, one `\n` each, and blank lines go), without control, bidirectional or invisible
    characters, trimmed, and at most `cap` characters, past which a marker says how many more there
    were (`…[+1,234 chars]`). Quick for the usual value, which is printable and short."""
    if not value.isprintable():
        if lines:
            parts = (one_line(line) for line in value.splitlines())
            value = "\n".join(part for part in parts if part)
        else:
            value = one_line(value)
    value = value.strip()
    if len(value) <= cap or _cut_before(value, cap):
        return value
    return f"{value[:cap].rstrip()}…[+{len(value) - cap:,} chars]"


# A count no answer LeadSquared may send (32 MiB at most) could reach: a forged marker of a million
# digits is no marker, and is cut.
_MARKER_COUNT = re.compile(r"[0-9,]{1,13} chars\]")


def _cut_before(value: str, cap: int) -> bool:
    """Whether `value` was cut to `cap` already, marker and all (a name read back from Redis, say):
    cut again, it would lose what its marker says."""
    head, marker, count = value.rpartition("…[+")
    return bool(marker) and len(head) <= cap and _MARKER_COUNT.fullmatch(count) is not None


def one_line(value: str) -> str:
    """`value` on one line (line breaks and tabs become spaces), without control, bidirectional or
    invisible characters; uncapped."""
    if value.isprintable():  # nearly every value: no regular expression to run
        return value
    return _BREAKS.sub(" ", _INVISIBLE.sub("", value))


def field_value(value: Any) -> Any:
    """A field's value as it may be shown: blanks left out (None when nothing is left), text through
    `shown`, JSON text (custom field sets) read into what it holds, and a set of values longer than
    `Cap.FIELD` once written as JSON given as that text, cut."""
    value = _tidy(value)
    if isinstance(value, dict | list):
        written = json.dumps(value, ensure_ascii=False)
        if len(written) > Cap.FIELD:
            return shown(written, Cap.FIELD)
    return value


def _tidy(value: Any) -> Any:
    if isinstance(value, str):  # nearly every value: the quick way first
        value = value.strip()
        if not value:
            return None
        if value[0] not in "[{" or len(value) > Cap.FIELD:
            return value if len(value) <= Cap.FIELD and value.isprintable() else shown(value, Cap.FIELD)
        try:
            value = json.loads(value)
        except ValueError:
            return shown(value, Cap.FIELD)
    if isinstance(value, dict):
        tidied = {shown(str(k), Cap.NAME): t for k, v in value.items() if (t := _tidy(v)) is not None}
        return tidied or None
    if isinstance(value, list):
        items = [t for v in value if (t := _tidy(v)) is not None]
        return items or None
    return value


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, turning block elements into line breaks."""

    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol"})
    _SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


_TAG_HINT = re.compile(r"<\s*/?\s*[A-Za-z][^>]*>")


def html_to_text(value: str) -> str:
    """Plain text from a note that may hold HTML: tags out, entities decoded, whitespace tidied."""
    if _TAG_HINT.search(value):
        parser = _TextExtractor()
        parser.feed(value)
        parser.close()
        text = "".join(parser.parts)
    else:
        text = html.unescape(value)
    lines = (" ".join(line.split()) for line in text.replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, on one line (without control or invisible characters), with "…"
    where it was cut."""
    text = " ".join(one_line(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def dot_join(*parts: str | None) -> str:
    """The parts that have a value, joined with " · " (the timeline's separator)."""
    return " · ".join(p for p in parts if p)


def labelled(label: str, value: str | None) -> str | None:
    """`"owner Rohan"` for a value, None (left out by `dot_join`) for none."""
    return f"{label} {value}" if value else None
