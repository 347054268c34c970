"""Keeping secrets (the keys, the MCP token) out of every output, log line and error.

One function, `redact`, used everywhere text may carry a secret: errors quoting LeadSquared
(through `scrub`, which redacts before it clips), the log filter (`lsq_mcp.logs`), Redis's error
texts. It removes every piece of SECRET_WINDOW consecutive characters of a secret, as is or
escaped once, so no echo, however escaped, cut or shortened, shows one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from lsq_mcp.text import clip

# No output may show this many consecutive characters of a secret, however it is escaped.
SECRET_WINDOW = 8
REDACTED = "[redacted]"
# One escaped character: an HTML entity (its `;` may be cut off: browsers read it all the same),
# %XX, a JSON escape; `.` is any other character, as is.
_UNIT = re.compile(
    r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|amp|lt|gt|quot|apos);?|%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|\\.|.",
    re.DOTALL,
)
# The longest one character can be once escaped (`&#1114111;`): what `scrub` reads past its limit.
_LONGEST_ESCAPE = 10


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every run of characters that holds SECRET_WINDOW consecutive characters of a
    secret (the whole secret, if shorter) replaced by a placeholder: as is, or escaped once (HTML
    entities, %XX, JSON escapes, even mixed). Any piece of a secret long enough to matter goes,
    wherever text was cut, so redaction does not depend on where a message is shortened."""
    windows = _windows(secrets)
    if not windows or not text:
        return text
    units = [(m.start(), m.end(), _unescape(m.group())) for m in _UNIT.finditer(text)]
    plain = [(i, i + 1, c) for i, c in enumerate(text)]
    spans = _covered(units, windows) + _covered(plain, windows)
    if not spans:
        return text
    parts, at = [], 0
    for start, end in _merged(spans):
        parts += [text[at:start], REDACTED]
        at = end
    return "".join(parts) + text[at:]


def scrub(text: str, secrets: Iterable[str], limit: int) -> str:
    """At most `limit` characters of upstream `text` on one line, redacted first, then clipped: a
    secret cut by the clip cannot slip through. Only the start that can be shown is read."""
    return clip(redact(text[: limit + SECRET_WINDOW * _LONGEST_ESCAPE], secrets), limit)


def _windows(secrets: Iterable[str]) -> dict[int, set[str]]:
    """Every SECRET_WINDOW-character piece of each secret (a shorter secret whole), by length."""
    windows: dict[int, set[str]] = {}
    for secret in secrets:
        size = min(SECRET_WINDOW, len(secret))
        if size:
            windows.setdefault(size, set()).update(
                secret[i : i + size] for i in range(len(secret) - size + 1)
            )
    return windows


def _unescape(unit: str) -> str:
    """The one character `unit` stands for (NUL, which no key holds, when it is not an escape after all)."""
    if len(unit) == 1:
        return unit
    if unit[0] == "&":
        char = html.unescape(unit)
        return char if len(char) == 1 else "\0"
    if unit[0] == "%":
        return chr(int(unit[1:], 16))
    return chr(int(unit[2:], 16)) if len(unit) == 6 else unit[1]


def _covered(units: list[tuple[int, int, str]], windows: dict[int, set[str]]) -> list[tuple[int, int]]:
    """The spans of `text` (units: start, end, the character it stands for) that spell a window."""
    chars = "".join(c for _, _, c in units)
    return [
        (units[i][0], units[i + size - 1][1])
        for size, pieces in windows.items()
        for i in range(len(chars) - size + 1)
        if chars[i : i + size] in pieces
    ]


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
