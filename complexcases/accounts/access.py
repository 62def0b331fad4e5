"""Need-to-know: the one module that answers "may this user see this person, list or export?".

Every page, download, export and API endpoint asks here, so the rules live in one place
(DESIGN.md section 2):

| role            | scope            | people they may see                                             |
|-----------------|------------------|-----------------------------------------------------------------|
| practitioner    | (staff link)     | people whose offender manager is their staff record             |
| practitioner    | team             | also the people managed in that team (e.g. covering a colleague) |
| spo             | team             | people managed in their team(s)                                  |
| head_of_service | PDU              | listed (eligible or near miss in the latest run) or referred people in their PDU |
| cc_team         | region           | listed or referred people in their region                        |
| panel_member    | region           | no people: panel cases they are invited to, case by case (panel_case_q, get_panel_case_for) |
| analyst         | region / none    | nobody: aggregates only, never identifiers                       |
| admin           | none             | nobody by virtue of the role                                     |

Limited access (nDelius exclusions and restrictions, people.LimitedAccess) overrides every role,
admin and superuser included. An entry is *active* on a day D when its start date is empty or on or
before D, and its end date is empty or after D (so it stops applying on its end date). While active:
an EXCLUSION naming the user refuses them; a RESTRICTION on a person allows only the users named in
that person's active restrictions and refuses everyone else.

Out of scope and not there are the same answer (NotFound, a 404, same message). In scope but refused
by limited access is LimitedAccessDenied (a 403 showing only the limited-access message). Every
refusal by get_person_for is audited (action "refused"). Inactive and anonymous users hold no roles,
and `is_superuser` / `is_staff` grant no case data.

A user's roles are read once per user object (one query) and kept on it; call forget_grants(user)
after changing their roles in the same request.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import Case, CharField, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.http import Http404, HttpRequest

from complexcases.accounts.models import Pdu, Staff, Team, UserRole
from complexcases.accounts.roles import IDENTIFIER_ROLES, Role
from complexcases.core import clock
from complexcases.core.audit import audit_record
from complexcases.people.models import LimitedAccess, LimitedAccessKind, Person
from complexcases.screening.models import ScreeningResult, ScreeningRun

Decision = Literal["excluded", "restricted"]
EXCLUDED: Decision = "excluded"
RESTRICTED: Decision = "restricted"

NOT_FOUND_MESSAGE = "Page not found"
LIMITED_ACCESS_MESSAGE = (
    "You are not authorised to view this case. This case has limited access: if you need to see "
    "it, ask the person's probation practitioner or your line manager."
)


class NotFound(Http404):
    """The person is not there, or not in the user's scope. The two are deliberately identical."""

    def __init__(self) -> None:
        super().__init__(NOT_FOUND_MESSAGE)


class LimitedAccessDenied(PermissionDenied):
    """In the user's scope, but limited access (exclusion or restriction) refuses them.

    Carries the person's CRN only, so the 403 page can name the case without showing any detail.
    """

    def __init__(self, crn: str) -> None:
        super().__init__(LIMITED_ACCESS_MESSAGE)
        self.crn = crn


# --- a user's grants ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Grants:
    """What a user's roles add up to, as ids. Built by grants_for from one query."""

    username: str = ""
    staff_id: int | None = None
    roles: frozenset[str] = frozenset()
    own_caseload: bool = False  # practitioner: the people their staff record manages
    team_ids: frozenset[int] = frozenset()  # spo teams and practitioner team scopes
    listed_pdu_ids: frozenset[int] = frozenset()  # head_of_service
    listed_region_ids: frozenset[int] = frozenset()  # cc_team
    panel_region_ids: frozenset[int] = frozenset()  # panel_member
    analyst_region_ids: frozenset[int] = frozenset()
    analyst_national: bool = False


_NO_GRANTS = Grants()
_CACHE_ATTR = "_cc_access_grants"


def grants_for(user: Any) -> Grants:
    """The user's roles as scopes. Anonymous and inactive users hold none. One query, then cached."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return _NO_GRANTS
    cached = user.__dict__.get(_CACHE_ATTR)
    if cached is not None:
        return cached
    rows = UserRole.objects.filter(user_id=user.pk).values_list(
        "role", "region_id", "pdu_id", "team_id"
    )
    sets: dict[str, set[int]] = defaultdict(set)
    roles: set[str] = set()
    own_caseload = analyst_national = False
    for role, region_id, pdu_id, team_id in rows:
        roles.add(role)
        if role == Role.PRACTITIONER:
            own_caseload = True
            if team_id is not None:
                sets["team"].add(team_id)
        elif role == Role.SPO and team_id is not None:
            sets["team"].add(team_id)
        elif role == Role.HEAD_OF_SERVICE and pdu_id is not None:
            sets["pdu"].add(pdu_id)
        elif role == Role.CC_TEAM and region_id is not None:
            sets["region"].add(region_id)
        elif role == Role.PANEL_MEMBER and region_id is not None:
            sets["panel"].add(region_id)
        elif role == Role.ANALYST:
            if region_id is None:
                analyst_national = True
            else:
                sets["analyst"].add(region_id)
    grants = Grants(
        username=user.username,
        staff_id=user.staff_id,
        roles=frozenset(roles),
        own_caseload=own_caseload,
        team_ids=frozenset(sets["team"]),
        listed_pdu_ids=frozenset(sets["pdu"]),
        listed_region_ids=frozenset(sets["region"]),
        panel_region_ids=frozenset(sets["panel"]),
        analyst_region_ids=frozenset(sets["analyst"]),
        analyst_national=analyst_national,
    )
    user.__dict__[_CACHE_ATTR] = grants
    return grants


def forget_grants(user: Any) -> None:
    """Drop the grants cached on this user object (after granting or revoking in the same request)."""
    if user is not None:
        user.__dict__.pop(_CACHE_ATTR, None)


# --- people in scope ---------------------------------------------------------------------------


def listed_people_q() -> Q:
    """People listed in the latest run of the latest month: eligible or near miss. One subquery."""
    latest_run = ScreeningRun.objects.order_by("-month", "-started_at", "-id").values("id")[:1]
    listed = ScreeningResult.objects.filter(run_id=Subquery(latest_run)).filter(
        Q(eligible=True) | Q(near_miss=True)
    )
    return Q(pk__in=listed.values("person_id"))


def referred_people_q() -> Q | None:
    """Hook for the referral work: people with a referral (head_of_service and cc_team see them).

    Chosen rule: people with an OPEN referral, or one CLOSED within the last 12 months (365 days).
    Open work must be visible to those who run it; a recently closed case stays visible for the
    follow-up, learning and any re-referral, then drops out unless it is listed again. One subquery.
    """
    from complexcases.referrals.models import Referral  # referrals depends on accounts

    since = clock.now() - dt.timedelta(days=365)
    referred = Referral.objects.filter(~Q(status="closed") | Q(closed_at__gte=since))
    return Q(pk__in=referred.values("person_id"))


def referrals_made_q(user: Any) -> Q | None:
    """Hook for the referral work: people a practitioner referred (any referral they made, open
    or closed: DESIGN.md section 2, "referrals they made"). One subquery."""
    from complexcases.referrals.models import Referral  # referrals depends on accounts

    if user is None or getattr(user, "pk", None) is None:
        return None
    return Q(pk__in=Referral.objects.filter(referred_by_id=user.pk).values("person_id"))


def panel_case_q(user: Any) -> Q | None:
    """On PanelCase: the cases a panel member may see, case by case (DESIGN.md section 2): those
    they are invited (or delegated) to, from the papers' issue until the follow-up ends (the case
    booked, or concluded with a follow-up still scheduled). Not a scope on people: it opens that
    case's papers and record, never the person's other pages or other cases."""
    if user is None or getattr(user, "pk", None) is None:
        return None
    if not grants_for(user).panel_region_ids:
        return None
    invited = Q(invitations__user_id=user.pk, invitations__status__in=["invited", "apologies"]) | Q(
        invitations__delegate_id=user.pk, invitations__status="delegated"
    )
    running = Q(status="booked") | Q(status="concluded", follow_ups__status="scheduled")
    return invited & running & Q(papers_issued_at__isnull=False)


def _any(parts: Iterable[Q]) -> Q | None:
    parts = list(parts)
    return functools.reduce(operator.or_, parts) if parts else None


def person_scope_q(user: Any) -> Q | None:
    """The Q on Person for the people in the user's scope (before limited access); None for nobody."""
    grants = grants_for(user)
    parts: list[Q] = []
    if grants.own_caseload and grants.staff_id is not None:
        parts.append(Q(offender_manager_id=grants.staff_id))
    if grants.own_caseload and (made := referrals_made_q(user)) is not None:
        parts.append(made)
    if grants.team_ids:
        parts.append(Q(team_id__in=sorted(grants.team_ids)))
    listed_scope: list[Q] = []
    if grants.listed_pdu_ids:
        listed_scope.append(Q(pdu_id__in=sorted(grants.listed_pdu_ids)))
    if grants.listed_region_ids:
        listed_scope.append(
            Q(
                pdu_id__in=Pdu.objects.filter(
                    region_id__in=sorted(grants.listed_region_ids)
                ).values("id")
            )
        )
    scope = _any(listed_scope)
    if scope is not None:
        listed_or_referred = _any(
            q for q in (listed_people_q(), referred_people_q()) if q is not None
        )
        assert listed_or_referred is not None
        parts.append(scope & listed_or_referred)
    return _any(parts)


def people_visible_to(user: Any) -> QuerySet[Person]:
    """The people in the user's scope, by their roles (see the module table).

    Who may call: every page, export and endpoint that lists or finds people, as its starting
    queryset. Guarantees: nobody outside the user's scope; anonymous, inactive, analyst-only,
    admin-only and role-less users get an empty queryset. It does NOT apply limited access: lists
    show a refused person's row with only the CRN and "limited access" (annotate_limited_access),
    and a detail page must use get_person_for. People off the caseload are included (their history
    stays visible to those who may see it); filter on_caseload where a page needs current people.
    Cost: one query for the user's roles (cached on the user), then the queryset's own query.
    """
    scope = person_scope_q(user)
    if scope is None:
        return Person.objects.none()
    return Person.objects.filter(scope)


# --- limited access ----------------------------------------------------------------------------


def active_limited_access_q(today: dt.date, prefix: str = "") -> Q:
    """LimitedAccess rows active on `today`: start empty or <= today, end empty or > today."""
    return (
        Q(**{f"{prefix}start_date__isnull": True}) | Q(**{f"{prefix}start_date__lte": today})
    ) & (Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gt": today}))


def limited_access_rule(username: str, entries: Iterable[tuple[str, str]]) -> Decision | None:
    """The decision for one user from a person's active (kind, username) entries. Pure.

    An exclusion matches the username ignoring case (so a difference in case cannot let an excluded
    user in); a restriction allows only an exact match (so it cannot let in a different account).
    Both choices fail closed.
    """
    restricted_to: list[str] = []
    folded = username.casefold()
    for kind, entry_username in entries:
        if kind == LimitedAccessKind.EXCLUSION and entry_username.casefold() == folded and username:
            return EXCLUDED
        if kind == LimitedAccessKind.RESTRICTION:
            restricted_to.append(entry_username)
    if restricted_to and username not in restricted_to:
        return RESTRICTED
    return None


def _username(user: Any) -> str:
    return user.username if user is not None and getattr(user, "is_authenticated", False) else ""


def limited_access_decision(
    user: Any, person: Person, today: dt.date | None = None
) -> Decision | None:
    """ "excluded", "restricted" or None (no limited access refuses this user) for one person.

    Who may call: anyone deciding about one person already in the user's scope. Applies to every
    user whatever their roles, admin and superuser included. `today` defaults to the local date
    (Europe/London); entries are active when start is empty or <= today and end is empty or > today.
    One query.
    """
    today = today or clock.today()
    entries = (
        LimitedAccess.objects.filter(person_id=person.pk)
        .filter(active_limited_access_q(today))
        .values_list("kind", "username")
    )
    return limited_access_rule(_username(user), entries)


def limited_access_refusals(
    user: Any, person_ids: Iterable[int], today: dt.date | None = None
) -> dict[int, Decision]:
    """For a page of person ids: those the user may not see in detail, with the reason. One query.

    A list shows only the CRN and "limited access" in these rows.
    """
    today = today or clock.today()
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    by_person: dict[int, list[tuple[str, str]]] = defaultdict(list)
    rows = (
        LimitedAccess.objects.filter(person_id__in=ids)
        .filter(active_limited_access_q(today))
        .values_list("person_id", "kind", "username")
    )
    for person_id, kind, entry_username in rows:
        by_person[person_id].append((kind, entry_username))
    username = _username(user)
    refusals: dict[int, Decision] = {}
    for person_id, entries in by_person.items():
        decision = limited_access_rule(username, entries)
        if decision is not None:
            refusals[person_id] = decision
    return refusals


def limited_access_expression(
    user: Any, today: dt.date | None = None, person_ref: str = "pk"
) -> Case:
    """An annotation: "excluded", "restricted" or None for the row's person, in the same query.

    `person_ref` names the person's id in the annotated queryset: "pk" for Person, "person_id" for
    ScreeningResult (or any model with a person foreign key). Same rule as limited_access_rule.
    """
    today = today or clock.today()
    username = _username(user)
    active = LimitedAccess.objects.filter(person_id=OuterRef(person_ref)).filter(
        active_limited_access_q(today)
    )
    restricted = Exists(active.filter(kind=LimitedAccessKind.RESTRICTION))
    allowed = Exists(active.filter(kind=LimitedAccessKind.RESTRICTION, username=username))
    if username:
        excluded = Exists(
            active.filter(kind=LimitedAccessKind.EXCLUSION, username__iexact=username)
        )
        whens = [
            When(excluded, then=Value(EXCLUDED)),
            When(restricted & ~allowed, then=Value(RESTRICTED)),
        ]
    else:
        whens = [When(restricted, then=Value(RESTRICTED))]
    return Case(*whens, default=Value(None), output_field=CharField())


def annotate_limited_access(
    queryset: QuerySet[Any], user: Any, today: dt.date | None = None, person_ref: str = "pk"
) -> QuerySet[Any]:
    """Add `limited_access_refusal` ("excluded" | "restricted" | None) to each row, with no extra query.

    For list pages: a row whose `limited_access_refusal` is set shows only the CRN and "limited access".
    """
    return queryset.annotate(
        limited_access_refusal=limited_access_expression(user, today, person_ref)
    )


# --- one person --------------------------------------------------------------------------------


def _record_refusal(user: Any, crn: str, reason: str, request: HttpRequest | None) -> None:
    audit_record(
        actor=user if _username(user) else None,
        action="refused",
        object_type="person",
        object_id=crn,
        person_crn=crn,
        outcome="refused",
        reason=reason,
        request=request,
    )


def get_person_for(
    user: Any,
    crn: str,
    *,
    today: dt.date | None = None,
    request: HttpRequest | None = None,
    queryset: QuerySet[Person] | None = None,
) -> Person:
    """The person with this CRN, if the user may see them in detail.

    Who may call: every detail page, download and endpoint about one person (pass `queryset` to add
    select_related/only; it is narrowed to the user's scope here). Guarantees:
    - not there, or not in the user's scope -> NotFound (an Http404), the same error and message;
    - in scope but refused by limited access -> LimitedAccessDenied carrying the CRN only;
    - each refusal is audited (action "refused"; AuditUnavailable propagates, so it never passes).
    A successful read is not audited here: the caller records the view with what it showed.
    Cost: the roles query (once per user object) and one query for the person with limited access.
    """
    scope = person_scope_q(user)
    person = None
    if scope is not None:
        base = queryset if queryset is not None else Person.objects.all()
        person = annotate_limited_access(base.filter(scope).filter(crn=crn), user, today).first()
    if person is None:
        _record_refusal(user, crn, "not found or not in scope", request)
        raise NotFound()
    decision = person.limited_access_refusal  # type: ignore[attr-defined]
    if decision is not None:
        _record_refusal(user, person.crn, f"limited access: {decision}", request)
        raise LimitedAccessDenied(person.crn)
    return person


def can_view_person(user: Any, person: Person, today: dt.date | None = None) -> bool:
    """True when the user may see this person in detail (in scope and not refused). No audit."""
    scope = person_scope_q(user)
    if scope is None:
        return False
    in_scope = Person.objects.filter(scope).filter(pk=person.pk)
    return (
        annotate_limited_access(in_scope, user, today)
        .filter(limited_access_refusal__isnull=True)
        .exists()
    )


# --- lists, aggregates and exports -------------------------------------------------------------


def panel_case_visible(user: Any, case: Any) -> bool:
    """May the user see this panel case (papers, record, minutes)? Through their own scope on the
    person, or as a panel member invited to it (panel_case_q). Limited access is NOT applied here:
    get_panel_case_for applies it. One or two queries."""
    from complexcases.panels.models import PanelCase  # panels depends on accounts

    scope = person_scope_q(user)
    if scope is not None and Person.objects.filter(scope, pk=case.referral.person_id).exists():
        return True
    panel = panel_case_q(user)
    return panel is not None and PanelCase.objects.filter(panel, pk=case.pk).exists()


def get_panel_case_for(user: Any, case: Any, *, request: HttpRequest | None = None) -> Any:
    """The panel case if the user may see it (panel_case_visible) and limited access does not
    refuse them; NotFound / LimitedAccessDenied otherwise, each refusal audited."""
    person = case.referral.person
    if not panel_case_visible(user, case):
        _record_refusal(user, person.crn, "panel case not found or not in scope", request)
        raise NotFound()
    decision = limited_access_decision(user, person)
    if decision is not None:
        _record_refusal(user, person.crn, f"limited access: {decision}", request)
        raise LimitedAccessDenied(person.crn)
    return case


def has_role(user: Any, role: str) -> bool:
    """True when the (active) user holds `role` with any scope."""
    return role in grants_for(user).roles


def is_service_admin(user: Any) -> bool:
    """Holds the admin role: may manage users, roles and configuration and search the audit trail.

    Grants no case data: people_visible_to gives an admin-only user nobody.
    """
    return has_role(user, Role.ADMIN)


def can_see_identifiers(user: Any) -> bool:
    """False when the user's roles are only analyst and/or admin (or none): names, CRNs and dates of
    birth must not reach them, so pages show aggregates only."""
    return bool(grants_for(user).roles & IDENTIFIER_ROLES)


def pdus_visible_to(user: Any) -> QuerySet[Pdu]:
    """The PDUs whose monthly list or aggregates the user may open.

    practitioner: their own team's PDU and those of teams in their scope; spo: their teams' PDUs;
    head_of_service: their PDUs; cc_team: their regions' PDUs; analyst: their regions' PDUs, or
    every PDU when national; admin and panel_member: none. Opening a PDU is not seeing its people:
    the rows shown still come from people_visible_to, and only with can_see_identifiers.
    """
    grants = grants_for(user)
    parts: list[Q] = []
    if grants.analyst_national:
        return Pdu.objects.all()
    if grants.own_caseload and grants.staff_id is not None:
        parts.append(Q(pk__in=Staff.objects.filter(pk=grants.staff_id).values("team__pdu_id")))
    if grants.team_ids:
        parts.append(Q(pk__in=Team.objects.filter(pk__in=sorted(grants.team_ids)).values("pdu_id")))
    if grants.listed_pdu_ids:
        parts.append(Q(pk__in=sorted(grants.listed_pdu_ids)))
    regions = grants.listed_region_ids | grants.analyst_region_ids
    if regions:
        parts.append(Q(region_id__in=sorted(regions)))
    scope = _any(parts)
    return Pdu.objects.filter(scope) if scope is not None else Pdu.objects.none()


def may_export(user: Any, pdu: Pdu) -> bool:
    """May the user download the PDU's monthly list (with identifiers)?

    Yes for a head_of_service of that PDU and a cc_team member of its region. The rows written
    must still be people_visible_to(user), with limited-access rows reduced to the CRN, and the
    download audited (with its reason). Analysts export aggregates elsewhere, never this list.
    """
    grants = grants_for(user)
    return pdu.pk in grants.listed_pdu_ids or pdu.region_id in grants.listed_region_ids
