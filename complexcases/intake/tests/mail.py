"""Synthetic emails for the intake tests."""

from __future__ import annotations

import datetime as dt
import email.policy
import itertools
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

_ids = itertools.count(1)

MANAGER_ADDRESS = "manager@example.justice.invalid"  # the cast's manager (UserFactory's email)
STRANGER_ADDRESS = "someone@partner.example.invalid"

REFERRAL_BODY = """Hello team,

Please can you help with Y000001.

What is challenging:
He is hostile to staff and will not engage with the approved premises.

What support is sought:
Ideas for engagement and a psychology consultation.

--
A Practitioner
Probation Officer
"""


def make_email(
    *,
    sender: str | None = MANAGER_ADDRESS,
    subject: str = "Referral",
    body: str = REFERRAL_BODY,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    if sender is not None:
        message["From"] = f"Sender <{sender}>"
    message["To"] = "Complex Cases <complex.cases@justice.example>"
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.UTC))
    message["Message-ID"] = message_id or f"<test-{next(_ids)}@example.justice.invalid>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes(policy=email.policy.SMTP)  # CRLF, as stored by IMAP servers


UNKNOWN_CHARSET = (
    b"From: Sender <manager@example.justice.invalid>\r\n"
    b"To: complex.cases@justice.example\r\n"
    b"Subject: Broken\r\n"
    b"Message-ID: <broken-charset@example.justice.invalid>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=x-no-such-charset\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Referral for Y000001 \xff\xfe\r\n"
)

NO_FROM = (
    b"To: complex.cases@justice.example\r\n"
    b"Subject: No sender\r\n"
    b"Message-ID: <no-from@example.justice.invalid>\r\n"
    b"\r\n"
    b"Referral for Y000001: hostile to staff.\r\n"
)


def stored(ingested: Any) -> Any:
    """The InboundEmail an ingestion stored (it must have stored one)."""
    from complexcases.intake.models import InboundEmail

    assert ingested.inbound_email_id is not None
    return InboundEmail.objects.get(pk=ingested.inbound_email_id)
