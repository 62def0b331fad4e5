"""The panel's pure rules: series dates, bank-holiday policy, slots, papers, recommendations.

Table-driven across November 2026 to December 2027, which holds both clock changes (25 October 2026,
28 March 2027), Easter, the May and August bank holidays and two Christmases with substitute days.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from complexcases.panels import rules
from complexcases.panels.rules import CaseFacts, HolidayPolicy, MeetingDate, PanelRole

D = dt.date
UTC = dt.UTC
NEXT, PREVIOUS, SKIP = (
    HolidayPolicy.NEXT_WORKING_DAY,
    HolidayPolicy.PREVIOUS_WORKING_DAY,
    HolidayPolicy.SKIP,
)


def test_first_monday_of_each_month_for_a_year_moves_only_the_may_bank_holiday() -> None:
    dates = rules.meeting_dates(
        "FREQ=MONTHLY;BYDAY=+1MO",
        first=D(2026, 11, 2),
        start=D(2026, 11, 1),
        end=D(2027, 12, 31),
        policy=NEXT,
    )
    assert [m.date for m in dates] == [
        D(2026, 11, 2),
        D(2026, 12, 7),
        D(2027, 1, 4),
        D(2027, 2, 1),
        D(2027, 3, 1),
        D(2027, 4, 5),
        D(2027, 5, 4),
        D(2027, 6, 7),
        D(2027, 7, 5),
        D(2027, 8, 2),
        D(2027, 9, 6),
        D(2027, 10, 4),
        D(2027, 11, 1),
        D(2027, 12, 6),
    ]
    moved = [m for m in dates if m.reason]
    assert moved == [
        MeetingDate(D(2027, 5, 3), D(2027, 5, 4), "Moved from 3 May 2027, which is a bank holiday")
    ]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        # Last Mondays falling on bank holidays: 28 Dec 2026 (Boxing Day observed), 29 Mar 2027
        # (Easter Monday), 31 May 2027 (Spring), 30 Aug 2027 (Summer), 27 Dec 2027 (Christmas observed).
        (
            NEXT,
            {
                D(2026, 12, 28): D(2026, 12, 29),
                D(2027, 3, 29): D(2027, 3, 30),
                D(2027, 5, 31): D(2027, 6, 1),
                D(2027, 8, 30): D(2027, 8, 31),
                D(2027, 12, 27): D(2027, 12, 29),
            },
        ),
        # Previous: over Christmas and Easter the previous working day is days before.
        (
            PREVIOUS,
            {
                D(2026, 12, 28): D(2026, 12, 24),
                D(2027, 3, 29): D(2027, 3, 25),
                D(2027, 5, 31): D(2027, 5, 28),
                D(2027, 8, 30): D(2027, 8, 27),
                D(2027, 12, 27): D(2027, 12, 24),
            },
        ),
        (
            SKIP,
            {
                D(2026, 12, 28): None,
                D(2027, 3, 29): None,
                D(2027, 5, 31): None,
                D(2027, 8, 30): None,
                D(2027, 12, 27): None,
            },
        ),
    ],
)
def test_last_monday_series_applies_the_bank_holiday_policy(policy: str, expected: dict) -> None:
    dates = rules.meeting_dates(
        "FREQ=MONTHLY;BYDAY=-1MO",
        first=D(2026, 11, 30),
        start=D(2026, 11, 1),
        end=D(2027, 12, 31),
        policy=policy,
    )
    assert len(dates) == 14
    changed = {m.scheduled: m.date for m in dates if m.scheduled != m.date}
    assert changed == expected
    for m in dates:
        if m.scheduled in expected:
            assert "bank holiday" in m.reason
        else:
            assert m.reason == "" and m.date == m.scheduled


def test_weekly_friday_series_over_christmas_and_new_year() -> None:
    dates = rules.meeting_dates(
        "FREQ=WEEKLY;BYDAY=FR",
        first=D(2026, 12, 4),
        start=D(2026, 12, 18),
        end=D(2027, 1, 8),
        policy=NEXT,
    )
    assert [(m.scheduled, m.date) for m in dates] == [
        (D(2026, 12, 18), D(2026, 12, 18)),
        (D(2026, 12, 25), D(2026, 12, 29)),  # Christmas, weekend, Boxing Day observed
        (D(2027, 1, 1), D(2027, 1, 4)),  # New Year's Day
        (D(2027, 1, 8), D(2027, 1, 8)),
    ]


def test_a_move_that_would_reach_the_next_meeting_skips_instead() -> None:
    # Daily on weekdays would collide with the next day's meeting: 25 Dec is skipped, not moved.
    dates = rules.meeting_dates(
        "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
        first=D(2026, 12, 21),
        start=D(2026, 12, 24),
        end=D(2026, 12, 29),
        policy=NEXT,
    )
    assert [(m.scheduled, m.date) for m in dates] == [
        (D(2026, 12, 24), D(2026, 12, 24)),
        (D(2026, 12, 25), None),
        (D(2026, 12, 28), None),
        (D(2026, 12, 29), D(2026, 12, 29)),
    ]
    assert "next meeting" in dates[1].reason


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("FREQ=MONTHLY;BYDAY=+1MO", None),
        ("RRULE:FREQ=MONTHLY;BYDAY=+1MO", None),
        ("", "Enter a recurrence rule"),
        ("FREQ=MONTHLY;COUNT=3", "no end"),
        ("BYDAY=MO", "needs FREQ"),
        ("FREQ=SOMETIMES", "not a recurrence rule"),
    ],
)
def test_recurrence_rule_validation(text: str, problem: str | None) -> None:
    result = rules.validate_rrule(text)
    if problem is None:
        assert result is None
    else:
        assert result is not None and problem in result


@pytest.mark.parametrize(
    ("day", "first_start_utc"),
    [
        (D(2026, 10, 19), dt.datetime(2026, 10, 19, 9, 0, tzinfo=UTC)),  # BST
        (D(2026, 10, 26), dt.datetime(2026, 10, 26, 10, 0, tzinfo=UTC)),  # GMT after 25 Oct
        (D(2027, 3, 22), dt.datetime(2027, 3, 22, 10, 0, tzinfo=UTC)),  # GMT
        (D(2027, 3, 30), dt.datetime(2027, 3, 30, 9, 0, tzinfo=UTC)),  # BST after 28 Mar
    ],
)
def test_slots_are_london_wall_clock_times_on_both_sides_of_a_clock_change(
    day: dt.date, first_start_utc: dt.datetime
) -> None:
    layout = rules.slots(day, dt.time(10, 0), dt.time(13, 0), 45)
    london = ZoneInfo("Europe/London")
    assert [s.start.astimezone(london).time() for s in layout] == [
        dt.time(10, 0),
        dt.time(10, 45),
        dt.time(11, 30),
        dt.time(12, 15),
    ]
    assert layout[-1].end.astimezone(london).time() == dt.time(13, 0)
    assert layout[0].start == first_start_utc
    assert [s.index for s in layout] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("start", "end", "minutes", "count"),
    [
        ((10, 0), (13, 0), 45, 4),
        ((10, 0), (12, 59), 45, 3),
        ((9, 30), (10, 15), 45, 1),
        ((10, 0), (10, 30), 45, 0),
        ((10, 0), (12, 0), 30, 4),
    ],
)
def test_slot_count_leaves_a_short_remainder_free(
    start: tuple[int, int], end: tuple[int, int], minutes: int, count: int
) -> None:
    assert len(rules.slots(D(2027, 2, 1), dt.time(*start), dt.time(*end), minutes)) == count


def test_a_slot_has_a_positive_length() -> None:
    with pytest.raises(ValueError):
        rules.slots(D(2027, 2, 1), dt.time(10), dt.time(13), 0)


@pytest.mark.parametrize(
    ("count", "taken", "expected"),
    [
        (4, [], 0),
        (4, [0], 1),
        (4, [0, 1, 3], 2),
        (4, [1], 0),
        (4, [0, 1, 2, 3], None),
        (0, [], None),
    ],
)
def test_first_free_slot(count: int, taken: list[int], expected: int | None) -> None:
    assert rules.first_free_slot(count, taken) == expected


@pytest.mark.parametrize(
    ("meeting", "days", "issue"),
    [
        (D(2027, 2, 1), 5, D(2027, 1, 25)),  # an ordinary week
        (D(2027, 5, 4), 5, D(2027, 4, 26)),  # the May bank holiday is not counted
        (D(2027, 1, 4), 5, D(2026, 12, 23)),  # Christmas, Boxing Day observed, New Year
        (D(2027, 4, 5), 5, D(2027, 3, 25)),  # Good Friday and Easter Monday
        (D(2026, 10, 26), 5, D(2026, 10, 19)),  # across the October clock change
        (D(2027, 2, 1), 0, D(2027, 2, 1)),
        (D(2027, 2, 1), 1, D(2027, 1, 29)),
    ],
)
def test_papers_issue_date_counts_working_days_back(
    meeting: dt.date, days: int, issue: dt.date
) -> None:
    assert rules.papers_issue_date(meeting, days) == issue


@pytest.mark.parametrize(
    ("issued", "today", "late"),
    [
        (None, D(2027, 1, 20), False),  # not due yet
        (None, D(2027, 1, 25), False),  # due today, not yet out
        (None, D(2027, 1, 26), True),  # the date has passed
        (D(2027, 1, 20), D(2027, 1, 28), False),
        (D(2027, 1, 25), D(2027, 1, 28), False),
        (D(2027, 1, 26), D(2027, 1, 28), True),
    ],
)
def test_papers_are_late_after_the_issue_date(
    issued: dt.date | None, today: dt.date, late: bool
) -> None:
    assert rules.papers_late(issued, D(2027, 2, 1), 5, today) is late


CORE = [PanelRole.CHAIR, PanelRole.PROGRAMME_MANAGER, PanelRole.HEAD_OF_PDU, PanelRole.CASE_ADMIN]


@pytest.mark.parametrize(
    ("case", "extra"),
    [
        (CaseFacts(), []),
        (CaseFacts(criteria_met=frozenset({"mental_health"})), [PanelRole.MENTAL_HEALTH_LEAD]),
        (CaseFacts(criteria_met=frozenset({"self_harm"})), [PanelRole.MENTAL_HEALTH_LEAD]),
        (
            CaseFacts(blocker_themes=frozenset({"mental_health_services"})),
            [PanelRole.MENTAL_HEALTH_LEAD],
        ),
        (
            CaseFacts(criteria_met=frozenset({"learning_difficulties"})),
            [PanelRole.ADULT_SOCIAL_CARE_LIAISON],
        ),
        (
            CaseFacts(blocker_themes=frozenset({"adult_social_care"})),
            [PanelRole.ADULT_SOCIAL_CARE_LIAISON],
        ),
        (CaseFacts(gender_identity=True), [PanelRole.REGIONAL_EQUALITIES_MANAGER]),
        (
            CaseFacts(blocker_themes=frozenset({"gender_identity"})),
            [PanelRole.REGIONAL_EQUALITIES_MANAGER],
        ),
        (
            CaseFacts(in_custody=True),
            [PanelRole.PRISON_RESETTLEMENT_REP, PanelRole.CUSTODY_PSYCHOLOGIST],
        ),
        (
            CaseFacts(blocker_themes=frozenset({"release_planning"})),
            [PanelRole.PRISON_RESETTLEMENT_REP],
        ),
        (
            CaseFacts(blocker_themes=frozenset({"prison_liaison"})),
            [PanelRole.PRISON_RESETTLEMENT_REP],
        ),
        (CaseFacts(criteria_met=frozenset({"opd"})), [PanelRole.OPD_REGIONAL_LEAD]),
        (CaseFacts(criteria_met=frozenset({"mappa"})), [PanelRole.HEAD_PUBLIC_PROTECTION]),
        (
            CaseFacts(blocker_themes=frozenset({"risk_management"})),
            [PanelRole.HEAD_PUBLIC_PROTECTION],
        ),
        # Criteria and blockers that recommend nobody beyond the core.
        (
            CaseFacts(
                criteria_met=frozenset({"rosh", "substance_misuse", "ipp"}),
                blocker_themes=frozenset({"accommodation", "engagement"}),
            ),
            [],
        ),
    ],
)
def test_recommended_roles_are_the_core_and_what_the_case_needs(
    case: CaseFacts, extra: list[str]
) -> None:
    recommended = rules.recommended_roles(case)
    assert [r.role for r in recommended] == CORE + extra
    assert all(r.core for r in recommended[:4]) and not any(r.core for r in recommended[4:])
    assert all(r.reasons for r in recommended)


def test_the_qdo_is_never_recommended_for_a_panel() -> None:
    everything = CaseFacts(
        criteria_met=frozenset(
            {
                "rosh",
                "mental_health",
                "self_harm",
                "learning_difficulties",
                "mappa",
                "opd",
                "substance_misuse",
                "ipp",
            }
        ),
        blocker_themes=frozenset({"mental_health_services", "release_planning", "gender_identity"}),
        in_custody=True,
        gender_identity=True,
    )
    roles = [r.role for r in rules.recommended_roles(everything)]
    assert PanelRole.QDO not in roles
    assert len(roles) == len(set(roles))


def test_one_rule_gives_one_reason_however_many_of_its_conditions_hold() -> None:
    case = CaseFacts(
        criteria_met=frozenset({"mental_health"}),
        blocker_themes=frozenset({"mental_health_services"}),
    )
    lead = [r for r in rules.recommended_roles(case) if r.role == PanelRole.MENTAL_HEALTH_LEAD]
    assert len(lead) == 1 and len(lead[0].reasons) == 1  # one rule, one reason
    custody = CaseFacts(in_custody=True, blocker_themes=frozenset({"release_planning"}))
    rep = [
        r for r in rules.recommended_roles(custody) if r.role == PanelRole.PRISON_RESETTLEMENT_REP
    ]
    assert rep[0].reasons == ("In custody, or release planning or prison liaison is a blocker",)


def test_missing_expertise_lists_recommended_roles_nobody_attends() -> None:
    assert rules.missing_expertise(
        [PanelRole.CHAIR, PanelRole.MENTAL_HEALTH_LEAD, PanelRole.OPD_REGIONAL_LEAD],
        [PanelRole.CHAIR, PanelRole.OPD_REGIONAL_LEAD],
    ) == [PanelRole.MENTAL_HEALTH_LEAD]
