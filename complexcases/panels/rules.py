"""Pure decisions for the Complex Cases panel (DESIGN.md section 5): the meeting dates of a series,
bank-holiday policy, 45-minute slots, the first free slot, when papers are issued, and who is
recommended to attend a case and why.

Plain values in, results with their reasons out; no database. Times are Europe/London wall-clock
times: a 10:00 panel is at 10:00 in London on both sides of a clock change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from complexcases.notifications.rules import is_bank_holiday, is_working_day

LONDON = ZoneInfo("Europe/London")


class HolidayPolicy(StrEnum):
    """What happens to a panel date that falls on a bank holiday (or a weekend)."""

    NEXT_WORKING_DAY = "next_working_day"
    PREVIOUS_WORKING_DAY = "previous_working_day"
    SKIP = "skip"


HOLIDAY_POLICY_LABELS = {
    HolidayPolicy.NEXT_WORKING_DAY: "Move to the next working day",
    HolidayPolicy.PREVIOUS_WORKING_DAY: "Move to the previous working day",
    HolidayPolicy.SKIP: "Skip that month's panel",
}


@dataclass(frozen=True)
class MeetingDate:
    """A date of the series. `scheduled` is what the rule gives; `date` is where the meeting is held
    (None when skipped); `reason` says why they differ."""

    scheduled: dt.date
    date: dt.date | None
    reason: str = ""


def validate_rrule(text: str) -> str | None:
    """Why `text` is not a usable recurrence rule (RFC 5545 RRULE body), or None when it is."""
    body = text.strip().removeprefix("RRULE:")
    if not body:
        return "Enter a recurrence rule, for example FREQ=MONTHLY;BYDAY=+1MO"
    if "COUNT" in body.upper() or "UNTIL" in body.upper():
        return "A panel series has no end: leave out COUNT and UNTIL"
    if "FREQ=" not in body.upper():
        return "A recurrence rule needs FREQ, for example FREQ=MONTHLY;BYDAY=+1MO"
    try:
        rrulestr(f"RRULE:{body}", dtstart=dt.datetime(2026, 1, 1))  # noqa: DTZ001 (dates only)
    except (ValueError, TypeError):
        return "That is not a recurrence rule the service understands"
    return None


def _holiday_reason(day: dt.date) -> str:
    return "a bank holiday" if is_bank_holiday(day) else "a weekend"


def _shift(day: dt.date, step: int) -> dt.date:
    while not is_working_day(day):
        day += dt.timedelta(days=step)
    return day


def meeting_dates(
    rule: str, *, first: dt.date, start: dt.date, end: dt.date, policy: str
) -> list[MeetingDate]:
    """The series' meeting dates from `start` to `end` inclusive (by the scheduled date).

    `rule` is an RRULE body (e.g. "FREQ=MONTHLY;BYDAY=+1MO") counted from `first`, the series' first
    date. A scheduled date on a bank holiday or weekend is moved to the next or previous working day,
    or skipped, by `policy`; the result says which and why. A move never passes another meeting of
    the series: if it would, the meeting is skipped instead.
    """
    body = rule.strip().removeprefix("RRULE:")
    recurrence = rrulestr(
        f"RRULE:{body}",
        dtstart=dt.datetime.combine(first, dt.time()),  # noqa: DTZ001 (dates only)
    )
    # One occurrence either side, so a moved date can be checked against its neighbours.
    window_start = dt.datetime.combine(start - dt.timedelta(days=62), dt.time())  # noqa: DTZ001
    window_end = dt.datetime.combine(end + dt.timedelta(days=62), dt.time())  # noqa: DTZ001
    scheduled = [d.date() for d in recurrence.between(window_start, window_end, inc=True)]
    result: list[MeetingDate] = []
    for index, day in enumerate(scheduled):
        if not start <= day <= end:
            continue
        if is_working_day(day):
            result.append(MeetingDate(day, day))
            continue
        why = _holiday_reason(day)
        if policy == HolidayPolicy.SKIP:
            result.append(MeetingDate(day, None, f"Skipped: {day:%-d %B %Y} is {why}"))
            continue
        step = 1 if policy == HolidayPolicy.NEXT_WORKING_DAY else -1
        moved = _shift(day, step)
        neighbour = index + step
        if 0 <= neighbour < len(scheduled) and (
            (step > 0 and moved >= scheduled[neighbour])
            or (step < 0 and moved <= scheduled[neighbour])
        ):
            result.append(
                MeetingDate(
                    day,
                    None,
                    f"Skipped: {day:%-d %B %Y} is {why} and moving it would reach the next meeting",
                )
            )
            continue
        result.append(MeetingDate(day, moved, f"Moved from {day:%-d %B %Y}, which is {why}"))
    return result


@dataclass(frozen=True)
class Slot:
    index: int
    start: dt.datetime
    end: dt.datetime


def slots(day: dt.date, start: dt.time, end: dt.time, minutes: int) -> list[Slot]:
    """The whole `minutes`-long slots between `start` and `end` on `day`, London time (aware).

    10:00-13:00 in 45-minute slots gives 10:00, 10:45, 11:30 and 12:15; a remainder shorter than a
    slot is left free (breaks and overrun)."""
    if minutes <= 0:
        raise ValueError("a slot has a positive length")
    begin = dt.datetime.combine(day, start, tzinfo=LONDON)
    finish = dt.datetime.combine(day, end, tzinfo=LONDON)
    result: list[Slot] = []
    length = dt.timedelta(minutes=minutes)
    current = begin
    while current + length <= finish:
        result.append(Slot(len(result), current, current + length))
        current += length
    return result


def first_free_slot(count: int, taken: Iterable[int]) -> int | None:
    """The lowest slot index not taken, or None when the meeting is full."""
    used = set(taken)
    return next((index for index in range(count) if index not in used), None)


def subtract_working_days(day: dt.date, days: int) -> dt.date:
    """The date `days` working days before `day` (`day` itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current, remaining = day, days
    while remaining:
        current -= dt.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def papers_issue_date(meeting: dt.date, working_days: int) -> dt.date:
    """When a meeting's papers go out: `working_days` working days before it (default policy 5)."""
    return subtract_working_days(meeting, working_days)


def papers_late(
    issued_at: dt.date | None, meeting: dt.date, working_days: int, today: dt.date
) -> bool:
    """Papers are late when issued after their due date, or not issued and the date has passed.
    Papers not yet due are not late."""
    due = papers_issue_date(meeting, working_days)
    if issued_at is None:
        return today > due
    return issued_at > due


# --- who attends a case ------------------------------------------------------------------------


class PanelRole(StrEnum):
    CHAIR = "chair"
    PROGRAMME_MANAGER = "programme_manager"
    HEAD_OF_PDU = "head_of_pdu"
    CUSTODY_PSYCHOLOGIST = "custody_psychologist"
    HEAD_NATIONAL_SECURITY = "head_national_security"
    HEAD_PERFORMANCE_QUALITY = "head_performance_quality"
    HEAD_PUBLIC_PROTECTION = "head_public_protection"
    OPD_REGIONAL_LEAD = "opd_regional_lead"
    QDO = "qdo"
    CASE_ADMIN = "case_admin"
    MENTAL_HEALTH_LEAD = "mental_health_lead"
    ADULT_SOCIAL_CARE_LIAISON = "adult_social_care_liaison"
    REGIONAL_EQUALITIES_MANAGER = "regional_equalities_manager"
    PRISON_RESETTLEMENT_REP = "prison_resettlement_rep"


PANEL_ROLE_LABELS: dict[str, str] = {
    PanelRole.CHAIR: "Chair (Head of Operations)",
    PanelRole.PROGRAMME_MANAGER: "Programme Manager",
    PanelRole.HEAD_OF_PDU: "Head of PDU",
    PanelRole.CUSTODY_PSYCHOLOGIST: "Custody psychologist",
    PanelRole.HEAD_NATIONAL_SECURITY: "Head of National Security",
    PanelRole.HEAD_PERFORMANCE_QUALITY: "Head of Performance and Quality",
    PanelRole.HEAD_PUBLIC_PROTECTION: "Head of Public Protection",
    PanelRole.OPD_REGIONAL_LEAD: "OPD regional lead",
    PanelRole.QDO: "Quality Development Officer",
    PanelRole.CASE_ADMIN: "Case administrator (minutes)",
    PanelRole.MENTAL_HEALTH_LEAD: "Mental health lead",
    PanelRole.ADULT_SOCIAL_CARE_LIAISON: "Adult social care liaison",
    PanelRole.REGIONAL_EQUALITIES_MANAGER: "Regional equalities manager",
    PanelRole.PRISON_RESETTLEMENT_REP: "Prison and resettlement representative",
}

# Invited to every slot. The QDO is not: the evaluation found QDOs' time better spent at triage and
# follow-up than at panel.
CORE_ROLES: tuple[str, ...] = (
    PanelRole.CHAIR,
    PanelRole.PROGRAMME_MANAGER,
    PanelRole.HEAD_OF_PDU,
    PanelRole.CASE_ADMIN,
)


@dataclass(frozen=True)
class CaseFacts:
    """What the recommendation rules look at, about one case."""

    criteria_met: frozenset[str] = frozenset()
    blocker_themes: frozenset[str] = frozenset()
    in_custody: bool = False
    gender_identity: bool = False  # differs from sex at birth, or referred for gender identity


@dataclass(frozen=True)
class RecommendationRule:
    role: str
    reason: str
    criteria: frozenset[str] = frozenset()
    blockers: frozenset[str] = frozenset()
    in_custody: bool = False
    gender_identity: bool = False

    def applies(self, case: CaseFacts) -> bool:
        return bool(
            self.criteria & case.criteria_met
            or self.blockers & case.blocker_themes
            or (self.in_custody and case.in_custody)
            or (self.gender_identity and case.gender_identity)
        )


def _rule(role: str, reason: str, **when: object) -> RecommendationRule:
    fields = {k: frozenset(v) if isinstance(v, list | tuple | set) else v for k, v in when.items()}
    return RecommendationRule(role, reason, **fields)  # type: ignore[arg-type]


# The rule table (DESIGN.md section 5: gender identity -> equalities manager; custody or release
# planning -> prison representative (and the POM, who is invited as a party to the case); mental
# health -> mental health lead). Each row names the role and the reason shown with the invitation.
RECOMMENDATION_RULES: tuple[RecommendationRule, ...] = (
    _rule(
        PanelRole.MENTAL_HEALTH_LEAD,
        "Mental health concerns or a mental health services blocker",
        criteria=["mental_health", "self_harm"],
        blockers=["mental_health_services"],
    ),
    _rule(
        PanelRole.ADULT_SOCIAL_CARE_LIAISON,
        "Learning difficulties or an adult social care blocker",
        criteria=["learning_difficulties"],
        blockers=["adult_social_care"],
    ),
    _rule(
        PanelRole.REGIONAL_EQUALITIES_MANAGER,
        "Gender identity is part of the case",
        blockers=["gender_identity"],
        gender_identity=True,
    ),
    _rule(
        PanelRole.PRISON_RESETTLEMENT_REP,
        "In custody, or release planning or prison liaison is a blocker",
        blockers=["release_planning", "prison_liaison"],
        in_custody=True,
    ),
    _rule(
        PanelRole.CUSTODY_PSYCHOLOGIST,
        "In custody",
        in_custody=True,
    ),
    _rule(
        PanelRole.OPD_REGIONAL_LEAD,
        "Screened in to the offender personality disorder pathway",
        criteria=["opd"],
    ),
    _rule(
        PanelRole.HEAD_PUBLIC_PROTECTION,
        "MAPPA level 2 or 3, or a risk management blocker",
        criteria=["mappa"],
        blockers=["risk_management"],
    ),
)


@dataclass(frozen=True)
class Recommendation:
    role: str
    reasons: tuple[str, ...] = field(default_factory=tuple)
    core: bool = False


def recommended_roles(
    case: CaseFacts, rules: Sequence[RecommendationRule] = RECOMMENDATION_RULES
) -> list[Recommendation]:
    """The panel roles to invite for a case, core roles first, each with its reasons."""
    result = [
        Recommendation(role, ("Core member of every panel",), core=True) for role in CORE_ROLES
    ]
    reasons: dict[str, list[str]] = {}
    for rule in rules:
        if rule.applies(case) and rule.role not in CORE_ROLES:
            reasons.setdefault(rule.role, []).append(rule.reason)
    result.extend(Recommendation(role, tuple(why)) for role, why in reasons.items())
    return result


def missing_expertise(recommended: Iterable[str], attending: Iterable[str]) -> list[str]:
    """Recommended roles with nobody attending (member or deputy), in the order recommended."""
    present = set(attending)
    return [role for role in recommended if role not in present]
