"""Keeping secrets (the keys, the MCP token) out of every output, log line and error.

One function, `redact`, used everywhere text may carry a secret: every answer of LeadSquared's
before it is read (`redact_answer` in `lsq_mcp.api.answers`: a key may be echoed in an error, or
typed into a note or a custom field), errors quoting LeadSquared (through `scrub`, which redacts
before it clips), the log filter (`lsq_mcp.logs`), Redis's error texts, and last of all what a
tool call returns, its text and every string of its structured content (`redact_json`), since
reading the data can join characters an answer kept apart: HTML turned into text drops the tags
between them, control characters are removed, JSON text in a field is read. It removes every
piece of SECRET_WINDOW consecutive characters of a secret, in any case, as is or escaped once,
with or without the tags around its characters, so no echo, however escaped, split, cut or
shortened, shows one.

It is quick where nothing is found, and most texts hold nothing: one pass of an Aho-Corasick
automaton over every piece (ahocorasick-rs, in Rust; five times quicker on a page of activities
than a `bytes.find` for each piece's anchor), and a search for escapes from the characters that
start them (`\\`, `%`, `&`), keeping only escapes of a secret's characters. Where a piece may be,
only that region, and what is around it, is read character by character, each escape decoded.

A secret shorter than SECRET_WINDOW is left alone: every piece of text that held one of its
letters would go (a one-letter token would blank every `x`), and no key is that short.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, AnyStr

from ahocorasick_rs import AhoCorasick, BytesAhoCorasick
from pydantic import TypeAdapter

from lsq_mcp.text import clip, one_line

# No output may show this many consecutive characters of a secret, however it is escaped.
SECRET_WINDOW = 8
REDACTED = "[redacted]"
# One escaped character: an HTML entity (its `;` may be cut off, its number padded with zeros:
# browsers read it all the same), %XX, a JSON escape; `.` is any other character, as is.
_HTML_ESCAPE = r"&(?:#0*[0-9]{1,7}|#[xX]0*[0-9a-fA-F]{1,6}|amp|lt|gt|quot|apos);?"
_URL_ESCAPE = r"%[0-9A-Fa-f]{2}"
_JSON_ESCAPE = r"\\u[0-9A-Fa-f]{4}|\\."
_UNIT = re.compile(f"{_HTML_ESCAPE}|{_URL_ESCAPE}|{_JSON_ESCAPE}|.", re.DOTALL)
_UNIT_BYTES = re.compile(_UNIT.pattern.encode(), re.DOTALL)
# A text is also read with one kind of escape read and the others left as they are: a secret may
# hold what looks like another kind's escape (`%41`, and `&lt` with no `;`).
_UNITS_OF_ONE_KIND = tuple(
    re.compile(f"{escape}|.", re.DOTALL) for escape in (_HTML_ESCAPE, _URL_ESCAPE, _JSON_ESCAPE)
)
# The longest one character can be once escaped unpadded (`&#1114111;`): what `scrub` reads past
# its limit, and how far around an escape a piece holding it is looked for (the windows around the
# escapes of one piece overlap, however padded, so the region holds it all).
_LONGEST_ESCAPE = 10
# Where an escape may start: found with `find` (memchr), as `re` takes 4 ns a character to look for
# alternatives, or even for a set of characters.
_ESCAPE_STARTS = ("\\", "%", "&")
_ESCAPE_STARTS_BYTES = tuple(start.encode() for start in _ESCAPE_STARTS)
# Writes JSON, in Rust (three times quicker than `json.dumps`, for the quick look of `redact_json`).
_JSON: TypeAdapter[Any] = TypeAdapter(Any)
# A reading of a text: each unit's start, end, and the one character it stands for.
Units = list[tuple[int, int, str]]
# A tag, as broadly as any reader may strip one (`<i>`, `</b >`, `<!-- -->`): what is around it may
# be read as one text.
_TAG = re.compile("<[^<>]*>")
_TAG_BYTES = re.compile(_TAG.pattern.encode())
# JSON's escapes of control characters: `\n` is a line break, no `n`.
_JSON_CONTROLS = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
# The only characters beyond ASCII whose lower case starts with an ASCII letter: `İ` (whose lower
# case is two characters, `i` and a dot) and the Kelvin sign. Read as those letters.
_TO_ASCII = {"\u0130": "i", "\u212a": "k"}


def redact(text: str, secrets: Iterable[str], *, tags: bool = True) -> str:
    """`text` with every run of characters that holds SECRET_WINDOW consecutive characters of a
    secret replaced by a placeholder: in any case, as is, or escaped once (HTML entities, %XX, JSON
    escapes, even mixed), and with `tags` read with and without the tags in it (`<i></i>`). Any
    piece of a secret long enough to matter goes, wherever text was cut, so redaction does not
    depend on where a message is shortened. Only the regions where a piece may be are searched
    character by character, so an echoed key costs little however long the text."""
    pieces = _pieces(tuple(secrets))
    # The quick look first, as bytes: most texts hold nothing to read closely.
    if pieces is None or not pieces.may_be_in_bytes(text.encode("utf-8", "surrogatepass"), tags=tags):
        return text
    spans = [
        span
        for start, end in pieces.regions(text, tags=tags)
        for span in pieces.spelled_in(text, start, end, tags=tags)
    ]
    if not spans:
        return text
    parts, at = [], 0
    for start, end in _merged(spans):
        parts += [text[at:start], REDACTED]
        at = end
    return "".join(parts) + text[at:]


def redact_answer(content: bytes, secrets: Iterable[str]) -> str:
    """An answer's text, redacted: looked at as bytes first, the cheap way, since most answers hold
    no piece of a secret. Tags are read as they are: a page of HTML notes holds thousands, and what
    is read of it is redacted again once made into text (`redact_json`)."""
    text = content.decode("utf-8", errors="replace")
    secrets = tuple(secrets)
    pieces = _pieces(secrets)
    if pieces is None or not pieces.may_be_in_bytes(content):
        return text
    return redact(text, secrets, tags=False)


def redact_json(data: Any, secrets: Iterable[str]) -> Any:
    """`data` (what JSON holds: dicts, lists, strings, numbers) with every string redacted, keys
    included; `data` itself when none may hold a piece. Looked at as one JSON text first, the cheap
    way: each string's characters, or their JSON escapes (which `redact` reads), are in it, so a
    string that may hold a piece makes the text look so too. When no piece is in it as is, only the
    strings that hold what may start another reading (`_SUSPECT`) are read closely."""
    secrets = tuple(secrets)
    pieces = _pieces(secrets)
    if pieces is None:
        return data
    try:
        written = _JSON.dump_json(data)
    except ValueError:  # a lone surrogate, which UTF-8 cannot hold: every string is read closely
        return _redacted(data, secrets, None)
    if not pieces.may_be_in_bytes(written, tags=True):
        return data
    return _redacted(data, secrets, None if pieces.as_is_in_bytes(written) else _SUSPECT)


# What a string must hold to spell a piece other than as is: the start of a tag or an escape, a
# quote (which JSON escapes), or a character read as an ASCII letter.
_SUSPECT = re.compile('[<&%\\\\"\u0130\u212a]')


def _redacted(data: Any, secrets: tuple[str, ...], suspect: re.Pattern[str] | None) -> Any:
    """`data` with its strings redacted: all of them, or those `suspect` finds something in."""
    if isinstance(data, str):
        return redact(data, secrets) if suspect is None or suspect.search(data) else data
    if isinstance(data, dict):
        return {_redacted(str(k), secrets, suspect): _redacted(v, secrets, suspect) for k, v in data.items()}
    if isinstance(data, list):
        return [_redacted(item, secrets, suspect) for item in data]
    return data


def scrub(text: str, secrets: Iterable[str], limit: int) -> str:
    """At most `limit` characters of upstream `text` on one line: made one line (control characters
    out, which may join a secret's), redacted, then clipped: a secret cut by the clip cannot slip
    through. Only the start that can be shown is read."""
    return clip(redact(one_line(text[: limit + SECRET_WINDOW * _LONGEST_ESCAPE]), secrets), limit)


@dataclass(frozen=True)
class _Pieces:
    """The lower-cased pieces of some secrets, their characters, and automatons that find any piece
    in one pass, in UTF-8 and in text (a key is printable ASCII: it travels in a header)."""

    pieces: frozenset[str]
    alphabet: frozenset[str]
    tagged_alphabet: frozenset[str]  # and `<`, `>`: escaped, they may spell a tag to be left out
    finder: BytesAhoCorasick
    text_finder: AhoCorasick  # the same, over text: its matches are positions in characters
    # `_TO_ASCII`'s characters that stand for a secret's letter, in UTF-8: `bytes.lower` keeps them.
    non_ascii: tuple[bytes, ...]

    def as_is_in_bytes(self, content: bytes) -> bool:
        """Whether UTF-8 `content` holds a piece as is, in any ASCII case."""
        return bool(self.finder.find_matches_as_indexes(content.lower()))

    def may_be_in_bytes(self, content: bytes, *, tags: bool = False) -> bool:
        """Whether UTF-8 `content` may hold a piece: one as is, or an escape of a secret's character,
        or with `tags` a tag or an escape of `<` or `>`. A quick look, as bytes, before the text is
        searched where a piece may be (`regions`)."""
        return (
            self.as_is_in_bytes(content)
            or any(char in content for char in self.non_ascii)
            or (tags and _TAG_BYTES.search(content) is not None)
            or any(
                self._escapes(
                    content,
                    _ESCAPE_STARTS_BYTES,
                    _UNIT_BYTES,
                    self.tagged_alphabet if tags else self.alphabet,
                )
            )
        )

    def regions(self, text: str, *, tags: bool) -> list[tuple[int, int]]:
        """Where in `text` a piece may be, in order: around each piece found as is, around each
        escape of a secret's character, and with `tags` around each tag and each escape of `<` or
        `>` (a piece with one in it lies within this reach of it: the regions of a piece's tags,
        however long they are, overlap)."""
        end, reach = len(text), SECRET_WINDOW * _LONGEST_ESCAPE
        found = [
            (max(0, start - SECRET_WINDOW), min(end, stop + SECRET_WINDOW))
            for _, start, stop in self._find(_lower(text))
        ]
        alphabet = self.tagged_alphabet if tags else self.alphabet
        marks: list[re.Match[str]] = list(self._escapes(text, _ESCAPE_STARTS, _UNIT, alphabet))
        if tags:
            marks += _tags(text)
        found += [(max(0, m.start() - reach), min(end, m.end() + reach)) for m in marks]
        return _merged([(_run_start(text, start), stop) for start, stop in found])

    def spelled_in(self, text: str, start: int, end: int, *, tags: bool) -> list[tuple[int, int]]:
        """The spans of `text[start:end]` that spell a piece: as is, or each character escaped once
        (every kind of escape read, or one kind only); with `tags`, also with the tags left out,
        before or after the escapes are read. Each distinct reading is searched once."""
        plain = [(start + i, start + i + 1, c) for i, c in enumerate(text[start:end])]
        untagged = _untagged(plain) if tags else []
        readings = [plain, untagged]
        for unit in (_UNIT, *_UNITS_OF_ONE_KIND):
            decoded = _decoded(plain, unit)
            readings.append(decoded)
            if tags:
                readings += [_decoded(untagged, unit), _untagged(decoded)]
        spans, seen = [], set()
        for units in readings:
            spelled = "".join(c for _, _, c in units)
            if spelled not in seen:
                seen.add(spelled)
                spans += self._spelled_by(units)
        return spans

    def _find(self, lowered: str) -> list[tuple[int, int, int]]:
        try:
            return self.text_finder.find_matches_as_indexes(lowered)
        except UnicodeEncodeError:  # a lone surrogate (JSON's `\ud800` is one), which no key holds
            return self.text_finder.find_matches_as_indexes(_SURROGATE.sub("\ufffd", lowered))

    def _escapes(
        self, text: AnyStr, starts: tuple[AnyStr, ...], unit: re.Pattern[AnyStr], alphabet: frozenset[str]
    ) -> Iterator[re.Match[AnyStr]]:
        """The escapes in `text` of a character of `alphabet`, read as `spelled_in` reads them, found
        from the characters they start with. An HTML note's `&lt;`, or JSON's `\\u003c` for each of
        its `<`, is none in an answer: a page may hold thousands, and each would be searched around."""
        for start in starts:
            at = text.find(start)
            while at != -1:
                match = unit.match(text, at)
                if match is not None and _escapes_one_of(_as_text(match.group()), alphabet):
                    yield match
                at = text.find(start, at + 1)

    def _spelled_by(self, units: Units) -> list[tuple[int, int]]:
        """The spans of a text (units: start, end, the character it stands for) that spell a piece."""
        chars = _lower("".join(c for _, _, c in units))
        return [
            (units[i][0], units[i + SECRET_WINDOW - 1][1])
            for i in range(len(chars) - SECRET_WINDOW + 1)
            if chars[i : i + SECRET_WINDOW] in self.pieces
        ]


@lru_cache(maxsize=8)
def _pieces(secrets: tuple[str, ...]) -> _Pieces | None:
    """The pieces of the secrets long enough to have one (None when none is)."""
    long_enough = [secret.lower() for secret in secrets if len(secret) >= SECRET_WINDOW]
    if not long_enough:
        return None
    pieces = frozenset(
        s[i : i + SECRET_WINDOW] for s in long_enough for i in range(len(s) - SECRET_WINDOW + 1)
    )
    alphabet = frozenset("".join(long_enough))
    return _Pieces(
        pieces=pieces,
        alphabet=alphabet,
        tagged_alphabet=alphabet | {"<", ">"},
        finder=BytesAhoCorasick([piece.encode() for piece in pieces]),
        text_finder=AhoCorasick(pieces),
        non_ascii=tuple(char.encode() for char, letter in _TO_ASCII.items() if letter in alphabet),
    )


def _escapes_one_of(unit: str, alphabet: frozenset[str]) -> bool:
    """Whether `unit` is an escape (not a character as is) of one of `alphabet`'s characters."""
    return len(unit) > 1 and _lower(_unescape(unit)) in alphabet


def _tags(text: str) -> list[re.Match[str]]:
    """The tags in `text`, found from their `<`."""
    found, at = [], text.find("<")
    while at != -1:
        match = _TAG.match(text, at)
        if match is not None:
            found.append(match)
        at = text.find("<", at + 1)
    return found


def _decoded(chars: Units, unit: re.Pattern[str]) -> Units:
    """A reading (start, end, the character it stands for) with the escapes `unit` reads read once."""
    text = "".join(c for _, _, c in chars)
    return [(chars[m.start()][0], chars[m.end() - 1][1], _unescape(m.group())) for m in unit.finditer(text)]


def _untagged(units: Units) -> Units:
    """A reading without its tags: what stood on either side of one is read as one text."""
    text = "".join(c for _, _, c in units)
    kept: Units = []
    at = 0
    for tag in _TAG.finditer(text):
        kept += units[at : tag.start()]
        at = tag.end()
    return kept + units[at:]


def _run_start(text: str, at: int) -> int:
    """Where the run of backslashes just before `at` starts (`at` when there is none): a region read
    from within one would pair them (`\\\\`, `\\b`) otherwise than the whole text does."""
    while at > 0 and text[at - 1] == "\\":
        at -= 1
    return at


def _lower(text: str) -> str:
    """`text` in lower case, one character for each: `İ` is read as `i` (its lower case is two)."""
    return (text.replace("\u0130", "i") if "\u0130" in text else text).lower()


_SURROGATE = re.compile("[\ud800-\udfff]")


def _as_text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode("utf-8", errors="replace")


@lru_cache(maxsize=1024)  # the same few escapes (`&amp;`, `\u003c`) recur all over a page
def _unescape(unit: str) -> str:
    """The one character `unit` stands for (NUL, which no key holds, when it is not an escape after all)."""
    if len(unit) == 1:
        return unit
    if unit[0] == "&":
        char = html.unescape(unit)
        return char if len(char) == 1 else "\0"
    if unit[0] == "%":
        return chr(int(unit[1:], 16))
    return chr(int(unit[2:], 16)) if len(unit) == 6 else _JSON_CONTROLS.get(unit[1], unit[1])


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
