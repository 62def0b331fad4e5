"""Every write of the notifications app: the email outbox and the nDelius contact queue.

Outbox: how a message is sent once and never lost
-------------------------------------------------
1. `outbox_enqueue` writes an OutboxMessage row *inside the caller's transaction*, next to the
   change that causes it, and registers `transaction.on_commit` to schedule the Celery task. If the
   transaction rolls back, the row and the scheduling vanish together: nothing is sent. If the
   commit succeeds but the broker is unreachable, the row is still there (status pending).
2. `outbox_send` (called by the task `send_outbox_message`, by the periodic task
   `send_due_outbox` and by `manage.py send_outbox`) claims the row in a short transaction: it
   locks it (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL) and moves it from pending to sending,
   counting the attempt. Only one worker can claim a row; the others skip it.
3. Outside any transaction it hands the email to Django's email backend (SMTP in production), with
   the row's Message-ID, which was fixed when the row was created.
4. It marks the row sent. On a failure it records the exception class and SMTP code (never the
   addresses or text), and schedules the next attempt with exponential back-off (rules.py); a 5xx
   reply or too many attempts marks it failed, for an operator to see and requeue.
5. The periodic sweep picks up every pending row whose next attempt is due, so a message queued
   while the broker or the mail server was down goes out when they return. It also rescues rows
   left in "sending" for longer than CC_OUTBOX_STALE_MINUTES: their worker died.

The one crash window SMTP leaves open: a worker that dies after the SMTP server accepted the
message (step 3) and before the row is marked sent (step 4). The row stays "sending", is rescued by
the sweep and sent again, with the SAME Message-ID, because the id is stored in the row rather than
made at send time. The outcome is at most a duplicate that mail servers and clients can recognise
and de-duplicate, never a loss. No SMTP-based system can do better: the server's acceptance and our
database commit cannot be made atomic. The SMTP timeout (EMAIL_TIMEOUT) must stay well below
CC_OUTBOX_STALE_MINUTES so that a slow but live worker is never mistaken for a dead one.

Email leaves the secure system, so `outbox_enqueue` is the single place that refuses a subject,
body or invitation holding a CRN-shaped token; wording comes from rules.meeting_subject and
rules.notification_body, which name roles and times and link into the service.

nDelius contacts
----------------
`delius_contact_queue` queues one contact per (event, source): calling it again for the same source
returns the existing contact. `delius_contacts_export` writes the pending contacts and marks them
exported in one transaction, so each is exported exactly once; `delius_batch_reexport` repeats a
past batch only when asked explicitly. Both are disclosures and are audited.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q

from complexcases.core import clock
from complexcases.core.audit import audit_record
from complexcases.notifications import ical, rules
from complexcases.notifications.models import (
    DeliusContact,
    DeliusEvent,
    DeliusExportBatch,
    IcsMethod,
    OutboxMessage,
    OutboxStatus,
)
from complexcases.people.models import Person

logger = logging.getLogger(__name__)

DEFAULT_CONTACT_TYPES = {
    DeliusEvent.REFLECTIVE_CONVERSATION.value: "CCRC",
    DeliusEvent.TRIAGE_BOOKED.value: "CCTB",
    DeliusEvent.TRIAGE_OUTCOME.value: "CCTO",
    DeliusEvent.PANEL_OUTCOME.value: "CCPO",
}
EXPORT_COLUMNS = (
    "external_reference",
    "crn",
    "contact_type",
    "contact_date",
    "staff_code",
    "sensitive",
    "notes",
)
EXPORT_RECIPIENTS = ["nDelius upload"]
_UPDATE_CHUNK = 500

# ---------------------------------------------------------------------------------------------
# Configuration (read with defaults: settings are owned elsewhere)


def retry_policy() -> rules.RetryPolicy:
    default = rules.DEFAULT_RETRY_POLICY
    return rules.RetryPolicy(
        base_seconds=int(getattr(settings, "CC_OUTBOX_RETRY_BASE_SECONDS", default.base_seconds)),
        factor=default.factor,
        cap_seconds=int(getattr(settings, "CC_OUTBOX_RETRY_CAP_SECONDS", default.cap_seconds)),
        max_attempts=int(getattr(settings, "CC_OUTBOX_MAX_ATTEMPTS", default.max_attempts)),
    )


def stale_after() -> dt.timedelta:
    """How long a row may stay "sending" before the sweep treats its worker as dead."""
    return dt.timedelta(minutes=int(getattr(settings, "CC_OUTBOX_STALE_MINUTES", 10)))


def mail_from() -> str:
    return str(getattr(settings, "CC_MAIL_FROM", "") or settings.DEFAULT_FROM_EMAIL)


def service_link(path: str) -> str:
    """An absolute link into the service: CC_SERVICE_URL + path."""
    base = str(getattr(settings, "CC_SERVICE_URL", "http://127.0.0.1:8000")).rstrip("/")
    return f"{base}/{path.lstrip('/')}"


def delius_contact_types() -> dict[str, str]:
    """The nDelius contact type code per event: CC_DELIUS_CONTACT_TYPES over the defaults."""
    return {**DEFAULT_CONTACT_TYPES, **getattr(settings, "CC_DELIUS_CONTACT_TYPES", {})}


def meeting_uid(meeting_type: str, meeting_id: int | str) -> str:
    """The iCalendar UID of a meeting: stable for its life, e.g. 'triage-42@<mail domain>'."""
    from complexcases.notifications.models import message_id_domain

    return f"complexcases-{meeting_type}-{meeting_id}@{message_id_domain()}"


# ---------------------------------------------------------------------------------------------
# Outbox: enqueue


def _validate_addresses(addresses: Iterable[str], field: str) -> list[str]:
    result = []
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            raise ValueError(f"{field} holds an address that is not valid") from None
        result.append(str(address))
    return result


def outbox_enqueue(
    *,
    to: Sequence[str],
    subject: str,
    body: str,
    cc: Sequence[str] = (),
    html: str | None = None,
    ics: bytes | str | None = None,
    ics_method: str | None = None,
    kind: str,
    ref_type: str = "",
    ref_id: str | int = "",
    attachment: tuple[str, bytes, str] | None = None,
) -> OutboxMessage:
    """Queue an email, to be sent after the caller's transaction commits.

    Must be called inside the transaction that makes the change causing the email
    (`transaction.atomic()`), so the message exists if and only if the change does; raises
    RuntimeError otherwise. Raises ValueError for invalid addresses, a missing kind, an .ics without
    its method (or the reverse), or a subject, body or invitation holding a CRN-shaped token (email
    carries no personal data). `attachment` (file name, bytes, MIME type) is attached as given and
    is NOT checked: callers attach a file holding personal data only where a setting says the mail
    system is accredited for it (panel papers: CC_PANEL_PAPERS_ATTACH, off by default).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue must be called inside the caller's transaction.atomic()")
    if isinstance(to, str) or isinstance(cc, str):
        raise ValueError("to and cc are lists of addresses")
    to_list = _validate_addresses(to, "to")
    cc_list = _validate_addresses(cc, "cc")
    if not to_list:
        raise ValueError("a message needs at least one recipient")
    if not kind:
        raise ValueError("kind is required")
    if not subject.strip() or "\n" in subject or "\r" in subject:
        raise ValueError("subject must be one non-empty line")
    ics_text = ics.decode("utf-8") if isinstance(ics, bytes) else (ics or "")
    method = ics_method or ""
    if bool(ics_text) != bool(method):
        raise ValueError("an .ics attachment and its method go together")
    if method and method not in IcsMethod.values:
        raise ValueError(f"ics_method must be one of {IcsMethod.values}")
    for name, text in (
        ("subject", subject),
        ("body", body),
        ("html", html or ""),
        ("ics", ics_text),
    ):
        if rules.contains_crn_shaped_token(text):
            # The text itself is not repeated here: it is what must not leak.
            raise ValueError(
                f"the email {name} holds a CRN-shaped token; email must not identify people"
            )

    message = OutboxMessage.objects.create(
        kind=kind,
        ref_type=ref_type,
        ref_id=str(ref_id),
        to=to_list,
        cc=cc_list,
        subject=subject,
        body=body,
        html_body=html or "",
        ics=ics_text,
        ics_method=method,
        attachment_name=attachment[0] if attachment else "",
        attachment_type=attachment[2] if attachment else "",
        attachment=attachment[1] if attachment else None,
    )
    # robust: a broker outage must not fail the caller's request after its commit. The row is
    # already committed, and the periodic sweep will send it.
    transaction.on_commit(partial(_schedule_send, message.pk), robust=True)
    return message


def _schedule_send(message_id: int) -> None:
    from complexcases.notifications.tasks import send_outbox_message

    try:
        send_outbox_message.delay(message_id)
    except Exception as exc:  # broker down, eager send failure: the sweep picks the row up
        logger.warning(
            "outbox message %s not scheduled now (%s); the periodic sweep will send it",
            message_id,
            type(exc).__name__,
        )


def invitation_enqueue(
    *,
    uid: str,
    sequence: int,
    method: str,
    title: str,
    intro: str,
    start: dt.datetime,
    end: dt.datetime,
    path: str,
    organiser: tuple[str, str],
    attendees: Sequence[tuple[str, str, str]],
    roles: Sequence[str] = (),
    kind: str,
    ref_type: str = "",
    ref_id: str | int = "",
    attachment: tuple[str, bytes, str] | None = None,
) -> OutboxMessage:
    """Queue a meeting invitation (method REQUEST) or cancellation (CANCEL) to every attendee.

    The subject and body are generic (title, London time, roles, a link to `path`); the same body
    is the event's description. Call inside the caller's transaction, with a stable `uid` per meeting
    (see meeting_uid) and a `sequence` higher than any sent before for that meeting.
    """
    link = service_link(path)
    cancelled = method == IcsMethod.CANCEL
    subject = rules.meeting_subject(title, start, cancelled=cancelled)
    body = rules.notification_body(intro=intro, link=link, roles=roles, start=start, end=end)
    ics = ical.build_invitation(
        uid=uid,
        sequence=sequence,
        method=method,
        start=start,
        end=end,
        summary=title,
        description=body,
        organiser=organiser,
        attendees=attendees,
        url=link,
    )
    return outbox_enqueue(
        to=[email for email, _, _ in attendees],
        subject=subject,
        body=body,
        ics=ics,
        ics_method=method,
        kind=kind,
        ref_type=ref_type,
        ref_id=ref_id,
        attachment=attachment,
    )


# ---------------------------------------------------------------------------------------------
# Outbox: send


@dataclass(frozen=True)
class SendResult:
    """What one call of outbox_send did.

    outcome: "sent"; "retry" (failed, next attempt at retry_at); "failed" (given up);
    "skipped" (already sent or failed, not due, or claimed by another worker).
    """

    outcome: str
    retry_at: dt.datetime | None = None


def _claimable(now: dt.datetime) -> Q:
    return Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, claimed_at__lte=now - stale_after()
    )


def _claim(message_id: int, now: dt.datetime, policy: rules.RetryPolicy) -> OutboxMessage | None:
    """Move a due row to "sending" and count the attempt; None if it is not ours to send."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(_claimable(now), pk=message_id)
            .first()
        )
        if message is None:
            return None
        if policy.gives_up(message.attempts):
            # A row rescued from "sending" after its last allowed attempt: a worker died on it
            # every time. Stop rather than crash workers for ever.
            OutboxMessage.objects.filter(pk=message_id).update(
                status=OutboxStatus.FAILED, last_error="GaveUp (worker stopped during sending)"
            )
            logger.error("outbox message %s failed: attempts used up", message_id)
            return None
        # The conditional update is the claim itself; on SQLite (no row locks) it is what keeps
        # two senders apart.
        claimed = (
            OutboxMessage.objects.filter(_claimable(now), pk=message_id).update(
                status=OutboxStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
            == 1
        )
        if not claimed:
            return None
        message.status = OutboxStatus.SENDING
        message.claimed_at = now
        message.attempts += 1
        return message


class _OutboxEmail(EmailMultiAlternatives):
    """An email whose text/calendar parts carry the iTIP method, as calendar clients require."""

    def __init__(self, *args: Any, ics_method: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ics_method = ics_method

    def message(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        msg = super().message(*args, **kwargs)
        if self.ics_method:
            for part in msg.walk():
                if part.get_content_type() == "text/calendar":
                    part.set_param("method", self.ics_method, requote=False)
        return msg


def build_email(message: OutboxMessage) -> EmailMultiAlternatives:
    """The Django email for an outbox row: its Message-ID, text, optional HTML and invitation."""
    email = _OutboxEmail(
        subject=message.subject,
        body=message.body,
        from_email=mail_from(),
        to=list(message.to),
        cc=list(message.cc),
        headers={"Message-ID": message.message_id},
        ics_method=message.ics_method,
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    if message.ics:
        # Inline text/calendar part (what Outlook, Gmail and Apple Mail act on) and the same
        # invitation as a file for clients that only offer attachments.
        email.attach_alternative(message.ics, "text/calendar")
        email.attach("invite.ics", message.ics.encode("utf-8"), "application/ics")
    if message.attachment_name and message.attachment is not None:
        email.attach(message.attachment_name, bytes(message.attachment), message.attachment_type)
    return email


def _deliver(message: OutboxMessage) -> None:
    build_email(message).send(fail_silently=False)


def _smtp_code(exc: BaseException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        # Permanent only when every recipient was refused for good.
        if codes and all(rules.is_permanent_smtp_code(code) for code in codes):
            return int(codes[0])
        return None
    code = getattr(exc, "smtp_code", None)
    return int(code) if isinstance(code, int) else None


def _mark_sent(message_id: int, now: dt.datetime) -> None:
    # An attachment (panel papers, where allowed) is not kept once sent.
    OutboxMessage.objects.filter(pk=message_id).exclude(status=OutboxStatus.SENT).update(
        status=OutboxStatus.SENT, sent_at=now, last_error="", attachment=None
    )


def _record_failure(
    message: OutboxMessage, exc: Exception, now: dt.datetime, policy: rules.RetryPolicy
) -> SendResult:
    code = _smtp_code(exc)
    decision = rules.decide_after_failure(attempts=message.attempts, smtp_code=code, policy=policy)
    # Exception class and SMTP code only: messages and addresses could identify someone.
    error = type(exc).__name__ + (f" (SMTP {code})" if code else "")
    if decision.retry:
        assert decision.delay is not None
        retry_at = now + decision.delay
        OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING).update(
            status=OutboxStatus.PENDING, next_attempt_at=retry_at, last_error=error[:200]
        )
        logger.warning(
            "outbox message %s attempt %s failed (%s); next attempt in %s s",
            message.pk,
            message.attempts,
            error,
            int(decision.delay.total_seconds()),
        )
        return SendResult("retry", retry_at)
    OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING).update(
        status=OutboxStatus.FAILED, last_error=error[:200]
    )
    logger.error(
        "outbox message %s failed after %s attempts (%s, %s)",
        message.pk,
        message.attempts,
        error,
        decision.reason,
    )
    return SendResult("failed")


def outbox_send(message_id: int, *, now: dt.datetime | None = None) -> SendResult:
    """Send one outbox message if it is due and nobody else is sending it. Safe to call again.

    Callers: the Celery tasks and the send_outbox command. Does nothing to a message already sent
    or failed. Must not be called inside a transaction: the claim has to be committed before the
    email leaves, so that other workers see it.
    """
    now = now or clock.now()
    policy = retry_policy()
    message = _claim(message_id, now, policy)
    if message is None:
        return SendResult("skipped")
    try:
        _deliver(message)
    except Exception as exc:  # SMTP replies, refused connections, timeouts: back off and retry
        return _record_failure(message, exc, now, policy)
    _mark_sent(message.pk, now)
    logger.info(
        "outbox message %s (%s) sent on attempt %s", message.pk, message.kind, message.attempts
    )
    return SendResult("sent")


def outbox_due_ids(*, now: dt.datetime | None = None, limit: int = 100) -> list[int]:
    """Ids of the messages to send now: pending and due, or stuck in "sending" (worker died)."""
    now = now or clock.now()
    return list(
        OutboxMessage.objects.filter(_claimable(now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def outbox_send_due(*, now: dt.datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Send every due message (up to `limit`); returns a count per outcome. Safe to run anywhere,
    any number of times at once: each message is claimed by one sender only."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    for message_id in outbox_due_ids(now=now, limit=limit):
        counts[outbox_send(message_id, now=now).outcome] += 1
    return counts


def outbox_requeue(*, message_ids: Iterable[int], actor: Any) -> int:
    """Put failed messages back in the queue for a fresh set of attempts (operators, admin).

    The Message-ID is kept, so a message that did reach someone is recognisable as a repeat.
    """
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.select_for_update()
            .filter(pk__in=list(message_ids), status=OutboxStatus.FAILED)
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=OutboxStatus.PENDING, attempts=0, next_attempt_at=clock.now(), claimed_at=None
        )
        audit_record(
            actor=actor,
            action="update",
            object_type="outbox_message",
            details={"requeued": ids},
        )
        for message_id in ids:
            transaction.on_commit(partial(_schedule_send, message_id), robust=True)
    return len(ids)


# ---------------------------------------------------------------------------------------------
# nDelius contacts


def delius_contact_queue(
    *,
    person: Person,
    event: str,
    contact_date: dt.date,
    staff_code: str,
    notes: str,
    source_type: str,
    source_id: str | int,
) -> DeliusContact:
    """Queue a sensitive case record contact for upload to nDelius; idempotent per source.

    Called by the workflow services (reflective conversation, triage booking and outcome, panel
    outcome) inside their transaction. The contact type comes from CC_DELIUS_CONTACT_TYPES. A
    second call for the same (event, source_type, source_id) returns the contact already queued,
    unchanged. Raises ValueError for an unknown event.
    """
    if event not in DeliusEvent.values:
        raise ValueError(f"unknown nDelius contact event {event!r}")
    if not source_type or source_id in ("", None):
        raise ValueError("source_type and source_id identify what the contact records")
    contact, _ = DeliusContact.objects.get_or_create(
        event=event,
        source_type=source_type,
        source_id=str(source_id),
        defaults={
            "person": person,
            "contact_type": delius_contact_types()[event],
            "contact_date": contact_date,
            "staff_code": staff_code,
            "notes": notes,
            "sensitive": True,
        },
    )
    return contact


def contact_row(contact: DeliusContact) -> dict[str, str]:
    """One row of the upload file, in EXPORT_COLUMNS order."""
    return {
        "external_reference": contact.external_reference,
        "crn": contact.person.crn,
        "contact_type": contact.contact_type,
        "contact_date": contact.contact_date.isoformat(),
        "staff_code": contact.staff_code,
        "sensitive": "Y" if contact.sensitive else "N",
        "notes": contact.notes,
    }


RowWriter = Callable[[list[dict[str, str]]], None]


def delius_contacts_export(
    *, actor: Any, fmt: str, write: RowWriter, now: dt.datetime | None = None
) -> DeliusExportBatch | None:
    """Export every pending contact once: write them, mark them exported, audit the disclosure.

    `write` receives the rows and must write them out (file or stream); it runs inside the
    transaction that marks the contacts exported, so if writing fails nothing is marked, and a
    contact marked exported has been written. Concurrent exports cannot both take a contact: the
    rows are locked and a waiting export re-checks them. Returns the batch, or None when nothing
    was pending (then `write` gets an empty list and nothing is recorded).
    """
    now = now or clock.now()
    with transaction.atomic():
        contacts = list(
            DeliusContact.objects.select_for_update(of=("self",))
            .filter(exported_at__isnull=True)
            .select_related("person")
            .order_by("created_at", "id")
        )
        if not contacts:
            write([])
            return None
        batch = DeliusExportBatch.objects.create(
            created_at=now, actor=_actor_name(actor), format=fmt, contact_count=len(contacts)
        )
        ids = [contact.pk for contact in contacts]
        for start in range(0, len(ids), _UPDATE_CHUNK):
            DeliusContact.objects.filter(
                pk__in=ids[start : start + _UPDATE_CHUNK], exported_at__isnull=True
            ).update(exported_at=now, export_batch=batch)
        _audit_export(actor=actor, batch=batch, contacts=contacts, again=False)
        write([contact_row(contact) for contact in contacts])
    logger.info("exported %s nDelius contacts in batch %s", len(contacts), batch.pk)
    return batch


def delius_batch_reexport(*, batch_id: int, actor: Any, write: RowWriter) -> DeliusExportBatch:
    """Write a past batch again, explicitly (e.g. the upload file was lost). Audited as a disclosure.

    Raises DeliusExportBatch.DoesNotExist for an unknown batch.
    """
    with transaction.atomic():
        batch = DeliusExportBatch.objects.get(pk=batch_id)
        contacts = list(batch.contacts.select_related("person").order_by("created_at", "id"))
        _audit_export(actor=actor, batch=batch, contacts=contacts, again=True)
        write([contact_row(contact) for contact in contacts])
    logger.info("re-exported nDelius contact batch %s (%s contacts)", batch.pk, len(contacts))
    return batch


def _actor_name(actor: Any) -> str:
    if isinstance(actor, str):
        return actor[:150]
    return str(getattr(actor, "get_username", lambda: actor)())[:150]


def _audit_export(
    *, actor: Any, batch: DeliusExportBatch, contacts: list[DeliusContact], again: bool
) -> None:
    # Inside the export's transaction: if the audit cannot be written (AuditUnavailable), the
    # export is refused and nothing is marked exported (fail closed).
    audit_record(
        actor=actor,
        action="export",
        object_type="delius_contacts",
        object_id=batch.pk,
        recipients=list(EXPORT_RECIPIENTS),
        details={
            "batch": batch.pk,
            "count": len(contacts),
            "again": again,
            "external_references": [contact.external_reference for contact in contacts],
        },
    )
