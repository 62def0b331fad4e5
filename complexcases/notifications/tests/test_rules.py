"""The pure rules: back-off, failure decisions, working days, the CRN guard, generic wording."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from complexcases.notifications import rules

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
D = dt.date

# ---------------------------------------------------------------------------------------------
# Back-off


@pytest.mark.parametrize(
    ("attempts", "minutes"),
    [
        (1, 1),
        (2, 2),
        (3, 4),
        (4, 8),
        (5, 16),
        (6, 32),
        (7, 60),  # 64 minutes capped at an hour
        (8, 60),
        (19, 60),
        (500, 60),  # no overflow for absurd counts
    ],
)
def test_back_off_doubles_from_a_minute_up_to_an_hour(attempts: int, minutes: int) -> None:
    assert rules.DEFAULT_RETRY_POLICY.delay(attempts) == dt.timedelta(minutes=minutes)


def test_back_off_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError):
        rules.DEFAULT_RETRY_POLICY.delay(0)


@pytest.mark.parametrize(
    ("attempts", "smtp_code", "retry", "reason", "delay_minutes"),
    [
        (1, None, True, "transient", 1),  # connection refused: no reply at all
        (3, 421, True, "transient", 4),  # service not available, try later
        (2, 451, True, "transient", 2),
        (1, 550, False, "permanent", None),  # mailbox unavailable
        (1, 554, False, "permanent", None),
        (19, None, True, "transient", 60),
        (20, None, False, "max_attempts", None),
        (20, 421, False, "max_attempts", None),
        (21, None, False, "max_attempts", None),
    ],
)
def test_decision_after_a_failed_attempt(
    attempts: int, smtp_code: int | None, retry: bool, reason: str, delay_minutes: int | None
) -> None:
    decision = rules.decide_after_failure(attempts=attempts, smtp_code=smtp_code)
    assert decision.retry is retry
    assert decision.reason == reason
    expected = dt.timedelta(minutes=delay_minutes) if delay_minutes is not None else None
    assert decision.delay == expected


def test_a_custom_policy_changes_the_schedule_and_the_limit() -> None:
    policy = rules.RetryPolicy(base_seconds=10, factor=3, cap_seconds=100, max_attempts=3)
    assert [policy.delay(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 30, 90, 100]
    assert rules.decide_after_failure(attempts=2, smtp_code=None, policy=policy).retry
    assert not rules.decide_after_failure(attempts=3, smtp_code=None, policy=policy).retry


# ---------------------------------------------------------------------------------------------
# Working days (England and Wales)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 12, 24), True),  # Thursday, Christmas Eve is not a bank holiday
        (D(2026, 12, 25), False),  # Christmas Day (Friday)
        (D(2026, 12, 28), False),  # Boxing Day falls on Saturday: substitute Monday
        (D(2026, 12, 29), True),
        (D(2027, 1, 1), False),  # New Year's Day (Friday)
        (D(2021, 12, 27), False),  # Christmas on Saturday 2021: substitute Monday
        (D(2021, 12, 28), False),  # and Boxing Day's substitute Tuesday
        (D(2022, 1, 3), False),  # New Year's Day on Saturday 2022: substitute Monday
        (D(2026, 4, 3), False),  # Good Friday 2026
        (D(2026, 4, 6), False),  # Easter Monday 2026
        (D(2026, 4, 7), True),
        (D(2027, 3, 26), False),  # Good Friday 2027 (in March)
        (D(2027, 3, 29), False),  # Easter Monday 2027
        (D(2022, 9, 19), False),  # one-off: state funeral
        (D(2023, 5, 8), False),  # one-off: coronation
        (D(2026, 5, 4), False),  # early May bank holiday
        (D(2026, 8, 31), False),  # summer bank holiday (England and Wales, not Scotland's)
        (D(2026, 8, 3), True),  # Scotland's summer holiday is a working day here
        (D(2026, 3, 17), True),  # St Patrick's Day: Northern Ireland only
        (D(2026, 11, 28), False),  # Saturday
        (D(2026, 11, 29), False),  # Sunday
        (D(2026, 11, 30), True),  # St Andrew's Day: Scotland only
    ],
)
def test_working_days_exclude_weekends_and_england_and_wales_bank_holidays(
    day: dt.date, working: bool
) -> None:
    assert rules.is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (D(2026, 11, 2), 0, D(2026, 11, 2)),
        (D(2026, 11, 2), 1, D(2026, 11, 3)),
        (D(2026, 11, 6), 1, D(2026, 11, 9)),  # Friday + 1 = Monday
        (D(2026, 11, 2), 10, D(2026, 11, 16)),  # two plain weeks
        # Christmas and New Year: 25th, 28th (Boxing Day substitute) and 1 January skipped
        (D(2026, 12, 21), 10, D(2027, 1, 7)),
        (D(2026, 12, 24), 1, D(2026, 12, 29)),
        # Easter 2026: Good Friday 3 April and Easter Monday 6 April skipped
        (D(2026, 3, 30), 10, D(2026, 4, 15)),
        (D(2026, 4, 2), 1, D(2026, 4, 7)),
        # From a weekend: counting starts on Monday
        (D(2026, 11, 7), 1, D(2026, 11, 9)),
    ],
)
def test_adding_working_days(start: dt.date, days: int, expected: dt.date) -> None:
    assert rules.add_working_days(start, days) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2026, 11, 2), D(2026, 11, 2), 0),
        (D(2026, 11, 2), D(2026, 11, 1), 0),
        (D(2026, 11, 2), D(2026, 11, 16), 10),
        (D(2026, 12, 21), D(2027, 1, 7), 10),
        (D(2026, 12, 21), D(2027, 1, 6), 9),
        (D(2026, 3, 30), D(2026, 4, 15), 10),
        (D(2026, 12, 24), D(2026, 12, 28), 0),  # Christmas, weekend, Boxing Day substitute
    ],
)
def test_counting_working_days_between_dates(start: dt.date, end: dt.date, expected: int) -> None:
    assert rules.working_days_between(start, end) == expected


def test_adding_then_counting_working_days_agree_across_a_whole_year() -> None:
    start = D(2026, 1, 1)
    for offset in range(0, 366, 7):
        day = start + dt.timedelta(days=offset)
        for n in (1, 5, 10):
            later = rules.add_working_days(day, n)
            assert rules.working_days_between(day, later) == n
            assert rules.is_working_day(later)


def test_negative_working_days_are_refused() -> None:
    with pytest.raises(ValueError):
        rules.add_working_days(D(2026, 1, 1), -1)


# ---------------------------------------------------------------------------------------------
# The CRN guard


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("X123456", True),
        ("About X123456.", True),
        ("(A000001)", True),
        ("crn:Z999999", True),
        ("https://service.invalid/people/X123456/", True),
        ("X123456abc", True),
        ("Case X12\r\n 3456 folded in an .ics", True),
        ("X12345", False),  # five digits
        ("X1234567", False),  # seven digits: not CRN-shaped
        ("x123456", False),  # CRNs are upper case
        ("AX123456", False),  # part of a longer code
        ("DTSTART;TZID=Europe/London:20261026T100000", False),
        ("DTSTAMP:20261126T113811Z", False),
        ("Complex Cases triage: Tuesday 3 March, 10:00", False),
        ("https://service.invalid/triage/42", False),
        ("", False),
    ],
)
def test_crn_shaped_tokens_are_found(text: str, found: bool) -> None:
    assert rules.contains_crn_shaped_token(text) is found


# ---------------------------------------------------------------------------------------------
# Generic wording


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # 3 March 2026 is a Tuesday, in GMT
        (
            dt.datetime(2026, 3, 3, 10, 0, tzinfo=UTC),
            "Complex Cases triage: Tuesday 3 March, 10:00",
        ),
        # Summer: 09:00 UTC is 10:00 in London
        (dt.datetime(2026, 7, 7, 9, 0, tzinfo=UTC), "Complex Cases triage: Tuesday 7 July, 10:00"),
        # Already London time
        (
            dt.datetime(2026, 10, 26, 14, 30, tzinfo=LONDON),
            "Complex Cases triage: Monday 26 October, 14:30",
        ),
        # Late evening UTC in summer is the next day in London
        (
            dt.datetime(2026, 6, 30, 23, 15, tzinfo=UTC),
            "Complex Cases triage: Wednesday 1 July, 00:15",
        ),
    ],
)
def test_meeting_subject_is_generic_and_in_london_time(start: dt.datetime, expected: str) -> None:
    assert rules.meeting_subject("Complex Cases triage", start) == expected


def test_cancelled_subject_says_so() -> None:
    start = dt.datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert rules.meeting_subject("Complex Cases triage", start, cancelled=True).startswith(
        "Cancelled: Complex Cases triage: Tuesday 3 March"
    )


def test_subject_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        rules.meeting_subject("Complex Cases triage", dt.datetime(2026, 3, 3, 10, 0))


def test_body_names_roles_time_and_link_only() -> None:
    body = rules.notification_body(
        intro="A triage meeting has been booked.",
        link="https://service.invalid/triage/42",
        roles=["Programme Manager", "Probation Practitioner", "SPO"],
        start=dt.datetime(2026, 3, 3, 10, 0, tzinfo=LONDON),
        end=dt.datetime(2026, 3, 3, 10, 45, tzinfo=LONDON),
    )
    lines = body.splitlines()
    assert lines[0] == "A triage meeting has been booked."
    assert "When: Tuesday 3 March, 10:00 to 10:45 (UK time)" in lines
    assert "Who: Programme Manager, Probation Practitioner, SPO" in lines
    assert "https://service.invalid/triage/42" in lines
    assert not rules.contains_crn_shaped_token(body)
