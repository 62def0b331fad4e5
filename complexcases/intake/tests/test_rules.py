"""The pure rules: reading a message, finding CRNs, splitting the text, the dedupe key. No database."""

from __future__ import annotations

import datetime as dt

import pytest

from complexcases.intake import rules
from complexcases.intake.tests.mail import NO_FROM, UNKNOWN_CHARSET, make_email


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CRN X123456", ["X123456"]),
        ("crn: x123456.", ["X123456"]),
        ("(X123456)", ["X123456"]),
        ("X123456 and Y654321 and X123456", ["X123456", "Y654321"]),
        ("Subject: Re X123456\nBody about X123456", ["X123456"]),
        ("X1234567", []),  # seven digits
        ("AX123456", []),  # inside a longer word
        ("X12345", []),
        ("X123456B", []),
        ("ref 20261026T100000", []),
        ("phone 07700 900123", []),
        ("", []),
    ],
)
def test_extract_crns(text: str, expected: list[str]) -> None:
    assert rules.extract_crns(text) == expected


@pytest.mark.parametrize(
    ("value", "ok"), [("X123456", True), ("x123456", False), ("X12345", False), ("", False)]
)
def test_is_crn(value: str, ok: bool) -> None:
    assert rules.is_crn(value) is ok


D = rules.DEFAULT_SUPPORT_SOUGHT


@pytest.mark.parametrize(
    ("body", "challenges", "support"),
    [
        ("He will not engage.", "He will not engage.", D),
        ("", "", ""),
        (
            "Hi\n\nWhat is challenging?\nHostile.\n\nWhat support is sought?\nIdeas.\n",
            "Hostile.",
            "Ideas.",
        ),
        ("Challenges: hostile to staff\nSupport sought: ideas", "hostile to staff", "ideas"),
        ("## What is challenging about this case\nA\nB\n", "A\nB", D),
        ("Intro text\n\nSupport needed:\nA psychologist", "Intro text", "A psychologist"),
        (
            "**Support sought**\nAdvice\n**What's challenging**\nHousing",
            "Housing",
            "Advice",
        ),
        # A sentence that starts like a heading is not one.
        ("Challenges are many here.", "Challenges are many here.", D),
        # The signature goes.
        ("Hostile to staff.\n-- \nA Practitioner\nPO", "Hostile to staff.", D),
        # An empty challenge section falls back to the text before it.
        ("Please help.\nWhat is challenging:\n\nSupport sought: advice", "Please help.", "advice"),
        ("Line one\r\nLine two\r\n", "Line one\nLine two", D),
    ],
)
def test_split_body(body: str, challenges: str, support: str) -> None:
    assert rules.split_body(body) == (challenges, support)


def test_dedupe_key_by_message_id_and_sender() -> None:
    key = rules.dedupe_key(message_id="<a@b>", sender="P@X.example", raw=b"one")
    assert len(key) == 64
    # The same message, however delivered (other bytes, the address in another case).
    assert key == rules.dedupe_key(message_id=" <a@b> ", sender="p@x.example", raw=b"two")
    # Another sender re-using the id is another message.
    assert key != rules.dedupe_key(message_id="<a@b>", sender="q@x.example", raw=b"one")


def test_dedupe_key_without_message_id_is_by_the_bytes() -> None:
    one = rules.dedupe_key(message_id="", sender="p@x.example", raw=b"one")
    assert one == rules.dedupe_key(message_id="  ", sender="p@x.example", raw=b"one")
    assert one != rules.dedupe_key(message_id="", sender="p@x.example", raw=b"two")
    assert one != rules.dedupe_key(message_id="one", sender="p@x.example", raw=b"one")


def test_parse_a_plain_message() -> None:
    parsed = rules.parse_message(
        make_email(subject="About Y000001", message_id="<m1@example.invalid>")
    )
    assert parsed.problem == ""
    assert parsed.sender == "manager@example.justice.invalid"
    assert parsed.subject == "About Y000001"
    assert parsed.message_id == "<m1@example.invalid>"
    assert parsed.sent_at == dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.UTC)
    assert parsed.crns == ["Y000001"]
    assert "hostile to staff" in parsed.body
    assert not parsed.auto_reply


def test_parse_html_only_and_encoded_headers() -> None:
    raw = (
        b"From: =?utf-8?q?Ren=C3=A9e?= <r@example.invalid>\r\n"
        b"Subject: =?utf-8?q?Caf=C3=A9?=\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><style>p{}</style></head><body><p>What is challenging?</p>"
        b"<p>Hostile &amp; withdrawn</p><script>x()</script></body></html>"
    )
    parsed = rules.parse_message(raw)
    assert parsed.problem == ""
    assert parsed.sender == "r@example.invalid"
    assert parsed.subject == "Café"
    assert parsed.body == "What is challenging?\n\nHostile & withdrawn"
    assert rules.split_body(parsed.body)[0] == "Hostile & withdrawn"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (NO_FROM, "no_sender"),
        (UNKNOWN_CHARSET, "undecodable"),
        (b"\x00\xff\xfe garbage", "no_sender"),
        (b"", "no_sender"),
        (b"From: not an address\r\n\r\nhello", "no_sender"),
    ],
)
def test_malformed_messages_are_reported_not_raised(raw: bytes, problem: str) -> None:
    parsed = rules.parse_message(raw)
    assert parsed.problem == problem
    assert parsed.crns == []


@pytest.mark.parametrize(
    ("header", "value", "auto"),
    [
        ("Auto-Submitted", "auto-replied", True),
        ("Auto-Submitted", "no", False),
        ("Precedence", "bulk", True),
        ("X-Autoreply", "yes", True),
        ("List-Id", "<list.example>", True),
        ("X-Other", "x", False),
    ],
)
def test_automatic_messages_are_recognised(header: str, value: str, auto: bool) -> None:
    assert rules.parse_message(make_email(headers={header: value})).auto_reply is auto
