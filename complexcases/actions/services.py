"""Every write of the actions app: create an action, move it, add a note, send reminders.

Who may call: the workflow services (triage outcome, panel, follow-up) and the action pages,
after their own access checks (selectors.action_get_for); the reminder service from the daily
Celery task. Each service takes keyword arguments and an `actor`, runs in one transaction with its
audit record, and raises a Django ValidationError whose message_dict names the fields.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse

from complexcases.accounts.models import UserRole
from complexcases.accounts.roles import Role
from complexcases.actions import rules
from complexcases.actions.models import Action, ActionReminder, ActionUpdate
from complexcases.actions.states import MOVES, OPEN_STATUSES, ActionStatus, ReminderKind
from complexcases.core import clock, transitions
from complexcases.core.audit import audit_record
from complexcases.notifications import services as notifications
from complexcases.notifications.rules import notification_body, working_days_between
from complexcases.referrals.models import Referral

# triage.models only (not triage.services or selectors, which import this module).
from complexcases.triage.models import TriageTeamMember
from complexcases.triage.states import TeamFunction

logger = logging.getLogger(__name__)

TransitionNotAllowed = transitions.TransitionNotAllowed


def action_create(
    *,
    actor: Any,
    referral: Referral,
    source: str,
    source_id: str | int,
    description: str,
    owner: Any,
    due_date: dt.date | None,
    today: dt.date | None = None,
    allow_past_due: bool = False,
) -> Action:
    """Create an open action on a referral, with its first history row ("" -> open).

    `source` is triage, panel or follow_up and `source_id` the record it came from. The due date
    must not be in the past (`allow_past_due` for the demo only). Audited ("create").
    """
    errors = rules.action_errors(
        description=description,
        has_owner=owner is not None,
        due_date=due_date,
        source=source,
        today=today or clock.today(),
        allow_past_due=allow_past_due,
    )
    if errors:
        raise ValidationError(errors)
    assert due_date is not None
    with transaction.atomic():
        action = Action.objects.create(
            referral=referral,
            person_id=referral.person_id,
            source=source,
            source_id=str(source_id),
            description=description.strip(),
            owner=owner,
            due_date=due_date,
            created_by=actor,
        )
        ActionUpdate.objects.create(
            action=action,
            from_status="",
            to_status=ActionStatus.OPEN,
            actor=actor,
            occurred_at=action.created_at,
        )
        audit_record(
            actor=actor,
            action="create",
            object_type="action",
            object_id=action.pk,
            person_crn=referral.person.crn,
            after={
                "referral": referral.pk,
                "source": source,
                "source_id": str(source_id),
                "owner": owner.pk,
                "due_date": due_date.isoformat(),
            },
        )
    return action


def action_transition(
    *, action: Action, to: str, actor: Any, note: str = "", cancellation_reason: str = ""
) -> Action:
    """Move an action along states.MOVES, recording who, when, from, to and the note.

    The row is locked and re-read (core.transitions), so concurrent moves are serialised and the
    loser gets TransitionNotAllowed. Cancelling needs `cancellation_reason`. Audited ("transition").
    """
    errors = rules.transition_errors(to=to, cancellation_reason=cancellation_reason)
    if errors:
        raise ValidationError(errors)
    changes = (
        {"cancellation_reason": cancellation_reason.strip()} if to == ActionStatus.CANCELLED else {}
    )
    return transitions.transition(
        queryset=Action.objects.all(),
        pk=action.pk,
        to=to,
        moves=MOVES,
        actor=actor,
        reason=note.strip(),
        history_model=ActionUpdate,
        history_fields={"action_id": action.pk},
        object_type="action",
        person_crn=_crn(action),
        changes=changes,
        details={"cancellation_reason": changes["cancellation_reason"]} if changes else None,
    )


def action_note_add(*, action: Action, actor: Any, note: str) -> ActionUpdate:
    """Add a progress note without moving the action (from and to are its current status).

    Audited ("update"). Raises ValidationError for an empty note.
    """
    if not note.strip():
        raise ValidationError({"note": "Enter the note"})
    with transaction.atomic():
        current = Action.objects.select_for_update().get(pk=action.pk)
        update = ActionUpdate.objects.create(
            action=current,
            from_status=current.status,
            to_status=current.status,
            actor=actor,
            reason=note.strip(),
        )
        audit_record(
            actor=actor,
            action="update",
            object_type="action",
            object_id=current.pk,
            person_crn=_crn(current),
            details={"note_added": update.pk},
        )
    return update


def _crn(action: Action) -> str:
    return str(action.person.crn)


# --- reminders and escalation ---------------------------------------------------------------

REMINDER_ACTOR = "action_reminders"  # the audit trail's actor for the daily task


def reminder_policy() -> rules.ReminderPolicy:
    """From settings, with defaults (settings are owned elsewhere):
    CC_ACTION_REMINDER_WORKING_DAYS (2) and CC_ACTION_ESCALATION_WORKING_DAYS (5)."""
    default = rules.DEFAULT_POLICY
    return rules.ReminderPolicy(
        remind_before=int(
            getattr(settings, "CC_ACTION_REMINDER_WORKING_DAYS", default.remind_before)
        ),
        escalate_after=int(
            getattr(settings, "CC_ACTION_ESCALATION_WORKING_DAYS", default.escalate_after)
        ),
    )


def _address(user: Any) -> str:
    """The account's email address, else the staff record's."""
    if user.email:
        return str(user.email)
    staff = getattr(user, "staff", None)
    return str(staff.email) if staff is not None and staff.email else ""


def escalation_recipients(region_ids: set[int]) -> dict[int, list[str]]:
    """Addresses per region for escalations: its Programme Manager(s) (TriageTeamMember with the
    programme_manager function); for a region without one, its Complex Cases team (cc_team role).
    Active users with an address only. Two queries at most."""
    found: dict[int, set[str]] = {}
    for member in TriageTeamMember.objects.filter(
        region_id__in=sorted(region_ids),
        function=TeamFunction.PROGRAMME_MANAGER,
        user__is_active=True,
    ).select_related("user__staff"):
        if address := _address(member.user):
            found.setdefault(member.region_id, set()).add(address)
    missing = sorted(region_ids - set(found))
    if missing:
        for role in UserRole.objects.filter(
            role=Role.CC_TEAM, region_id__in=missing, user__is_active=True
        ).select_related("user__staff"):
            if role.region_id is not None and (address := _address(role.user)):
                found.setdefault(role.region_id, set()).add(address)
    return {region: sorted(addresses) for region, addresses in found.items()}


def action_reminders_send(*, today: dt.date) -> dict[str, int]:
    """Queue today's reminder and escalation emails (rules.reminders_due) and return the counts
    by kind: due_soon and overdue to the action's owner, escalation to the Programme Manager of
    the referral's region (or its Complex Cases team when it has none).

    Who may call: the Celery task `actions.send_reminders` (beat, daily) and tests. The emails are
    generic: what kind of reminder, the due date and a link to the action page, which checks the
    reader's access; no names, no CRN. Each (action, kind) is sent at most once: the
    ActionReminder row, the outbox message, a history row and the audit record are written in one
    transaction, and the unique (action, kind) constraint makes a second or concurrent run a
    no-op. A recipient without an email address is skipped (logged) and tried again next run.
    Cost: three queries, then a few per email queued.
    """
    policy = reminder_policy()
    if not rules.is_working_day(today):
        return {kind: 0 for kind in rules.REMINDER_KINDS}
    horizon = rules.add_working_days(today, policy.remind_before)
    escalated = ActionReminder.objects.filter(
        action_id=OuterRef("pk"), kind=ReminderKind.ESCALATION
    )
    # Escalated actions have nothing more to send, so the candidates stay few over the years.
    candidates = list(
        Action.objects.filter(status__in=sorted(OPEN_STATUSES), due_date__lte=horizon)
        .filter(~Exists(escalated))
        .select_related("owner__staff", "referral__pdu", "person")
        .prefetch_related("reminders")
        .order_by("due_date", "id")
    )
    plans: list[tuple[Action, str]] = []
    for action in candidates:
        decision = rules.reminders_due(
            due_date=action.due_date,
            status=action.status,
            today=today,
            policy=policy,
            already_sent={r.kind for r in action.reminders.all()},
        )
        plans.extend((action, kind) for kind in decision.kinds)
    regions = {a.referral.pdu.region_id for a, kind in plans if kind == ReminderKind.ESCALATION}
    escalate_to = escalation_recipients(regions) if regions else {}
    sent = {kind: 0 for kind in rules.REMINDER_KINDS}
    for action, kind in plans:
        if kind == ReminderKind.ESCALATION:
            recipients = escalate_to.get(action.referral.pdu.region_id, [])
        else:
            recipients = [a for a in [_address(action.owner)] if a]
        if not recipients:
            logger.warning(
                "Action reminder (%s) not sent: no address for action %s", kind, action.pk
            )
            continue
        if _reminder_queue(action=action, kind=kind, today=today, recipients=recipients):
            sent[kind] += 1
    return sent


def _reminder_queue(*, action: Action, kind: str, today: dt.date, recipients: list[str]) -> bool:
    """One reminder: its row, email, history row and audit record together, or none of them."""
    subject, intro = rules.reminder_wording(
        kind=kind, due_date=action.due_date, late=working_days_between(action.due_date, today)
    )
    try:
        with transaction.atomic():
            reminder = ActionReminder.objects.create(
                action=action, kind=kind, sent_on=today, recipient_count=len(recipients)
            )
            notifications.outbox_enqueue(
                to=recipients,
                subject=subject,
                body=notification_body(
                    intro=intro,
                    link=notifications.service_link(reverse("actions:action", args=[action.pk])),
                ),
                kind=f"action_{kind}",
                ref_type="action_reminder",
                ref_id=reminder.pk,
            )
            ActionUpdate.objects.create(
                action=action,
                from_status=action.status,
                to_status=action.status,
                actor=None,
                details={"reminder": kind, "recipients": len(recipients)},
            )
            audit_record(
                actor=REMINDER_ACTOR,
                action="send",
                object_type="action_reminder",
                object_id=reminder.pk,
                person_crn=_crn(action),
                recipients=recipients,
                details={"action": action.pk, "kind": kind},
            )
    except IntegrityError:
        return False  # another run sent this one
    return True
