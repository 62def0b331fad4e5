"""Reads for actions. Each function issues a fixed number of queries whatever the number of rows.

Who may see an action (the actions issue):
- its owner, and the Complex Cases team (cc_team) of the referral's region: see and update it;
- anyone who may see the person (accounts.access scope): see it, read only;
- limited access (exclusion, restriction) on the person refuses everyone above with the 403
  message, as elsewhere; anyone else gets the same 404 as for an action that does not exist.
  Refusals are audited.
The person's name and CRN are shown only to those who may see the person: an owner outside the
person's scope sees the action, not who it is about.

actions_owned_by and actions_for_referral return rows for callers that have already decided the
user may see them (a user's own actions; a referral fetched through referral_get_for).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import BooleanField, Count, Exists, OuterRef, Q, QuerySet, Value
from django.http import HttpRequest

from complexcases.accounts import access
from complexcases.actions import rules
from complexcases.actions.models import Action, ActionUpdate
from complexcases.actions.services import reminder_policy
from complexcases.actions.states import OPEN_STATUSES, ActionStatus
from complexcases.core import clock
from complexcases.core.audit import audit_record
from complexcases.people.models import Person
from complexcases.referrals.models import Referral


def actions_owned_by(user: Any, *, include_finished: bool = False) -> QuerySet[Action]:
    """The actions the user owns, soonest due first; open, in progress and blocked unless
    `include_finished`. Carries the referral (not the person's details): a page that shows who
    the action is about must check access.can_view_person or annotate limited access itself."""
    queryset = Action.objects.filter(owner_id=user.pk).select_related("referral")
    if not include_finished:
        queryset = queryset.filter(status__in=sorted(OPEN_STATUSES))
    return queryset.order_by("due_date", "id")


def actions_for_referral(referral: Referral) -> QuerySet[Action]:
    """Every action of the referral, soonest due first, with its owner."""
    return (
        Action.objects.filter(referral=referral).select_related("owner").order_by("due_date", "id")
    )


# --- person access, in the same query ---------------------------------------------------------


def _with_person_access(queryset: QuerySet[Action], user: Any, today: dt.date) -> QuerySet[Action]:
    """Annotate `person_in_scope` (the user's roles reach the person) and
    `limited_access_refusal` (accounts.access), as subqueries of the same query."""
    scope = access.person_scope_q(user)
    in_scope: Any = (
        Exists(Person.objects.filter(scope).filter(pk=OuterRef("person_id")))
        if scope is not None
        else Value(False, output_field=BooleanField())
    )
    return access.annotate_limited_access(
        queryset.annotate(person_in_scope=in_scope), user, today, person_ref="person_id"
    )


def _sees_person(action: Action) -> bool:
    return bool(getattr(action, "person_in_scope", False)) and (
        getattr(action, "limited_access_refusal", None) is None
    )


# --- my actions -------------------------------------------------------------------------------

STATUS_TAGS = {
    ActionStatus.OPEN: "govuk-tag--blue",
    ActionStatus.IN_PROGRESS: "govuk-tag--light-blue",
    ActionStatus.BLOCKED: "govuk-tag--red",
    ActionStatus.DONE: "govuk-tag--green",
    ActionStatus.CANCELLED: "govuk-tag--grey",
}


@dataclass(frozen=True)
class ActionRow:
    """A row of My actions. `crn` and `name` are empty unless the user may see the person;
    `limited` marks a person in the user's scope refused by limited access (CRN only)."""

    action: Action
    group: str  # overdue | due_soon | later | finished
    crn: str = ""
    name: str = ""
    limited: bool = False

    @property
    def status_label(self) -> str:
        return str(ActionStatus(self.action.status).label)

    @property
    def status_tag(self) -> str:
        return STATUS_TAGS[ActionStatus(self.action.status)]


@dataclass
class MyActions:
    overdue: list[ActionRow] = field(default_factory=list)
    due_soon: list[ActionRow] = field(default_factory=list)
    later: list[ActionRow] = field(default_factory=list)
    finished: list[ActionRow] = field(default_factory=list)

    @property
    def open_count(self) -> int:
        return len(self.overdue) + len(self.due_soon) + len(self.later)


def _row(action: Action, group: str) -> ActionRow:
    person: Any = action.person
    if _sees_person(action):
        return ActionRow(action, group, crn=person.crn, name=person.name)
    if getattr(action, "person_in_scope", False):
        return ActionRow(action, group, crn=person.crn, limited=True)
    return ActionRow(action, group)


def my_actions(user: Any, *, today: dt.date, include_finished: bool = False) -> MyActions:
    """The user's own actions (owner = user), grouped overdue / due soon / later (rules.due_group,
    the reminder window), soonest due first, and done/cancelled ones when `include_finished`.

    Who may call: the My actions page, for any signed-in user. Cost: the roles (cached on the
    user) and one query, whatever the number of actions.
    """
    result = MyActions()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return result
    queryset = actions_owned_by(user, include_finished=include_finished).select_related("person")
    policy = reminder_policy()
    for action in _with_person_access(queryset, user, today):
        if action.status not in OPEN_STATUSES:
            result.finished.append(_row(action, "finished"))
            continue
        group = rules.due_group(due_date=action.due_date, today=today, policy=policy)
        getattr(result, group).append(_row(action, group))
    result.finished.sort(key=lambda row: (-row.action.due_date.toordinal(), -row.action.pk))
    return result


def my_actions_summary(user: Any, *, today: dt.date) -> dict[str, int]:
    """Counts of the user's unfinished actions, for the My work page: {"overdue", "due_soon",
    "open"} ("open" counts every unfinished one: open, in progress and blocked; "due_soon" is due
    today or within CC_ACTION_REMINDER_WORKING_DAYS working days). No identifiers. One query."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return {"overdue": 0, "due_soon": 0, "open": 0}
    horizon = rules.add_working_days(today, reminder_policy().remind_before)
    counts = Action.objects.filter(owner_id=user.pk, status__in=sorted(OPEN_STATUSES)).aggregate(
        overdue=Count("pk", filter=Q(due_date__lt=today)),
        due_soon=Count("pk", filter=Q(due_date__gte=today, due_date__lte=horizon)),
        open=Count("pk"),
    )
    return {key: int(counts[key] or 0) for key in ("overdue", "due_soon", "open")}


# --- one action -------------------------------------------------------------------------------


@dataclass
class ActionPage:
    action: Action
    may_update: bool  # owner, or cc_team of the referral's region
    sees_person: bool  # may see the person's name and CRN


def _refuse(
    user: Any, action_id: Any, reason: str, request: HttpRequest | None, crn: str = ""
) -> None:
    audit_record(
        actor=user if getattr(user, "is_authenticated", False) else None,
        action="refused",
        object_type="action",
        object_id=action_id,
        person_crn=crn,
        outcome="refused",
        reason=reason,
        request=request,
    )


def action_get_for(
    user: Any, action_id: int, *, request: HttpRequest | None = None, today: dt.date | None = None
) -> ActionPage:
    """The action, for its owner, the region's Complex Cases team and those who may see the
    person (see the module docstring). Raises access.NotFound (audited) when the action is not
    there or not the user's to see, access.LimitedAccessDenied (audited, 403) when limited access
    refuses them. The successful view is not audited here: the page records what it showed.
    Cost: the roles (cached) and one query.
    """
    today = today or clock.today()
    action = None
    if 0 < action_id < 2**63 and getattr(user, "is_authenticated", False) and user.is_active:
        queryset = Action.objects.filter(pk=action_id).select_related(
            "referral__pdu", "person", "owner", "created_by"
        )
        action = _with_person_access(queryset, user, today).first()
    if action is None:
        _refuse(user, action_id, "not found", request)
        raise access.NotFound()
    person: Any = action.person
    owns = action.owner_id == user.pk
    manages = action.referral.pdu.region_id in access.grants_for(user).listed_region_ids
    in_scope = bool(getattr(action, "person_in_scope", False))
    if not (owns or manages or in_scope):
        _refuse(
            user, action.pk, "not the owner, not the region's team, person not in scope", request
        )
        raise access.NotFound()
    decision = getattr(action, "limited_access_refusal", None)
    if decision is not None:
        _refuse(user, action.pk, f"limited access: {decision}", request, crn=person.crn)
        raise access.LimitedAccessDenied(person.crn)
    return ActionPage(action=action, may_update=owns or manages, sees_person=in_scope)


def action_history(action: Action) -> list[ActionUpdate]:
    """The action's history, oldest first, with who made each update. One query."""
    return list(action.updates.select_related("actor").order_by("occurred_at", "id"))
