"""Every write of the actions app: create an action, move it, add a note.

Who may call: the workflow services (triage outcome, panel, follow-up) and the pages of the
Complex Cases team, after their own access checks on the referral. Each service takes keyword
arguments and an `actor`, runs in one transaction with its audit record, and raises a Django
ValidationError whose message_dict names the fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from complexcases.actions import rules
from complexcases.actions.models import Action, ActionUpdate
from complexcases.actions.states import MOVES, ActionStatus
from complexcases.core import transitions
from complexcases.core.audit import audit_record
from complexcases.referrals.models import Referral

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
        today=today or timezone.localdate(),
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
