"""Reads for triage, scoped by accounts.access.

Who may do what (DESIGN.md section 2 and the triage issue):
- the Complex Cases team (cc_team) of the referral's region books, reschedules, cancels and records;
- attendees may open the meeting page; they see the person's details only when accounts.access
  lets them see the person;
- limited access (exclusion, restriction) refuses everyone with the 403 message, whatever their role;
- anyone else gets the same 404 as for a meeting that does not exist. Refusals are audited.

Each function issues a fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse

from complexcases.accounts import access
from complexcases.accounts.models import User, UserRole
from complexcases.accounts.roles import Role
from complexcases.actions.selectors import actions_for_referral
from complexcases.core import clock
from complexcases.core.audit import audit_record
from complexcases.referrals.models import Referral
from complexcases.referrals.selectors import referral_get_for
from complexcases.referrals.states import ReferralStatus
from complexcases.triage import rules
from complexcases.triage.models import TriageAttendee, TriageMeeting, TriageTeamMember
from complexcases.triage.services import Invitee, display_name, email_of, slot_minutes
from complexcases.triage.states import ROLE_LABELS, AttendeeRole, MeetingStatus


def _refuse(user: Any, object_type: str, object_id: Any, reason: str, request: Any) -> None:
    audit_record(
        actor=user if getattr(user, "is_authenticated", False) else None,
        action="refused",
        object_type=object_type,
        object_id=object_id,
        outcome="refused",
        reason=reason,
        request=request,
    )


def manages_region(user: Any, region_id: int | None) -> bool:
    """True when the user is in the Complex Cases team (cc_team) of the region. No query beyond
    the roles, which are cached on the user."""
    return region_id is not None and region_id in access.grants_for(user).listed_region_ids


def referral_for_triage(
    user: Any, referral_id: int, *, request: HttpRequest | None = None
) -> Referral:
    """The referral, for booking or rescheduling its triage: the user may see the person
    (referral_get_for: 404, or 403 for limited access) AND is cc_team of the referral's region
    (otherwise the same 404, audited)."""
    referral = referral_get_for(user, referral_id, request=request)
    if not manages_region(user, referral.pdu.region_id):
        _refuse(user, "referral", referral.pk, "not in the region's Complex Cases team", request)
        raise access.NotFound()
    return referral


@dataclass
class MeetingPage:
    meeting: TriageMeeting
    attendees: list[TriageAttendee]
    manages: bool  # cc_team of the region: may record, reschedule and cancel
    sees_person: bool  # may see the person's details (accounts.access)


def meeting_get_for(
    user: Any, meeting_id: int, *, request: HttpRequest | None = None
) -> MeetingPage:
    """The triage meeting, for the cc_team of its region and its attendees (see the module doc).

    Raises access.NotFound (audited) or access.LimitedAccessDenied (audited, 403). Cost: the
    roles, the meeting, its attendees, and two small queries for the person's access.
    """
    meeting = (
        TriageMeeting.objects.select_related(
            "referral__person", "referral__pdu", "referral__manager", "booked_by"
        )
        .filter(pk=meeting_id)
        .first()
        if 0 < meeting_id < 2**63
        else None
    )
    if meeting is None:
        _refuse(user, "triage_meeting", meeting_id, "not found", request)
        raise access.NotFound()
    attendees = list(meeting.attendees.select_related("user__staff").order_by("id"))
    manages = manages_region(user, meeting.region_id)
    attends = getattr(user, "is_active", False) and any(a.user_id == user.pk for a in attendees)
    person = meeting.referral.person
    if not (manages or attends):
        _refuse(user, "triage_meeting", meeting.pk, "not in the team and not invited", request)
        raise access.NotFound()
    decision = access.limited_access_decision(user, person)
    if decision is not None:
        audit_record(
            actor=user,
            action="refused",
            object_type="triage_meeting",
            object_id=meeting.pk,
            person_crn=person.crn,
            outcome="refused",
            reason=f"limited access: {decision}",
            request=request,
        )
        raise access.LimitedAccessDenied(person.crn)
    return MeetingPage(
        meeting=meeting,
        attendees=attendees,
        manages=manages,
        sees_person=access.can_view_person(user, person),
    )


def meeting_record(meeting: TriageMeeting) -> dict[str, Any]:
    """The meeting's record, blockers and the actions agreed at it (three queries at most)."""
    record = getattr(meeting, "record", None) if meeting.status == MeetingStatus.HELD else None
    if record is None:
        return {"record": None, "blockers": [], "actions": []}
    return {
        "record": record,
        "blockers": list(record.blockers.all()),
        "actions": list(
            actions_for_referral(meeting.referral).filter(source="triage", source_id=str(record.pk))
        ),
    }


# --- booking ----------------------------------------------------------------------------------


@dataclass
class Proposed:
    """Someone the booking page offers, with their role and why."""

    user: Any
    role: str
    reason: str

    @property
    def label(self) -> str:
        return ROLE_LABELS[self.role]


@dataclass
class BookingDefaults:
    proposed: list[Proposed] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def booking_defaults(referral: Referral) -> BookingDefaults:
    """The default attendees for the referral's triage (rules.default_attendees) and what is
    missing. Three queries: the region's team, the practitioner's and the SPO's accounts."""
    region_id = referral.pdu.region_id
    members = list(
        TriageTeamMember.objects.filter(region_id=region_id, user__is_active=True)
        .select_related("user__staff")
        .order_by("function", "user__username")
    )
    users: dict[int, Any] = {m.user_id: m.user for m in members}
    manager = referral.manager
    practitioner_user = (
        User.objects.filter(staff_id=manager.pk, is_active=True).select_related("staff").first()
        if manager is not None
        else None
    )
    spo_user = (
        User.objects.filter(username=referral.spo_username, is_active=True)
        .select_related("staff")
        .first()
        if referral.spo_username
        else None
    )
    for extra in (practitioner_user, spo_user):
        if extra is not None:
            users[extra.pk] = extra

    def candidate(user: Any) -> rules.Candidate:
        return rules.Candidate(user.pk, display_name(user), bool(email_of(user)))

    choice = rules.default_attendees(
        team=[rules.TeamMember(m.function, candidate(m.user), m.is_default) for m in members],
        practitioner=candidate(practitioner_user) if practitioner_user is not None else None,
        practitioner_grade=manager.grade if manager is not None else "",
        spo=candidate(spo_user) if spo_user is not None else None,
        in_custody=bool(referral.person.in_custody),
    )
    return BookingDefaults(
        proposed=[Proposed(users[p.user_id], p.role, p.reason) for p in choice.attendees],
        missing=choice.missing,
    )


_SPLIT = re.compile(r"[\s,;]+")


def resolve_additions(referral: Referral, text: str) -> tuple[list[Any], list[str]]:
    """Users named in the booking page's "add by username or email" box, and the problems.

    Only active users of the service who are in the Complex Cases team of the referral's region or
    on the staff of the person's PDU can be added. Two queries whatever the number named.
    """
    tokens = [t for t in _SPLIT.split(text or "") if t]
    if not tokens:
        return [], []
    query = Q()
    for token in tokens:
        query |= Q(username__iexact=token) | Q(email__iexact=token) | Q(staff__email__iexact=token)
    found = list(User.objects.filter(query, is_active=True).select_related("staff__team"))
    region_id = referral.pdu.region_id
    in_team = set(
        UserRole.objects.filter(
            user_id__in=[u.pk for u in found], role=Role.CC_TEAM, region_id=region_id
        ).values_list("user_id", flat=True)
    )
    users: list[Any] = []
    problems: list[str] = []
    for token in tokens:
        folded = token.casefold()
        match = next(
            (
                u
                for u in found
                if folded
                in {
                    u.username.casefold(),
                    (u.email or "").casefold(),
                    (u.staff.email if u.staff else "").casefold(),
                }
            ),
            None,
        )
        if match is None:
            problems.append(f"No active user of the service is called {token}")
        elif match.pk not in in_team and (
            match.staff is None or match.staff.team.pdu_id != referral.person.pdu_id
        ):
            problems.append(
                f"{token} is not in the region's Complex Cases team or the person's PDU"
            )
        elif match not in users:
            users.append(match)
    return users, problems


def busy_intervals(
    user_ids: list[int], *, start: dt.datetime, end: dt.datetime, exclude: int | None = None
) -> list[rules.Interval]:
    """Booked triages of these users overlapping [start, end). One query."""
    meetings = TriageMeeting.objects.filter(
        status=MeetingStatus.BOOKED,
        start__lt=end,
        end__gt=start,
        attendees__user_id__in=sorted(set(user_ids)),
    )
    if exclude is not None:
        meetings = meetings.exclude(pk=exclude)
    return sorted(set(meetings.values_list("start", "end")))


def suggested_slot(
    user_ids: list[int], *, after: dt.datetime, exclude: int | None = None
) -> rules.Interval | None:
    """The next slot (from the next working day) when none of these users has a triage."""
    horizon = 30
    busy = busy_intervals(
        user_ids, start=after, end=after + dt.timedelta(days=horizon + 1), exclude=exclude
    )
    return rules.next_free_slot(
        after=after, busy=busy, slot_minutes=slot_minutes(), horizon_days=horizon
    )


def invitees_for(
    proposed: list[Proposed], current: list[TriageAttendee], chosen_ids: set[int], added: list[Any]
) -> list[Invitee]:
    """The invitees from the ticked boxes (only people the page offered) and the added users."""
    offered: dict[int, Invitee] = {}
    for attendee in current:
        offered[attendee.user_id] = Invitee(attendee.user, attendee.role)
    for p in proposed:
        offered.setdefault(p.user.pk, Invitee(p.user, p.role))
    invitees = [offered[i] for i in offered if i in chosen_ids]
    for user in added:
        if user.pk not in {i.user.pk for i in invitees}:
            invitees.append(Invitee(user, AttendeeRole.INVITED))
    return invitees


def booked_meeting(referral: Referral) -> TriageMeeting | None:
    return (
        TriageMeeting.objects.filter(referral=referral, status=MeetingStatus.BOOKED)
        .order_by("-start")
        .first()
    )


# --- the calendar -----------------------------------------------------------------------------


@dataclass
class CalendarDay:
    day: dt.date
    meetings: list[TriageMeeting]
    free: list[rules.Interval]


def calendar_days(today: dt.date, count: int) -> list[dt.date]:
    """The next `count` working days from today (today included when it is one)."""
    days: list[dt.date] = []
    day = today
    while len(days) < count:
        if rules.day_slots(day, slot_minutes=slot_minutes()):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def triage_calendar(
    user: Any, *, today: dt.date, days: int = 10, now: dt.datetime | None = None
) -> list[CalendarDay]:
    """The booked triages of the user's Complex Cases team region(s) over the next `days` working
    days, by day, with the slots still free (no triage booked in the region then).

    Who may call: the calendar page, for cc_team users (others get NotFound from the view). Each
    meeting carries `limited_access_refusal` (the page shows only the CRN then). Cost: one query
    (plus the cached roles).
    """
    now = now or clock.now()
    regions = sorted(access.grants_for(user).listed_region_ids)
    dates = calendar_days(today, days)
    start = rules.london(dates[0], dt.time(0))
    end = rules.london(dates[-1] + dt.timedelta(days=1), dt.time(0))
    meetings = list(
        access.annotate_limited_access(
            TriageMeeting.objects.filter(
                region_id__in=regions, status=MeetingStatus.BOOKED, start__gte=start, start__lt=end
            ).select_related("referral__person"),
            user,
            today,
            person_ref="referral__person_id",
        ).order_by("start", "id")
    )
    busy = [(m.start, m.end) for m in meetings]
    by_day: dict[dt.date, list[TriageMeeting]] = {d: [] for d in dates}
    for meeting in meetings:
        by_day.setdefault(meeting.start.astimezone(rules.LONDON).date(), []).append(meeting)
    return [
        CalendarDay(
            day=d,
            meetings=by_day.get(d, []),
            free=[s for s in rules.free_slots(d, busy, slot_minutes=slot_minutes()) if s[0] > now],
        )
        for d in dates
    ]


# --- for other pages --------------------------------------------------------------------------


def triage_for_referral(referral: Referral, *, user: Any = None) -> dict[str, Any]:
    """Context for the include "triage/_referral_triage.html" on the referral page.

    Keys: meetings (newest first, each with .record when held), booked (the booked meeting or
    None), record (the latest triage record or None), blockers, may_book (the referral awaits
    triage and, when `user` is given, the user is cc_team of its region), book_href. The caller
    has already checked that the user may see the referral. Two queries at most.
    """
    meetings = list(
        TriageMeeting.objects.filter(referral=referral).select_related("record").order_by("-start")
    )
    booked = next((m for m in meetings if m.status == MeetingStatus.BOOKED), None)
    held = next((m for m in meetings if m.status == MeetingStatus.HELD), None)
    record = getattr(held, "record", None) if held is not None else None
    manages = user is None or manages_region(user, referral.pdu.region_id)
    return {
        "meetings": meetings,
        "booked": booked,
        "record": record,
        "blockers": list(record.blockers.all()) if record is not None else [],
        "may_book": manages and referral.status == ReferralStatus.RECEIVED,
        "may_reschedule": manages and booked is not None,
        "book_href": reverse("triage:book", args=[referral.pk]),
    }


@dataclass(frozen=True)
class UpcomingTriage:
    meeting_id: int
    referral_id: int
    start: dt.datetime
    end: dt.datetime
    role: str
    href: str


def upcoming_triage_for(user: Any, *, today: dt.date) -> list[UpcomingTriage]:
    """The booked triages the user is invited to, from `today` (London) on, soonest first.

    For a "My work" page: times, the user's role and a link to the meeting page (which checks
    access again); no case details. One query.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    rows = (
        TriageAttendee.objects.filter(
            user_id=user.pk,
            meeting__status=MeetingStatus.BOOKED,
            meeting__start__gte=rules.london(today, dt.time(0)),
        )
        .select_related("meeting")
        .order_by("meeting__start", "meeting_id")
    )
    return [
        UpcomingTriage(
            meeting_id=row.meeting_id,
            referral_id=row.meeting.referral_id,
            start=row.meeting.start,
            end=row.meeting.end,
            role=ROLE_LABELS[row.role],
            href=reverse("triage:meeting", args=[row.meeting_id]),
        )
        for row in rows
    ]


def blocker_themes_for_referral(referral: Referral) -> frozenset[str]:
    """The themes of every blocker recorded at the referral's triages (for the panel's
    recommendation rules). One query."""
    from complexcases.triage.models import Blocker

    return frozenset(
        Blocker.objects.filter(record__meeting__referral=referral).values_list("theme", flat=True)
    )
