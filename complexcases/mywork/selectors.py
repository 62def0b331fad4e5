"""The reads behind My work: one small function per section, each scoped by accounts.access.

Each function answers for one user, issues one query whatever the number of rows (a section's
total comes from a window count in the same query), and returns plain rows: a limited-access
person's row carries the CRN only. Sections are shown by role (views.my_work); a function called
for a user without the role returns an empty listing without a query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce

from complexcases.accounts import access
from complexcases.accounts.models import Pdu, UserRole
from complexcases.accounts.roles import Role
from complexcases.core import clock
from complexcases.referrals import selectors as referral_selectors
from complexcases.referrals.models import Referral
from complexcases.referrals.selectors import ReferralRow
from complexcases.referrals.states import ReferralStatus
from complexcases.screening.models import ScreeningResult, ScreeningRun

T = TypeVar("T")

SECTION_LIMIT = 25  # rows a section shows; its total says how many more there are
RECENTLY_CLOSED_DAYS = 28  # a practitioner still sees a referral closed this recently


@dataclass(frozen=True)
class Listing(Generic[T]):
    """A section's rows (at most its limit) and how many there are in all."""

    rows: list[T] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def _with_total(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """The rows' total in each row (COUNT(*) OVER ()), so a section costs one query."""
    return queryset.annotate(section_total=Window(expression=Count("pk")))


def _total(rows: list[Any]) -> int:
    return int(rows[0].section_total) if rows else 0


def _referral_listing(queryset: QuerySet[Referral], limit: int) -> Listing[ReferralRow]:
    referrals = list(_with_total(queryset)[:limit])
    return Listing(rows=referral_selectors.referral_rows(referrals), total=_total(referrals))


def latest_run() -> ScreeningRun | None:
    """The run the monthly lists are read from (the latest finished run of the latest month)."""
    return referral_selectors.latest_run()


# --- practitioner (and SPO): your referrals ----------------------------------------------------


def your_referrals(user: Any, *, limit: int = SECTION_LIMIT) -> Listing[ReferralRow]:
    """Referrals the user made, and (for a practitioner) those of the people they manage: open
    ones, and those closed in the last RECENTLY_CLOSED_DAYS days; newest first.

    Only among the referrals the user may see (referral_selectors.visible_referrals). One query.
    """
    grants = access.grants_for(user)
    if not grants.roles & {Role.PRACTITIONER, Role.SPO}:
        return Listing()
    mine = Q(referred_by_id=user.pk)
    if grants.own_caseload and grants.staff_id is not None:
        mine |= Q(person__offender_manager_id=grants.staff_id)
    since = clock.now() - dt.timedelta(days=RECENTLY_CLOSED_DAYS)
    current = ~Q(status=ReferralStatus.CLOSED) | Q(closed_at__gte=since)
    referrals = (
        referral_selectors.visible_referrals(user)
        .filter(mine)
        .filter(current)
        .order_by("-created_at", "-id")
    )
    return _referral_listing(referrals, limit)


# --- SPO: listed cases awaiting a reflective conversation --------------------------------------


@dataclass(frozen=True)
class AwaitingRow:
    """A listed person in the SPO's team without a reflective conversation for the month."""

    crn: str
    limited_access: bool = False
    name: str = ""
    team: str = ""
    criteria_count: int = 0


AWAITING_ROW_FIELDS = (
    "person",
    "person__crn",
    "person__forename",
    "person__surname",
    "team",
    "team__name",
    "criteria_count",
)


def conversations_awaited(
    user: Any, run: ScreeningRun | None, *, limit: int = SECTION_LIMIT
) -> Listing[AwaitingRow]:
    """Eligible people on the caseload in the run, in the teams the user is SPO of, with no
    reflective conversation for the run's month (as the SPO reminders count them); most criteria
    first. Only people the user may see; limited-access rows carry the CRN only. One query.
    """
    grants = access.grants_for(user)
    if run is None or Role.SPO not in grants.roles:
        return Listing()
    spo_teams = UserRole.objects.filter(user_id=user.pk, role=Role.SPO).values("team_id")
    results = (
        ScreeningResult.objects.filter(
            run=run,
            eligible=True,
            on_caseload=True,
            team_id__in=spo_teams,
            person_id__in=access.people_visible_to(user).values("pk"),
        )
        .annotate(
            awaiting=referral_selectors.awaiting_conversation_expression(run.month),
        )
        .filter(awaiting=True)
        .select_related("person", "team")
        .only(*AWAITING_ROW_FIELDS)
        .order_by("-criteria_count", "person__surname", "person__forename", "person__crn")
    )
    results = access.annotate_limited_access(results, user, person_ref="person_id")
    page = list(_with_total(results)[:limit])
    rows = [
        AwaitingRow(crn=result.person.crn, limited_access=True)
        if getattr(result, "limited_access_refusal", None)
        else AwaitingRow(
            crn=result.person.crn,
            name=result.person.name,
            team=result.team.name,
            criteria_count=result.criteria_count,
        )
        for result in page
    ]
    return Listing(rows=rows, total=_total(page))


# --- Complex Cases team: new referrals ---------------------------------------------------------


def new_referrals(user: Any, *, limit: int = 10) -> Listing[ReferralRow]:
    """The received referrals of the user's cc_team region(s), oldest first (the queue's first
    group). Empty for users without the cc_team role. One query."""
    if not referral_selectors.may_run_referrals(user):
        return Listing()
    return _referral_listing(
        referral_selectors.referral_queue(user, status=ReferralStatus.RECEIVED), limit
    )


# --- Head of service: the PDU ------------------------------------------------------------------


@dataclass(frozen=True)
class PduOverview:
    code: str
    name: str
    listed: int | None  # eligible in the latest run; None when nothing has been screened
    open_referrals: int


def _count_subquery(queryset: QuerySet[Any], group: str) -> Coalesce:
    counted = queryset.order_by().values(group).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def pdu_overviews(user: Any, run: ScreeningRun | None) -> list[PduOverview]:
    """For each PDU the user is head of service of: how many people are listed in the latest run
    and how many referrals are open. Counts only. One query."""
    pdu_ids = sorted(access.grants_for(user).listed_pdu_ids)
    if not pdu_ids:
        return []
    pdus = Pdu.objects.filter(pk__in=pdu_ids).annotate(
        open_referrals=_count_subquery(
            Referral.objects.filter(pdu_id=OuterRef("pk")).exclude(status=ReferralStatus.CLOSED),
            "pdu_id",
        )
    )
    if run is not None:
        pdus = pdus.annotate(
            listed=_count_subquery(
                ScreeningResult.objects.filter(run=run, pdu_id=OuterRef("pk"), eligible=True),
                "pdu_id",
            )
        )
    return [
        PduOverview(
            code=pdu.code,
            name=pdu.name,
            listed=getattr(pdu, "listed", None),
            open_referrals=pdu.open_referrals,  # type: ignore[attr-defined]
        )
        for pdu in pdus.order_by("name")
    ]


def pdu_referrals(user: Any, *, limit: int = SECTION_LIMIT) -> Listing[ReferralRow]:
    """The open referrals of the PDU(s) the user is head of service of, by status along the
    workflow, oldest first; only those the user may see. One query."""
    pdu_ids = sorted(access.grants_for(user).listed_pdu_ids)
    if not pdu_ids:
        return Listing()
    referrals = (
        referral_selectors.visible_referrals(user)
        .filter(pdu_id__in=pdu_ids)
        .exclude(status=ReferralStatus.CLOSED)
        .annotate(status_rank=referral_selectors.status_rank())
        .order_by("status_rank", "created_at", "id")
    )
    return _referral_listing(referrals, limit)
