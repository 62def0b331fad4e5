"""Every read of the panel work for a user, scoped by accounts.access.

A panel case is shown to whoever may see its person (accounts.access.get_person_for: their own
scope, or, for panel members, an invitation to the case from the papers' issue until the
follow-up ends), so "not allowed" and "not there" are the same 404 and limited access is a 403.
Running the meeting (attendance, notes, actions, conclusion) is for the region's Complex Cases team
and the case's chair or Programme Manager.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from complexcases.accounts import access
from complexcases.core import clock
from complexcases.panels import rules
from complexcases.panels.models import (
    FollowUp,
    PanelCase,
    PanelInvitation,
    PanelMeeting,
    PanelMember,
    PanelSeries,
    Reflection,
)
from complexcases.panels.states import CaseStatus, FollowUpStatus, InvitationStatus, MeetingStatus

RUNNING_ROLES = frozenset({rules.PanelRole.CHAIR, rules.PanelRole.PROGRAMME_MANAGER})


def cc_team_region_ids(user: Any) -> frozenset[int]:
    """Regions where the user is on the Complex Cases team (empty for everyone else). No query
    beyond the user's roles, which accounts.access caches on the user."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    return frozenset(access.grants_for(user).listed_region_ids)


def panel_case_get_for(user: Any, case_id: int, request: Any = None) -> PanelCase:
    """The panel case if the user may see it: through their own scope on the person, or as a
    panel member invited to this case from papers issue until its follow-up ends. Limited access
    refuses with 403. NotFound otherwise (audited in accounts.access)."""
    case = (
        PanelCase.objects.select_related(
            "meeting__series__region", "referral__person", "referral__pdu", "referral__manager"
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise access.NotFound()
    return access.get_panel_case_for(user, case, request=request)


def visible_case_ids(user: Any, cases: list[PanelCase]) -> set[int]:
    """Of these cases, those the user may see in detail (scope or invitation, and not refused by
    limited access). Three queries at most, whatever the number of cases."""
    if not cases:
        return set()
    person_ids = {case.referral.person_id for case in cases}
    own = set(
        access.people_visible_to(user)
        .filter(pk__in=sorted(person_ids))
        .values_list("pk", flat=True)
    )
    panel = access.panel_case_q(user)
    invited = (
        set(
            PanelCase.objects.filter(panel, pk__in=[c.pk for c in cases]).values_list(
                "pk", flat=True
            )
        )
        if panel is not None
        else set()
    )
    refused = access.limited_access_refusals(user, person_ids)
    return {
        case.pk
        for case in cases
        if (case.referral.person_id in own or case.pk in invited)
        and case.referral.person_id not in refused
    }


def may_run(user: Any, case: PanelCase) -> bool:
    """May the user record attendance, notes and actions, and conclude the case?"""
    if case.referral.pdu.region_id in cc_team_region_ids(user):
        return True
    return PanelInvitation.objects.filter(
        Q(user=user, status=InvitationStatus.INVITED)
        | Q(delegate=user, status=InvitationStatus.DELEGATED),
        case=case,
        panel_role__in=RUNNING_ROLES,
    ).exists()


def invitation_of(user: Any, case: PanelCase) -> PanelInvitation | None:
    return case.invitations.filter(user=user).first()


def may_book(user: Any, region_id: int) -> bool:
    return region_id in cc_team_region_ids(user)


def meetings_for(user: Any, *, today: dt.date, past: bool = False) -> QuerySet[PanelMeeting]:
    """Meetings of the series in the user's Complex Cases team regions (upcoming by default)."""
    regions = cc_team_region_ids(user)
    meetings = PanelMeeting.objects.filter(series__region_id__in=sorted(regions)).select_related(
        "series"
    )
    meetings = meetings.annotate(
        booked=Count("cases", filter=~Q(cases__status=CaseStatus.CANCELLED))
    )
    if past:
        return meetings.filter(date__lt=today).order_by("-start")
    return meetings.filter(date__gte=today).order_by("start")


def meeting_get_for(user: Any, meeting_id: int) -> PanelMeeting:
    """A meeting of a region where the user is on the Complex Cases team, or one holding a case
    the user is invited to (panel_case_q); NotFound otherwise."""
    meeting = PanelMeeting.objects.select_related("series__region").filter(pk=meeting_id).first()
    if meeting is None:
        raise access.NotFound()
    if meeting.series.region_id in cc_team_region_ids(user):
        return meeting
    panel = access.panel_case_q(user)
    if panel is None or not PanelCase.objects.filter(panel, meeting=meeting).exists():
        raise access.NotFound()
    return meeting


@dataclass(frozen=True)
class SlotView:
    slot: rules.Slot
    case: PanelCase | None
    missing: list[str]
    booked: bool = False


def meeting_slots_view(meeting: PanelMeeting, user: Any) -> list[SlotView]:
    """Each slot of the meeting with its live case and the recommended expertise nobody covers.
    Cases whose person the user may not see are shown as booked without details (case None)."""
    from complexcases.panels.services import meeting_slots

    cases = {
        case.slot_index: case
        for case in meeting.cases.exclude(status=CaseStatus.CANCELLED)
        .select_related("referral__person")
        .prefetch_related("invitations")
    }
    visible = visible_case_ids(user, list(cases.values()))
    result = []
    for slot in meeting_slots(meeting):
        case = cases.get(slot.index)
        missing: list[str] = []
        booked = case is not None
        if case is not None:
            missing = missing_expertise(case)
            if case.pk not in visible:
                case = None
        result.append(SlotView(slot, case, missing, booked))
    return result


def case_facts(referral: Any) -> rules.CaseFacts:
    """What the recommendation rules look at: the criteria met at referral, the blockers found at
    triage, custody and gender identity. One query (the blockers)."""
    from complexcases.triage.selectors import blocker_themes_for_referral

    person = referral.person
    return rules.CaseFacts(
        criteria_met=frozenset(referral.criteria_met or []),
        blocker_themes=blocker_themes_for_referral(referral),
        in_custody=bool(person.in_custody),
        gender_identity=bool(person.gender_identity_differs)
        or referral.route_reason == "gender_identity",
    )


def missing_expertise(case: PanelCase) -> list[str]:
    """Labels of the panel roles the case needs (the rule table's recommendation, core roles
    included) that nobody will attend: not invited (no one on the roster, or taken off at booking),
    apologies without a delegate, or recorded absent."""
    recommended = [r.role for r in rules.recommended_roles(case_facts(case.referral))]
    attending = [
        i.panel_role
        for i in case.invitations.all()
        if i.panel_role
        and i.status in (InvitationStatus.INVITED, InvitationStatus.DELEGATED)
        and i.attendance not in ("apologies", "absent")
    ]
    return [
        rules.PANEL_ROLE_LABELS[rules.PanelRole(r)]
        for r in rules.missing_expertise(recommended, attending)
    ]


def papers_late(case: PanelCase) -> bool:
    issued = case.papers_issued_at
    issued_date = issued.astimezone(rules.LONDON).date() if issued else None
    today = clock.today()
    return rules.papers_late(
        issued_date, case.meeting.date, case.meeting.series.papers_working_days, today
    )


def roster(region_id: int) -> QuerySet[PanelMember]:
    return PanelMember.objects.filter(
        region_id=region_id, active=True, user__is_active=True
    ).select_related("user")


def series_for_region(region_id: int) -> QuerySet[PanelSeries]:
    return PanelSeries.objects.filter(region_id=region_id, active=True)


def follow_ups_due_for(user: Any) -> QuerySet[FollowUp]:
    """Scheduled follow-ups the user is the QDO for, or in their Complex Cases team regions, of
    people in the user's scope; each row annotated with `limited_access_refusal`."""
    regions = cc_team_region_ids(user)
    follow_ups = (
        FollowUp.objects.filter(status=FollowUpStatus.SCHEDULED)
        .filter(Q(qdo=user) | Q(referral__pdu__region_id__in=sorted(regions)))
        .filter(referral__person__in=access.people_visible_to(user))
        .select_related("referral__person", "case")
        .order_by("due", "id")
    )
    return access.annotate_limited_access(follow_ups, user, person_ref="referral__person_id")


def panel_for_referral(referral: Any, *, user: Any = None) -> dict[str, Any]:
    """Context for the include "panels/_referral_panel.html" on the referral page: the referral's
    panel cases (newest first), its follow-ups, and whether the user may book it into a panel.
    The caller has already checked that the user may see the referral. Two queries."""
    from django.urls import reverse

    from complexcases.referrals.states import ReferralStatus

    cases = list(
        PanelCase.objects.filter(referral=referral).select_related("meeting").order_by("-start")
    )
    follow_ups = list(FollowUp.objects.filter(referral=referral).order_by("-due"))
    region_id = referral.pdu.region_id
    manages = user is not None and region_id in cc_team_region_ids(user)
    return {
        "cases": cases,
        "follow_ups": follow_ups,
        "may_book": manages and referral.status == ReferralStatus.AWAITING_PANEL,
        "book_href": reverse("panels:book", args=[referral.pk]),
        "shown": bool(cases or follow_ups) or referral.status == ReferralStatus.AWAITING_PANEL,
    }


def panel_question(referral: Any) -> str:
    """The question for the panel: from the latest move to awaiting panel (triage or back to
    panel), else empty."""
    from complexcases.referrals.models import ReferralTransition

    move = (
        ReferralTransition.objects.filter(referral=referral, to_status="awaiting_panel")
        .order_by("-occurred_at", "-id")
        .first()
    )
    if move is None:
        return ""
    return str(move.details.get("panel_question") or move.details.get("question") or "")


# --- pages ---------------------------------------------------------------------------------------


def invited_cases_for(user: Any) -> list[PanelCase]:
    """The cases a panel member may see now (access.panel_case_q), soonest first, each annotated
    with `limited_access_refusal` (a refused row shows the CRN only). One query."""
    panel = access.panel_case_q(user)
    if panel is None:
        return []
    cases = (
        PanelCase.objects.filter(panel)
        .select_related("meeting", "referral__person")
        .distinct()
        .order_by("start")
    )
    return list(access.annotate_limited_access(cases, user, person_ref="referral__person_id")[:50])


def awaiting_panel_for(user: Any) -> QuerySet[Any]:
    """Referrals awaiting panel in the user's Complex Cases team regions, oldest first."""
    from complexcases.referrals.models import Referral

    regions = cc_team_region_ids(user)
    referrals = (
        Referral.objects.filter(status="awaiting_panel", pdu__region_id__in=sorted(regions))
        .select_related("person", "pdu")
        .order_by("created_at", "id")
    )
    return access.annotate_limited_access(referrals, user, person_ref="person_id")[:100]


def series_in(regions: frozenset[int]) -> list[PanelSeries]:
    return list(PanelSeries.objects.filter(region_id__in=sorted(regions), active=True))


def roster_in(regions: frozenset[int]) -> list[PanelMember]:
    return list(
        PanelMember.objects.filter(
            region_id__in=sorted(regions), active=True, user__is_active=True
        ).select_related("user")
    )


def referral_for_booking(user: Any, referral_id: int, request: Any = None) -> Any:
    """A referral the user may book into a panel: cc_team of its region, person visible."""
    from complexcases.referrals.models import Referral

    referral = (
        Referral.objects.select_related("person", "pdu", "manager").filter(pk=referral_id).first()
    )
    if referral is None or referral.pdu.region_id not in cc_team_region_ids(user):
        raise access.NotFound()
    access.get_person_for(user, referral.person.crn, request=request)
    return referral


def meetings_with_space(region_id: int, *, now: dt.datetime) -> list[PanelMeeting]:
    """Upcoming scheduled meetings of the region with a free slot, each annotated with `taken`
    (slot indexes booked), `free` and `slot_count`. Two queries."""
    from complexcases.panels.services import meeting_slots

    meetings = list(
        PanelMeeting.objects.filter(
            series__region_id=region_id,
            series__active=True,
            status=MeetingStatus.SCHEDULED,
            start__gt=now,
        )
        .select_related("series")
        .order_by("start")[:12]
    )
    taken: dict[int, set[int]] = {m.pk: set() for m in meetings}
    for meeting_id, index in (
        PanelCase.objects.filter(meeting__in=meetings)
        .exclude(status=CaseStatus.CANCELLED)
        .values_list("meeting_id", "slot_index")
    ):
        taken[meeting_id].add(index)
    result = []
    for meeting in meetings:
        count = len(meeting_slots(meeting))
        meeting.taken = taken[meeting.pk]  # type: ignore[attr-defined]
        meeting.slot_count = count  # type: ignore[attr-defined]
        meeting.free = count - len(taken[meeting.pk])  # type: ignore[attr-defined]
        if meeting.free > 0:  # type: ignore[attr-defined]
            result.append(meeting)
    return result


def reflection_of(user: Any, meeting: PanelMeeting) -> Reflection | None:
    return Reflection.objects.filter(meeting=meeting, user=user).first()


def minutes_cases(meeting: PanelMeeting, user: Any) -> list[PanelCase]:
    """The meeting's cases (not cancelled) the reader may see in detail (visible_case_ids): the
    minutes never hold a case the reader is not entitled to, limited access included."""
    cases = list(
        meeting.cases.exclude(status=CaseStatus.CANCELLED)
        .select_related("referral__person", "meeting")
        .order_by("slot_index")
    )
    visible = visible_case_ids(user, cases)
    return [case for case in cases if case.pk in visible]


@dataclass(frozen=True)
class CaseRecord:
    case: PanelCase
    invitations: list[PanelInvitation]
    notes: dict[int, str]
    actions: list[Any]
    addenda: list[Any]
    missing: list[str]
    mappa: bool
    papers_opened: dict[int, dt.datetime]


def case_record(case: PanelCase) -> CaseRecord:
    """Everything the case page and the minutes show about a case."""
    from complexcases.actions.selectors import actions_for_referral

    invitations = list(case.invitations.select_related("user", "delegate"))
    return CaseRecord(
        case=case,
        invitations=invitations,
        notes={note.step: note.text for note in case.notes.all()},
        actions=[
            a
            for a in actions_for_referral(case.referral).select_related("owner")
            if a.source == "panel" and str(a.source_id) == str(case.pk)
        ],
        addenda=list(case.addenda.select_related("author")),
        missing=missing_expertise(case),
        mappa="mappa" in (case.referral.criteria_met or []),
        papers_opened=dict(case.papers_openings.values_list("user_id", "opened_at")),
    )


def deputies_for(invitation: PanelInvitation | None) -> list[Any]:
    """Deputies (and the named member) for the invitation's panel role, other than the invitee."""
    if invitation is None or not invitation.panel_role:
        return []
    return [
        m.user
        for m in PanelMember.objects.filter(
            region_id=invitation.case.referral.pdu.region_id,
            role=invitation.panel_role,
            active=True,
            user__is_active=True,
        )
        .exclude(user=invitation.user)
        .select_related("user")
    ]


@dataclass(frozen=True)
class Papers:
    person: Any
    criteria: list[tuple[str, bool]]
    screening_month: str
    question: str
    blockers: list[Any]
    guidance: str
    actions: list[Any]
    key_dates: list[tuple[str, dt.date]]
    challenges: str
    support_sought: str


def papers(case: PanelCase) -> Papers:
    """The papers of a case, built from what the service knows: person summary, criteria with the
    screening month, triage blockers and guidance, the question, actions so far, key dates."""
    from complexcases.actions.selectors import actions_for_referral
    from complexcases.screening.criteria import CRITERIA_IDS, CRITERIA_LABELS
    from complexcases.triage.models import TriageRecord

    referral = case.referral
    person = referral.person
    met = set(referral.criteria_met or [])
    record = (
        TriageRecord.objects.filter(meeting__referral=referral)
        .prefetch_related("blockers")
        .order_by("-recorded_at")
        .first()
    )
    key_dates: list[tuple[str, dt.date]] = [
        ("Referred", referral.created_at.astimezone(rules.LONDON).date()),
    ]
    if record is not None:
        key_dates.append(("Triage held", record.meeting.start.astimezone(rules.LONDON).date()))
    key_dates.append(("Panel", case.meeting.date))
    if person.expected_release_date:
        key_dates.append(("Expected release", person.expected_release_date))
    return Papers(
        person=person,
        criteria=[(CRITERIA_LABELS[c], c in met) for c in CRITERIA_IDS],
        screening_month=referral.screening_month,
        question=case.question,
        blockers=list(record.blockers.all()) if record else [],
        guidance=record.guidance if record else "",
        actions=list(actions_for_referral(referral).select_related("owner")),
        key_dates=sorted(key_dates, key=lambda item: item[1]),
        challenges=referral.challenges,
        support_sought=referral.support_sought,
    )


def follow_up_get_for(user: Any, follow_up_id: int, request: Any = None) -> FollowUp:
    follow_up = (
        FollowUp.objects.select_related("referral__person", "referral__pdu", "case", "qdo")
        .filter(pk=follow_up_id)
        .first()
    )
    if follow_up is None:
        raise access.NotFound()
    access.get_person_for(user, follow_up.referral.person.crn, request=request)
    return follow_up


def booked_case(referral: Any) -> PanelCase | None:
    """The referral's booked slot, if any (at most one: panel_referral_one_booking). One query."""
    return PanelCase.objects.filter(referral=referral, status=CaseStatus.BOOKED).first()
