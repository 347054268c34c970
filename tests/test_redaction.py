"""No output, log line or error shows 8 consecutive characters of a key, however it is echoed.

A hostile LeadSquared echoes the keys back every way it can (in ExceptionType, in a long message
cut at the boundary, HTML-escaped in a 403 page, JSON-escaped, URL-encoded, in a header); the
errors our server gives, through the MCP client and through the CLI's output and logs, never
hold a piece of a key long enough to matter.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import urllib.parse
from collections.abc import Iterator

import pytest

from lsq_mcp.redaction import SECRET_WINDOW, redact, redact_answer, redact_json
from tests.conftest import LSQ_MCP, TOOL, text_of
from tests.hostile import (
    ACCESS_KEY,
    OPP,
    SECRET_KEY,
    HostileServer,
    Reply,
    Request,
    connect_to,
    hostile_env,
    json_reply,
    page,
    row,
    types_or,
)

pytestmark = pytest.mark.anyio

TOKEN = "mcp-T0ken/with+odd&chars<>$"


def _json_escaped(text: str) -> str:
    """As a .NET serialiser may write it: every character but letters and digits as \\uXXXX."""
    return "".join(c if c.isalnum() else f"\\u{ord(c):04x}" for c in text)


def _readings(text: str) -> list[str]:
    """`text` as is and unescaped each way a reader might undo an escape."""
    unjson = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text).replace("\\/", "/")
    return [text, html.unescape(text), urllib.parse.unquote(text), unjson]


def assert_no_piece_of_a_key(text: str, secrets: tuple[str, ...] = (ACCESS_KEY, SECRET_KEY)) -> None:
    for reading in _readings(text):
        for secret in secrets:
            for i in range(len(secret) - SECRET_WINDOW + 1):
                piece = secret[i : i + SECRET_WINDOW]
                assert piece not in reading, f"{piece!r} of a key in {text!r}"


def echoes() -> Iterator[Reply]:
    """Every way of echoing the keys back, one answer each."""
    for key in (ACCESS_KEY, SECRET_KEY):
        yield json_reply({"Status": "Error", "ExceptionType": f"MX{key}", "ExceptionMessage": "no"}, 500)
        for before in (250, 270, 280, 290, 295, 299):  # cut somewhere in the key by the 300-character clip
            yield json_reply({"Status": "Error", "ExceptionMessage": "x" * before + key}, 500)
        for before in (170, 185, 195, 199):  # the 200-character excerpt of a page that is not JSON
            page = f"<html><body>{'x' * before}{html.escape(key)}</body></html>"
            yield Reply(403, {"Content-Type": "text/html"}, page.encode())
            url_encoded = f"{'x' * before}{urllib.parse.quote(key)}"
            yield Reply(403, {"Content-Type": "text/plain"}, url_encoded.encode())
        yield Reply(418, body=f'{{"echo": "{_json_escaped(key)}"}}'.encode())
        yield Reply(401, body=json.dumps({"Message": f"Key {key} refused"}).encode())
        yield Reply(429, {"Content-Type": "text/plain"}, f"API calls exceeded the limit, key {key}".encode())
        yield Reply(200, {"Content-Encoding": f"gzip, {key}"}, b"not gzip at all")


async def test_keys_echoed_every_way_never_reach_the_model() -> None:
    replies = list(echoes())
    queue = iter(replies)

    def answer(_: Request) -> Reply:
        return next(queue)

    texts = []
    with HostileServer(types_or(answer)) as hostile:
        async with connect_to(hostile) as client:
            for _ in replies:
                result = await client.call_tool(TOOL, {"opportunity_id": OPP})
                assert result.is_error
                texts.append(text_of(result))
    for text in texts:
        assert_no_piece_of_a_key(text)
    # Not vacuous: most answers put a key where the error quotes them (the rest past the clip).
    assert sum("[redacted]" in text for text in texts) >= len(texts) // 2


async def test_keys_echoed_in_the_data_of_a_good_answer_never_reach_the_model() -> None:
    # A successful page whose notes, custom field, unreadable date and lead name hold a key (or its
    # upper case, or a piece of it HTML-escaped), as a LeadSquared user could have typed it.
    rows = [
        row(1, ActivityEvent_Note=f"the key is {SECRET_KEY}", mx_Custom_1=ACCESS_KEY.upper()),
        row(2, PACreatedOn={"x": SECRET_KEY}, LeadName=html.escape(ACCESS_KEY[3:15])),
        row(3, ActivityEvent_Note={"key": ACCESS_KEY}),  # an object where text belongs: read as text
    ]
    with HostileServer(types_or(lambda _: page(rows))) as hostile:
        async with connect_to(hostile) as client:
            result = await client.call_tool(TOOL, {"opportunity_id": OPP})
    assert not result.is_error, text_of(result)
    data = json.dumps(result.structured_content, ensure_ascii=False)
    for shown in (text_of(result), data, data.upper(), text_of(result).upper()):
        assert_no_piece_of_a_key(shown, (ACCESS_KEY.upper(), SECRET_KEY.upper()))
    assert "[redacted]" in text_of(result)
    assert result.structured_content is not None
    assert result.structured_content["returned"] == 3  # the rows stay; only the secrets go


def test_the_cli_output_and_logs_never_show_a_key() -> None:
    body = {
        "Status": "Error",
        "ExceptionType": f"MX{ACCESS_KEY}",
        "ExceptionMessage": f"{'x' * 290}{SECRET_KEY} / {html.escape(ACCESS_KEY)} / {TOKEN}",
    }
    with HostileServer(types_or(lambda _: json_reply(body, 500))) as hostile:
        env = {"PATH": "/usr/bin:/bin", **hostile_env(hostile, LSQ_MCP_TOKEN=TOKEN)}
        done = subprocess.run(
            [LSQ_MCP, "activities", OPP], env=env, capture_output=True, text=True, timeout=60, check=False
        )
    assert done.returncode == 1, done.stderr
    assert "500" in done.stderr
    assert_no_piece_of_a_key(done.stdout + done.stderr, (ACCESS_KEY, SECRET_KEY, TOKEN))


@pytest.mark.parametrize("secret", [ACCESS_KEY, SECRET_KEY, TOKEN, "0123456789abcdef" * 2])
def test_redact_leaves_no_piece_of_a_secret_cut_anywhere_or_escaped_any_way(secret: str) -> None:
    forms = [
        secret,
        html.escape(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),
        _json_escaped(secret),
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote(secret, safe="").lower(),
        urllib.parse.quote_plus(secret),
    ]
    for form in forms:
        for start in range(len(form)):
            for end in range(start + SECRET_WINDOW, len(form) + 1, 3):
                text = redact(f"before {form[start:end]} after", [secret])
                assert_no_piece_of_a_key(text, (secret,))


@pytest.mark.parametrize("secret", [ACCESS_KEY, SECRET_KEY, TOKEN, "OnlyLettersMakeThisSecret"])
def test_an_answer_holding_a_secret_escaped_after_other_escape_signs_is_redacted(secret: str) -> None:
    # The quick look at an answer's bytes must see past `%`, `&` and `\` that start no escape of a key's
    # character, and past non-ASCII text, to an escaped key further on.
    noise = 'Deal – 7% off, "R&D" &nbsp; &amp; &lt;p&gt; \\u003cb\\u003e %20 C:\\\\temp \\u00fc '
    forms = [
        secret.upper(),
        html.escape(secret),
        _json_escaped(secret),
        json.dumps(secret)[1:-1].replace("/", "\\/"),
        urllib.parse.quote(secret, safe=""),
        "".join(f"&#{ord(c)};" for c in secret),
        "".join(f"&#x{ord(c):X};" for c in secret.upper()),
        "".join(f"\\u{ord(c):04X}" for c in secret.upper()),
    ]
    for form in forms:
        answer = json.dumps({"List": [{"Note": noise * 50}]})[:-3] + form + '"}]}'
        text = redact_answer(answer.encode(), [secret])
        assert "[redacted]" in text, form
        assert_no_piece_of_a_key(text, (secret,))
    clean = json.dumps({"List": [{"Note": noise * 50}]}, ensure_ascii=False)
    assert redact_answer(clean.encode(), [secret]) == clean


def test_redact_reads_case_as_unicode_does() -> None:
    # The Kelvin sign lower-cases to `k`: spelled with it, a secret is still a secret.
    assert redact("key: abc\u212adefghij!", ["abckdefghij"]) == "key: [redacted]!"


def test_redact_finds_a_secret_wherever_it_is_in_a_long_text() -> None:
    # Only the regions around what the quick look finds are searched exactly: those must hold the
    # whole piece, at either end of a long text, as is or escaped, and after characters whose lower
    # case is longer than they are (`İ`), which would shift positions found in the lower-cased text.
    secret = "abcdefghij0123"
    for before in ("x" * 100_000, "İ" * 10 + "x" * 1000):
        for form in (secret, html.escape(secret), "".join(f"&#{ord(c)};" for c in secret)):
            text = redact(f"{before} {form} {before}", [secret])
            assert text == f"{before} [redacted] {before}", form


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("&#97\\u0031234567", "a1234567"),  # a decoded digit would make `&#97` another number
        ("ab23a3&#50\\u0032", "0ab23a322"),
        ("%\\u00361%62cdefgh", "61bcdefgh"),
        ("abcd&apos;efg", "abcd'efg"),
        ("defgh\\\\ijk", "abcdefgh\\ijklmnop"),  # JSON's \\ and \" stand for characters of a secret
        ('defgh\\"ijk', 'abcdefgh"ijklmnop'),
        ("abcdefg&#8490;", "abcdefgk"),  # the Kelvin sign, escaped: a `k`
        ("abcdefg\\u212A", "abcdefgk"),
        ("abcdefg\u212a", "abcdefgk"),
        ("abcdefg\u0130", "abcdefgi"),  # `İ`, whose lower case is `i` and a dot
        ("&#00000097;bcdefgh", "abcdefgh"),  # an entity padded with zeros
        # 100 backslashes (50 escaped ones), then the piece: a region that starts within them must pair
        # them as the whole text does, or it reads `\b` (a backspace) where the text has `b`
        ("\\" * 100 + "b4b&#100E\\u0035%30B", "13Bcb4bdE50BBDf"),
    ],
)
def test_escapes_of_a_secrets_characters_are_found_in_text_and_in_answers(text: str, secret: str) -> None:
    # Found by an independent check of every piece against every way of decoding once: the quick look
    # must send each of these to the exact search, in text and in an answer's bytes alike.
    assert "[redacted]" in redact(text, [secret])
    assert_no_piece_of_a_key(redact(text, [secret]), (secret,))
    assert redact_answer(text.encode(), iter([secret])) == redact(text, [secret])


def test_a_json_line_break_is_no_letter() -> None:
    # `\r\n` in JSON is a line break: it spells no `rn` of a key (whose `u$r…` would otherwise make
    # every line break of every note a place to search).
    assert redact("noisernmore, noise\\r\\nmore", ["noisernmore"]) == "[redacted], noise\\r\\nmore"


async def test_a_lone_surrogate_in_an_error_is_told_not_a_crash() -> None:
    # JSON's `\ud800` decodes to a lone surrogate, which the search for pieces cannot take as is.
    reply = json_reply({"Status": "Error", "ExceptionMessage": "bad \ud800 value " + SECRET_KEY}, 400)
    with HostileServer(types_or(lambda _: reply)) as hostile:
        async with connect_to(hostile) as client:
            result = await client.call_tool(TOOL, {"opportunity_id": OPP})
    assert result.is_error
    assert "bad" in text_of(result)
    assert "[redacted]" in text_of(result)
    assert_no_piece_of_a_key(text_of(result))


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("ab<i></i>cd<b>ef</b>gh", "abcdefgh"),  # tags between a secret's characters
        ("ab<span class='x'>cdefgh", "abcdefgh"),
        ("a&lt;i&gt;bcdefgh", "abcdefgh"),  # a tag escaped: read as text, then stripped
        ("&#9<i>8;cdefghi", "bcdefghi"),  # an escape split by a tag
        (">alik&#x65;%41x", ">alike%41x"),  # a secret holding what reads as another kind's escape
        ("k>Alik&#000107&#000101%41", "k>alikke%41"),
    ],
)
def test_a_secret_is_read_with_and_without_its_tags_and_each_kind_of_escape(text: str, secret: str) -> None:
    # Found by bench/leaks.py's oracle: each is a reading a model may make of the text.
    assert "[redacted]" in redact(text, [secret])
    assert "[redacted]" not in redact(text, ["zzzzzzzzzz"])


def test_redact_json_redacts_every_string_and_key_and_returns_clean_data_as_is() -> None:
    data = {"a": [1, "x abcdefgh y", {"ab<i></i>cdefgh": None}], "b": True}
    assert redact_json(data, ["abcdefgh"]) == {"a": [1, "x [redacted] y", {"[redacted]": None}], "b": True}
    clean = {"a": ["bold & 100% sure", "no tag, no escape"]}
    assert redact_json(clean, ["abcdefgh"]) is clean  # the quick look finds nothing to read closely
    tagged = {"a": ["<b>bold</b> &amp; 100%25", "\\u0041"]}
    assert redact_json(tagged, ["abcdefgh"]) == tagged


def test_redact_json_reads_closely_every_string_that_may_spell_a_piece() -> None:
    # A tag elsewhere sends the result to the close look; JSON escapes a secret's quote, so the
    # string holding it is among those read, though it holds no tag and no escape.
    data = {"a": 'x abc"defgh y', "b": ["<i>plain</i>"], "c": "ab&#99;defgh"}
    assert redact_json(data, ['abc"defgh']) == {
        "a": "x [redacted] y",
        "b": ["<i>plain</i>"],
        "c": "ab&#99;defgh",
    }
    assert redact_json(data, ["abcdefgh"])["c"] == "[redacted]"
