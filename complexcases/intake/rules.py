"""Pure decisions about an email sent to the Complex Cases mailbox: reading it, finding the CRN,
splitting the text, and the key that stops it being processed twice.

No Django imports: bytes and strings in, plain values out, tested with tables of cases
(tests/test_rules.py). Nothing here raises for a bad message: a message that cannot be read is
returned with `problem` set, so one bad message never stops a batch.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from html.parser import HTMLParser

# A CRN is a letter and six digits (DESIGN.md section 3). People write them in lower case too.
CRN_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])([A-Za-z][0-9]{6})(?![A-Za-z0-9])")
CRN_EXACT = re.compile(r"[A-Z][0-9]{6}")

DEFAULT_SUPPORT_SOUGHT = "Not stated separately in the email: see the original email."

SUBJECT_MAX = 998
ADDRESS_MAX = 254


@dataclass(frozen=True)
class ParsedEmail:
    """What the service reads from one raw message.

    `problem` is "" for a readable message, otherwise why it is malformed ("no_sender",
    "undecodable", "unparseable"); such a message needs attention and is still stored whole.
    """

    sender: str = ""
    subject: str = ""
    message_id: str = ""
    sent_at: dt.datetime | None = None
    body: str = ""
    auto_reply: bool = False
    problem: str = ""
    crns: list[str] = field(default_factory=list)


# --- CRNs -------------------------------------------------------------------------------------


def is_crn(value: str) -> bool:
    return CRN_EXACT.fullmatch(value) is not None


def extract_crns(text: str) -> list[str]:
    """The CRN-shaped tokens in `text`, upper-cased, each once, in the order they appear."""
    found: list[str] = []
    for match in CRN_IN_TEXT.finditer(text):
        crn = match.group(1).upper()
        if crn not in found:
            found.append(crn)
    return found


# --- splitting the text -----------------------------------------------------------------------

_CHALLENGE = (
    r"what\s+is\s+challenging(?:\s+about\s+(?:this|the)\s+case)?"
    r"|what'?s\s+challenging(?:\s+about\s+(?:this|the)\s+case)?"
    r"|(?:the\s+)?challenges?"
    r"|what\s+is\s+the\s+challenge"
)
_SUPPORT = (
    r"what\s+support\s+is\s+sought"
    r"|what\s+support\s+(?:are\s+you|am\s+i|are\s+we)\s+looking\s+for"
    r"|what\s+support\s+(?:is\s+needed|would\s+help)"
    r"|support\s+(?:sought|needed|requested|wanted)"
)
# A heading is a line of its own ("What is challenging?", "## Support sought:") or a label
# followed by its text on the same line ("Challenges: will not engage").
_HEADING = re.compile(
    rf"^[\s#*>_-]*(?P<name>{_CHALLENGE}|{_SUPPORT})[\s*_]*"
    r"(?:[:?][\s*_]*(?P<rest>.*?)|)\s*$",
    re.IGNORECASE,
)
_SUPPORT_NAME = re.compile(rf"^(?:{_SUPPORT})$", re.IGNORECASE)


def _strip_signature(text: str) -> str:
    """Drop the signature block after the standard "-- " delimiter line."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.rstrip("\r") in ("-- ", "--"):
            return "\n".join(lines[:index])
    return text


def split_body(body: str) -> tuple[str, str]:
    """(what is challenging, what support is sought) from the email's text.

    With headings for both, each gets its section. With only a challenge heading, that section
    is the challenges and the support is a plain sentence; with only a support heading, the rest
    of the text is the challenges. Without headings the whole text is the challenges. The
    signature is dropped; the original email is kept with the referral anyway.
    """
    text = _strip_signature(body.replace("\r\n", "\n").replace("\r", "\n"))
    sections: dict[str, list[str]] = {"preamble": []}
    current = "preamble"
    for line in text.split("\n"):
        match = _HEADING.match(line)
        if match is not None:
            name = " ".join(match.group("name").split())
            current = "support" if _SUPPORT_NAME.match(name) else "challenges"
            sections.setdefault(current, [])
            rest = match.group("rest")
            if rest:
                sections[current].append(rest)
            continue
        sections[current].append(line)
    preamble = "\n".join(sections["preamble"]).strip()
    challenges = "\n".join(sections.get("challenges", [])).strip()
    support = "\n".join(sections.get("support", [])).strip()
    if "challenges" not in sections:
        challenges = preamble
    if not challenges:
        challenges = preamble
    return challenges, support or (DEFAULT_SUPPORT_SOUGHT if challenges else "")


# --- the dedupe key ---------------------------------------------------------------------------


def dedupe_key(*, message_id: str, sender: str, raw: bytes) -> str:
    """The key that identifies a message however often it is read (sha256, hex).

    With a Message-ID: the Message-ID and the sender's address, so the same message read twice,
    or delivered twice (a second copy with a new IMAP UID), has the same key, while another
    sender's message cannot be swallowed by re-using an id. Without one: the raw bytes.
    """
    if message_id.strip():
        basis = f"message-id\n{message_id.strip()}\n{sender.strip().lower()}".encode()
    else:
        basis = b"raw\n" + raw
    return hashlib.sha256(basis).hexdigest()


# --- reading a message ------------------------------------------------------------------------


class _TextFromHtml(HTMLParser):
    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
    _SKIP = frozenset({"script", "style", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextFromHtml()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _one_line(value: object, limit: int) -> str:
    return " ".join(str(value).split())[:limit]


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the parser cannot make sense of: treat as absent
        return ""
    return "" if value is None else str(value)


def _sender(message: Message) -> str:
    try:
        header = message.get("From")
        addresses = getattr(header, "addresses", ()) if header is not None else ()
    except Exception:  # an unparseable From header is no sender
        return ""
    for address in addresses:
        addr_spec = str(address.addr_spec or "")
        if "@" in addr_spec and " " not in addr_spec:
            return addr_spec[:ADDRESS_MAX]
    return ""


def _sent_at(message: Message) -> dt.datetime | None:
    try:
        header = message.get("Date")
        value = getattr(header, "datetime", None) if header is not None else None
    except Exception:  # a broken Date header: the date is simply unknown
        return None
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def is_auto_reply(message: Message) -> bool:
    """An automatic message (out of office, bounce, list): acknowledging it could start a loop."""
    auto_submitted = _header(message, "Auto-Submitted").strip().lower()
    precedence = _header(message, "Precedence").strip().lower()
    return (
        (auto_submitted not in ("", "no"))
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or bool(_header(message, "X-Autoreply") or _header(message, "X-Autorespond"))
        or bool(_header(message, "List-Id"))
    )


def _body(message: EmailMessage) -> str:
    """The text of the message: its plain part, else its HTML part as text. Raises LookupError or
    UnicodeError when the text cannot be decoded."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    return content.replace("\r\n", "\n").strip()


def parse_message(raw: bytes) -> ParsedEmail:
    """Read a raw RFC 5322 message. Never raises: problems are reported in `problem`."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:  # the parser is lenient; anything it still refuses is unparseable
        return ParsedEmail(problem="unparseable")
    assert isinstance(message, EmailMessage)
    sender = _sender(message)
    subject = _one_line(_header(message, "Subject"), SUBJECT_MAX)
    message_id = _one_line(_header(message, "Message-ID"), SUBJECT_MAX)
    problem = "" if sender else "no_sender"
    try:
        body = _body(message)
    except (LookupError, UnicodeError, ValueError, KeyError):
        # An unknown charset or broken encoding: keep what can be shown, flag it.
        body = raw.decode("utf-8", errors="replace")
        problem = problem or "undecodable"
    return ParsedEmail(
        sender=sender,
        subject=subject,
        message_id=message_id,
        sent_at=_sent_at(message),
        body=body,
        auto_reply=is_auto_reply(message),
        problem=problem,
        crns=extract_crns(f"{subject}\n{body}") if not problem else [],
    )


def raw_as_text(raw: bytes) -> str:
    """The raw message as text for display, undecodable bytes replaced."""
    return raw.decode("utf-8", errors="replace")
