"""Reads for conversations and referrals, scoped by accounts.access.

"Not there" and "not yours" raise the same error (access.NotFound). Each function issues a fixed
number of queries whatever the number of rows (no queries in loops).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import HttpRequest

from complexcases.accounts import access
from complexcases.accounts.roles import Role
from complexcases.core import clock
from complexcases.core.audit import audit_record
from complexcases.notifications.rules import working_days_between
from complexcases.people.models import Person
from complexcases.referrals.models import Referral, ReferralTransition, ReflectiveConversation
from complexcases.referrals.states import (
    ClosureReason,
    ConversationOutcome,
    ReferralStatus,
    Route,
)
from complexcases.screening.criteria import mask_to_ids
from complexcases.screening.models import ScreeningResult, ScreeningRun

CONVERSATION_ROLES = frozenset({Role.PRACTITIONER, Role.SPO})
REFERRING_ROLES = frozenset({Role.PRACTITIONER, Role.SPO, Role.CC_TEAM})


def may_record_conversation(user: Any) -> bool:
    """Practitioners and SPOs record conversations (for people get_person_for allows them).

    No query beyond the roles, which are cached on the user.
    """
    return bool(access.grants_for(user).roles & CONVERSATION_ROLES)


def may_refer(user: Any) -> bool:
    """Practitioners and SPOs refer; the Complex Cases team also does, on a practitioner's behalf
    (a referral that came in by email or phone). Always for people get_person_for allows them."""
    return bool(access.grants_for(user).roles & REFERRING_ROLES)


def person_for_action(
    user: Any, crn: str, *, roles_ok: bool, request: HttpRequest | None
) -> Person:
    """The person, when the user may see them in detail AND hold a role allowed to act on them.

    A user without the role gets the same 404 as for a person out of scope (audited refusal).
    """
    person = access.get_person_for(
        user,
        crn,
        request=request,
        queryset=Person.objects.select_related("pdu__region", "team", "offender_manager"),
    )
    if not roles_ok:
        audit_record(
            actor=user,
            action="refused",
            object_type="person",
            object_id=person.crn,
            person_crn=person.crn,
            outcome="refused",
            reason="no role to act on this case",
            request=request,
        )
        raise access.NotFound()
    return person


# --- the latest screening run ---------------------------------------------------------------


def latest_run() -> ScreeningRun | None:
    """The latest finished run of the latest month (the one the lists are read from)."""
    return (
        ScreeningRun.objects.filter(finished_at__isnull=False)
        .order_by("-month", "-started_at", "-id")
        .first()
    )


def latest_result(person: Person) -> ScreeningResult | None:
    """The person's newest result in a finished run, without the evidence."""
    return (
        ScreeningResult.objects.filter(person=person, run__finished_at__isnull=False)
        .select_related("run")
        .defer("evidence")
        .order_by("-run__month", "-run__started_at", "-run_id")
        .first()
    )


@dataclass(frozen=True)
class ScreeningSnapshot:
    """What the latest screening says about a person, for a referral."""

    month: str
    criteria_count: int | None
    criteria_met: list[str]
    eligible: bool  # eligible in the latest run (of the latest month)


def screening_snapshot(person: Person) -> ScreeningSnapshot:
    """The person's latest result, and whether it is in the latest run and eligible. Two queries."""
    result = latest_result(person)
    run = latest_run()
    if result is None:
        return ScreeningSnapshot(month="", criteria_count=None, criteria_met=[], eligible=False)
    in_latest = run is not None and result.run_id == run.pk
    return ScreeningSnapshot(
        month=result.run.month,
        criteria_count=result.criteria_count,
        criteria_met=mask_to_ids(result.criteria_mask),
        eligible=bool(in_latest and result.eligible and result.on_caseload),
    )


def conversation_month(person: Person) -> str:
    """The screening month a conversation recorded now answers: the latest run's month."""
    run = latest_run()
    return run.month if run is not None else clock.today().strftime("%Y-%m")


# --- awaiting a conversation ----------------------------------------------------------------


def awaiting_conversation_expression(month: str, person_ref: str = "person_id") -> Any:
    """An annotation, True when the row's person has no reflective conversation for `month`.

    For list pages: one subquery in the list's own query, never a query per row.
    """
    return ~Exists(
        ReflectiveConversation.objects.filter(person_id=OuterRef(person_ref), month=month)
    )


# --- referrals ------------------------------------------------------------------------------


def open_referral(person: Person) -> Referral | None:
    return Referral.objects.filter(person=person).exclude(status=ReferralStatus.CLOSED).first()


def referral_get_for(
    user: Any, referral_id: int, *, request: HttpRequest | None = None
) -> Referral:
    """The referral, if the user may see its person in detail (access.get_person_for).

    Who may see a referral: whoever may see the person — which includes the Complex Cases team of
    the person's region, because referred people are in their scope (access.referred_people_q),
    and the practitioner who made it (access.referrals_made_q). Not there or not yours: NotFound
    (audited); limited access: LimitedAccessDenied. Cost: two queries plus the roles.
    """
    crn = (
        Referral.objects.filter(pk=referral_id).values_list("person__crn", flat=True).first()
        if 0 < referral_id < 2**63
        else None
    )
    if crn is None:
        audit_record(
            actor=user if getattr(user, "is_authenticated", False) else None,
            action="refused",
            object_type="referral",
            object_id=referral_id,
            outcome="refused",
            reason="not found",
            request=request,
        )
        raise access.NotFound()
    person = access.get_person_for(
        user,
        crn,
        request=request,
        queryset=Person.objects.select_related("pdu__region", "team", "offender_manager"),
    )
    referral = Referral.objects.select_related("referred_by", "manager", "pdu", "team").get(
        pk=referral_id
    )
    referral.person = person
    return referral


# --- timelines ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEvent:
    at: dt.datetime
    title: str
    by: str
    date: dt.date | None = None
    text: str = ""
    referral_id: int | None = None


def _name(first: str | None, last: str | None, username: str | None) -> str:
    if not username:
        return "The service"
    full = f"{first or ''} {last or ''}".strip()
    return full or username


STATUS_LABELS = dict(ReferralStatus.choices)
OUTCOME_LABELS = dict(ConversationOutcome.choices)
CLOSURE_LABELS = dict(ClosureReason.choices)

# One UNION query reads both kinds of event with the same columns, so a timeline costs one query
# whatever its length (the person page's query bound has no room for two).
_COLUMNS = (
    "kind",
    "at",
    "first",
    "last",
    "username",
    "a",
    "b",
    "held_on",
    "text",
    "ref_id",
    "ref_status",
    "ref_created",
    "ref_closure",
)


def _conversation_rows(where: Q) -> Any:
    return (
        ReflectiveConversation.objects.filter(where)
        .annotate(
            kind=Value("conversation", output_field=CharField()),
            at=F("recorded_at"),
            first=F("recorded_by__first_name"),
            last=F("recorded_by__last_name"),
            username=F("recorded_by__username"),
            a=F("outcome"),
            b=F("supported_elsewhere"),
            text=F("note"),
            ref_id=Value(None, output_field=BigIntegerField()),
            ref_status=Value(None, output_field=CharField()),
            ref_created=Value(None, output_field=DateTimeField()),
            ref_closure=Value(None, output_field=CharField()),
        )
        .values_list(*_COLUMNS)
        .order_by()
    )


def _transition_rows(where: Q) -> Any:
    return (
        ReferralTransition.objects.filter(where)
        .annotate(
            kind=Value("transition", output_field=CharField()),
            at=F("occurred_at"),
            first=F("actor__first_name"),
            last=F("actor__last_name"),
            username=F("actor__username"),
            a=F("from_status"),
            b=F("to_status"),
            held_on=Value(None, output_field=DateField()),
            text=F("reason"),
            ref_id=F("referral_id"),
            ref_status=F("referral__status"),
            ref_created=F("referral__created_at"),
            ref_closure=F("referral__closure_reason"),
        )
        .values_list(*_COLUMNS)
        .order_by()
    )


@dataclass(frozen=True)
class ReferralSummary:
    pk: int
    status: str
    created_at: dt.datetime


def _event(row: tuple[Any, ...]) -> TimelineEvent:
    kind, at, first, last, username, a, b, held_on, text, ref_id, _status, _created, closure = row
    by = _name(first, last, username)
    if kind == "conversation":
        outcome = OUTCOME_LABELS.get(a, a)
        if b:
            outcome = f"{outcome}: {b}"
        return TimelineEvent(
            at=at,
            title=f"Reflective conversation recorded — {outcome}",
            by=by,
            date=held_on,
            text=text or "",
        )
    if not a:
        title = "Referral made"
    elif b == ReferralStatus.CLOSED:
        label = CLOSURE_LABELS.get(closure or "", "")
        title = f"Referral closed — {label}" if label else "Referral closed"
    else:
        title = f"{STATUS_LABELS.get(a, a)} → {STATUS_LABELS.get(b, b)}"
    return TimelineEvent(at=at, title=title, by=by, text=text or "", referral_id=ref_id)


def _timeline(
    conversations: Q, transitions: Q
) -> tuple[list[TimelineEvent], list[ReferralSummary]]:
    rows = list(_conversation_rows(conversations).union(_transition_rows(transitions), all=True))
    rows.sort(key=lambda row: (row[1], row[0] == "transition"))
    referrals = {
        row[9]: ReferralSummary(pk=row[9], status=row[10], created_at=row[11])
        for row in rows
        if row[0] == "transition"
    }
    return [_event(row) for row in rows], list(referrals.values())


@dataclass(frozen=True)
class PersonCaseWork:
    """The person page's share of this app: the timeline and the referral, if any. One query."""

    timeline: list[TimelineEvent]
    open_referral: ReferralSummary | None
    latest_referral: ReferralSummary | None


def person_case_work(person: Person) -> PersonCaseWork:
    events, referrals = _timeline(Q(person=person), Q(referral__person=person))
    ordered = sorted(referrals, key=lambda r: (r.created_at, r.pk), reverse=True)
    open_one = next((r for r in ordered if r.status != ReferralStatus.CLOSED), None)
    return PersonCaseWork(
        timeline=events, open_referral=open_one, latest_referral=ordered[0] if ordered else None
    )


def referral_timeline(referral: Referral) -> list[TimelineEvent]:
    """The person's conversations and this referral's history, in order. One query."""
    events, _referrals = _timeline(Q(person_id=referral.person_id), Q(referral=referral))
    return events


# --- the Complex Cases team's referrals -----------------------------------------------------

# The order the team works in: a referral moves down this list; closed ones are shown on request.
QUEUE_ORDER: tuple[str, ...] = (
    ReferralStatus.RECEIVED,
    ReferralStatus.TRIAGE_BOOKED,
    ReferralStatus.AWAITING_PANEL,
    ReferralStatus.PANEL_BOOKED,
    ReferralStatus.HEARD_AT_PANEL,
    ReferralStatus.IN_FOLLOW_UP,
    ReferralStatus.CLOSED,
)
OPEN_STATUSES: tuple[str, ...] = QUEUE_ORDER[:-1]
ROUTE_LABELS = dict(Route.choices)


def may_run_referrals(user: Any) -> bool:
    """The Complex Cases team (cc_team with a region) runs referrals: the queue and closing.

    No query beyond the roles, which are cached on the user.
    """
    return bool(access.grants_for(user).listed_region_ids)


def may_manage_referral(user: Any, referral: Referral) -> bool:
    """May the user close this referral on its page? The Complex Cases team of the referral's
    region (the region of the PDU recorded at referral). Call after referral_get_for, which has
    already checked the user may see the person. No query: the referral's PDU is select_related."""
    return referral.pdu.region_id in access.grants_for(user).listed_region_ids


def status_rank() -> Case:
    """An annotation: the status's place along the workflow (QUEUE_ORDER), for ordering."""
    return Case(
        *(When(status=status, then=Value(rank)) for rank, status in enumerate(QUEUE_ORDER)),
        default=Value(len(QUEUE_ORDER)),
        output_field=IntegerField(),
    )


REFERRAL_ROW_FIELDS = (
    "id",
    "status",
    "route",
    "created_at",
    "closed_at",
    "closure_reason",
    "person",
    "person__crn",
    "person__forename",
    "person__surname",
    "pdu",
    "pdu__name",
    "pdu__code",
)


def visible_referrals(user: Any) -> QuerySet[Referral]:
    """Referrals whose person the user may see (access.people_visible_to), each annotated with
    `limited_access_refusal` (rows so marked show the CRN only) and ready for ReferralRow.

    Who may call: any list of referrals, as its starting queryset (the same rule as
    referral_get_for, so a row's link never leads to a 404). Empty for users who see no one
    (analysts, admins). Cost: the roles, then the queryset's own single query.
    """
    scope = access.person_scope_q(user)
    if scope is None:
        return Referral.objects.none()
    referrals = (
        Referral.objects.filter(person_id__in=Person.objects.filter(scope).values("pk"))
        .select_related("person", "pdu")
        .only(*REFERRAL_ROW_FIELDS)
    )
    return access.annotate_limited_access(referrals, user, person_ref="person_id")


def referral_queue(user: Any, *, status: str | None = None) -> QuerySet[Referral]:
    """The Complex Cases team's referrals: those in the user's cc_team region(s) (by the PDU
    recorded at referral) that they may see; one status, or every open status when None.

    Ordered as the team works: by status along the workflow, then oldest first. Empty for users
    without the cc_team role. One query (plus the roles).
    """
    regions = access.grants_for(user).listed_region_ids
    if not regions:
        return Referral.objects.none()
    referrals = visible_referrals(user).filter(pdu__region_id__in=sorted(regions))
    if status is None:
        referrals = referrals.exclude(status=ReferralStatus.CLOSED)
    else:
        referrals = referrals.filter(status=status)
    return referrals.annotate(status_rank=status_rank()).order_by("status_rank", "created_at", "id")


def referral_queue_counts(user: Any) -> dict[str, int]:
    """How many referrals of the user's queue are in each status (every status, zeros included).
    One query."""
    counts = dict.fromkeys(QUEUE_ORDER, 0)
    regions = access.grants_for(user).listed_region_ids
    if not regions:
        return counts
    scope = access.person_scope_q(user)
    assert scope is not None  # a cc_team role always gives a scope
    rows = (
        Referral.objects.filter(
            person_id__in=Person.objects.filter(scope).values("pk"),
            pdu__region_id__in=sorted(regions),
        )
        .values("status")
        .order_by()
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    for status, n in rows:
        counts[status] = n
    return counts


@dataclass(frozen=True)
class ReferralRow:
    """One referral in a list. A limited-access row carries the CRN only."""

    pk: int
    crn: str
    limited_access: bool = False
    name: str = ""
    status: str = ""
    status_label: str = ""
    pdu: str = ""
    route_label: str = ""
    received_on: dt.date | None = None
    age_working_days: int | None = None
    closure_label: str = ""


def referral_rows(referrals: Any, *, today: dt.date | None = None) -> list[ReferralRow]:
    """Rows for the referrals of a list (from visible_referrals). No query beyond the list's own.

    The age counts working days (England and Wales bank holidays excluded) from the day the
    referral was received to today, or to the day it was closed.
    """
    today = today or clock.today()
    rows = []
    for referral in referrals:
        person = referral.person
        if getattr(referral, "limited_access_refusal", None):
            # Limited access: the row shows the CRN and "limited access", nothing else.
            rows.append(ReferralRow(pk=referral.pk, crn=person.crn, limited_access=True))
            continue
        received_on = clock.local_date(referral.created_at)
        until = clock.local_date(referral.closed_at) if referral.closed_at else today
        rows.append(
            ReferralRow(
                pk=referral.pk,
                crn=person.crn,
                name=person.name,
                status=referral.status,
                status_label=STATUS_LABELS.get(referral.status, referral.status),
                pdu=referral.pdu.name,
                route_label=ROUTE_LABELS.get(referral.route, referral.route),
                received_on=received_on,
                age_working_days=working_days_between(received_on, until),
                closure_label=CLOSURE_LABELS.get(referral.closure_reason, ""),
            )
        )
    return rows


def api_referrals(user: Any, *, status: str | None = None) -> QuerySet[Referral]:
    """GET /api/v1/referrals: the referrals the user may see (visible_referrals, the rule of
    referral_get_for), in one status or every open status when None, oldest first. One query."""
    referrals = (
        visible_referrals(user)
        .select_related("team")
        .only(*REFERRAL_ROW_FIELDS, "team", "team__code", "route_reason")
    )
    if status is None:
        referrals = referrals.exclude(status=ReferralStatus.CLOSED)
    else:
        referrals = referrals.filter(status=status)
    return referrals.order_by("created_at", "id")
