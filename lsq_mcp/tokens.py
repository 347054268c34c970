"""How many tokens a model's tokenizer makes of a text, estimated from above without a tokenizer.

Clients cut tool results by tokens, and models pay by them, so a text's budget is in tokens. A
tokenizer (cl100k and its kin) first splits text into pieces (a word with the space or mark before
it, up to three digits, a run of punctuation, a run of spaces or line breaks), then encodes each
piece as one token or more. The estimate counts what each kind of piece can cost at most:

- letters: (letters + 6 per word) / 8, a word of 2 letters 1 token, of 10 letters 2 (most words
  are one token, names and rare words two or three), words counted from each capital
  (`CreatedOn` is two); a letter alone between digits or marks (`6f1c` in an id) a token; a run
  past 12 letters (an id, a key) three more per 13 letters;
- digits: a token per group of up to three, as tokenizers cut them;
- ASCII punctuation: a token per mark; a space: a token where it joins no word or mark (before a
  digit, a space or a line break); a line break: a token;
- any other character: a token per UTF-8 byte (`·`, the timeline's separator, one).

Each kind is counted in C: the text's UTF-8 bytes are mapped to one byte per kind of character
(`bytes.translate`), and the kinds and their boundaries are counted (`bytes.count`), so a
100 kB text takes about a millisecond. On timelines it counts a tenth to a half more than cl100k,
a fifth more as a rule: the text is mostly common words, dates, numbers, ids and marks. Text of
rare names only, or of random letters (a key, base64), can take more than it counts, which the
text budget's margin below clients' limits (20,000 tokens against 25,000) absorbs.
`bench/condense.py` and the tests compare it with cl100k on the sandbox's data, line by line:
it never counts fewer.
"""

from __future__ import annotations

import string


def _kinds() -> bytes:
    """The translation of a UTF-8 byte to its kind: a lower-case letter `a`, a capital `A`, a digit
    `0`, a space ` `, a line break `\\n`, ASCII punctuation `.`, any byte of another character `x`."""
    table = bytearray(b"x" * 256)
    for kind, chars in (
        (b"a", string.ascii_lowercase),
        (b"A", string.ascii_uppercase),
        (b"0", string.digits),
        (b" ", " \t\f\v"),
        (b"\n", "\r\n"),
        (b".", string.punctuation),
    ):
        for char in chars:
            table[ord(char)] = kind[0]
    return bytes(table)


_KINDS = _kinds()
# Letters `a` (whatever their case), digits `0`, anything else `_`: runs start at `_a`, `0a`, `_0`, `a0`.
_RUNS = bytes.maketrans(b"aA0 \n.x", b"aa0____")
_SEPARATOR = "·"
# Letters cost (letters + 6 per word) / 8 tokens (see the module's docstring).
_PER_WORD = 6
_LETTERS_PER_TOKEN = 8


def within(text: str, budget: int) -> bool:
    """Whether `text` is at most `budget` tokens: surely when it has no more UTF-8 bytes than that
    (a token is a byte at least), else as estimated."""
    return len(text) <= budget // 4 or len(text.encode()) <= budget or estimate_tokens(text) <= budget


def estimate_tokens(text: str) -> int:
    """At least as many tokens as cl100k makes of `text` (see the module's docstring)."""
    kinds = b"\n" + text.encode().translate(_KINDS) + b"\n"
    runs = kinds.translate(_RUNS)
    letters, digits = runs.count(b"a"), runs.count(b"0")
    # A word starts after what is not a letter, and again at a capital after a small letter.
    words = runs.count(b"_a") + runs.count(b"0a") + kinds.count(b"aA")
    # A letter alone between digits or marks (`6f1c` in an id) is a token of its own.
    alone = words - kinds.count(b"aA") - runs.count(b"_aa") - runs.count(b"0aa")
    numbers = runs.count(b"_0") + runs.count(b"a0")
    return (
        alone
        + -(-(letters - alone + _PER_WORD * (words - alone)) // _LETTERS_PER_TOKEN)
        + 3 * runs.count(b"a" * 13)
        + -(-(digits + 2 * numbers) // 3)
        + kinds.count(b".")
        + kinds.count(b" 0")
        + kinds.count(b" \n")
        + 2 * kinds.count(b"  ")
        + kinds.count(b"\n")
        - 2
        + kinds.count(b"x")
        - text.count(_SEPARATOR)
    )
