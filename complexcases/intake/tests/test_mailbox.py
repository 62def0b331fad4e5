"""Reading the Complex Cases mailbox against a real IMAP server (dovecot on loopback)."""

from __future__ import annotations

import imaplib
import logging
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from complexcases.core.models import AuditEvent
from complexcases.intake import imap, services
from complexcases.intake.models import InboundEmail, MailboxCursor
from complexcases.intake.states import AttentionReason, InboundStatus
from complexcases.intake.tasks import poll_mailbox
from complexcases.intake.tests.mail import (
    MANAGER_ADDRESS,
    NO_FROM,
    STRANGER_ADDRESS,
    UNKNOWN_CHARSET,
    make_email,
)
from complexcases.notifications import services as notifications
from complexcases.notifications.models import OutboxMessage
from complexcases.notifications.rules import contains_crn_shaped_token
from complexcases.notifications.tests.fixtures import free_port
from complexcases.people.tests.factories import PersonFactory
from complexcases.referrals.models import Referral

pytestmark = pytest.mark.django_db

OTHER_REGION_CRN = "Y000077"


@pytest.fixture
def mailbox(imap_server: Any, settings: Any, world: Any) -> Any:
    imap_server.settings(settings)
    settings.CC_SERVICE_URL = "https://complexcases.example.invalid"
    return imap_server


def acks() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind=services.ACK_KIND).order_by("pk"))


def only_email() -> InboundEmail:
    (email,) = InboundEmail.objects.all()
    return email


def test_known_sender_naming_a_referable_crn_makes_a_referral_and_is_acknowledged(
    mailbox: Any, world: Any
) -> None:
    raw = make_email(subject="Referral Y000001")
    mailbox.append(raw)

    result = services.mailbox_poll()

    assert (result.read, result.referred, result.needs_attention, result.error) == (1, 1, 0, "")
    referral = Referral.objects.get()
    assert referral.person == world.person
    assert referral.referred_by == world.users["manager"]
    assert referral.route == "monthly_list"  # the person is eligible in the latest run
    assert referral.challenges == (
        "He is hostile to staff and will not engage with the approved premises."
    )
    assert referral.support_sought == "Ideas for engagement and a psychology consultation."
    email = only_email()
    assert (email.status, email.reason, email.referral) == (InboundStatus.REFERRED, "", referral)
    assert bytes(email.raw) == raw  # the original kept byte for byte
    assert email.sender_user == world.users["manager"]
    assert email.imap_uid is not None and email.imap_uidvalidity is not None
    assert [(t.from_status, t.to_status) for t in email.transitions.all()] == [("", "referred")]
    # Acknowledged: generic, with a reference and a link to the referral; no CRN, no names.
    (ack,) = acks()
    assert ack.to == [MANAGER_ADDRESS]
    assert ack.subject == "Complex Cases: your referral has been received"
    assert f"Reference: CC-EM-{email.pk}" in ack.body
    assert f"https://complexcases.example.invalid/referrals/{referral.pk}/" in ack.body
    assert not contains_crn_shaped_token(ack.subject + ack.body)
    assert world.person.surname not in ack.body
    # Flagged seen on the server; audited.
    assert "\\Seen" in next(iter(mailbox.flags().values()))
    assert AuditEvent.objects.filter(
        object_type="inbound_email", action="create", person_crn="Y000001"
    ).exists()
    assert AuditEvent.objects.filter(
        object_type="referral", action="create", actor_username="manager"
    ).exists()


def test_the_acknowledgement_reaches_the_sender_over_smtp(
    mailbox: Any, world: Any, smtp_server: Any
) -> None:
    mailbox.append(make_email())
    services.mailbox_poll()

    assert notifications.outbox_send_due()["sent"] == 1
    (received,) = smtp_server.received
    assert received.rcpt_tos == [MANAGER_ADDRESS]
    assert str(received.message["Subject"]) == "Complex Cases: your referral has been received"
    assert not contains_crn_shaped_token(received.message.get_body().get_content())


def test_unknown_sender_needs_attention_and_is_told_the_team_will_look(
    mailbox: Any, world: Any
) -> None:
    mailbox.append(make_email(sender=STRANGER_ADDRESS))

    result = services.mailbox_poll()

    assert (result.referred, result.needs_attention) == (0, 1)
    email = only_email()
    assert (email.status, email.reason) == ("needs_attention", AttentionReason.UNKNOWN_SENDER)
    assert email.sender_user is None and email.referral is None
    assert Referral.objects.count() == 0
    (ack,) = acks()
    assert ack.to == [STRANGER_ADDRESS]
    assert ack.subject == "Complex Cases: your email has been received"
    assert "The team will look at it" in ack.body
    assert not contains_crn_shaped_token(ack.body)


def test_known_sender_naming_no_crn_needs_attention(mailbox: Any, world: Any) -> None:
    mailbox.append(make_email(body="Please call me about one of my cases.\n"))

    services.mailbox_poll()

    assert (only_email().status, only_email().reason) == ("needs_attention", "no_crn")
    assert Referral.objects.count() == 0
    assert len(acks()) == 1


def test_crn_the_sender_may_not_refer_needs_attention_and_the_ack_reveals_nothing(
    mailbox: Any, world: Any
) -> None:
    PersonFactory(
        crn=OTHER_REGION_CRN,
        team=world.teams["C1"],
        pdu=world.pdus["C"],
        offender_manager=world.users["other_region_pp"].staff,
    )
    mailbox.append(make_email(body=f"Please help with {OTHER_REGION_CRN}: hostile to staff.\n"))
    mailbox.append(
        make_email(sender=STRANGER_ADDRESS, body="Please help with someone.\n"),
    )

    services.mailbox_poll()

    not_referable, stranger = InboundEmail.objects.order_by("imap_uid")
    assert (not_referable.status, not_referable.reason) == (
        "needs_attention",
        AttentionReason.CRN_NOT_REFERABLE,
    )
    assert Referral.objects.count() == 0
    # The refusal is audited as on the referral page.
    assert AuditEvent.objects.filter(
        action="refused", person_crn=OTHER_REGION_CRN, actor_username="manager"
    ).exists()
    # The acknowledgement says the same as to a stranger: nothing about the CRN or access.
    first, second = acks()
    assert first.subject == second.subject
    assert first.body.replace(not_referable.reference, "") == second.body.replace(
        stranger.reference, ""
    )
    assert not contains_crn_shaped_token(first.body)


def test_a_person_with_an_open_referral_needs_attention(mailbox: Any, world: Any) -> None:
    mailbox.append(make_email())
    mailbox.append(make_email())  # a second email about the same person (new Message-ID)

    result = services.mailbox_poll()

    assert (result.referred, result.needs_attention) == (1, 1)
    assert Referral.objects.count() == 1
    second = InboundEmail.objects.get(status="needs_attention")
    assert second.reason == AttentionReason.OPEN_REFERRAL


def test_the_same_message_seen_twice_makes_one_referral(mailbox: Any, world: Any) -> None:
    raw = make_email(message_id="<twice@example.justice.invalid>")
    mailbox.append(raw)
    assert services.mailbox_poll().referred == 1

    mailbox.clear_seen()  # someone marks it unread in a mail client
    mailbox.append(raw)  # and the same message is delivered again under a new UID
    again = services.mailbox_poll()

    assert (again.read, again.referred, again.duplicates) == (2, 0, 2)
    assert Referral.objects.count() == 1
    assert InboundEmail.objects.count() == 1
    assert len(acks()) == 1
    assert all("\\Seen" in flags for flags in mailbox.flags().values())
    # Nothing left to read.
    assert services.mailbox_poll().read == 0


def test_malformed_messages_need_attention_without_blocking_the_batch(
    mailbox: Any, world: Any
) -> None:
    mailbox.append(NO_FROM)
    mailbox.append(UNKNOWN_CHARSET)
    mailbox.append(make_email())

    result = services.mailbox_poll()

    assert (result.read, result.referred, result.needs_attention, result.failed) == (3, 1, 2, 0)
    no_from, bad_charset, good = InboundEmail.objects.order_by("imap_uid")
    assert (no_from.status, no_from.reason) == ("needs_attention", "malformed")
    assert (bad_charset.status, bad_charset.reason) == ("needs_attention", "malformed")
    assert bytes(bad_charset.raw) == UNKNOWN_CHARSET
    assert good.status == "referred"
    assert Referral.objects.count() == 1
    # No acknowledgement without a sender; the undecodable one still gets the generic one.
    assert [ack.to for ack in acks()] == [[MANAGER_ADDRESS], [MANAGER_ADDRESS]]
    assert all("\\Seen" in flags for flags in mailbox.flags().values())


def test_an_automatic_reply_is_not_acknowledged(mailbox: Any, world: Any) -> None:
    mailbox.append(
        make_email(
            sender=STRANGER_ADDRESS,
            subject="Out of office",
            body="I am away.",
            headers={"Auto-Submitted": "auto-replied"},
        )
    )

    services.mailbox_poll()

    assert only_email().status == "needs_attention"
    assert acks() == []


def test_mail_server_down_reports_failure_and_loses_nothing(
    mailbox: Any, world: Any, settings: Any
) -> None:
    mailbox.append(make_email())
    settings.CC_IMAP_PORT = free_port()  # nothing listens there

    down = services.mailbox_poll()

    assert down.error == "ConnectionRefusedError"
    assert down.read == 0
    assert InboundEmail.objects.count() == 0
    with pytest.raises(CommandError, match="could not be read"):
        call_command("read_mailbox")

    settings.CC_IMAP_PORT = mailbox.port
    back = services.mailbox_poll()

    assert (back.read, back.referred, back.error) == (1, 1, "")


def test_a_crash_between_storing_and_flagging_causes_only_a_harmless_reread(
    mailbox: Any, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox.append(make_email())

    def lost_connection(*args: Any, **kwargs: Any) -> None:
        raise imaplib.IMAP4.abort("socket error: EOF")

    with monkeypatch.context() as patch:
        patch.setattr(imap, "mark_processed", lost_connection)
        first = services.mailbox_poll()
    assert (first.referred, first.error) == (1, "abort")
    assert "\\Seen" not in next(iter(mailbox.flags().values()))

    second = services.mailbox_poll()

    assert (second.read, second.duplicates, second.referred) == (1, 1, 0)
    assert Referral.objects.count() == 1
    assert len(acks()) == 1
    assert "\\Seen" in next(iter(mailbox.flags().values()))


def test_a_message_someone_opened_before_the_poll_is_still_read(mailbox: Any, world: Any) -> None:
    mailbox.append(make_email(), flags="(\\Seen)")

    result = services.mailbox_poll()

    assert result.referred == 1
    cursor = MailboxCursor.objects.get()
    assert cursor.last_uid == only_email().imap_uid
    assert services.mailbox_poll().read == 0  # and not again


def test_a_database_failure_leaves_the_message_for_the_next_poll(
    mailbox: Any, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    mailbox.append(make_email())

    def database_down(**kwargs: Any) -> Any:
        raise OperationalError("database unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(services, "ingest_message", database_down)
        patch.setattr(services, "ingest_unprocessed", database_down)
        failed = services.mailbox_poll()
    assert (failed.read, failed.failed) == (1, 1)
    assert "\\Seen" not in next(iter(mailbox.flags().values()))
    assert not MailboxCursor.objects.exists()

    assert services.mailbox_poll().referred == 1


def test_an_unexpected_failure_keeps_the_message_for_the_team(
    mailbox: Any, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox.append(make_email())

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    with monkeypatch.context() as patch:
        patch.setattr(services, "ingest_message", broken)
        result = services.mailbox_poll()

    assert (result.needs_attention, result.failed) == (1, 0)
    assert (only_email().status, only_email().reason) == ("needs_attention", "not_processed")


def test_processed_messages_move_to_a_processed_folder_when_there_is_one(
    mailbox: Any, world: Any
) -> None:
    mailbox.create_folder("Processed")
    mailbox.append(make_email())

    services.mailbox_poll()

    assert mailbox.flags("INBOX") == {}
    assert ["\\Seen" in flags for flags in mailbox.flags("Processed").values()] == [True]


def test_the_command_prints_counts_and_the_task_polls(
    mailbox: Any, world: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    mailbox.append(make_email())
    mailbox.append(make_email(sender=STRANGER_ADDRESS))

    call_command("read_mailbox")
    out = capsys.readouterr().out
    assert out.strip() == (
        "read 2, referrals made 1, needs attention 1, duplicates skipped 0, failed 0"
    )

    mailbox.clear_seen()
    result = poll_mailbox.apply().get()
    assert (result["read"], result["duplicates"]) == (2, 2)


def test_no_personal_data_in_the_log(
    mailbox: Any, world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    mailbox.append(make_email(subject="About Y000001"))
    mailbox.append(NO_FROM)
    with caplog.at_level(logging.DEBUG):
        services.mailbox_poll()
    text = caplog.text
    assert "mailbox poll: read 2" in text
    for secret in ("Y000001", MANAGER_ADDRESS, "About", "hostile"):
        assert secret not in text


def test_without_a_host_the_poll_does_nothing_and_says_so(
    settings: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.CC_IMAP_HOST = ""
    with caplog.at_level(logging.INFO):
        result = services.mailbox_poll()
    assert not result.configured
    assert "no mailbox configured" in caplog.text
    call_command("read_mailbox")
    assert "No mailbox configured" in capsys.readouterr().out


def test_tls_connections_verify_the_server_certificate(monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    seen: dict[str, Any] = {}

    class Recorder:
        def __init__(self, host: str, port: int, **kwargs: Any) -> None:
            seen.update(kwargs)

        def login(self, user: str, password: str) -> None:
            return None

    monkeypatch.setattr(imaplib, "IMAP4_SSL", Recorder)
    imap.connect(host="imap.example.invalid", port=993, ssl=True, user="u", password="p")
    context = seen["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
