"""How many tokens a model's tokenizer makes of a text, estimated from above without a tokenizer.

Clients cut tool results by tokens, and models pay by them, so a text's budget is in tokens. A
tokenizer (cl100k and its kin) first splits text into pieces (a word with the space or mark before
it, up to three digits, a run of punctuation, a run of spaces or line breaks) and then encodes each
piece as one token or more. This follows the same split and counts each piece from above: a word
of plain letters one token per three letters (common words are one token whatever their length;
past 12 letters, one per two), a letter outside ASCII two or more, punctuation one per ASCII mark
and one per byte past the first of any other, a group of up to three digits one. On text of
words, names, numbers, dates and ids it counts more than cl100k, about a third more on timelines;
random characters (a key, base64) can take more. `bench/condense.py` and the tests compare it
with cl100k on the sandbox's data: it never counts fewer.
"""

from __future__ import annotations

import re

# A tokenizer's pieces (cl100k's pattern, with `[^\W\d_]` for a letter): contractions, a word with
# what precedes it, up to three digits, punctuation with the line breaks after it, whitespace.
_PIECES = re.compile(
    r"'(?:[sdmt]|ll|ve|re)|[^\r\n\w]?[^\W\d_]+|\d{1,3}| ?[^\s\w]+[\r\n]*|_+|\s*[\r\n]+|\s+(?!\S)|\s+",
    re.IGNORECASE,
)
# The parts of a word that a tokenizer seldom joins: `CreatedOn` is `Created` and `On`.
_CASE_PARTS = re.compile(r"[A-Z]*[a-z]*")


def estimate_tokens(text: str) -> int:
    """At least as many tokens as cl100k makes of `text`, seldom more than half again as many."""
    if text.isascii():
        return sum(_ascii_piece(piece) for piece in _PIECES.findall(text))
    return sum(_piece(piece) for piece in _PIECES.findall(text))


def _ascii_piece(piece: str) -> int:
    first = piece[0]
    if first.isalpha() or (len(piece) > 1 and piece[1].isalpha()):
        return sum(_letters(len(part)) for part in _CASE_PARTS.findall(piece))
    if first.isdigit() or first.isspace():
        return 1
    return len(piece.strip())  # punctuation: a token a mark at most


def _piece(piece: str) -> int:
    if piece.isascii():
        return _ascii_piece(piece)
    tokens = 0
    letters = 0
    for char in piece:
        if char.isascii():
            letters += char.isalpha()
            tokens += not char.isalnum() and not char.isspace()
        else:
            size = len(char.encode())
            tokens += max(size - 1, 2) if char.isalpha() else max(size - 1, 1)
    return max(tokens + _letters(letters), 1)


def _letters(count: int) -> int:
    """Tokens of a run of plain letters: a word is a token or a few; past 12 letters it is more likely
    an id or a key than a word, which tokenizers cut into pieces of two letters or so."""
    return (count + 2) // 3 if count <= 12 else (count + 1) // 2
