"""The outbox against a real SMTP server on loopback (aiosmtpd).

Sending happens through Django's SMTP backend to the `smtp_server` fixture; the received MIME is
parsed and checked. Tasks run eagerly here (the embedded default); test_celery_worker.py runs a real
worker on Redis.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from icalendar import Calendar

from complexcases.core.models import AuditEvent
from complexcases.notifications import services, tasks
from complexcases.notifications.ical import build_invitation
from complexcases.notifications.models import OutboxMessage, OutboxStatus

LONDON = ZoneInfo("Europe/London")
TO = ["practitioner@cc.example.invalid", "spo@cc.example.invalid"]
CC = ["programme.manager@cc.example.invalid"]
SUBJECT = "Complex Cases triage: Tuesday 3 March, 10:00"
BODY = "A triage meeting has been booked.\n\nhttps://complexcases.example.invalid/triage/42\n"
START = dt.datetime(2026, 3, 3, 10, 0, tzinfo=LONDON)


def _ics(method: str = "REQUEST", sequence: int = 0) -> bytes:
    return build_invitation(
        uid="complexcases-triage-42@cc.example.invalid",
        sequence=sequence,
        method=method,
        start=START,
        end=START + dt.timedelta(minutes=45),
        summary="Complex Cases triage",
        description="https://complexcases.example.invalid/triage/42",
        organiser=("programme.manager@cc.example.invalid", "Programme Manager"),
        attendees=[(address, "", "REQ-PARTICIPANT") for address in TO],
    )


def _enqueue(**overrides: Any) -> OutboxMessage:
    arguments: dict[str, Any] = {
        "to": TO,
        "cc": CC,
        "subject": SUBJECT,
        "body": BODY,
        "kind": "triage_invitation",
        "ref_type": "triage",
        "ref_id": "42",
    }
    arguments.update(overrides)
    with transaction.atomic():
        return services.outbox_enqueue(**arguments)


@pytest.fixture
def send_on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run on_commit callbacks (the send task, eagerly) when the enqueueing transaction ends."""

    def enqueue(**overrides: Any) -> OutboxMessage:
        with django_capture_on_commit_callbacks(execute=True):
            message = _enqueue(**overrides)
        message.refresh_from_db()
        return message

    return enqueue


def _parts(message: Any) -> dict[str, Any]:
    return {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}


@pytest.mark.django_db
def test_message_arrives_with_recipients_subject_text_invitation_and_message_id(
    smtp_server: Any, send_on_commit: Any
) -> None:
    row = send_on_commit(
        html="<p>A triage meeting has been booked.</p>", ics=_ics(), ics_method="REQUEST"
    )

    [received] = smtp_server.received
    assert sorted(received.rcpt_tos) == sorted(TO + CC)
    assert received.mail_from == "complex.cases@cc.example.invalid"
    message = received.message
    assert message["Message-ID"] == row.message_id
    assert row.message_id.endswith("@cc.example.invalid>")
    assert message["Subject"] == SUBJECT
    assert [a.strip() for a in str(message["To"]).split(",")] == TO
    assert str(message["Cc"]) == CC[0]
    assert message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n") == BODY
    assert "<p>A triage meeting" in message.get_body(preferencelist=("html",)).get_content()

    parts = _parts(message)
    inline = parts["text/calendar"]
    assert inline.get_param("method") == "REQUEST"
    attachment = parts["application/ics"]
    assert attachment.get_filename() == "invite.ics"
    for part in (inline, attachment):
        calendar = Calendar.from_ical(part.get_payload(decode=True))
        assert calendar["METHOD"] == "REQUEST"
        [event] = calendar.events
        assert event["UID"] == "complexcases-triage-42@cc.example.invalid"
        assert event.start == START

    assert row.status == OutboxStatus.SENT
    assert row.attempts == 1
    assert row.sent_at is not None


@pytest.mark.django_db
def test_invitation_enqueue_sends_a_generic_invitation_or_cancellation(
    smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    attendees = [
        ("programme.manager@cc.example.invalid", "Programme Manager", "CHAIR"),
        ("practitioner@cc.example.invalid", "Alex Practitioner", "REQ-PARTICIPANT"),
    ]
    uid = services.meeting_uid("triage", 42)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for method, sequence in (("REQUEST", 0), ("CANCEL", 1)):
            services.invitation_enqueue(
                uid=uid,
                sequence=sequence,
                method=method,
                title="Complex Cases triage",
                intro="A triage meeting has been booked.",
                start=START,
                end=START + dt.timedelta(minutes=45),
                path="/triage/42",
                organiser=("programme.manager@cc.example.invalid", "Programme Manager"),
                attendees=attendees,
                roles=["Programme Manager", "Probation Practitioner"],
                kind="triage_invitation",
                ref_type="triage",
                ref_id=42,
            )

    request, cancel = (r.message for r in smtp_server.received)
    assert request["Subject"] == "Complex Cases triage: Tuesday 3 March, 10:00"
    assert cancel["Subject"] == "Cancelled: Complex Cases triage: Tuesday 3 March, 10:00"
    body = request.get_body(preferencelist=("plain",)).get_content()
    assert "https://complexcases.example.invalid/triage/42" in body
    assert "Who: Programme Manager, Probation Practitioner" in body
    assert sorted(smtp_server.received[0].rcpt_tos) == sorted(a[0] for a in attendees)
    for message, method in ((request, "REQUEST"), (cancel, "CANCEL")):
        inline = _parts(message)["text/calendar"]
        assert inline.get_param("method") == method
        calendar = Calendar.from_ical(inline.get_payload(decode=True))
        assert calendar["METHOD"] == method
        assert calendar.events[0]["UID"] == uid
    assert request["Message-ID"] != cancel["Message-ID"]


@pytest.mark.django_db
def test_with_the_server_down_the_message_stays_queued_and_goes_when_it_returns(
    smtp_server: Any, send_on_commit: Any, time_machine: Any
) -> None:
    smtp_server.stop()
    before = timezone.now()
    row = send_on_commit()

    assert row.status == OutboxStatus.PENDING
    assert row.attempts == 1
    assert row.next_attempt_at > before
    assert row.last_error == "ConnectionRefusedError"
    assert row.sent_at is None

    # Not due yet: the sweep leaves it alone.
    assert tasks.send_due_outbox()["sent"] == 0
    smtp_server.start()
    assert tasks.send_due_outbox()["sent"] == 0
    assert smtp_server.received == []

    time_machine.move_to(row.next_attempt_at + dt.timedelta(seconds=1), tick=False)
    assert tasks.send_due_outbox() == {"sent": 1, "retry": 0, "failed": 0, "skipped": 0}

    [received] = smtp_server.received
    assert received.message["Message-ID"] == row.message_id
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 2, "")


@pytest.mark.django_db
def test_back_off_grows_with_each_failed_attempt(
    smtp_server: Any, send_on_commit: Any, time_machine: Any
) -> None:
    smtp_server.stop()
    row = send_on_commit()
    delays = []
    for _ in range(3):
        due = row.next_attempt_at
        time_machine.move_to(due, tick=False)
        assert tasks.send_due_outbox()["retry"] == 1
        row.refresh_from_db()
        delays.append(row.next_attempt_at - due)
    assert delays == [dt.timedelta(minutes=m) for m in (2, 4, 8)]
    assert row.attempts == 4


@pytest.mark.django_db
def test_a_worker_dying_after_smtp_accepted_causes_at_most_a_duplicate_with_the_same_message_id(
    smtp_server: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
    time_machine: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        row = _enqueue()
    real_mark_sent = services._mark_sent
    calls = {"n": 0}

    def dies_the_first_time(message_id: int, now: dt.datetime) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise SystemExit("worker killed between SMTP acceptance and marking sent")
        real_mark_sent(message_id, now)

    monkeypatch.setattr(services, "_mark_sent", dies_the_first_time)

    with pytest.raises(SystemExit):
        services.outbox_send(row.pk)
    assert len(smtp_server.received) == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENDING

    # A live worker might still be finishing: nothing happens until the row is stale.
    assert services.outbox_send_due()["sent"] == 0
    time_machine.move_to(
        timezone.now() + services.stale_after() + dt.timedelta(minutes=1), tick=False
    )
    assert services.outbox_send_due()["sent"] == 1
    assert services.outbox_send_due()["sent"] == 0  # and only once more

    received = smtp_server.received
    assert len(received) == 2
    assert {r.message["Message-ID"] for r in received} == {row.message_id}
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_a_message_written_in_a_transaction_that_rolls_back_is_never_sent(
    smtp_server: Any,
) -> None:
    with pytest.raises(RuntimeError, match="the change failed"), transaction.atomic():
        services.outbox_enqueue(to=TO, subject=SUBJECT, body=BODY, kind="triage_invitation")
        raise RuntimeError("the change failed")

    assert not OutboxMessage.objects.exists()
    assert services.outbox_send_due(now=timezone.now() + dt.timedelta(days=1))["sent"] == 0
    assert smtp_server.received == []

    # The same call in a transaction that commits is sent straight after the commit.
    with transaction.atomic():
        services.outbox_enqueue(to=TO, subject=SUBJECT, body=BODY, kind="triage_invitation")
    assert len(smtp_server.received) == 1


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused(smtp_server: Any) -> None:
    with pytest.raises(RuntimeError, match="inside the caller's transaction"):
        services.outbox_enqueue(to=TO, subject=SUBJECT, body=BODY, kind="triage_invitation")
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"subject": "Complex Cases triage for X123456"},
        {"body": "About the case of A000001, please join."},
        {"body": "https://complexcases.example.invalid/people/Z999999/"},
        {"html": "<p>Case <b>B654321</b></p>"},
        {
            "ics": _ics().replace(b"SUMMARY:Complex Cases triage", b"SUMMARY:Triage C111111"),
            "ics_method": "REQUEST",
        },
    ],
)
@pytest.mark.django_db
def test_a_crn_in_subject_body_html_or_invitation_is_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="CRN-shaped"):
        _enqueue(**overrides)
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"to": []}, "at least one recipient"),
        ({"to": ["not-an-address"]}, "not valid"),
        ({"to": "someone@cc.example.invalid"}, "lists of addresses"),
        ({"cc": ["bad address"]}, "not valid"),
        ({"kind": ""}, "kind"),
        ({"subject": "Two\nlines"}, "subject"),
        ({"ics": b"BEGIN:VCALENDAR"}, "go together"),
        ({"ics_method": "REQUEST"}, "go together"),
        ({"ics": _ics(), "ics_method": "PUBLISH"}, "ics_method"),
    ],
)
@pytest.mark.django_db
def test_invalid_messages_are_refused(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _enqueue(**overrides)
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_a_sent_message_is_never_sent_again(smtp_server: Any, send_on_commit: Any) -> None:
    row = send_on_commit()
    assert services.outbox_send(row.pk).outcome == "skipped"
    assert tasks.send_outbox_message(row.pk) == "skipped"
    far_future = timezone.now() + dt.timedelta(days=30)
    assert services.outbox_send_due(now=far_future)["sent"] == 0
    assert len(smtp_server.received) == 1


@pytest.mark.django_db
def test_a_permanent_refusal_fails_at_once_and_records_no_personal_data(
    smtp_server: Any, send_on_commit: Any
) -> None:
    for address in TO + CC:
        smtp_server.refuse(address)
    row = send_on_commit()
    assert row.status == OutboxStatus.FAILED
    assert row.attempts == 1
    assert row.last_error == "SMTPRecipientsRefused (SMTP 550)"


@pytest.mark.django_db
def test_gives_up_after_the_last_attempt_and_an_operator_can_requeue(
    smtp_server: Any, send_on_commit: Any, settings: Any, time_machine: Any
) -> None:
    settings.CC_OUTBOX_MAX_ATTEMPTS = 3
    smtp_server.stop()
    row = send_on_commit()
    for _ in range(2):
        time_machine.move_to(row.next_attempt_at, tick=False)
        tasks.send_due_outbox()
        row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 3)
    assert services.outbox_send_due(now=timezone.now() + dt.timedelta(days=1))["sent"] == 0

    smtp_server.start()
    with transaction.atomic():
        assert services.outbox_requeue(message_ids=[row.pk], actor="operator") == 1
    assert services.outbox_send_due()["sent"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)
    assert smtp_server.received[0].message["Message-ID"] == row.message_id
    assert AuditEvent.objects.filter(
        object_type="outbox_message", actor_username="operator"
    ).exists()


@pytest.mark.django_db
def test_send_outbox_command_sends_what_is_due(
    smtp_server: Any, send_on_commit: Any, time_machine: Any, capsys: Any
) -> None:
    smtp_server.stop()
    row = send_on_commit()
    smtp_server.start()
    time_machine.move_to(row.next_attempt_at, tick=False)
    call_command("send_outbox")
    assert "sent 1, to retry 0, failed 0" in capsys.readouterr().out
    assert len(smtp_server.received) == 1


@pytest.mark.django_db
def test_logs_name_no_recipient_subject_or_text(
    smtp_server: Any, send_on_commit: Any, caplog: Any, time_machine: Any
) -> None:
    caplog.set_level("DEBUG", logger="complexcases")
    smtp_server.stop()
    row = send_on_commit()
    smtp_server.start()
    time_machine.move_to(row.next_attempt_at, tick=False)
    tasks.send_due_outbox()
    assert "failed" in caplog.text and "sent" in caplog.text
    for secret in [*TO, *CC, SUBJECT, "triage meeting has been booked"]:
        assert secret not in caplog.text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_being_sent_by_another_worker_is_skipped_on_postgresql(smtp_server: Any) -> None:
    if connection.vendor != "postgresql":
        # Not a missing part: CI runs the suite on PostgreSQL too, where this runs.
        pytest.skip("PostgreSQL only (row locks); runs in the PostgreSQL pass")
    with transaction.atomic():
        row = services.outbox_enqueue(to=TO, subject=SUBJECT, body=BODY, kind="k")
    OutboxMessage.objects.filter(pk=row.pk).update(status=OutboxStatus.PENDING, sent_at=None)
    smtp_server.handler.received.clear()

    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        from django.db import connections

        try:
            with transaction.atomic():
                list(OutboxMessage.objects.select_for_update().filter(pk=row.pk))
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        assert services.outbox_send(row.pk).outcome == "skipped"
    finally:
        release.set()
        thread.join(10)
    assert smtp_server.received == []
    assert services.outbox_send(row.pk).outcome == "sent"
