"""Reads for actions. Each function issues one query whatever the number of rows.

These return rows for callers that have already decided the user may see them: a user's own
actions (actions_owned_by), or the actions of a referral the caller has fetched through
referrals.selectors.referral_get_for.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from complexcases.actions.models import Action
from complexcases.actions.states import OPEN_STATUSES
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
