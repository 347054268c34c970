"""Reading LeadSquared's loose values: strings for numbers, blanks for nothing, dates three ways.

Pure functions, no I/O. A value that cannot be read as the type expected is
passed on as it came (dates) or treated as absent (numbers), never guessed.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from lsq_mcp.text import Cap, shown

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


def to_text(value: Any) -> Any:
    """A text field's value, trimmed (blank → None); a JSON number (or true/false) stands for its
    text, as written, and a list or an object for its JSON: a field that someone's integration
    filled with structure is still that field's value, not a reason to lose the page."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": ")) if value else None
    return blank_to_none(value)


def shown_name(value: str | None) -> str | None:
    """A short text value as it may be shown (`lsq_mcp.text.shown`); None when nothing is left."""
    return None if value is None else shown(value, Cap.NAME) or None


def to_int(value: Any) -> int | None:
    """`"12"`, `12`, `"12.0"` → 12; blanks and non-numbers → None."""
    if isinstance(value, str) and value.isdigit():
        return int(value)  # nearly every value: the quick way first
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
    """A UTC datetime from LeadSquared's formats, or the text as it may be shown when it is none of them."""
    value = blank_to_none(value)
    if value is None or isinstance(value, datetime):
        return value
    text = str(value)
    try:
        # The usual `YYYY-MM-DD HH:MM:SS` (and ISO 8601): the fast path, tried first.
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (
            parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
        )
    except ValueError:
        pass
    except OverflowError:  # a date at the calendar's edge whose offset takes it past it in UTC
        return shown(text, Cap.NAME)
    ms = _MS_DATE.match(text)
    if ms:
        # /Date(ms+hhmm)/: milliseconds since the epoch in UTC; the offset is the writer's zone.
        try:
            return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(ms.group(1)))
        except OverflowError:
            return shown(text, Cap.NAME)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return shown(text, Cap.NAME)


def iso_utc(value: datetime | str | None) -> str | None:
    """`2020-10-16T05:57:37Z` for a datetime; text that was not a date passes through."""
    if isinstance(value, datetime):
        if value.tzinfo is not timezone.utc:
            value = value.astimezone(timezone.utc)
        # The first 19 characters are the date and time to the second, whatever follows; quicker than
        # `isoformat(timespec="seconds")` on a naive copy, on every activity.
        return value.isoformat()[:19] + "Z"
    return value
