"""Every write of the intake app: reading the Complex Cases mailbox, and the team completing or
dismissing what needs attention.

How a message is read once and never lost
-----------------------------------------
1. The poll (`mailbox_poll`) asks the server for the UIDs of messages that are unseen OR above
   the highest UID already read (MailboxCursor), so a message someone opened in a mail client
   first is not skipped. It fetches each with BODY.PEEK[], which does not mark it seen.
2. `ingest_message` stores the message (InboundEmail, raw bytes kept) and makes the referral or
   puts it in the needs-attention queue, with its history row, audit records and the sender's
   acknowledgement (the outbox row), in ONE transaction. The unique dedupe key (rules.dedupe_key)
   makes a second reading of the same message a no-op ("duplicate"), including two polls racing.
3. Only after that commit does the poll flag the message \\Seen (and move it to a "Processed"
   folder when the mailbox has one) and advance the cursor. A crash between 2 and 3 leaves the
   message unseen: the next poll reads it again and the dedupe key absorbs it. Never a drop,
   never a second referral.
4. A message the service cannot read (no sender, undecodable) is stored as needing attention. A
   message whose processing fails unexpectedly is stored as "not processed" for the team; if
   even that cannot be stored (database down), it is left unseen and the cursor does not pass it,
   so the next poll tries again. One bad message never stops the others.

The From address is trusted as far as the mail server's own checks (SPF, DKIM, DMARC) go; the
acknowledgement goes to that address, so a member of staff learns of a referral made in their
name. Logs carry counts, ids and reason codes only: never addresses, subjects or text.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse

from complexcases.accounts import access
from complexcases.accounts.models import Region, User
from complexcases.core import clock, transitions
from complexcases.core.audit import audit_record
from complexcases.intake import imap, rules
from complexcases.intake.models import InboundEmail, InboundEmailTransition, MailboxCursor
from complexcases.intake.states import MOVES, AttentionReason, InboundStatus
from complexcases.notifications import services as notifications
from complexcases.notifications.rules import notification_body
from complexcases.people.models import Person
from complexcases.referrals import selectors as referral_selectors
from complexcases.referrals import services as referral_services
from complexcases.referrals.models import Referral
from complexcases.referrals.states import RouteReason

logger = logging.getLogger(__name__)

TransitionNotAllowed = transitions.TransitionNotAllowed

MAILBOX_ACTOR = "mailbox"  # the audit trail's actor for what the poll does on its own
PROCESSED_FOLDER = "Processed"
BATCH_LIMIT = 200
ACK_KIND = "intake_acknowledgement"

ACK_REFERRED_SUBJECT = "Complex Cases: your referral has been received"
ACK_RECEIVED_SUBJECT = "Complex Cases: your email has been received"


# --- storing one message ----------------------------------------------------------------------


@dataclass(frozen=True)
class Ingested:
    """What ingest_message did: "referred", "needs_attention" or "duplicate"."""

    outcome: str
    inbound_email_id: int | None = None


def _staff_user_for(address: str) -> User | None:
    """The one active user whose account or staff record has this email address, else None.

    Two accounts sharing an address are ambiguous: nobody is chosen, the team decides.
    """
    if not address:
        return None
    users = list(
        User.objects.filter(is_active=True)
        .filter(Q(email__iexact=address) | Q(staff__email__iexact=address))
        .distinct()
        .order_by("pk")[:2]
    )
    return users[0] if len(users) == 1 else None


def _ack_address(parsed: rules.ParsedEmail) -> str:
    """Where to send the acknowledgement: the From address, unless it is automatic or invalid."""
    if not parsed.sender or parsed.auto_reply:
        return ""
    local = parsed.sender.split("@", 1)[0].lower()
    if local in ("mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply"):
        return ""  # never answer a bounce or a robot: that is how mail loops start
    try:
        validate_email(parsed.sender)
    except ValidationError:
        return ""
    return parsed.sender


def _acknowledge(email: InboundEmail, parsed: rules.ParsedEmail) -> None:
    """Queue the generic acknowledgement (inside the caller's transaction). No names, no CRN,
    and the same words whatever the reason an email needs attention, so an acknowledgement never
    tells a sender whether a CRN exists or who may see it."""
    address = _ack_address(parsed)
    if not address:
        return
    if email.status == InboundStatus.REFERRED:
        assert email.referral_id is not None
        subject = ACK_REFERRED_SUBJECT
        intro = (
            "Your referral to the Complex Cases team has been received and recorded.\n"
            f"Reference: {email.reference}"
        )
        path = reverse("referrals:referral", args=[email.referral_id])
    else:
        subject = ACK_RECEIVED_SUBJECT
        intro = (
            "Your email to the Complex Cases team has been received. The team will look at it"
            " and be in touch if they need anything more.\n"
            f"Reference: {email.reference}"
        )
        path = reverse("home")
    notifications.outbox_enqueue(
        to=[address],
        subject=subject,
        body=notification_body(intro=intro, link=notifications.service_link(path)),
        kind=ACK_KIND,
        ref_type="inbound_email",
        ref_id=email.pk,
    )
    audit_record(
        actor=MAILBOX_ACTOR,
        action="send",
        object_type="inbound_email",
        object_id=email.pk,
        recipients=[address],
        details={"kind": ACK_KIND},
    )


@dataclass(frozen=True)
class _Decision:
    reason: str = ""
    person: Person | None = None
    referral: Referral | None = None


def _refer(sender_user: Any, parsed: rules.ParsedEmail) -> _Decision:
    """Try to make the referral as the sender. Returns the referral, or why it needs attention."""
    if parsed.problem:
        return _Decision(reason=AttentionReason.MALFORMED)
    if sender_user is None:
        return _Decision(reason=AttentionReason.UNKNOWN_SENDER)
    if not parsed.crns:
        return _Decision(reason=AttentionReason.NO_CRN)
    if len(parsed.crns) > 1:
        return _Decision(reason=AttentionReason.SEVERAL_CRNS)
    try:
        # The same check as the referral page: may see the person and may refer (audited
        # refusal otherwise). Not there, out of scope and limited access are one answer here.
        person = referral_selectors.person_for_action(
            sender_user,
            parsed.crns[0],
            roles_ok=referral_selectors.may_refer(sender_user),
            request=None,
        )
    except (access.NotFound, access.LimitedAccessDenied):
        return _Decision(reason=AttentionReason.CRN_NOT_REFERABLE)
    challenges, support_sought = rules.split_body(parsed.body)
    eligible = referral_selectors.screening_snapshot(person).eligible
    try:
        referral = referral_services.referral_create(
            actor=sender_user,
            person=person,
            challenges=challenges,
            support_sought=support_sought,
            route=None,
            # An emailed referral of someone not on the latest list is the practitioner's concern.
            route_reason="" if eligible else RouteReason.PRACTITIONER_CONCERN,
        )
    except referral_services.OpenReferralExists:
        return _Decision(reason=AttentionReason.OPEN_REFERRAL, person=person)
    except ValidationError:
        return _Decision(reason=AttentionReason.INCOMPLETE, person=person)
    return _Decision(person=person, referral=referral)


def _store(
    *,
    raw: bytes,
    parsed: rules.ParsedEmail,
    key: str,
    region: Region,
    uidvalidity: int | None,
    uid: int | None,
    sender_user: Any,
    decision: _Decision,
) -> InboundEmail:
    status = InboundStatus.REFERRED if decision.referral else InboundStatus.NEEDS_ATTENTION
    email = InboundEmail.objects.create(
        dedupe_key=key,
        message_id=parsed.message_id,
        sender=parsed.sender,
        sender_user=sender_user,
        subject=parsed.subject,
        sent_at=parsed.sent_at,
        raw=raw,
        body_text=parsed.body,
        crns_named=parsed.crns,
        imap_uidvalidity=uidvalidity,
        imap_uid=uid,
        region=region,
        status=status,
        reason=decision.reason,
        referral=decision.referral,
    )
    InboundEmailTransition.objects.create(
        inbound_email=email,
        from_status="",
        to_status=status,
        actor=sender_user if decision.referral else None,
        reason=dict(AttentionReason.choices).get(decision.reason, ""),
        occurred_at=email.received_at,
    )
    person_crn = decision.person.crn if decision.person else ""
    if not person_crn and len(parsed.crns) == 1:
        person_crn = parsed.crns[0]  # the trail finds every record that names the person
    audit_record(
        actor=MAILBOX_ACTOR,
        action="create",
        object_type="inbound_email",
        object_id=email.pk,
        person_crn=person_crn,
        after={
            "status": status,
            "reason": decision.reason,
            "referral": decision.referral.pk if decision.referral else None,
        },
    )
    return email


def ingest_message(
    *,
    raw: bytes,
    region: Region,
    uidvalidity: int | None = None,
    uid: int | None = None,
) -> Ingested:
    """Store one raw message and make a referral from it, or put it in the queue.

    Who may call: the mailbox poll and the demo seed (the message's own sender is the actor of
    the referral, checked as on the referral page). Guarantees: at most one InboundEmail and one
    referral per message however often it is called (the unique dedupe key); the email, the
    referral, their history, audit records and the acknowledgement commit together or not at
    all. A malformed message is stored as needing attention, never an exception. Database and
    audit failures propagate (the caller leaves the message to be read again).
    """
    parsed = rules.parse_message(raw)
    key = rules.dedupe_key(message_id=parsed.message_id, sender=parsed.sender, raw=raw)
    if InboundEmail.objects.filter(dedupe_key=key).exists():
        return Ingested("duplicate")
    try:
        with transaction.atomic():
            sender_user = None if parsed.problem else _staff_user_for(parsed.sender)
            decision = _refer(sender_user, parsed)
            email = _store(
                raw=raw,
                parsed=parsed,
                key=key,
                region=region,
                uidvalidity=uidvalidity,
                uid=uid,
                sender_user=sender_user,
                decision=decision,
            )
            _acknowledge(email, parsed)
    except IntegrityError:
        # Another poll stored the same message between our check and our insert.
        if InboundEmail.objects.filter(dedupe_key=key).exists():
            return Ingested("duplicate")
        raise
    return Ingested(email.status, email.pk)


def ingest_unprocessed(
    *, raw: bytes, region: Region, uidvalidity: int | None = None, uid: int | None = None
) -> Ingested:
    """Keep a message whose processing failed, for the team ("not processed"), with no referral.

    The fall-back of the poll when ingest_message raised: a message that trips a bug is kept for
    the team rather than retried for ever. When the database or the audit trail is what failed,
    this fails too and the message stays on the server for the next poll. Same dedupe key.
    """
    # The same key as ingest_message, so a later re-reading of this message is a duplicate.
    parsed = rules.parse_message(raw)
    key = rules.dedupe_key(message_id=parsed.message_id, sender=parsed.sender, raw=raw)
    if InboundEmail.objects.filter(dedupe_key=key).exists():
        return Ingested("duplicate")
    with transaction.atomic():
        email = _store(
            raw=raw,
            parsed=rules.ParsedEmail(
                sender=parsed.sender,
                subject=parsed.subject,
                message_id=parsed.message_id,
                sent_at=parsed.sent_at,
                body=parsed.body or rules.raw_as_text(raw),
            ),
            key=key,
            region=region,
            uidvalidity=uidvalidity,
            uid=uid,
            sender_user=None,
            decision=_Decision(reason=AttentionReason.NOT_PROCESSED),
        )
    return Ingested(email.status, email.pk)


# --- reading the mailbox ----------------------------------------------------------------------


@dataclass(frozen=True)
class MailboxConfig:
    host: str
    port: int
    ssl: bool
    user: str
    password: str
    folder: str
    region_code: str

    @classmethod
    def from_settings(cls) -> MailboxConfig:
        return cls(
            host=str(getattr(settings, "CC_IMAP_HOST", "")),
            port=int(getattr(settings, "CC_IMAP_PORT", 993)),
            ssl=bool(getattr(settings, "CC_IMAP_SSL", True)),
            user=str(getattr(settings, "CC_IMAP_USER", "")),
            password=str(getattr(settings, "CC_IMAP_PASSWORD", "")),
            folder=str(getattr(settings, "CC_IMAP_FOLDER", "INBOX")),
            region_code=str(getattr(settings, "CC_IMAP_REGION", "EOE")),
        )

    @property
    def mailbox(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"[:400]


@dataclass
class PollResult:
    """What one poll did. `error` names the exception class when the mailbox could not be read
    (the messages stay on the server for the next poll)."""

    configured: bool = True
    read: int = 0
    referred: int = 0
    needs_attention: int = 0
    duplicates: int = 0
    failed: int = 0
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _advance_cursor(config: MailboxConfig, uidvalidity: int, uid: int) -> None:
    cursor, created = MailboxCursor.objects.get_or_create(
        mailbox=config.mailbox, defaults={"uidvalidity": uidvalidity, "last_uid": uid}
    )
    if created:
        return
    if cursor.uidvalidity != uidvalidity:
        cursor.uidvalidity, cursor.last_uid = uidvalidity, uid
    elif uid > cursor.last_uid:
        cursor.last_uid = uid
    else:
        return
    cursor.updated_at = clock.now()
    cursor.save(update_fields=["uidvalidity", "last_uid", "updated_at"])


def _cursor_after(config: MailboxConfig, uidvalidity: int) -> int:
    cursor = MailboxCursor.objects.filter(mailbox=config.mailbox).first()
    if cursor is None or cursor.uidvalidity != uidvalidity:
        return 0  # a new or rebuilt folder: read it all again, the dedupe key absorbs repeats
    return cursor.last_uid


def _ingest_safely(raw: bytes, region: Region, uidvalidity: int, uid: int) -> Ingested | None:
    """ingest_message, falling back to keeping the message as "not processed"; None when it
    could not be stored at all (database or audit trail down: it stays on the server)."""
    try:
        return ingest_message(raw=raw, region=region, uidvalidity=uidvalidity, uid=uid)
    except Exception as exc:  # one message must not stop the batch; the cause is logged by class
        logger.error("mailbox message uid %s not processed: %s", uid, type(exc).__name__)
    try:
        return ingest_unprocessed(raw=raw, region=region, uidvalidity=uidvalidity, uid=uid)
    except Exception as exc:  # the database is not there: leave the message for the next poll
        logger.error("mailbox message uid %s not stored: %s", uid, type(exc).__name__)
        return None


def mailbox_poll(*, config: MailboxConfig | None = None, limit: int = BATCH_LIMIT) -> PollResult:
    """Read the Complex Cases mailbox once (see the module docstring for the guarantees).

    Who may call: the Celery task (beat), the read_mailbox command and tests; safe to run
    several at once. Without CC_IMAP_HOST it does nothing. Reads at most `limit` messages;
    the rest wait for the next poll. Never raises for the mail server being down: the result
    carries the error.
    """
    config = config or MailboxConfig.from_settings()
    result = PollResult()
    if not config.host:
        logger.info("no mailbox configured (CC_IMAP_HOST is empty): nothing read")
        return PollResult(configured=False)
    region = Region.objects.filter(code=config.region_code).first()
    if region is None:
        logger.error("mailbox poll: CC_IMAP_REGION names no region")
        result.error = "UnknownRegion"
        return result
    try:
        client = imap.connect(
            host=config.host,
            port=config.port,
            ssl=config.ssl,
            user=config.user,
            password=config.password,
        )
    except (OSError, imaplib.IMAP4.error) as exc:
        logger.error("mailbox poll: cannot connect (%s)", type(exc).__name__)
        result.error = type(exc).__name__
        return result
    try:
        uidvalidity = imap.select(client, config.folder)
        move_to = (
            PROCESSED_FOLDER
            if config.folder != PROCESSED_FOLDER and imap.has_folder(client, PROCESSED_FOLDER)
            else ""
        )
        after = _cursor_after(config, uidvalidity)
        blocked = False  # once a message fails, the cursor stays before it
        for uid in imap.uids_to_read(client, after)[:limit]:
            raw = imap.fetch(client, uid)
            if raw is None:
                continue
            result.read += 1
            ingested = _ingest_safely(raw, region, uidvalidity, uid)
            if ingested is None:
                result.failed += 1
                blocked = True
                continue
            if ingested.outcome == "duplicate":
                result.duplicates += 1
            elif ingested.outcome == InboundStatus.REFERRED:
                result.referred += 1
            else:
                result.needs_attention += 1
            imap.mark_processed(client, uid, move_to)
            if not blocked:
                _advance_cursor(config, uidvalidity, uid)
    except (OSError, imaplib.IMAP4.error) as exc:  # socket timeouts are OSErrors
        logger.error("mailbox poll stopped: %s", type(exc).__name__)
        result.error = type(exc).__name__
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
    logger.info(
        "mailbox poll: read %s, referred %s, needs attention %s, duplicates %s, failed %s",
        result.read,
        result.referred,
        result.needs_attention,
        result.duplicates,
        result.failed,
    )
    return result


# --- the team's queue -------------------------------------------------------------------------


def _transition(
    *,
    email: InboundEmail,
    to: str,
    actor: Any,
    reason: str,
    person_crn: str = "",
    changes: dict[str, Any] | None = None,
) -> InboundEmail:
    return transitions.transition(
        queryset=InboundEmail.objects.all(),
        pk=email.pk,
        to=to,
        moves=MOVES,
        actor=actor,
        reason=reason,
        history_model=InboundEmailTransition,
        history_fields={"inbound_email_id": email.pk},
        object_type="inbound_email",
        person_crn=person_crn,
        changes={"resolved_by": actor, "resolved_at": clock.now(), **(changes or {})},
    )


def inbound_email_complete(
    *,
    actor: Any,
    inbound_email: InboundEmail,
    crn: str,
    challenges: str,
    support_sought: str,
    route_reason: str = "",
    route_reason_other: str = "",
    request: HttpRequest | None = None,
) -> Referral:
    """Make the referral an email asked for, as the team member completing it, and link them.

    Who may call: the needs-attention page, for a Complex Cases team member of the email's region
    (selectors.inbound_email_get_for). The person must be one the actor may refer (the referral
    page's check, audited refusal). A person not on the latest monthly list needs a route reason.
    Raises ValidationError (field messages: crn, challenges, support_sought, route_reason,
    route_reason_other) and TransitionNotAllowed when the email was completed or dismissed
    meanwhile. Audited: the referral's "create" and the email's "transition".
    """
    crn = crn.strip().upper()
    errors: dict[str, str] = {}
    if not rules.is_crn(crn):
        errors["crn"] = "Enter a CRN: a capital letter and six digits"
    if not challenges.strip():
        errors["challenges"] = "Enter what is challenging about this case"
    if not support_sought.strip():
        errors["support_sought"] = "Enter what support is sought"
    if errors:
        raise ValidationError(errors)
    try:
        # Outside the transaction below, so that a refusal's audit record is kept.
        person = referral_selectors.person_for_action(
            actor, crn, roles_ok=referral_selectors.may_refer(actor), request=request
        )
    except (access.NotFound, access.LimitedAccessDenied):
        raise ValidationError(
            {"crn": "There is no person with this CRN that you can refer"}
        ) from None
    eligible = referral_selectors.screening_snapshot(person).eligible
    with transaction.atomic():
        # Lock the email first: two team members completing it at once make one referral.
        locked = InboundEmail.objects.select_for_update().get(pk=inbound_email.pk)
        if locked.status != InboundStatus.NEEDS_ATTENTION:
            raise TransitionNotAllowed(locked.status, InboundStatus.COMPLETED)
        try:
            referral = referral_services.referral_create(
                actor=actor,
                person=person,
                challenges=challenges,
                support_sought=support_sought,
                route=None,
                route_reason="" if eligible else route_reason,
                route_reason_other="" if eligible else route_reason_other,
                request=request,
            )
        except referral_services.OpenReferralExists:
            raise ValidationError({"crn": "This person already has an open referral"}) from None
        _transition(
            email=locked,
            to=InboundStatus.COMPLETED,
            actor=actor,
            reason="Referral made from the email",
            person_crn=person.crn,
            changes={"referral": referral},
        )
    return referral


def inbound_email_dismiss(
    *, actor: Any, inbound_email: InboundEmail, reason: str, request: HttpRequest | None = None
) -> InboundEmail:
    """Dismiss an email that needs attention, saying why (e.g. not a referral, sent in error).

    Who may call: the needs-attention page, for a Complex Cases team member of the email's
    region. Raises ValidationError ({"reason": ...}) and TransitionNotAllowed. Audited.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Enter why you are dismissing this email"})
    return _transition(
        email=inbound_email,
        to=InboundStatus.DISMISSED,
        actor=actor,
        reason=reason,
        changes={"resolution_note": reason},
    )
