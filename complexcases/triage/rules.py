"""Pure decisions for triage: slots, free time, who to invite, and what a record needs.

No Django imports: plain values in, a result with its reasons out, so every edge is tested with
tables of cases (tests/test_rules.py).

- Slots: 45-minute (CC_TRIAGE_SLOT_MINUTES) slots from 09:00, ending by 17:00, on working days
  (Monday to Friday, not an England and Wales bank holiday), all in Europe/London, so a slot stays
  at 10:00 local time on either side of a clock change.
- Free time: a slot is free when it overlaps none of the busy intervals given.
- Default attendees: the region's default Programme Manager, case administrator, QDO and Senior
  Forensic Psychologist, the practitioner and the SPO, and for a case in custody the POM; what is
  missing is said in words, for the booking page.
- A triage record: the outcome's required companion (question for the panel, signpost
  destination), specific blockers under a theme, and well-formed actions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from complexcases.actions.rules import action_errors
from complexcases.notifications.rules import is_working_day

LONDON = ZoneInfo("Europe/London")
DAY_START = dt.time(9, 0)
DAY_END = dt.time(17, 0)
DEFAULT_SLOT_MINUTES = 45
TEXT_MAX = 5000

Interval = tuple[dt.datetime, dt.datetime]

# ---------------------------------------------------------------------------------------------
# Slots and free time


def overlaps(a: Interval, b: Interval) -> bool:
    """Half-open intervals: a meeting ending at 10:45 does not overlap one starting at 10:45."""
    return a[0] < b[1] and b[0] < a[1]


def london(day: dt.date, time: dt.time) -> dt.datetime:
    """The aware datetime of a London wall-clock time on a day."""
    return dt.datetime.combine(day, time, tzinfo=LONDON)


def day_slots(
    day: dt.date,
    *,
    slot_minutes: int = DEFAULT_SLOT_MINUTES,
    day_start: dt.time = DAY_START,
    day_end: dt.time = DAY_END,
) -> list[Interval]:
    """The day's slots, back to back from day_start, each ending by day_end; none on a day off."""
    if slot_minutes <= 0:
        raise ValueError("slot_minutes must be positive")
    if not is_working_day(day):
        return []
    length = dt.timedelta(minutes=slot_minutes)
    start, limit = london(day, day_start), london(day, day_end)
    slots = []
    while start + length <= limit:
        slots.append((start, start + length))
        start += length
    return slots


def free_slots(
    day: dt.date, busy: Sequence[Interval], *, slot_minutes: int = DEFAULT_SLOT_MINUTES
) -> list[Interval]:
    """The day's slots that overlap none of the busy intervals."""
    return [s for s in day_slots(day, slot_minutes=slot_minutes) if not _busy(s, busy)]


def _busy(slot: Interval, busy: Sequence[Interval]) -> bool:
    return any(overlaps(slot, interval) for interval in busy)


def next_free_slot(
    *,
    after: dt.datetime,
    busy: Sequence[Interval],
    slot_minutes: int = DEFAULT_SLOT_MINUTES,
    horizon_days: int = 60,
) -> Interval | None:
    """The first slot starting after `after` (a slot starting now is too late) that overlaps none of `busy`, looking at most
    `horizon_days` ahead; None when there is none."""
    _require_aware(after)
    day = after.astimezone(LONDON).date()
    for offset in range(horizon_days + 1):
        for slot in day_slots(day + dt.timedelta(days=offset), slot_minutes=slot_minutes):
            if slot[0] > after and not _busy(slot, busy):
                return slot
    return None


def slot_errors(
    *,
    start: dt.datetime,
    now: dt.datetime,
    slot_minutes: int = DEFAULT_SLOT_MINUTES,
    day_start: dt.time = DAY_START,
    day_end: dt.time = DAY_END,
) -> dict[str, str]:
    """Can a triage start then? In the future, on a working day, within working hours (London)."""
    _require_aware(start)
    local = start.astimezone(LONDON)
    end = (local + dt.timedelta(minutes=slot_minutes)).astimezone(LONDON)
    if start <= now:
        return {"start": "Choose a date and time in the future"}
    if not is_working_day(local.date()):
        return {"start": "Choose a working day: Monday to Friday, not a bank holiday"}
    if local.timetz().replace(tzinfo=None) < day_start or (
        end.date() != local.date() or end.time() > day_end
    ):
        return {
            "start": f"Choose a time from {day_start:%H:%M} that ends by {day_end:%H:%M} "
            f"(a triage takes {slot_minutes} minutes)"
        }
    return {}


_TIME = re.compile(r"^\s*([01]?[0-9]|2[0-3])\s*[:.]\s*([0-5][0-9])\s*$")


def parse_time(text: str) -> dt.time | None:
    """'10:00', '9:30' or '14.15' as a time; None for anything else."""
    match = _TIME.match(text or "")
    if match is None:
        return None
    return dt.time(int(match.group(1)), int(match.group(2)))


def _require_aware(value: dt.datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("times must be timezone-aware")


# ---------------------------------------------------------------------------------------------
# Who to invite

TEAM_FUNCTIONS = (
    ("programme_manager", "Programme Manager"),
    ("case_admin", "Case administrator"),
    ("qdo", "QDO"),
    ("senior_forensic_psychologist", "Senior Forensic Psychologist"),
)


@dataclass(frozen=True)
class Candidate:
    """A user who could attend: id, a name for messages, and whether they can be emailed."""

    user_id: int
    name: str
    has_email: bool = True


@dataclass(frozen=True)
class TeamMember:
    function: str
    candidate: Candidate
    is_default: bool = True


@dataclass(frozen=True)
class Pick:
    user_id: int
    role: str
    reason: str


@dataclass(frozen=True)
class DefaultAttendees:
    attendees: list[Pick] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def default_attendees(
    *,
    team: Sequence[TeamMember],
    practitioner: Candidate | None,
    practitioner_grade: str,
    spo: Candidate | None,
    in_custody: bool,
) -> DefaultAttendees:
    """The default attendees of a triage, in the order the page lists them, and what is missing.

    The region's default member(s) of each team function; the practitioner who manages the case;
    their SPO; for a person in custody, the POM — the practitioner when their grade is POM,
    otherwise someone the booker must add. Anyone without an email address cannot be invited and
    is reported instead. A user who fits two places is invited once, for the first.
    """
    picks: list[Pick] = []
    missing: list[str] = []
    seen: set[int] = set()

    def add(candidate: Candidate, role: str, label: str, reason: str) -> None:
        if not candidate.has_email:
            missing.append(f"{candidate.name} ({label}) has no email address, so cannot be invited")
        elif candidate.user_id not in seen:
            seen.add(candidate.user_id)
            picks.append(Pick(candidate.user_id, role, reason))

    for function, label in TEAM_FUNCTIONS:
        defaults = [m for m in team if m.function == function and m.is_default]
        if not defaults:
            missing.append(
                f"No default {label} is set for the region: add one below, or ask an administrator"
            )
        for member in defaults:
            add(member.candidate, function, label, f"the region's {label}")
    if practitioner is None:
        missing.append(
            "The practitioner who manages the case has no account in the service: add them below"
        )
    elif in_custody and practitioner_grade == "POM":
        add(practitioner, "pom", "POM", "the person is in custody and their manager is the POM")
    else:
        add(practitioner, "practitioner", "Practitioner", "manages the case")
    if in_custody and practitioner_grade != "POM":
        missing.append("The person is in custody: add the Prison Offender Manager (POM) below")
    if spo is None:
        missing.append("The service does not know the practitioner's SPO: add them below")
    else:
        add(spo, "spo", "SPO", "the practitioner's Senior Probation Officer")
    return DefaultAttendees(attendees=picks, missing=missing)


# ---------------------------------------------------------------------------------------------
# The triage record

OUTCOMES = ("resolved_at_triage", "for_panel", "signposted", "withdrawn")


@dataclass(frozen=True)
class ActionRow:
    description: str
    has_owner: bool
    due_date: dt.date | None


def record_errors(
    *,
    outcome: str,
    panel_question: str,
    signpost_destination: str,
    blockers: Sequence[tuple[str, str]],
    actions: Sequence[ActionRow],
    themes: Collection[str],
    today: dt.date,
) -> dict[str, str]:
    """Is this triage record complete? {field: message}, empty when it is.

    The outcome is one of OUTCOMES; for_panel needs the question for the panel, signposted the
    destination (and neither is given otherwise). Unless the referral is withdrawn, at least one
    blocker is recorded; each blocker has a theme from `themes` and a specific description. Each
    action has a description, an owner and a due date not in the past (actions.rules).
    """
    errors: dict[str, str] = {}
    question, destination = panel_question.strip(), signpost_destination.strip()
    if outcome not in OUTCOMES:
        errors["outcome"] = "Select the outcome of the triage"
    if outcome == "for_panel" and not question:
        errors["panel_question"] = "Enter the question for the panel"
    elif outcome != "for_panel" and question:
        errors["panel_question"] = "Only give a question for the panel when the case goes to panel"
    if outcome == "signposted" and not destination:
        errors["signpost_destination"] = "Enter where the case is signposted to"
    elif outcome != "signposted" and destination:
        errors["signpost_destination"] = "Only give a destination when the case is signposted"
    for text, name in ((question, "panel_question"), (destination, "signpost_destination")):
        if len(text) > 1000 and name not in errors:
            errors[name] = "Keep this to 1000 characters or fewer"
    if not blockers and outcome in OUTCOMES and outcome != "withdrawn":
        errors["blockers"] = "Record at least one blocker: what specifically is in the way"
    for i, (theme, description) in enumerate(blockers):
        if theme not in themes:
            errors[f"blocker-{i}-theme"] = f"Select a theme for blocker {i + 1}"
        if not description.strip():
            errors[f"blocker-{i}-description"] = f"Describe blocker {i + 1} specifically"
        elif len(description) > TEXT_MAX:
            errors[f"blocker-{i}-description"] = f"Blocker {i + 1} is too long"
    for i, row in enumerate(actions):
        row_errors = action_errors(
            description=row.description,
            has_owner=row.has_owner,
            due_date=row.due_date,
            source="triage",
            today=today,
        )
        for name, message in row_errors.items():
            errors[f"action-{i}-{name}"] = f"Action {i + 1}: {message[0].lower()}{message[1:]}"
    return errors
