"""Every write of the referrals app: reflective conversations, referrals and their moves, and the
SPO reminders.

Each service takes keyword arguments and an `actor`, runs in one transaction with its audit record,
and leaves side effects (email) to the notifications outbox, which sends after commit. Validation
comes from rules.py and is raised as a django ValidationError whose message_dict names the fields.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.http import HttpRequest
from django.urls import reverse

from complexcases.accounts.models import UserRole
from complexcases.accounts.roles import Role
from complexcases.core import clock, transitions
from complexcases.core.audit import audit_record
from complexcases.notifications import services as notifications
from complexcases.notifications.rules import notification_body
from complexcases.people.models import Person
from complexcases.referrals import rules, selectors
from complexcases.referrals.models import (
    ConversationReminder,
    Referral,
    ReferralTransition,
    ReflectiveConversation,
)
from complexcases.referrals.states import (
    MOVES,
    ClosureReason,
    ConversationOutcome,
    ReferralStatus,
    Route,
)
from complexcases.screening.models import ScreeningResult

logger = logging.getLogger(__name__)

TransitionNotAllowed = transitions.TransitionNotAllowed


class OpenReferralExists(Exception):
    """The person already has an open referral: the caller shows that one instead."""

    def __init__(self, referral: Referral) -> None:
        super().__init__("This person already has an open referral")
        self.referral = referral


def _staff_code(actor: Any, person: Person) -> str:
    staff = getattr(actor, "staff", None)
    return staff.staff_code if staff is not None else person.offender_manager.staff_code


# --- reflective conversations ---------------------------------------------------------------


def conversation_record(
    *,
    actor: Any,
    person: Person,
    outcome: str,
    held_on: dt.date,
    supported_elsewhere: str = "",
    note: str = "",
    month: str | None = None,
    request: HttpRequest | None = None,
) -> ReflectiveConversation:
    """Record a reflective conversation and queue its nDelius contact (sensitive).

    Who may call: views and API that have checked the actor may see the person and holds the
    practitioner or SPO role (selectors.person_for_action). `month` defaults to the latest run's
    month. Raises ValidationError with field messages. Audited ("create").
    """
    errors = rules.conversation_errors(
        outcome=outcome,
        supported_elsewhere=supported_elsewhere,
        held_on=held_on,
        today=clock.today(),
    )
    if errors:
        raise ValidationError(errors)
    month = month or selectors.conversation_month(person)
    with transaction.atomic():
        conversation = ReflectiveConversation.objects.create(
            person=person,
            month=month,
            outcome=outcome,
            supported_elsewhere=supported_elsewhere.strip(),
            held_on=held_on,
            note=note.strip(),
            recorded_by=actor,
        )
        label = dict(ConversationOutcome.choices)[outcome]
        notes = f"Complex Cases reflective conversation ({month}). Outcome: {label}."
        if conversation.supported_elsewhere:
            notes += f" Supported elsewhere: {conversation.supported_elsewhere}."
        if conversation.note:
            notes += f"\n{conversation.note}"
        notifications.delius_contact_queue(
            person=person,
            event="reflective_conversation",
            contact_date=held_on,
            staff_code=_staff_code(actor, person),
            notes=notes,
            source_type="reflective_conversation",
            source_id=conversation.pk,
        )
        audit_record(
            actor=actor,
            action="create",
            object_type="reflective_conversation",
            object_id=conversation.pk,
            person_crn=person.crn,
            after={"month": month, "outcome": outcome, "held_on": held_on.isoformat()},
            request=request,
        )
    return conversation


# --- referrals ------------------------------------------------------------------------------


def _team_spo_username(person: Person) -> str:
    """An SPO of the person's team, if the service knows one (the first by username)."""
    return (
        UserRole.objects.filter(role=Role.SPO, team_id=person.team_id, user__is_active=True)
        .order_by("user__username")
        .values_list("user__username", flat=True)
        .first()
        or ""
    )


def referral_create(
    *,
    actor: Any,
    person: Person,
    challenges: str,
    support_sought: str,
    route: str | None = None,
    route_reason: str = "",
    route_reason_other: str = "",
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Referral:
    """Refer a person to Complex Cases, filling in what the service already knows.

    Who may call: views and API that have checked the actor may see the person and may refer
    (selectors.person_for_action with selectors.may_refer). `route` None means "decide": the
    monthly list when the person is eligible in the latest run, otherwise professional judgement
    (which then needs a reason). Raises ValidationError (field messages) and OpenReferralExists
    (carrying the open referral; also when a concurrent request won the race, through the
    partial unique index). Audited ("create"), with a history row "made" (from "" to received).
    `now` is when it was received (default: now; the embedded demo back-dates its examples).
    """
    snapshot = selectors.screening_snapshot(person)
    if route is None:
        route = Route.MONTHLY_LIST if snapshot.eligible else Route.PROFESSIONAL_JUDGEMENT
    errors: dict[str, str] = {}
    if not challenges.strip():
        errors["challenges"] = "Enter what is challenging about this case"
    if not support_sought.strip():
        errors["support_sought"] = "Enter what support you are looking for"
    errors.update(
        rules.route_errors(
            route=route,
            route_reason=route_reason,
            route_reason_other=route_reason_other,
            eligible=snapshot.eligible,
        )
    )
    if errors:
        raise ValidationError(errors)
    existing = selectors.open_referral(person)
    if existing is not None:
        raise OpenReferralExists(existing)
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                person=person,
                route=route,
                route_reason=route_reason if route == Route.PROFESSIONAL_JUDGEMENT else "",
                route_reason_other=route_reason_other.strip(),
                challenges=challenges.strip(),
                support_sought=support_sought.strip(),
                referred_by=actor,
                manager=person.offender_manager,
                spo_username=_team_spo_username(person),
                pdu_id=person.pdu_id,
                team_id=person.team_id,
                screening_month=snapshot.month,
                criteria_count=snapshot.criteria_count,
                criteria_met=snapshot.criteria_met,
                eligible_at_referral=snapshot.eligible,
                created_at=now or clock.now(),
            )
            ReferralTransition.objects.create(
                referral=referral,
                from_status="",
                to_status=ReferralStatus.RECEIVED,
                actor=actor,
                reason="",
                occurred_at=referral.created_at,
            )
            audit_record(
                actor=actor,
                action="create",
                object_type="referral",
                object_id=referral.pk,
                person_crn=person.crn,
                after={"route": route, "route_reason": referral.route_reason, "status": "received"},
                request=request,
            )
    except IntegrityError:
        # A concurrent request created the open referral between our check and our insert.
        existing = selectors.open_referral(person)
        if existing is None:
            raise
        raise OpenReferralExists(existing) from None
    return referral


def referral_transition(
    *, referral: Referral, to: str, actor: Any, reason: str, **details: Any
) -> Referral:
    """Move a referral along the table in states.MOVES, recording who, when, from, to and why.

    Who may call: the workflow services and views of the Complex Cases team (triage, panel,
    follow-up), after their own access checks. The row is locked and re-read, so concurrent moves
    of one referral are serialised and checked against the current status (TransitionNotAllowed
    for the loser or for a move outside the table). A move to closed needs `closure_reason` (and
    `closure_destination` when signposted) in details: use referral_close. Audited ("transition").
    """
    changes: dict[str, Any] = {}
    if to == ReferralStatus.CLOSED:
        closure_reason = str(details.get("closure_reason", ""))
        destination = str(details.get("closure_destination", "")).strip()
        errors = rules.closure_errors(reason=closure_reason, destination=destination)
        if errors:
            raise ValidationError(errors)
        changes = {
            "closure_reason": closure_reason,
            "closure_destination": destination,
            "closed_at": clock.now(),
        }
        details = {
            **details,
            "closure_destination": destination,
            "closure_reason_label": dict(ClosureReason.choices)[closure_reason],
        }
    moved = transitions.transition(
        queryset=Referral.objects.all(),
        pk=referral.pk,
        to=to,
        moves=MOVES,
        actor=actor,
        reason=reason,
        history_model=ReferralTransition,
        history_fields={"referral_id": referral.pk},
        object_type="referral",
        person_crn=referral.person.crn,
        changes=changes,
        details=details,
    )
    return moved


def referral_close(
    *,
    referral: Referral,
    actor: Any,
    closure_reason: str,
    closure_destination: str = "",
    reason: str = "",
    expected_status: str | None = None,
) -> Referral:
    """Close a referral from any open status, with a closure reason (and a destination when
    signposted). Raises ValidationError, or TransitionNotAllowed when it is already closed.

    `expected_status`: close only if the referral is in that status now (the status the page
    showed, or the one the caller's own cancellations left it in), else TransitionNotAllowed with
    the status it has. The row is locked before the check, so a triage or panel slot booked
    meanwhile by someone else is never closed over and left live."""
    with transaction.atomic():
        if expected_status is not None:
            current = (
                Referral.objects.select_for_update()
                .values_list("status", flat=True)
                .get(pk=referral.pk)
            )
            if current != expected_status:
                raise TransitionNotAllowed(current, ReferralStatus.CLOSED)
        return referral_transition(
            referral=referral,
            to=ReferralStatus.CLOSED,
            actor=actor,
            reason=reason,
            closure_reason=closure_reason,
            closure_destination=closure_destination,
        )


# --- SPO reminders --------------------------------------------------------------------------


def conversation_reminders_send(*, today: dt.date) -> int:
    """Remind each SPO, once per month, of listed cases in their teams still without a reflective
    conversation 10 working days after the latest run's as-of date (rules.reminder_due).

    Who may call: the Celery task (beat, daily) and tests. The email names a count only, with a
    link into the service: no names, no CRNs. Safe to run repeatedly: ConversationReminder's
    unique (spo, month) makes it once per SPO per month, even with two runs racing.
    Returns the number of reminders queued. Cost: a fixed number of queries plus two per SPO.
    """
    run = selectors.latest_run()
    if run is None or not rules.reminder_due(as_of=run.as_of, today=today):
        return 0
    awaiting_by_team = dict(
        ScreeningResult.objects.filter(run=run, eligible=True, on_caseload=True)
        .annotate(awaiting=selectors.awaiting_conversation_expression(run.month))
        .filter(awaiting=True)
        .values("team_id")
        .order_by()
        .annotate(n=Count("id"))
        .values_list("team_id", "n")
    )
    if not awaiting_by_team:
        return 0
    already = set(
        ConversationReminder.objects.filter(month=run.month).values_list("spo_id", flat=True)
    )
    teams_by_spo: dict[int, set[int]] = {}
    spos: dict[int, Any] = {}
    for role in UserRole.objects.filter(
        role=Role.SPO, team_id__in=list(awaiting_by_team), user__is_active=True
    ).select_related("user__staff"):
        if role.user_id in already or role.team_id is None:
            continue
        teams_by_spo.setdefault(role.user_id, set()).add(role.team_id)
        spos[role.user_id] = role.user
    sent = 0
    for spo_id, team_ids in sorted(teams_by_spo.items()):
        spo = spos[spo_id]
        address = spo.email or (spo.staff.email if spo.staff is not None else "")
        if not address:
            logger.warning("SPO reminder not sent: user %s has no email address", spo_id)
            continue
        count = sum(awaiting_by_team[team_id] for team_id in team_ids)
        try:
            with transaction.atomic():
                reminder = ConversationReminder.objects.create(
                    spo=spo, month=run.month, case_count=count
                )
                notifications.outbox_enqueue(
                    to=[address],
                    subject=rules.reminder_subject(count),
                    body=notification_body(
                        intro=(
                            f"{rules.reminder_subject(count)}. The cases were listed "
                            f"{rules.REMINDER_WORKING_DAYS} working days ago or more."
                        ),
                        link=notifications.service_link(reverse("home")),
                    ),
                    kind="conversation_reminder",
                    ref_type="conversation_reminder",
                    ref_id=reminder.pk,
                )
                audit_record(
                    actor="conversation_reminders",
                    action="send",
                    object_type="conversation_reminder",
                    object_id=reminder.pk,
                    recipients=[address],
                    details={"month": run.month, "cases": count},
                )
        except IntegrityError:
            continue  # another run reminded this SPO this month
        sent += 1
    return sent
