"""Text for people and models: one-line clips, shortened notes, HTML notes as plain text, joins.

Pure functions, no I/O; every tool's rendering uses them.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser


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
