"""A window of time: only activities created in it (`since` and `until`, both inclusive, UTC).

LeadSquared has no date filter on an opportunity's activities, so a window is read page by
page, newest first, and the reading stops once past its edge (see `walk`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone


@dataclass(frozen=True)
class Window:
    """`since` <= created <= `until`; either edge may be open (None). Both are aware, in UTC."""

    since: datetime | None = None
    until: datetime | None = None

    def contains(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (self.until is None or moment <= self.until)


def parse_edge(text: str, *, end_of_day: bool) -> datetime:
    """An ISO 8601 date (`2025-03-01`: the start of that day, or its last second with `end_of_day`)
    or date-time (`2025-03-01T09:30:00Z`; an offset is honoured, none means UTC), in UTC.
    Raises ValueError for anything else, a moment that is no date in UTC included
    (`0001-01-01T00:00:00+01:00`)."""
    try:
        return _parse_edge(text.strip(), end_of_day=end_of_day)
    except OverflowError:
        raise ValueError(text) from None


def _parse_edge(text: str, *, end_of_day: bool) -> datetime:
    if len(text) == 10:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        return day + timedelta(days=1, microseconds=-1) if end_of_day else day
    if "T" not in text.upper() and " " not in text:
        raise ValueError(text)
    moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
