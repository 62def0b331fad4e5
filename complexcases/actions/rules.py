"""Pure decisions for actions: validation ({field: message}, empty means valid), how soon an
action is due, and which reminder or escalation emails it needs today (with the reasons).

No Django imports, so every edge is tested with tables of cases (tests/test_rules.py). Working days
are Monday to Friday except England and Wales bank holidays (notifications.rules, from the
maintained `holidays` package).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from complexcases.notifications.rules import (
    add_working_days,
    is_working_day,
    working_days_between,
)

DESCRIPTION_MAX = 1000
REASON_MAX = 500
STATUSES = ("open", "in_progress", "done", "blocked", "cancelled")
OPEN = frozenset({"open", "in_progress", "blocked"})  # done and cancelled are finished
DUE_SOON, OVERDUE, ESCALATION = "due_soon", "overdue", "escalation"
REMINDER_KINDS = (DUE_SOON, OVERDUE, ESCALATION)
SOURCES = ("triage", "panel", "follow_up")


def action_errors(
    *,
    description: str,
    has_owner: bool,
    due_date: dt.date | None,
    source: str,
    today: dt.date,
    allow_past_due: bool = False,
) -> dict[str, str]:
    """An action is specific (a description), owned (an owner) and dated (a due date, not in the
    past unless `allow_past_due`, which only imports and the demo use)."""
    errors: dict[str, str] = {}
    text = description.strip()
    if not text:
        errors["description"] = "Enter what the action is"
    elif len(text) > DESCRIPTION_MAX:
        errors["description"] = f"The action must be {DESCRIPTION_MAX} characters or fewer"
    if not has_owner:
        errors["owner"] = "Select who owns the action"
    if due_date is None:
        errors["due_date"] = "Enter the date the action is due"
    elif due_date < today and not allow_past_due:
        errors["due_date"] = "The due date must be today or in the future"
    if source not in SOURCES:
        errors["source"] = "The action's source must be triage, panel or follow-up"
    return errors


def transition_errors(*, to: str, cancellation_reason: str) -> dict[str, str]:
    """Cancelling needs a reason; no other move takes one."""
    if to not in STATUSES:
        return {"status": "Select a status"}
    reason = cancellation_reason.strip()
    if to == "cancelled" and not reason:
        return {"cancellation_reason": "Enter why the action is cancelled"}
    if to == "cancelled" and len(reason) > REASON_MAX:
        return {"cancellation_reason": f"The reason must be {REASON_MAX} characters or fewer"}
    if to != "cancelled" and reason:
        return {"cancellation_reason": "Only give a reason when the action is cancelled"}
    return {}


# --- how soon, and reminders -------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderPolicy:
    """`remind_before`: the owner is reminded when the action is due within this many working
    days. `escalate_after`: the region's Programme Manager is told once the action has been overdue
    for this many working days. Both come from settings (services.reminder_policy)."""

    remind_before: int = 2
    escalate_after: int = 5

    def __post_init__(self) -> None:
        if self.remind_before < 0 or self.escalate_after < 1:
            raise ValueError("remind_before must be >= 0 and escalate_after >= 1")


DEFAULT_POLICY = ReminderPolicy()


def due_group(*, due_date: dt.date, today: dt.date, policy: ReminderPolicy = DEFAULT_POLICY) -> str:
    """ "overdue" (due before today), "due_soon" (due today or within `remind_before` working
    days) or "later". The same window as the due-soon reminder, so the page and the email agree."""
    if due_date < today:
        return OVERDUE
    if due_date <= add_working_days(today, policy.remind_before):
        return DUE_SOON
    return "later"


@dataclass(frozen=True)
class ReminderDecision:
    """The emails to send today (`kinds`, in send order) and why, or why not (`reasons`)."""

    kinds: tuple[str, ...]
    reasons: tuple[str, ...]


def reminders_due(
    *,
    due_date: dt.date,
    status: str,
    today: dt.date,
    policy: ReminderPolicy = DEFAULT_POLICY,
    already_sent: Collection[str] = (),
) -> ReminderDecision:
    """Which of due_soon, overdue and escalation an action needs today, each at most once.

    - Only unfinished actions (open, in progress, blocked); done and cancelled never.
    - Only on working days: a reminder that would fall on a weekend or bank holiday goes on the
      next working day, and the count of working days never includes the holiday.
    - due_soon: due today or within `remind_before` working days (not once overdue: the overdue
      reminder says more).
    - overdue: the due date has passed.
    - escalation: overdue by `escalate_after` working days or more (working days after the due
      date, up to and including today).
    A kind in `already_sent` is never due again. The daily task may miss days: whatever is due and
    not yet sent goes on the next run, so nothing is lost.
    """
    if status not in OPEN:
        return ReminderDecision((), (f"the action is {status}: no reminders",))
    if not is_working_day(today):
        return ReminderDecision((), ("not a working day: reminders wait for the next one",))
    kinds: list[str] = []
    reasons: list[str] = []
    if due_date >= today:
        ahead = working_days_between(today, due_date)
        if ahead <= policy.remind_before:
            if DUE_SOON in already_sent:
                reasons.append("due soon: already reminded")
            else:
                kinds.append(DUE_SOON)
                reasons.append(f"due in {ahead} working day(s), within {policy.remind_before}")
        else:
            reasons.append(f"due in {ahead} working days: not yet")
        return ReminderDecision(tuple(kinds), tuple(reasons))
    late = working_days_between(due_date, today)
    if OVERDUE in already_sent:
        reasons.append("overdue: already reminded")
    else:
        kinds.append(OVERDUE)
        reasons.append(f"overdue by {late} working day(s)")
    if late >= policy.escalate_after:
        if ESCALATION in already_sent:
            reasons.append("escalation: already sent")
        else:
            kinds.append(ESCALATION)
            reasons.append(f"overdue by {late} working days, at least {policy.escalate_after}")
    return ReminderDecision(tuple(kinds), tuple(reasons))


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(day: dt.date) -> str:
    """'Tuesday 29 December 2026', whatever the machine's locale (for email wording)."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def reminder_wording(*, kind: str, due_date: dt.date, late: int = 0) -> tuple[str, str]:
    """(subject, intro) of a reminder or escalation email: generic, no names, no CRN, no case
    details; the body adds a link into the service, which checks the reader's access."""
    due = long_date(due_date)
    if kind == DUE_SOON:
        return (
            "Complex Cases: an action you own is due soon",
            f"An action you own in the Complex Cases service is due on {due}.",
        )
    if kind == OVERDUE:
        return (
            "Complex Cases: an action you own is overdue",
            f"An action you own in the Complex Cases service was due on {due} and is not "
            "marked as done. Please update it, with a note, or ask for it to be reassigned.",
        )
    if kind == ESCALATION:
        return (
            f"Complex Cases: an action is {late} working days overdue",
            f"An action agreed for a case in your region was due on {due} and has been overdue "
            f"for {late} working days. You are told as the region's Programme Manager (or its "
            "Complex Cases team, when no Programme Manager is set).",
        )
    raise ValueError(f"unknown reminder kind {kind!r}")
