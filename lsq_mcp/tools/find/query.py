"""What a person typed to name a deal, read: its kind, the texts to search LeadSquared for, its words.

Pure functions, no I/O. People type a GUID or an email address (perhaps followed by words of the
deal's name), a phone number in any format, or words: a person, a company, then perhaps words of
the deal ("acme renewal", "Ngozi's deal", "the gold coast cocoa expansion").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from lsq_mcp.text import one_line
from lsq_mcp.tools.arguments import EMAIL_PATTERN, GUID_PATTERN

QueryKind = Literal["guid", "email", "phone", "words"]

_GUID = re.compile(GUID_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)
_PHONE = re.compile(r"^\+?[\d\s().\-/]+$")
# A phone number has at least this many national digits (fewer is a number in a name, or a typo).
MIN_PHONE_DIGITS = 6
# The digits searched for: the national number without a trunk 0 (see `national_number`), and at
# most its last ten, long enough to be one's alone.
NATIONAL_DIGITS = 10
# Country calling codes (ITU-T E.164) have 1 to 3 digits and none starts another: 1 and 7 have
# one; two, those whose second digit is listed here under their first; three, all others.
_ONE_DIGIT_CODES = ("1", "7")
_TWO_DIGIT_CODES = {
    "2": "07",
    "3": "0123469",
    "4": "013456789",
    "5": "12345678",
    "6": "0123456",
    "8": "1246",
    "9": "0123458",
}
# Words that name no customer and no deal: left out of the searches and of the deal's words.
FILLERS = frozenset(
    {"the", "a", "an", "deal", "deals", "opportunity", "opportunities", "with", "about", "for", "on", "and"}
)
# How many of the leading words are searched together, after the whole query: customers' names
# are one to three words, and a search for them all finds the customer before its single words do.
LEADING_WORDS = 2
_EDGE_PUNCTUATION = "\"'“”‘’.,;:!?()[]{}"
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)


def fold(text: str) -> str:
    """`text` compared as people mean it: case and accents ignored (`Zoë` is `zoe`)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of `text`: letters and digits, whatever the script (`O'Brien` is `o`, `brien`)."""
    return re.findall(r"[^\W_]+", fold(text))


def digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def national_number(phone: str) -> str:
    """The digits every way of writing `phone` holds, as stored (`+233-24-412-3456`) or in national
    format (`024 412 3456`): the number without its country code, when an international prefix
    (`+`, `00`) shows one, nor a trunk 0; at most its last NATIONAL_DIGITS (`+233 24 412 3456`,
    `00233 24 412 3456` and `024 412 3456` are all `244123456`, `+91 98765 43210` is `9876543210`)."""
    number = digits(phone)
    if phone.startswith("+") or number.startswith("00"):
        number = number.removeprefix("00")
        number = number[_calling_code_length(number) :]
    return number.lstrip("0")[-NATIONAL_DIGITS:]


def _calling_code_length(number: str) -> int:
    first, second = number[:1], number[1:2]
    if first in _ONE_DIGIT_CODES:
        return 1
    return 2 if second and second in _TWO_DIGIT_CODES.get(first, "") else 3


@dataclass(frozen=True)
class Query:
    """A query read: `key` is the GUID, the email address or the phone's digits; `searches` the texts
    to search for, in order, until one finds a lead; `words` the folded words that may name the
    lead or the deal (the deal's are those that do not match the lead)."""

    kind: QueryKind
    key: str
    searches: tuple[str, ...]
    words: tuple[str, ...]


def read_query(text: str) -> Query:
    """What `text` asks for (see the module's docstring), read as it is shown: without control,
    bidirectional or invisible characters (`ngozi\u202e` is `ngozi`)."""
    text = " ".join(one_line(text).split())
    first, _, rest = text.partition(" ")
    if _GUID.match(first):
        return Query("guid", first.lower(), (), _content_words(rest.split()))
    if _EMAIL.match(first):
        return Query("email", first, (), _content_words(rest.split()))
    number = national_number(text) if _PHONE.match(text) else ""
    if len(number) >= MIN_PHONE_DIGITS:
        return Query("phone", number, tuple(dict.fromkeys((number, text))), (number,))
    tokens = text.split()
    return Query("words", text, _searches(tokens), _content_words(tokens))


def _clean(token: str) -> str:
    """A token without the punctuation around it, nor a possessive `'s` (`Ngozi's` is `Ngozi`)."""
    return _POSSESSIVE.sub("", token.strip(_EDGE_PUNCTUATION)).strip(_EDGE_PUNCTUATION)


def _is_filler(token: str) -> bool:
    return fold(token) in FILLERS


def _content_words(tokens: list[str]) -> tuple[str, ...]:
    return tuple(word for token in tokens if not _is_filler(token) for word in words(_clean(token)))


def _searches(tokens: list[str]) -> tuple[str, ...]:
    """The texts to search for, in order: the whole query (fillers at its ends left out), its leading
    words, then each word alone, leading ones first. A word too short to name anyone is not one."""
    cleaned = [_clean(token) for token in tokens]
    content = [i for i, token in enumerate(cleaned) if words(token) and not _is_filler(token)]
    if not content:
        return ()
    keys = [" ".join(t for t in cleaned[content[0] : content[-1] + 1] if t)]
    named = [cleaned[i] for i in content]
    keys += [" ".join(named[:count]) for count in range(min(LEADING_WORDS, len(named) - 1), 0, -1)]
    keys += named[1:]
    seen: set[str] = set()
    unique = []
    for key in keys:
        if fold(key) not in seen and (len(key) >= 2 or not key.isascii()):
            seen.add(fold(key))
            unique.append(key)
    return tuple(unique)
