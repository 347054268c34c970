"""Reading LeadSquared's loose values: strings for numbers, blanks for nothing, dates three ways, HTML notes.

Pure functions, no I/O. A value that cannot be read as the type expected is
passed on as it came (dates) or treated as absent (numbers), never guessed.
"""

from __future__ import annotations

import html
import math
import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
# What `datetime.fromisoformat` does not read (it reads the usual form, on every Python >= 3.10).
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S",
)


def blank_to_none(value: Any) -> Any:
    """`""`, whitespace and `null` all mean "no value"; strings are trimmed."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def to_int(value: Any) -> int | None:
    """`"12"`, `12`, `"12.0"` → 12; blanks and non-numbers → None."""
    value = blank_to_none(value)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def to_float(value: Any) -> float | None:
    """`"12.5"` → 12.5; blanks and non-numbers → None."""
    value = blank_to_none(value)
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parse_date(value: Any) -> datetime | str | None:
    """A UTC datetime from LeadSquared's formats, or the text unchanged when it is none of them."""
    value = blank_to_none(value)
    if value is None or isinstance(value, datetime):
        return value
    text = str(value)
    try:
        # The usual `YYYY-MM-DD HH:MM:SS` (and ISO 8601): the fast path, tried first.
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    else:
        return (
            parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
        )
    ms = _MS_DATE.match(text)
    if ms:
        # /Date(ms+hhmm)/: milliseconds since the epoch in UTC; the offset is the writer's zone.
        try:
            return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(ms.group(1)))
        except OverflowError:
            return text
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return text


def iso_utc(value: datetime | str | None) -> str | None:
    """`2020-10-16T05:57:37Z` for a datetime; text that was not a date passes through."""
    if isinstance(value, datetime):
        if value.tzinfo is not timezone.utc:
            value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
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


def shorten(text: str, limit: int) -> str:
    """`text` cut to about `limit` characters, with a marker saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit].rstrip()} … [shortened; {len(text):,} characters in all]"


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, on one line, with "…" where it was cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def dot_join(*parts: str | None) -> str:
    """The parts that have a value, joined with " · " (the timeline's separator)."""
    return " · ".join(p for p in parts if p)


def labelled(label: str, value: str | None) -> str | None:
    """`"owner Rohan"` for a value, None (left out by `dot_join`) for none."""
    return f"{label} {value}" if value else None
