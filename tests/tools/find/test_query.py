"""Reading a query: its kind, the texts searched for in order, the words that may name the deal."""

from __future__ import annotations

import pytest

from lsq_mcp.tools.find.query import read_query


@pytest.mark.parametrize(
    ("text", "kind", "key", "searches", "words"),
    [
        ("acme renewal", "words", "acme renewal", ("acme renewal", "acme", "renewal"), ("acme", "renewal")),
        (
            "the Gold Coast Cocoa expansion",
            "words",
            "the Gold Coast Cocoa expansion",
            ("Gold Coast Cocoa expansion", "Gold Coast", "Gold", "Coast", "Cocoa", "expansion"),
            ("gold", "coast", "cocoa", "expansion"),
        ),
        ("Ngozi's deal", "words", "Ngozi's deal", ("Ngozi",), ("ngozi",)),
        (
            "Harbor & Finch",
            "words",
            "Harbor & Finch",
            ("Harbor & Finch", "Harbor", "Finch"),
            ("harbor", "finch"),
        ),
        ("  Zoë   MÜLLER ", "words", "Zoë MÜLLER", ("Zoë MÜLLER", "Zoë", "MÜLLER"), ("zoe", "muller")),
        ("陈伟", "words", "陈伟", ("陈伟",), ("陈伟",)),
        ("\u200bngo\u00adzi\u202e\x1b", "words", "ngozi", ("ngozi",), ("ngozi",)),
        ("a", "words", "a", (), ()),
        ("+91 98765 43210", "phone", "9876543210", ("9876543210", "+91 98765 43210"), ("9876543210",)),
        ("098765-43210", "phone", "9876543210", ("9876543210", "098765-43210"), ("9876543210",)),
        ("+233 24 412 3456", "phone", "244123456", ("244123456", "+233 24 412 3456"), ("244123456",)),
        ("0044 20 7946 0958", "phone", "2079460958", ("2079460958", "0044 20 7946 0958"), ("2079460958",)),
        ("+1 (415) 555-0132", "phone", "4155550132", ("4155550132", "+1 (415) 555-0132"), ("4155550132",)),
        ("+420 601 123 456", "phone", "601123456", ("601123456", "+420 601 123 456"), ("601123456",)),
        ("12345", "words", "12345", ("12345",), ("12345",)),  # too short for a phone
        ("+000000", "words", "+000000", ("+000000",), ("000000",)),  # no national digits
        ("zoe@acme.example renewal", "email", "zoe@acme.example", (), ("renewal",)),
        ("6F1C2A9E-4B7D-4E52-9C0A-1D3E5F7A9B21", "guid", "6f1c2a9e-4b7d-4e52-9c0a-1d3e5f7a9b21", (), ()),
    ],
)
def test_read_query(
    text: str, kind: str, key: str, searches: tuple[str, ...], words: tuple[str, ...]
) -> None:
    query = read_query(text)
    assert (query.kind, query.key, query.searches, query.words) == (kind, key, searches, words)
