"""Every write of the triage app: book, reschedule, cancel, record the outcome; the team list.

Who may call: the triage pages (views.py), after selectors have checked that the actor is in the
Complex Cases team of the referral's region, and the demo. Each service takes keyword arguments
and an `actor`, runs in ONE transaction with its audit records, and leaves email to the
notifications outbox (sent after commit). Validation comes from rules.py and is raised as a
ValidationError whose message_dict names the fields.

Nobody is double-booked: booking and rescheduling lock the attendees' user rows (SELECT ... FOR
UPDATE, in primary-key order so two bookings sharing attendees cannot deadlock) and only then look
for overlapping booked triages. Two concurrent bookings of the same person at the same time are
therefore serialised, and the second sees the first. (On SQLite, which has no row locks, writes are
serialised by the database lock instead.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse

from complexcases.accounts.models import User
from complexcases.actions import services as actions
from complexcases.core import clock, transitions
from complexcases.core.audit import audit_record
from complexcases.notifications import services as notifications
from complexcases.notifications.models import DeliusEvent, IcsMethod
from complexcases.notifications.rules import london_date_time
from complexcases.referrals import services as referrals
from complexcases.referrals.models import Referral
from complexcases.referrals.states import ReferralStatus
from complexcases.triage import rules
from complexcases.triage.models import (
    Blocker,
    TriageAttendee,
    TriageMeeting,
    TriageMeetingTransition,
    TriageRecord,
    TriageTeamMember,
)
from complexcases.triage.states import (
    MOVES,
    ROLE_LABELS,
    AttendeeRole,
    BlockerTheme,
    MeetingStatus,
    TriageOutcome,
)

TITLE = "Complex Cases triage"
TransitionNotAllowed = transitions.TransitionNotAllowed


def slot_minutes() -> int:
    return int(getattr(settings, "CC_TRIAGE_SLOT_MINUTES", rules.DEFAULT_SLOT_MINUTES))


class AttendeesBusy(ValidationError):
    """Someone invited already has a booked triage at an overlapping time."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__({"attendees": messages})
        self.conflicts = messages


@dataclass(frozen=True)
class Invitee:
    """A user to invite and their role at the triage (states.AttendeeRole)."""

    user: Any
    role: str


@dataclass(frozen=True)
class ActionInput:
    description: str
    owner: Any
    due_date: dt.date | None


def email_of(user: Any) -> str:
    """The address invitations go to: the account's, else the staff record's."""
    if user.email:
        return str(user.email)
    staff = getattr(user, "staff", None)
    return str(staff.email) if staff is not None and staff.email else ""


def display_name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def _staff_code(actor: Any, referral: Referral) -> str:
    """The booker's or recorder's staff code; else the case manager's (nDelius needs one)."""
    staff = getattr(actor, "staff", None)
    if staff is not None:
        return str(staff.staff_code)
    if referral.manager is not None:
        return str(referral.manager.staff_code)
    return str(referral.person.offender_manager.staff_code)


def _organiser(actor: Any) -> tuple[str, str]:
    """The Complex Cases mailbox (CC_MAIL_FROM) organises every triage; the booker if unset."""
    name, address = parseaddr(notifications.mail_from())
    if address and "@" in address:
        return address, name or "Complex Cases"
    return email_of(actor), "Complex Cases"


# --- validation -------------------------------------------------------------------------------


def _invitee_errors(invitees: Sequence[Invitee]) -> dict[str, list[str]]:
    problems: list[str] = []
    if not invitees:
        problems.append("Invite at least one person")
    seen: set[int] = set()
    for invitee in invitees:
        if invitee.role not in AttendeeRole.values:
            problems.append(f"{display_name(invitee.user)} has an unknown role")
        if not invitee.user.is_active:
            problems.append(f"{display_name(invitee.user)} cannot be invited: account inactive")
        elif not email_of(invitee.user):
            problems.append(f"{display_name(invitee.user)} has no email address to invite")
        if invitee.user.pk in seen:
            problems.append(f"{display_name(invitee.user)} is invited twice")
        seen.add(invitee.user.pk)
    return {"attendees": problems} if problems else {}


def _validate(start: dt.datetime | None, invitees: Sequence[Invitee] | None, now: dt.datetime):
    errors: dict[str, Any] = {}
    if start is not None:
        errors.update(rules.slot_errors(start=start, now=now, slot_minutes=slot_minutes()))
    if invitees is not None:
        errors.update(_invitee_errors(invitees))
    if errors:
        raise ValidationError(errors)


def _lock_and_check_free(
    user_ids: Sequence[int], start: dt.datetime, end: dt.datetime, *, exclude: int | None = None
) -> None:
    """Lock the attendees' user rows, then refuse if any has an overlapping booked triage.

    The locks are taken in primary-key order (no deadlock between bookings sharing attendees) and
    held until the caller's transaction ends, so the check and the booking are one step for every
    other booking of these people.
    """
    ids = sorted(set(user_ids))
    list(User.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
    clashes = (
        TriageAttendee.objects.filter(
            user_id__in=ids,
            meeting__status=MeetingStatus.BOOKED,
            meeting__start__lt=end,
            meeting__end__gt=start,
        )
        .select_related("user", "meeting")
        .order_by("meeting__start", "user_id")
    )
    if exclude is not None:
        clashes = clashes.exclude(meeting_id=exclude)
    messages = [
        f"{display_name(c.user)} is already booked for a triage on "
        f"{london_date_time(c.meeting.start)} to {c.meeting.end.astimezone(rules.LONDON):%H:%M}"
        for c in clashes
    ]
    if messages:
        raise AttendeesBusy(messages)


# --- invitations ------------------------------------------------------------------------------


def _ics_role(role: str) -> str:
    return "CHAIR" if role == AttendeeRole.PROGRAMME_MANAGER else "REQ-PARTICIPANT"


def _roles(attendees: Sequence[TriageAttendee]) -> list[str]:
    order = list(AttendeeRole.values)
    roles = sorted({a.role for a in attendees}, key=order.index)
    return [ROLE_LABELS[r] for r in roles]


def _send(
    *,
    meeting: TriageMeeting,
    method: str,
    to: Sequence[TriageAttendee],
    everyone: Sequence[TriageAttendee],
    intro: str,
    actor: Any,
    crn: str,
) -> None:
    """Queue the invitation (REQUEST, listing everyone) or cancellation to `to`, and audit it.

    Attendees are named in the .ics by their role, not their name: the email carries no personal
    data beyond the recipients' own addresses.
    """
    if not to:
        return
    listed = everyone if method == IcsMethod.REQUEST else to
    notifications.invitation_enqueue(
        uid=notifications.meeting_uid("triage", meeting.pk),
        sequence=meeting.sequence,
        method=method,
        title=TITLE,
        intro=intro,
        start=meeting.start,
        end=meeting.end,
        path=reverse("triage:meeting", args=[meeting.pk]),
        organiser=_organiser(actor),
        attendees=[(a.email, ROLE_LABELS[a.role], _ics_role(a.role)) for a in listed],
        roles=_roles(everyone),
        kind="triage_invitation" if method == IcsMethod.REQUEST else "triage_cancellation",
        ref_type="triage_meeting",
        ref_id=meeting.pk,
    )
    audit_record(
        actor=actor,
        action="send",
        object_type="triage_meeting",
        object_id=meeting.pk,
        person_crn=crn,
        recipients=sorted({a.email for a in to}),
        details={"method": method, "sequence": meeting.sequence},
    )


# --- booking ----------------------------------------------------------------------------------


def triage_book(
    *,
    actor: Any,
    referral: Referral,
    start: dt.datetime,
    invitees: Sequence[Invitee],
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> TriageMeeting:
    """Book a received referral into a triage slot and invite the attendees.

    Who may call: the booking page (the actor is in the Complex Cases team of the referral's
    region) and the demo. In one transaction: refuses anyone double-booked (AttendeesBusy, a
    ValidationError on "attendees"), moves the referral received -> triage_booked
    (TransitionNotAllowed if it is not received), writes the meeting and its attendees, queues
    the REQUEST invitation (SEQUENCE 0) and the nDelius "triage_booked" contact, and audits.
    `now` is for the demo's past meetings; it defaults to the current time.
    """
    now = now or clock.now()
    _validate(start, invitees, now)
    end = start + dt.timedelta(minutes=slot_minutes())
    crn = referral.person.crn
    with transaction.atomic():
        _lock_and_check_free([i.user.pk for i in invitees], start, end)
        referrals.referral_transition(
            referral=referral,
            to=ReferralStatus.TRIAGE_BOOKED,
            actor=actor,
            reason=f"Triage booked for {london_date_time(start)}",
        )
        meeting = TriageMeeting.objects.create(
            referral=referral,
            region_id=referral.pdu.region_id,
            start=start,
            end=end,
            booked_by=actor,
            booked_at=now,
            updated_at=now,
        )
        attendees = TriageAttendee.objects.bulk_create(
            [
                TriageAttendee(meeting=meeting, user=i.user, role=i.role, email=email_of(i.user))
                for i in invitees
            ]
        )
        TriageMeetingTransition.objects.create(
            meeting=meeting,
            from_status="",
            to_status=MeetingStatus.BOOKED,
            actor=actor,
            occurred_at=now,
        )
        _send(
            meeting=meeting,
            method=IcsMethod.REQUEST,
            to=attendees,
            everyone=attendees,
            intro="You are invited to a Complex Cases triage meeting.",
            actor=actor,
            crn=crn,
        )
        notifications.delius_contact_queue(
            person=referral.person,
            event=DeliusEvent.TRIAGE_BOOKED,
            contact_date=clock.local_date(now),
            staff_code=_staff_code(actor, referral),
            notes=f"Complex Cases triage booked for {london_date_time(start)} (UK time).",
            source_type="triage_meeting",
            source_id=meeting.pk,
        )
        audit_record(
            actor=actor,
            action="create",
            object_type="triage_meeting",
            object_id=meeting.pk,
            person_crn=crn,
            after=_snapshot(meeting, attendees),
            request=request,
        )
    return meeting


def _snapshot(meeting: TriageMeeting, attendees: Sequence[TriageAttendee]) -> dict[str, Any]:
    return {
        "referral": meeting.referral_id,
        "start": meeting.start.isoformat(),
        "end": meeting.end.isoformat(),
        "sequence": meeting.sequence,
        "attendees": sorted([a.user_id, a.role] for a in attendees),
    }


def triage_reschedule(
    *,
    actor: Any,
    meeting: TriageMeeting,
    start: dt.datetime | None = None,
    invitees: Sequence[Invitee] | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> TriageMeeting:
    """Change a booked triage's time and/or attendees.

    Who may call: as triage_book. Any change raises SEQUENCE by one and sends the REQUEST to
    everyone now invited; people removed get a CANCEL with the same SEQUENCE. Nothing changed,
    nothing sent. The same double-booking check as booking (ignoring this meeting). Raises
    ValidationError (also when the triage is no longer booked). Audited ("update").
    """
    now = now or clock.now()
    with transaction.atomic():
        current = (
            TriageMeeting.objects.select_for_update()
            .select_related("referral__person")
            .get(pk=meeting.pk)
        )
        if current.status != MeetingStatus.BOOKED:
            raise ValidationError("Only a booked triage can be changed")
        before_rows = list(current.attendees.select_related("user__staff"))
        new_start = start if start is not None else current.start
        time_changed = new_start != current.start
        _validate(new_start if time_changed else None, invitees, now)
        wanted = (
            {i.user.pk: i for i in invitees}
            if invitees is not None
            else {a.user_id: Invitee(a.user, a.role) for a in before_rows}
        )
        kept = [a for a in before_rows if a.user_id in wanted]
        removed = [a for a in before_rows if a.user_id not in wanted]
        role_changed = [a for a in kept if a.role != wanted[a.user_id].role]
        added_ids = set(wanted) - {a.user_id for a in before_rows}
        if not (time_changed or removed or added_ids or role_changed):
            return current
        end = new_start + dt.timedelta(minutes=slot_minutes())
        _lock_and_check_free(list(wanted), new_start, end, exclude=current.pk)
        before = _snapshot(current, before_rows)
        current.start, current.end = new_start, end
        current.sequence += 1
        current.updated_at = now
        current.save(update_fields=["start", "end", "sequence", "updated_at"])
        TriageAttendee.objects.filter(pk__in=[a.pk for a in removed]).delete()
        for row in role_changed:
            row.role = wanted[row.user_id].role
            row.save(update_fields=["role"])
        TriageAttendee.objects.bulk_create(
            [
                TriageAttendee(
                    meeting=current,
                    user=wanted[i].user,
                    role=wanted[i].role,
                    email=email_of(wanted[i].user),
                )
                for i in sorted(added_ids)
            ]
        )
        attendees = list(current.attendees.all())
        crn = current.referral.person.crn
        _send(
            meeting=current,
            method=IcsMethod.REQUEST,
            to=attendees,
            everyone=attendees,
            intro="A Complex Cases triage meeting you are invited to has changed.",
            actor=actor,
            crn=crn,
        )
        _send(
            meeting=current,
            method=IcsMethod.CANCEL,
            to=removed,
            everyone=attendees,
            intro="You are no longer needed at this Complex Cases triage meeting.",
            actor=actor,
            crn=crn,
        )
        audit_record(
            actor=actor,
            action="update",
            object_type="triage_meeting",
            object_id=current.pk,
            person_crn=crn,
            before=before,
            after=_snapshot(current, attendees),
            request=request,
        )
    return current


def triage_meeting_transition(
    *, meeting: TriageMeeting, to: str, actor: Any, reason: str
) -> TriageMeeting:
    """Move a meeting along states.MOVES (locks the row; the loser of a race gets
    TransitionNotAllowed). Called by triage_cancel and triage_outcome_record."""
    return transitions.transition(
        # No select_related: FOR UPDATE would lock the joined referral and person rows too.
        queryset=TriageMeeting.objects.all(),
        pk=meeting.pk,
        to=to,
        moves=MOVES,
        actor=actor,
        reason=reason,
        history_model=TriageMeetingTransition,
        history_fields={"meeting_id": meeting.pk},
        object_type="triage_meeting",
        person_crn=meeting.referral.person.crn,
    )


def triage_cancel(
    *, actor: Any, meeting: TriageMeeting, reason: str, request: HttpRequest | None = None
) -> TriageMeeting:
    """Cancel a booked triage: CANCEL (SEQUENCE + 1) to every attendee, the referral back to
    received. Needs a reason (ValidationError); TransitionNotAllowed if no longer booked."""
    if not reason.strip():
        raise ValidationError({"reason": "Enter why the triage is cancelled"})
    with transaction.atomic():
        cancelled = triage_meeting_transition(
            meeting=meeting, to=MeetingStatus.CANCELLED, actor=actor, reason=reason.strip()
        )
        cancelled.sequence += 1
        cancelled.updated_at = clock.now()
        cancelled.save(update_fields=["sequence", "updated_at"])
        attendees = list(cancelled.attendees.all())
        _send(
            meeting=cancelled,
            method=IcsMethod.CANCEL,
            to=attendees,
            everyone=attendees,
            intro="This Complex Cases triage meeting has been cancelled.",
            actor=actor,
            crn=cancelled.referral.person.crn,
        )
        referrals.referral_transition(
            referral=cancelled.referral,
            to=ReferralStatus.RECEIVED,
            actor=actor,
            reason=f"Triage cancelled: {reason.strip()}",
        )
    return cancelled


# --- the record -------------------------------------------------------------------------------


def triage_outcome_record(
    *,
    actor: Any,
    meeting: TriageMeeting,
    outcome: str,
    blockers: Sequence[tuple[str, str]] = (),
    actions_agreed: Sequence[ActionInput] = (),
    guidance: str = "",
    sensitive_notes: str = "",
    panel_question: str = "",
    signpost_destination: str = "",
    request: HttpRequest | None = None,
    today: dt.date | None = None,
) -> TriageRecord:
    """Record what a triage found and decided, and move the referral on.

    Who may call: the meeting page (Complex Cases team of the region) and the demo. In one
    transaction: the meeting booked -> held (locked: a second record loses with
    TransitionNotAllowed), the record, its blockers and actions (actions.services), the referral's
    move — resolved_at_triage, signposted (with the destination) and withdrawn close it;
    for_panel moves it to awaiting_panel with the question in the move's details — the nDelius
    "triage_outcome" contact (once per record) and the audit. Raises ValidationError with every
    field problem (rules.record_errors). The sensitive notes stay in the service.
    """
    today = today or clock.today()
    errors = rules.record_errors(
        outcome=outcome,
        panel_question=panel_question,
        signpost_destination=signpost_destination,
        blockers=blockers,
        actions=[
            rules.ActionRow(a.description, a.owner is not None, a.due_date) for a in actions_agreed
        ],
        themes=BlockerTheme.values,
        today=today,
    )
    if errors:
        raise ValidationError(errors)
    label = dict(TriageOutcome.choices)[outcome]
    with transaction.atomic():
        held = triage_meeting_transition(
            meeting=meeting, to=MeetingStatus.HELD, actor=actor, reason=f"Outcome: {label}"
        )
        referral = held.referral
        record = TriageRecord.objects.create(
            meeting=held,
            guidance=guidance.strip(),
            sensitive_notes=sensitive_notes.strip(),
            outcome=outcome,
            panel_question=panel_question.strip(),
            signpost_destination=signpost_destination.strip(),
            recorded_by=actor,
        )
        Blocker.objects.bulk_create(
            [Blocker(record=record, theme=t, description=d.strip()) for t, d in blockers]
        )
        for agreed in actions_agreed:
            actions.action_create(
                actor=actor,
                referral=referral,
                source="triage",
                source_id=record.pk,
                description=agreed.description,
                owner=agreed.owner,
                due_date=agreed.due_date,
                today=today,
            )
        _move_referral(referral, record, actor)
        notifications.delius_contact_queue(
            person=referral.person,
            event=DeliusEvent.TRIAGE_OUTCOME,
            contact_date=held.start.astimezone(rules.LONDON).date(),
            staff_code=_staff_code(actor, referral),
            notes=_outcome_notes(record, blockers, actions_agreed),
            source_type="triage_record",
            source_id=record.pk,
        )
        audit_record(
            actor=actor,
            action="create",
            object_type="triage_record",
            object_id=record.pk,
            person_crn=referral.person.crn,
            after={
                "meeting": held.pk,
                "outcome": outcome,
                "blockers": [t for t, _ in blockers],
                "actions": len(actions_agreed),
            },
            request=request,
        )
    return record


def _move_referral(referral: Referral, record: TriageRecord, actor: Any) -> None:
    if record.outcome == TriageOutcome.FOR_PANEL:
        referrals.referral_transition(
            referral=referral,
            to=ReferralStatus.AWAITING_PANEL,
            actor=actor,
            reason="For panel (triage outcome)",
            panel_question=record.panel_question,
            triage_record=record.pk,
        )
        return
    referrals.referral_close(
        referral=referral,
        actor=actor,
        closure_reason=record.outcome,  # resolved_at_triage, signposted, withdrawn
        closure_destination=record.signpost_destination,
        reason=f"Triage outcome: {dict(TriageOutcome.choices)[record.outcome]}",
    )


def _outcome_notes(
    record: TriageRecord, blockers: Sequence[tuple[str, str]], agreed: Sequence[ActionInput]
) -> str:
    """The case record contact's notes: outcome, blockers, guidance and actions (not the
    sensitive notes, which stay in the service)."""
    themes = dict(BlockerTheme.choices)
    lines = [f"Complex Cases triage. Outcome: {dict(TriageOutcome.choices)[record.outcome]}."]
    if record.panel_question:
        lines.append(f"Question for the panel: {record.panel_question}")
    if record.signpost_destination:
        lines.append(f"Signposted to: {record.signpost_destination}")
    lines += [f"Blocker ({themes[t]}): {d.strip()}" for t, d in blockers]
    if record.guidance:
        lines.append(f"Guidance: {record.guidance}")
    lines += [
        f"Action: {a.description.strip()} (owner {display_name(a.owner)}, due {a.due_date:%d/%m/%Y})"
        for a in agreed
    ]
    return "\n".join(lines)


# --- the team ---------------------------------------------------------------------------------


def triage_team_member_save(*, actor: Any, member: TriageTeamMember, created: bool) -> None:
    """Save a team member row from the admin pages. Audited ("create" or "update")."""
    with transaction.atomic():
        member.save()
        audit_record(
            actor=actor,
            action="create" if created else "update",
            object_type="triage_team_member",
            object_id=member.pk,
            after={
                "region": member.region_id,
                "function": member.function,
                "user": member.user_id,
                "is_default": member.is_default,
            },
        )


def triage_team_member_delete(*, actor: Any, member: TriageTeamMember) -> None:
    """Remove a team member row from the admin pages. Audited ("delete")."""
    with transaction.atomic():
        before = {"region": member.region_id, "function": member.function, "user": member.user_id}
        pk = member.pk
        member.delete()
        audit_record(
            actor=actor,
            action="delete",
            object_type="triage_team_member",
            object_id=pk,
            before=before,
        )
