"""Every write of the panel work: roster, series and meetings, booking cases into slots with their
invitations, papers, the meeting record, conclusion, addenda, follow-up and reflections.

Keyword-only arguments with an `actor`; one transaction each; an audit record; email, calendar
invitations and nDelius contacts queued in the same transaction (the outbox sends after commit).
Callers (views, API, tasks) check access first through selectors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.urls import reverse

from complexcases.accounts import access
from complexcases.accounts.models import Region, User
from complexcases.core import clock, transitions
from complexcases.core.audit import audit_record
from complexcases.notifications import services as notifications
from complexcases.notifications.models import IcsMethod
from complexcases.notifications.rules import add_working_days, notification_body
from complexcases.panels import rules, selectors
from complexcases.panels.models import (
    Addendum,
    AgendaNote,
    FollowUp,
    PanelCase,
    PanelCaseTransition,
    PanelInvitation,
    PanelMeeting,
    PanelMember,
    PanelSeries,
    PapersOpening,
    Reflection,
)
from complexcases.panels.states import (
    CASE_MOVES,
    Attendance,
    CaseStatus,
    FollowUpOutcome,
    FollowUpStatus,
    InvitationStatus,
    MeetingStatus,
    PartyRole,
)
from complexcases.referrals import services as referrals
from complexcases.referrals.models import Referral
from complexcases.referrals.states import ClosureReason, ReferralStatus

PANEL_TITLE = "Complex Cases panel"
FOLLOW_UP_WORKING_DAYS = 20


class SlotTaken(Exception):
    """The chosen slot was booked by someone else first, or the meeting has no free slot."""


# --- roster ------------------------------------------------------------------------------------


def roster_member_set(
    *, actor: Any, region: Region, role: str, user: Any, is_deputy: bool = False
) -> PanelMember:
    """Name `user` as the member (or a deputy) for `role` in `region`. Naming a new member makes
    the previous named member inactive; a deputy is added beside the others. Audited."""
    if role not in {r.value for r in rules.PanelRole}:
        raise ValidationError({"role": "Choose a panel role"})
    with transaction.atomic():
        if not is_deputy:
            PanelMember.objects.filter(
                region=region, role=role, is_deputy=False, active=True
            ).exclude(user=user).update(active=False)
        member, created = PanelMember.objects.update_or_create(
            region=region,
            role=role,
            user=user,
            defaults={"is_deputy": is_deputy, "active": True},
        )
        audit_record(
            actor=actor,
            action="create" if created else "update",
            object_type="panel_member",
            object_id=member.pk,
            after={"region": region.code, "role": role, "user": user.username, "deputy": is_deputy},
        )
    return member


# --- series and meetings -----------------------------------------------------------------------


def series_create(
    *,
    actor: Any,
    region: Region,
    name: str,
    rrule: str,
    first_date: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    holiday_policy: str,
    slot_minutes: int = 45,
    papers_working_days: int = 5,
    location: str = "",
) -> PanelSeries:
    """A region's recurring panel. Raises ValidationError with a message per field."""
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Enter a name for the panel series"
    if problem := rules.validate_rrule(rrule):
        errors["rrule"] = problem
    if end_time <= start_time:
        errors["end_time"] = "The end time must be after the start time"
    if slot_minutes <= 0:
        errors["slot_minutes"] = "A slot must be at least one minute long"
    if holiday_policy not in {p.value for p in rules.HolidayPolicy}:
        errors["holiday_policy"] = "Choose what happens on a bank holiday"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        series = PanelSeries.objects.create(
            region=region,
            name=name.strip(),
            rrule=rrule.strip().removeprefix("RRULE:"),
            first_date=first_date,
            start_time=start_time,
            end_time=end_time,
            slot_minutes=slot_minutes,
            holiday_policy=holiday_policy,
            papers_working_days=papers_working_days,
            location=location.strip(),
        )
        audit_record(
            actor=actor,
            action="create",
            object_type="panel_series",
            object_id=series.pk,
            after={"region": region.code, "rrule": series.rrule, "policy": holiday_policy},
        )
    return series


def meetings_schedule(*, series: PanelSeries, start: dt.date, until: dt.date, actor: Any) -> int:
    """Create the series' meetings from `start` to `until` that do not exist yet (by the rule's
    date, so running it again adds nothing). Skipped dates make no meeting. Returns how many."""
    dates = rules.meeting_dates(
        series.rrule,
        first=series.first_date,
        start=max(start, series.first_date),
        end=until,
        policy=series.holiday_policy,
    )
    existing = set(series.meetings.values_list("scheduled_date", flat=True))
    created = 0
    with transaction.atomic():
        for meeting_date in dates:
            if meeting_date.date is None or meeting_date.scheduled in existing:
                continue
            layout_start = dt.datetime.combine(
                meeting_date.date, series.start_time, tzinfo=rules.LONDON
            )
            layout_end = dt.datetime.combine(
                meeting_date.date, series.end_time, tzinfo=rules.LONDON
            )
            PanelMeeting.objects.create(
                series=series,
                scheduled_date=meeting_date.scheduled,
                date=meeting_date.date,
                date_note=meeting_date.reason,
                start=layout_start,
                end=layout_end,
                papers_due=rules.papers_issue_date(meeting_date.date, series.papers_working_days),
            )
            created += 1
        if created:
            audit_record(
                actor=actor,
                action="create",
                object_type="panel_meetings",
                object_id=series.pk,
                after={"created": created, "until": until.isoformat()},
            )
    return created


def meeting_slots(meeting: PanelMeeting) -> list[rules.Slot]:
    series = meeting.series
    return rules.slots(meeting.date, series.start_time, series.end_time, series.slot_minutes)


# --- who is invited ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Invitee:
    """A proposed invitation: the user, their panel role or party role, core or not, and why."""

    user: Any
    panel_role: str = ""
    party_role: str = ""
    core: bool = False
    reason: str = ""


def _named_member(region_id: int, role: str) -> Any | None:
    member = (
        PanelMember.objects.filter(
            region_id=region_id, role=role, active=True, user__is_active=True
        )
        .select_related("user")
        .order_by("is_deputy", "id")
        .first()
    )
    return member.user if member else None


def _head_of_pdu(referral: Referral) -> Any | None:
    """The Head of the case's PDU (head_of_service scoped to it), else the roster's member."""
    head = (
        User.objects.filter(
            is_active=True, roles__role="head_of_service", roles__pdu_id=referral.pdu_id
        )
        .order_by("username")
        .first()
    )
    return head or _named_member(referral.pdu.region_id, rules.PanelRole.HEAD_OF_PDU)


def invitees_proposed(referral: Referral) -> list[Invitee]:
    """Who the rules recommend for this case's slot: core roles, roles the case needs (each with
    its reason) and the case's parties (practitioner, SPO and, in custody, the POM). A role with
    nobody on the roster is left out (the meeting page warns about missing expertise)."""
    region_id = referral.pdu.region_id
    facts = selectors.case_facts(referral)
    result: list[Invitee] = []
    seen: set[int] = set()

    def add(invitee: Invitee) -> None:
        if invitee.user is not None and invitee.user.pk not in seen:
            seen.add(invitee.user.pk)
            result.append(invitee)

    for recommendation in rules.recommended_roles(facts):
        if recommendation.role == rules.PanelRole.HEAD_OF_PDU:
            user = _head_of_pdu(referral)
        else:
            user = _named_member(region_id, recommendation.role)
        add(
            Invitee(
                user=user,
                panel_role=recommendation.role,
                core=recommendation.core,
                reason="; ".join(recommendation.reasons),
            )
        )
    manager = referral.manager
    manager_user = getattr(manager, "user", None) if manager is not None else None
    if manager_user is not None and manager_user.is_active:
        is_pom = manager.grade == "POM"  # type: ignore[union-attr]
        add(
            Invitee(
                user=manager_user,
                party_role=PartyRole.POM if is_pom else PartyRole.PRACTITIONER,
                reason="Manages the case" if not is_pom else "Prison Offender Manager for the case",
            )
        )
    if referral.spo_username:
        spo = User.objects.filter(username=referral.spo_username, is_active=True).first()
        add(Invitee(user=spo, party_role=PartyRole.SPO, reason="The practitioner's SPO"))
    return result


# --- booking -----------------------------------------------------------------------------------


def _case_path(case: PanelCase) -> str:
    return reverse("panels:case", args=[case.pk])


def _invited(case: PanelCase) -> list[tuple[Any, PanelInvitation]]:
    """Who will receive the slot's invitation: each invitation's user, or their delegate;
    nobody who sent apologies or whose invitation was withdrawn."""
    people = []
    for invitation in case.invitations.select_related("user", "delegate").exclude(
        status__in=[InvitationStatus.WITHDRAWN, InvitationStatus.APOLOGIES]
    ):
        delegated = invitation.status == InvitationStatus.DELEGATED
        user = invitation.delegate if delegated else invitation.user
        if user is not None and user.email:
            people.append((user, invitation))
    return people


def _attendees(case: PanelCase) -> list[tuple[str, str, str]]:
    """(email, name, iCalendar role) of everyone invited to the slot; the chair as CHAIR."""
    return [
        (
            user.email,
            user.get_full_name() or user.username,
            "CHAIR" if invitation.panel_role == rules.PanelRole.CHAIR else "REQ-PARTICIPANT",
        )
        for user, invitation in _invited(case)
    ]


def _organiser() -> tuple[str, str]:
    """The Complex Cases mailbox as the organiser (email, name)."""
    name, address = parseaddr(notifications.mail_from())
    return address, name or "Complex Cases"


def _send_slot_invitation(
    case: PanelCase,
    *,
    method: str,
    intro: str,
    path: str | None = None,
    attachment: tuple[str, bytes, str] | None = None,
) -> None:
    """The slot's calendar invitation (REQUEST or CANCEL, the case's current SEQUENCE) to
    everyone invited, linking to `path` (the case page by default; the papers once issued)."""
    invited = _invited(case)
    if not invited:
        return
    roles = sorted(
        {
            invitation.get_panel_role_display() or invitation.get_party_role_display()
            for _, invitation in invited
        }
    )
    notifications.invitation_enqueue(
        uid=notifications.meeting_uid("panel-case", case.pk),
        sequence=case.sequence,
        method=method,
        title=PANEL_TITLE,
        intro=intro,
        start=case.start,
        end=case.end,
        path=path or _case_path(case),
        organiser=_organiser(),
        attendees=_attendees(case),
        roles=roles,
        kind="panel_invitation" if method == IcsMethod.REQUEST else "panel_cancellation",
        ref_type="panel_case",
        ref_id=case.pk,
        attachment=attachment,
    )


def _locked(case: PanelCase, *, open_only: bool = True) -> PanelCase:
    """The case re-read under a row lock (call inside a transaction), so a write checks the status
    the case has now and a concurrent conclude, cancel or reply waits its turn. Raises
    ValidationError when `open_only` and the case is no longer booked."""
    fresh = (
        PanelCase.objects.select_for_update(of=("self",))
        .select_related("referral__person", "referral__pdu", "meeting")
        .get(pk=case.pk)
    )
    if open_only and fresh.status != CaseStatus.BOOKED:
        raise ValidationError({"status": "The case is concluded or cancelled: add an addendum"})
    return fresh


def _next_sequence(case: PanelCase) -> int:
    """Bump the slot invitation's SEQUENCE in the database (under the caller's lock) and return
    it, so every update or cancellation carries a higher number than any sent before."""
    PanelCase.objects.filter(pk=case.pk).update(sequence=F("sequence") + 1)
    case.sequence = PanelCase.objects.values_list("sequence", flat=True).get(pk=case.pk)
    return case.sequence


def _transition(case: PanelCase, *, to: str, actor: Any, reason: str, **changes: Any) -> PanelCase:
    return transitions.transition(
        queryset=PanelCase.objects.all(),
        pk=case.pk,
        to=to,
        moves=CASE_MOVES,
        actor=actor,
        reason=reason,
        history_model=PanelCaseTransition,
        history_fields={"case_id": case.pk},
        object_type="panel_case",
        person_crn=case.referral.person.crn,
        changes=changes,
    )


def panel_case_book(
    *,
    actor: Any,
    referral: Referral,
    question: str,
    meeting: PanelMeeting | None = None,
    slot_index: int | None = None,
    invitees: list[Invitee] | None = None,
    now: dt.datetime | None = None,
) -> PanelCase:
    """Book a referral awaiting panel into a slot: the first free slot of the first meeting with
    one by default. Invites the proposed (or given) invitees with their reasons and sends the slot's
    calendar invitation; when the booking is on or after the meeting's papers date, the papers are
    issued at once (and show as late). Moves the referral to panel_booked.

    Who may call: the region's Complex Cases team (views check). Raises ValidationError (no
    question, referral not awaiting panel), SlotTaken (slot or meeting full, also when a concurrent
    booking won: the partial unique index)."""
    now = now or clock.now()
    if not question.strip():
        raise ValidationError({"question": "Enter the question for the panel"})
    referral = Referral.objects.select_related("person", "pdu", "manager").get(pk=referral.pk)
    if referral.status != ReferralStatus.AWAITING_PANEL:
        raise ValidationError({"referral": "Only a referral awaiting panel can be booked"})
    region_id = referral.pdu.region_id
    if meeting is None:
        meeting = _first_meeting_with_space(region_id, now)
        if meeting is None:
            raise SlotTaken("No scheduled panel meeting has a free slot")
    layout = meeting_slots(meeting)
    taken = set(
        meeting.cases.exclude(status=CaseStatus.CANCELLED).values_list("slot_index", flat=True)
    )
    if slot_index is None:
        slot_index = rules.first_free_slot(len(layout), taken)
        if slot_index is None:
            raise SlotTaken("That meeting has no free slot")
    if not 0 <= slot_index < len(layout):
        raise ValidationError({"slot_index": "Choose a slot of the meeting"})
    if slot_index in taken:
        raise SlotTaken("That slot has just been booked")
    slot = layout[slot_index]
    chosen = invitees_proposed(referral) if invitees is None else invitees
    try:
        with transaction.atomic():
            case = PanelCase.objects.create(
                meeting=meeting,
                referral=referral,
                slot_index=slot_index,
                start=slot.start,
                end=slot.end,
                question=question.strip(),
                booked_by=actor,
                booked_at=now,
            )
            PanelCaseTransition.objects.create(
                case=case, from_status="", to_status=CaseStatus.BOOKED, actor=actor, occurred_at=now
            )
            PanelInvitation.objects.bulk_create(
                PanelInvitation(
                    case=case,
                    user=invitee.user,
                    panel_role=invitee.panel_role,
                    party_role=invitee.party_role,
                    core=invitee.core,
                    reason=invitee.reason[:300],
                    invited_at=now,
                )
                for invitee in chosen
            )
            referrals.referral_transition(
                referral=referral,
                to=ReferralStatus.PANEL_BOOKED,
                actor=actor,
                reason="Booked into a panel slot",
                panel_case=case.pk,
                panel_date=meeting.date.isoformat(),
            )
            audit_record(
                actor=actor,
                action="create",
                object_type="panel_case",
                object_id=case.pk,
                person_crn=referral.person.crn,
                after={"meeting": meeting.pk, "slot": slot_index, "invited": len(chosen)},
            )
            if now.astimezone(rules.LONDON).date() >= meeting.papers_due:
                _issue_papers(case, now=now)
            else:
                _send_slot_invitation(
                    case,
                    method=IcsMethod.REQUEST,
                    intro=(
                        "You are invited to a slot at the Complex Cases panel. The papers will be "
                        f"ready in the service from {meeting.papers_due:%A %-d %B}."
                    ),
                )
    except IntegrityError:
        raise SlotTaken("That slot, or this referral, has just been booked") from None
    return case


def _first_meeting_with_space(region_id: int, now: dt.datetime) -> PanelMeeting | None:
    meetings = (
        PanelMeeting.objects.filter(
            series__region_id=region_id,
            series__active=True,
            status=MeetingStatus.SCHEDULED,
            start__gt=now,
        )
        .select_related("series")
        .order_by("start")[:24]
    )
    for meeting in meetings:
        taken = set(
            meeting.cases.exclude(status=CaseStatus.CANCELLED).values_list("slot_index", flat=True)
        )
        if rules.first_free_slot(len(meeting_slots(meeting)), taken) is not None:
            return meeting
    return None


def panel_case_cancel(*, actor: Any, case: PanelCase, reason: str) -> PanelCase:
    """Cancel a booked slot: CANCEL to everyone invited, the referral back to awaiting panel."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the slot is cancelled"})
    with transaction.atomic():
        locked = _locked(case, open_only=False)
        case = _transition(
            locked,
            to=CaseStatus.CANCELLED,
            actor=actor,
            reason=reason.strip(),
            sequence=locked.sequence + 1,
        )
        _send_slot_invitation(
            case, method=IcsMethod.CANCEL, intro="This Complex Cases panel slot has been cancelled."
        )
        referrals.referral_transition(
            referral=case.referral,
            to=ReferralStatus.AWAITING_PANEL,
            actor=actor,
            reason=f"Panel slot cancelled: {reason.strip()}",
        )
    return case


# --- papers ------------------------------------------------------------------------------------


def _issue_papers(case: PanelCase, *, now: dt.datetime) -> None:
    PanelCase.objects.filter(pk=case.pk).update(papers_issued_at=now)
    case.papers_issued_at = now
    _next_sequence(case)
    attachment = None
    if getattr(settings, "CC_PANEL_PAPERS_ATTACH", False):
        # Only for a mail system accredited for the papers' content (off by default), and never
        # when limited access refuses someone invited: then everyone gets the link only.
        refused = any(
            access.limited_access_decision(user, case.referral.person) is not None
            for user, _ in _invited(case)
        )
        if not refused:
            from complexcases.panels.pdf import papers_pdf

            attachment = (f"panel-papers-{case.pk}.pdf", papers_pdf(case), "application/pdf")
    _send_slot_invitation(
        case,
        method=IcsMethod.REQUEST,
        intro="The papers for your Complex Cases panel slot are ready. Read them in the service.",
        path=reverse("panels:papers", args=[case.pk]),
        attachment=attachment,
    )
    audit_record(
        actor="system",
        action="send",
        object_type="panel_papers",
        object_id=case.pk,
        person_crn=case.referral.person.crn,
        recipients=[email for email, _, _ in _attendees(case)],
    )


def papers_issue_due(*, now: dt.datetime | None = None) -> int:
    """Issue the papers of every booked case whose meeting's papers date has come (daily beat
    task; safe to run again: a case's papers are issued once). Returns how many were issued."""
    now = now or clock.now()
    today = now.astimezone(rules.LONDON).date()
    due = PanelCase.objects.filter(
        status=CaseStatus.BOOKED, papers_issued_at__isnull=True, meeting__papers_due__lte=today
    ).select_related("referral__person", "meeting")

    def issue(case: PanelCase) -> bool:
        _issue_papers(case, now=now)
        return True

    return _once_each(due, issue)


def _once_each(rows: QuerySet[Any], act: Callable[[Any], bool]) -> int:
    """The scheduled work's loop: for each row `rows` finds now, in a transaction of its own, lock
    the row and find it again through the same conditions (a concurrent run may have done it
    already), then `act` on it. One row's failure rolls back that row only. Returns how many acts
    counted (`act` returns whether it did something worth counting)."""
    done = 0
    for pk in list(rows.values_list("pk", flat=True)):
        with transaction.atomic():
            row = rows.select_for_update(of=("self",)).filter(pk=pk).first()
            if row is not None and act(row):
                done += 1
    return done


def papers_open(*, case: PanelCase, user: Any, request: Any = None) -> None:
    """Record a member's opening of the papers (first time kept; every time audited)."""
    with transaction.atomic():
        PapersOpening.objects.get_or_create(case=case, user=user)
        audit_record(
            actor=user,
            action="view",
            object_type="panel_papers",
            object_id=case.pk,
            person_crn=case.referral.person.crn,
            request=request,
        )


# --- invitations and attendance ----------------------------------------------------------------


def invitation_respond(
    *, actor: Any, invitation: PanelInvitation, status: str, delegate: Any = None, note: str = ""
) -> PanelInvitation:
    """A member sends apologies, delegates the slot to a deputy, or confirms after all. A
    delegate must be a deputy (or member) for the same panel role in the region. The slot's
    invitation is re-sent so the delegate gets it and an absent member's calendar is updated."""
    if status not in {
        InvitationStatus.INVITED,
        InvitationStatus.APOLOGIES,
        InvitationStatus.DELEGATED,
    }:
        raise ValidationError({"status": "Choose attending, apologies or delegate"})
    case = invitation.case
    if case.status != CaseStatus.BOOKED:
        raise ValidationError({"status": "The slot is no longer open"})
    if status == InvitationStatus.DELEGATED:
        region_id = case.referral.pdu.region_id
        allowed = PanelMember.objects.filter(
            region_id=region_id,
            role=invitation.panel_role,
            active=True,
            user=delegate,
            user__is_active=True,
        ).exists()
        if delegate is None or not invitation.panel_role or not allowed:
            raise ValidationError({"delegate": "Choose a deputy for your panel role"})
    with transaction.atomic():
        case = _locked(case)
        before = {"status": invitation.status}
        invitation.status = status
        invitation.delegate = delegate if status == InvitationStatus.DELEGATED else None
        invitation.status_note = note.strip()[:300]
        invitation.save(update_fields=["status", "delegate", "status_note"])
        _next_sequence(case)
        audit_record(
            actor=actor,
            action="update",
            object_type="panel_invitation",
            object_id=invitation.pk,
            person_crn=case.referral.person.crn,
            before=before,
            after={"status": status, "delegate": getattr(delegate, "username", "")},
        )
        _send_slot_invitation(
            case,
            method=IcsMethod.REQUEST,
            intro="The attendance for your Complex Cases panel slot has changed.",
        )
    return invitation


def attendance_record(*, actor: Any, case: PanelCase, attendance: dict[int, str]) -> int:
    """Record who attended the slot (invitation id -> attended / apologies / delegated / absent)."""
    if case.status != CaseStatus.BOOKED:
        raise ValidationError({"attendance": "The case is concluded: add an addendum instead"})
    allowed = {choice for choice in Attendance.values if choice}
    if any(value not in allowed for value in attendance.values()):
        raise ValidationError({"attendance": "Choose attended, apologies, delegated or absent"})
    with transaction.atomic():
        case = _locked(case)
        changed = 0
        for invitation in case.invitations.filter(pk__in=list(attendance)):
            if invitation.attendance != attendance[invitation.pk]:
                invitation.attendance = attendance[invitation.pk]
                invitation.save(update_fields=["attendance"])
                changed += 1
        audit_record(
            actor=actor,
            action="update",
            object_type="panel_attendance",
            object_id=case.pk,
            person_crn=case.referral.person.crn,
            after={"recorded": len(attendance), "changed": changed},
        )
    return changed


def agenda_note_save(*, actor: Any, case: PanelCase, step: int, text: str) -> AgendaNote:
    """Save the notes of one agenda step (1-7) while the case is open."""
    if case.status != CaseStatus.BOOKED:
        raise ValidationError({"text": "The case is concluded: add an addendum instead"})
    if not 1 <= step <= 7:
        raise ValidationError({"step": "Choose a step of the agenda"})
    with transaction.atomic():
        case = _locked(case)
        note, _ = AgendaNote.objects.update_or_create(
            case=case,
            step=step,
            defaults={"text": text.strip(), "updated_by": actor, "updated_at": clock.now()},
        )
        audit_record(
            actor=actor,
            action="update",
            object_type="panel_agenda_note",
            object_id=note.pk,
            person_crn=case.referral.person.crn,
            details={"step": step},
        )
    return note


# --- conclusion --------------------------------------------------------------------------------


def _outcome_recipients(case: PanelCase) -> list[str]:
    referral = case.referral
    emails: list[str] = []
    manager_user = getattr(referral.manager, "user", None) if referral.manager else None
    spo = (
        User.objects.filter(username=referral.spo_username).first()
        if referral.spo_username
        else None
    )
    for user in (manager_user, spo, _head_of_pdu(referral)):
        if user is not None and user.is_active and user.email and user.email not in emails:
            emails.append(user.email)
    return emails


def _qdo(region_id: int) -> Any | None:
    return _named_member(region_id, rules.PanelRole.QDO)


def panel_case_conclude(
    *, actor: Any, case: PanelCase, summary: str, now: dt.datetime | None = None
) -> PanelCase:
    """The chair's summary concludes the case: the record locks (later corrections are addenda),
    the referral moves to heard_at_panel, the summary and actions go by email (a link, no case
    details) to the practitioner, the SPO and the Head of PDU, a sensitive nDelius contact is
    queued, and the QDO's follow-up is scheduled 20 working days on."""
    now = now or clock.now()
    if not summary.strip():
        raise ValidationError({"summary": "Enter the chair's summary"})
    with transaction.atomic():
        case = _transition(
            case,
            to=CaseStatus.CONCLUDED,
            actor=actor,
            reason="Concluded by the chair",
            summary=summary.strip(),
            concluded_at=now,
            concluded_by=actor,
        )
        referral = case.referral
        referrals.referral_transition(
            referral=referral,
            to=ReferralStatus.HEARD_AT_PANEL,
            actor=actor,
            reason="Heard at panel",
            panel_case=case.pk,
        )
        PanelMeeting.objects.filter(pk=case.meeting_id, status=MeetingStatus.SCHEDULED).update(
            status=MeetingStatus.HELD
        )
        today = now.astimezone(rules.LONDON).date()
        region_id = referral.pdu.region_id
        FollowUp.objects.create(
            referral=referral,
            case=case,
            qdo=_qdo(region_id),
            due=add_working_days(today, FOLLOW_UP_WORKING_DAYS),
        )
        recipients = _outcome_recipients(case)
        if recipients:
            notifications.outbox_enqueue(
                to=recipients,
                subject="Complex Cases panel: outcome and actions",
                body=notification_body(
                    intro=(
                        "A case you are involved in was heard at the Complex Cases panel. The "
                        "chair's summary and the agreed actions are in the service."
                    ),
                    link=notifications.service_link(_case_path(case)),
                ),
                kind="panel_outcome",
                ref_type="panel_case",
                ref_id=case.pk,
            )
        staff = getattr(actor, "staff", None)
        notifications.delius_contact_queue(
            person=referral.person,
            event="panel_outcome",
            contact_date=today,
            staff_code=getattr(staff, "staff_code", "") or "",
            notes=(
                "Complex Cases panel held. Summary and actions recorded in the Complex Cases "
                f"service.\n\n{summary.strip()}"
            ),
            source_type="panel_case",
            source_id=case.pk,
        )
        audit_record(
            actor=actor,
            action="send",
            object_type="panel_outcome",
            object_id=case.pk,
            person_crn=referral.person.crn,
            recipients=recipients,
        )
    return case


def addendum_add(*, actor: Any, case: PanelCase, text: str) -> Addendum:
    """A correction or addition to a concluded case, kept with its author and time."""
    if case.status != CaseStatus.CONCLUDED:
        raise ValidationError({"text": "Edit the record directly until the case is concluded"})
    if not text.strip():
        raise ValidationError({"text": "Enter the addendum"})
    with transaction.atomic():
        addendum = Addendum.objects.create(case=case, text=text.strip(), author=actor)
        audit_record(
            actor=actor,
            action="create",
            object_type="panel_addendum",
            object_id=addendum.pk,
            person_crn=case.referral.person.crn,
        )
    return addendum


# --- follow-up ---------------------------------------------------------------------------------


def follow_up_record(
    *,
    actor: Any,
    follow_up: FollowUp,
    progress_notes: str,
    remaining_blockers: str,
    wellbeing: int | None,
    confidence: int | None,
    outcome: str,
    now: dt.datetime | None = None,
) -> FollowUp:
    """The QDO's check-in. The outcome moves the referral: close (completed), further follow-up
    (a new check-in 20 working days on) or back to panel (awaiting panel)."""
    now = now or clock.now()
    errors: dict[str, str] = {}
    if outcome not in FollowUpOutcome.values:
        errors["outcome"] = "Choose the outcome of the follow-up"
    for name, value in (("wellbeing", wellbeing), ("confidence", confidence)):
        if value is None or not 1 <= value <= 5:
            errors[name] = f"Choose the practitioner's {name} from 1 to 5"
    if follow_up.status != FollowUpStatus.SCHEDULED:
        errors["outcome"] = "This follow-up has already been recorded"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.status != FollowUpStatus.SCHEDULED:
            raise ValidationError({"outcome": "This follow-up has already been recorded"})
        follow_up.progress_notes = progress_notes.strip()
        follow_up.remaining_blockers = remaining_blockers.strip()
        follow_up.wellbeing, follow_up.confidence = wellbeing, confidence
        follow_up.outcome = outcome
        follow_up.status = FollowUpStatus.DONE
        follow_up.recorded_by, follow_up.recorded_at = actor, now
        follow_up.save(
            update_fields=[
                "progress_notes",
                "remaining_blockers",
                "wellbeing",
                "confidence",
                "outcome",
                "status",
                "recorded_by",
                "recorded_at",
            ]
        )
        referral = Referral.objects.select_related("person", "pdu").get(pk=follow_up.referral_id)
        if referral.status == ReferralStatus.HEARD_AT_PANEL:
            referral = referrals.referral_transition(
                referral=referral,
                to=ReferralStatus.IN_FOLLOW_UP,
                actor=actor,
                reason="Follow-up check-in held",
            )
        if outcome == FollowUpOutcome.CLOSE:
            referrals.referral_close(
                referral=referral,
                actor=actor,
                closure_reason=ClosureReason.COMPLETED,
                reason="Closed after follow-up",
            )
        elif outcome == FollowUpOutcome.BACK_TO_PANEL:
            referrals.referral_transition(
                referral=referral,
                to=ReferralStatus.AWAITING_PANEL,
                actor=actor,
                reason="Back to panel after follow-up",
            )
        else:
            today = now.astimezone(rules.LONDON).date()
            FollowUp.objects.create(
                referral=referral,
                case=follow_up.case,
                qdo=follow_up.qdo,
                due=add_working_days(today, FOLLOW_UP_WORKING_DAYS),
            )
        audit_record(
            actor=actor,
            action="update",
            object_type="follow_up",
            object_id=follow_up.pk,
            person_crn=referral.person.crn,
            after={"outcome": outcome, "wellbeing": wellbeing, "confidence": confidence},
        )
    return follow_up


def reflection_record(
    *, actor: Any, meeting: PanelMeeting, wants_debrief: bool, note: str = ""
) -> Reflection:
    """A member's note after a meeting: reflective time taken, and whether they want a debrief."""
    with transaction.atomic():
        reflection, _ = Reflection.objects.update_or_create(
            meeting=meeting,
            user=actor,
            defaults={"wants_debrief": wants_debrief, "note": note.strip()},
        )
        audit_record(
            actor=actor,
            action="update",
            object_type="panel_reflection",
            object_id=reflection.pk,
            after={"wants_debrief": wants_debrief},
        )
    return reflection


# --- configuration through the admin pages ---------------------------------------------------------


def roster_member_save(*, actor: Any, member: PanelMember, created: bool) -> None:
    """Save a roster row edited in the admin pages, audited. Naming a member (not a deputy)
    retires the role's previous named member, as roster_member_set does."""
    with transaction.atomic():
        if member.active and not member.is_deputy:
            PanelMember.objects.filter(
                region_id=member.region_id, role=member.role, is_deputy=False, active=True
            ).exclude(pk=member.pk).update(active=False)
        member.save()
        audit_record(
            actor=actor,
            action="create" if created else "update",
            object_type="panel_member",
            object_id=member.pk,
            after={"role": member.role, "deputy": member.is_deputy, "active": member.active},
        )


def roster_member_delete(*, actor: Any, member: PanelMember) -> None:
    """Retire a roster row (kept, inactive: invitations point at its user)."""
    with transaction.atomic():
        member.active = False
        member.save(update_fields=["active"])
        audit_record(
            actor=actor,
            action="update",
            object_type="panel_member",
            object_id=member.pk,
            after={"active": False},
        )


def series_save(
    *, actor: Any, series: PanelSeries, created: bool, today: dt.date | None = None
) -> int:
    """Save a series edited in the admin pages (the rule validated), audited, and schedule its
    meetings for the coming year. Returns how many meetings were added."""
    if problem := rules.validate_rrule(series.rrule):
        raise ValidationError({"rrule": problem})
    series.rrule = series.rrule.strip().removeprefix("RRULE:")
    with transaction.atomic():
        series.save()
        audit_record(
            actor=actor,
            action="create" if created else "update",
            object_type="panel_series",
            object_id=series.pk,
            after={"rrule": series.rrule, "policy": series.holiday_policy, "active": series.active},
        )
    today = today or clock.today()
    return meetings_schedule(
        series=series,
        start=today,
        until=today + dt.timedelta(days=SCHEDULE_AHEAD_DAYS),
        actor=actor,
    )


# --- scheduled work (Celery beat, daily) -------------------------------------------------------------

SCHEDULE_AHEAD_DAYS = 365


def meetings_schedule_all(*, today: dt.date) -> int:
    """Keep a year of meetings scheduled for every active series. Safe to run again."""
    return sum(
        meetings_schedule(
            series=series,
            start=today,
            until=today + dt.timedelta(days=SCHEDULE_AHEAD_DAYS),
            actor="system",
        )
        for series in PanelSeries.objects.filter(active=True)
    )


def follow_up_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Remind each QDO, once, of a follow-up check-in due today or earlier. Generic email."""
    now = now or clock.now()
    today = now.astimezone(rules.LONDON).date()
    due = FollowUp.objects.filter(
        status=FollowUpStatus.SCHEDULED, due__lte=today, reminded_at__isnull=True
    ).select_related("qdo")

    def remind(follow_up: FollowUp) -> bool:
        FollowUp.objects.filter(pk=follow_up.pk).update(reminded_at=now)
        qdo = follow_up.qdo
        if qdo is None or not qdo.is_active or not qdo.email:
            return False
        notifications.outbox_enqueue(
            to=[qdo.email],
            subject="Complex Cases: a follow-up check-in is due",
            body=notification_body(
                intro=(
                    "A follow-up check-in after a Complex Cases panel is due. Review the "
                    "actions, the blockers that remain and the practitioner's wellbeing."
                ),
                link=notifications.service_link(reverse("panels:follow_up", args=[follow_up.pk])),
            ),
            kind="follow_up_reminder",
            ref_type="follow_up",
            ref_id=follow_up.pk,
        )
        return True

    return _once_each(due, remind)


def reflection_prompts_send(*, now: dt.datetime | None = None) -> int:
    """After a meeting has been held, prompt its members (once) to take reflective time and say
    whether they want a debrief. Generic email with a link to the meeting page."""
    now = now or clock.now()
    today = now.astimezone(rules.LONDON).date()
    held = PanelMeeting.objects.filter(
        status=MeetingStatus.HELD, date__lte=today, reflection_prompted_at__isnull=True
    )

    def prompt(meeting: PanelMeeting) -> bool:
        PanelMeeting.objects.filter(pk=meeting.pk).update(reflection_prompted_at=now)
        emails = sorted(
            {
                user.email
                for case in meeting.cases.exclude(status=CaseStatus.CANCELLED)
                for user, invitation in _invited(case)
                if invitation.panel_role and user.email
            }
        )
        if not emails:
            return False
        notifications.outbox_enqueue(
            to=emails,
            subject="Complex Cases panel: time to reflect",
            body=notification_body(
                intro=(
                    "Thank you for taking part in the Complex Cases panel. Please take some "
                    "reflective time. If you would like a debrief, say so on the meeting page."
                ),
                link=notifications.service_link(reverse("panels:meeting", args=[meeting.pk])),
            ),
            kind="panel_reflection_prompt",
            ref_type="panel_meeting",
            ref_id=meeting.pk,
        )
        return True

    return _once_each(held, prompt)


def follow_ups_cancel(*, actor: Any, referral: Referral, reason: str) -> int:
    """Cancel the referral's scheduled follow-ups (the referral is being closed by hand), in the
    caller's transaction when there is one. Returns how many were cancelled. Audited."""
    with transaction.atomic():
        scheduled = list(
            FollowUp.objects.select_for_update().filter(
                referral=referral, status=FollowUpStatus.SCHEDULED
            )
        )
        for follow_up in scheduled:
            follow_up.status = FollowUpStatus.CANCELLED
            follow_up.save(update_fields=["status"])
            audit_record(
                actor=actor,
                action="update",
                object_type="follow_up",
                object_id=follow_up.pk,
                person_crn=referral.person.crn,
                after={"status": "cancelled"},
                reason=reason,
            )
    return len(scheduled)
