"""The pure action rules, without a database."""

from __future__ import annotations

import datetime as dt

import pytest

from complexcases.actions import rules

TODAY = dt.date(2026, 11, 18)


@pytest.mark.parametrize(
    ("description", "owner", "due", "source", "past_ok", "fields"),
    [
        ("Refer to housing", True, TODAY, "triage", False, set()),
        ("Refer to housing", True, TODAY + dt.timedelta(days=30), "panel", False, set()),
        ("Refer to housing", True, TODAY, "follow_up", False, set()),
        ("  ", True, TODAY, "triage", False, {"description"}),
        ("x" * 1001, True, TODAY, "triage", False, {"description"}),
        ("Refer", False, TODAY, "triage", False, {"owner"}),
        ("Refer", True, None, "triage", False, {"due_date"}),
        ("Refer", True, TODAY - dt.timedelta(days=1), "triage", False, {"due_date"}),
        ("Refer", True, TODAY - dt.timedelta(days=1), "triage", True, set()),
        ("Refer", True, TODAY, "email", False, {"source"}),
        ("", False, None, "", False, {"description", "owner", "due_date", "source"}),
    ],
)
def test_action_errors(
    description: str, owner: bool, due: dt.date | None, source: str, past_ok: bool, fields: set
) -> None:
    errors = rules.action_errors(
        description=description,
        has_owner=owner,
        due_date=due,
        source=source,
        today=TODAY,
        allow_past_due=past_ok,
    )
    assert set(errors) == fields


@pytest.mark.parametrize(
    ("to", "reason", "fields"),
    [
        ("cancelled", "No longer needed", set()),
        ("cancelled", "  ", {"cancellation_reason"}),
        ("cancelled", "x" * 501, {"cancellation_reason"}),
        ("done", "", set()),
        ("done", "because", {"cancellation_reason"}),
        ("archived", "", {"status"}),
    ],
)
def test_transition_errors(to: str, reason: str, fields: set) -> None:
    assert set(rules.transition_errors(to=to, cancellation_reason=reason)) == fields


# --- reminders and escalation -----------------------------------------------------------------

D = dt.date
SOON, LATE, ESC = "due_soon", "overdue", "escalation"
ALL_SENT = frozenset({SOON, LATE, ESC})


@pytest.mark.parametrize(
    ("due", "status", "today", "sent", "kinds"),
    [
        # An ordinary week: due Friday 20 November 2026, remind 2 working days before.
        (D(2026, 11, 20), "open", D(2026, 11, 17), (), ()),  # Tuesday: 3 working days ahead
        (D(2026, 11, 20), "open", D(2026, 11, 18), (), (SOON,)),  # Wednesday: 2 ahead
        (D(2026, 11, 20), "open", D(2026, 11, 19), (SOON,), ()),  # reminded already
        (D(2026, 11, 20), "open", D(2026, 11, 19), (), (SOON,)),  # missed a day: catch up
        (D(2026, 11, 20), "open", D(2026, 11, 20), (), (SOON,)),  # due today
        (D(2026, 11, 20), "open", D(2026, 11, 21), (), ()),  # Saturday: no email
        (D(2026, 11, 20), "open", D(2026, 11, 22), (), ()),  # Sunday: no email
        (D(2026, 11, 20), "open", D(2026, 11, 23), (SOON,), (LATE,)),  # Monday: overdue
        (D(2026, 11, 20), "open", D(2026, 11, 23), (), (LATE,)),  # never "due soon" once late
        (D(2026, 11, 20), "open", D(2026, 11, 26), (SOON, LATE), ()),  # 4 working days late
        (D(2026, 11, 20), "open", D(2026, 11, 27), (SOON, LATE), (ESC,)),  # 5: escalate
        (D(2026, 11, 20), "open", D(2026, 11, 27), (), (LATE, ESC)),  # both, missed days
        (D(2026, 11, 20), "open", D(2026, 12, 30), ALL_SENT, ()),  # everything sent
        # Across a weekend: due Tuesday 24 November, the reminder goes on Friday 20.
        (D(2026, 11, 24), "open", D(2026, 11, 19), (), ()),
        (D(2026, 11, 24), "open", D(2026, 11, 20), (), (SOON,)),
        # Christmas 2026: Friday 25 and Monday 28 (Boxing Day substitute) are bank holidays.
        (D(2026, 12, 29), "open", D(2026, 12, 22), (), ()),  # 23, 24, 29: 3 working days
        (D(2026, 12, 29), "open", D(2026, 12, 23), (), (SOON,)),  # 24, 29: 2
        (D(2026, 12, 29), "open", D(2026, 12, 25), (), ()),  # Christmas Day
        (D(2026, 12, 29), "open", D(2026, 12, 28), (), ()),  # substitute bank holiday
        (D(2026, 12, 29), "open", D(2026, 12, 29), (SOON,), ()),
        (D(2026, 12, 29), "open", D(2026, 12, 30), (SOON,), (LATE,)),
        (D(2026, 12, 29), "open", D(2027, 1, 1), (SOON,), ()),  # New Year's Day
        (D(2026, 12, 29), "open", D(2027, 1, 5), (SOON, LATE), ()),  # 30, 31, 4, 5: 4 late
        (D(2026, 12, 29), "open", D(2027, 1, 6), (SOON, LATE), (ESC,)),  # 5 working days late
        # Every unfinished status is reminded; finished ones never, however late.
        (D(2026, 11, 20), "in_progress", D(2026, 11, 18), (), (SOON,)),
        (D(2026, 11, 20), "blocked", D(2026, 11, 27), (), (LATE, ESC)),
        (D(2026, 11, 20), "done", D(2026, 11, 18), (), ()),
        (D(2026, 11, 20), "done", D(2026, 11, 27), (), ()),
        (D(2026, 11, 20), "cancelled", D(2026, 11, 18), (), ()),
        (D(2026, 11, 20), "cancelled", D(2027, 3, 1), (), ()),
    ],
)
def test_reminders_due(
    due: dt.date, status: str, today: dt.date, sent: tuple, kinds: tuple
) -> None:
    decision = rules.reminders_due(due_date=due, status=status, today=today, already_sent=sent)
    assert decision.kinds == kinds
    assert decision.reasons  # every decision says why


@pytest.mark.parametrize(
    ("before", "after", "due", "today", "kinds"),
    [
        (0, 5, D(2026, 11, 20), D(2026, 11, 19), ()),
        (0, 5, D(2026, 11, 20), D(2026, 11, 20), (SOON,)),
        (5, 5, D(2026, 11, 20), D(2026, 11, 13), (SOON,)),
        (2, 1, D(2026, 11, 20), D(2026, 11, 23), (LATE, ESC)),
        (2, 2, D(2026, 11, 20), D(2026, 11, 23), (LATE,)),
        (2, 2, D(2026, 11, 20), D(2026, 11, 24), (LATE, ESC)),
    ],
)
def test_reminders_due_follows_the_policy(
    before: int, after: int, due: dt.date, today: dt.date, kinds: tuple
) -> None:
    policy = rules.ReminderPolicy(remind_before=before, escalate_after=after)
    assert rules.reminders_due(due_date=due, status="open", today=today, policy=policy).kinds == (
        kinds
    )


def test_a_policy_must_make_sense() -> None:
    with pytest.raises(ValueError):
        rules.ReminderPolicy(remind_before=-1)
    with pytest.raises(ValueError):
        rules.ReminderPolicy(escalate_after=0)


@pytest.mark.parametrize(
    ("due", "today", "group"),
    [
        (D(2026, 11, 13), D(2026, 11, 16), "overdue"),
        (D(2026, 11, 16), D(2026, 11, 16), "due_soon"),
        (D(2026, 11, 18), D(2026, 11, 16), "due_soon"),
        (D(2026, 11, 19), D(2026, 11, 16), "later"),
        (D(2026, 11, 24), D(2026, 11, 20), "due_soon"),  # Monday, Tuesday after a weekend
        (D(2026, 12, 29), D(2026, 12, 24), "due_soon"),  # over Christmas
        (D(2026, 12, 30), D(2026, 12, 24), "due_soon"),
        (D(2026, 12, 31), D(2026, 12, 24), "later"),
    ],
)
def test_due_group(due: dt.date, today: dt.date, group: str) -> None:
    assert rules.due_group(due_date=due, today=today) == group


@pytest.mark.parametrize("kind", [SOON, LATE, ESC])
def test_reminder_wording_is_generic(kind: str) -> None:
    from complexcases.notifications.rules import contains_crn_shaped_token

    subject, intro = rules.reminder_wording(kind=kind, due_date=D(2026, 12, 29), late=5)
    assert "Tuesday 29 December 2026" in intro
    assert "\n" not in subject and not contains_crn_shaped_token(subject + intro)
    with pytest.raises(ValueError):
        rules.reminder_wording(kind="weekly", due_date=D(2026, 12, 29))
