"""The pure triage rules, without a database: slots, free time, default attendees, the record."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from complexcases.triage import rules
from complexcases.triage.rules import ActionRow, Candidate, TeamMember
from complexcases.triage.states import BlockerTheme

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
THEMES = BlockerTheme.values


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=LONDON)


# --- slots ------------------------------------------------------------------------------------


def test_a_working_day_has_ten_back_to_back_45_minute_slots_from_nine() -> None:
    slots = rules.day_slots(dt.date(2026, 11, 18))
    assert len(slots) == 10
    assert slots[0] == (at(2026, 11, 18, 9), at(2026, 11, 18, 9, 45))
    assert slots[-1] == (at(2026, 11, 18, 15, 45), at(2026, 11, 18, 16, 30))
    assert all(a[1] == b[0] for a, b in zip(slots, slots[1:], strict=False))


@pytest.mark.parametrize(
    ("day", "count"),
    [
        (dt.date(2026, 11, 21), 0),  # Saturday
        (dt.date(2026, 11, 22), 0),  # Sunday
        (dt.date(2026, 12, 25), 0),  # Christmas Day
        (dt.date(2026, 12, 28), 0),  # Boxing Day substitute
        (dt.date(2027, 3, 26), 0),  # Good Friday, just before the spring clock change
        (dt.date(2027, 3, 29), 0),  # Easter Monday, just after it
        (dt.date(2027, 3, 25), 10),  # Thursday before the clock change
        (dt.date(2027, 3, 30), 10),  # Tuesday after it
    ],
)
def test_slots_only_on_working_days(day: dt.date, count: int) -> None:
    assert len(rules.day_slots(day)) == count


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (dt.date(2026, 10, 23), 8),  # Friday, BST: 09:00 London is 08:00 UTC
        (dt.date(2026, 10, 26), 9),  # Monday, GMT
        (dt.date(2027, 3, 25), 9),  # Thursday, GMT
        (dt.date(2027, 3, 30), 8),  # Tuesday, BST
    ],
)
def test_slots_stay_at_nine_london_time_across_clock_changes(day: dt.date, utc_hour: int) -> None:
    first = rules.day_slots(day)[0][0]
    assert first.astimezone(LONDON).hour == 9
    assert first.astimezone(UTC).hour == utc_hour


def test_slot_length_is_configurable() -> None:
    assert len(rules.day_slots(dt.date(2026, 11, 18), slot_minutes=60)) == 8
    with pytest.raises(ValueError):
        rules.day_slots(dt.date(2026, 11, 18), slot_minutes=0)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((10, 0, 10, 45), (10, 45, 11, 30), False),  # back to back
        ((10, 0, 10, 45), (10, 30, 11, 15), True),
        ((10, 0, 10, 45), (9, 0, 10, 1), True),
        ((10, 0, 10, 45), (10, 10, 10, 20), True),  # inside
        ((10, 0, 10, 45), (9, 0, 10, 0), False),
    ],
)
def test_overlaps_is_half_open(a: tuple[int, ...], b: tuple[int, ...], expected: bool) -> None:
    day = (2026, 11, 18)
    ia = (at(*day, a[0], a[1]), at(*day, a[2], a[3]))
    ib = (at(*day, b[0], b[1]), at(*day, b[2], b[3]))
    assert rules.overlaps(ia, ib) is expected
    assert rules.overlaps(ib, ia) is expected


def test_free_slots_leave_out_busy_ones() -> None:
    busy = [
        (at(2026, 11, 18, 9), at(2026, 11, 18, 9, 45)),
        (at(2026, 11, 18, 10), at(2026, 11, 18, 11)),
    ]
    free = rules.free_slots(dt.date(2026, 11, 18), busy)
    starts = [s[0].astimezone(LONDON).strftime("%H:%M") for s in free]
    assert starts == ["11:15", "12:00", "12:45", "13:30", "14:15", "15:00", "15:45"]


@pytest.mark.parametrize(
    ("after", "busy", "expected"),
    [
        (at(2026, 11, 18, 8), [], at(2026, 11, 18, 9)),
        (at(2026, 11, 18, 9, 1), [], at(2026, 11, 18, 9, 45)),
        (at(2026, 11, 18, 9), [], at(2026, 11, 18, 9, 45)),  # a slot starting now is too late
        (at(2026, 11, 20, 16), [], at(2026, 11, 23, 9)),  # Friday afternoon -> Monday
        (
            at(2026, 11, 18, 8),
            [(at(2026, 11, 18, 9), at(2026, 11, 18, 10, 30))],
            at(2026, 11, 18, 10, 30),
        ),
        (at(2026, 12, 24, 17), [], at(2026, 12, 29, 9)),  # over Christmas
    ],
)
def test_next_free_slot(after: dt.datetime, busy: list, expected: dt.datetime) -> None:
    slot = rules.next_free_slot(after=after, busy=busy)
    assert slot is not None and slot[0] == expected


def test_no_free_slot_within_the_horizon_is_none() -> None:
    everything = [(at(2026, 11, 1, 0), at(2027, 1, 1, 0))]
    assert rules.next_free_slot(after=at(2026, 11, 18, 8), busy=everything, horizon_days=5) is None


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        rules.next_free_slot(after=dt.datetime(2026, 11, 18, 8), busy=[])  # noqa: DTZ001


NOW = at(2026, 11, 16, 9)


@pytest.mark.parametrize(
    ("start", "ok"),
    [
        (at(2026, 11, 18, 10), True),
        (at(2026, 11, 18, 9), True),
        (at(2026, 11, 18, 16, 15), True),  # ends 17:00
        (at(2026, 11, 18, 16, 16), False),  # ends after 17:00
        (at(2026, 11, 18, 8, 59), False),
        (at(2026, 11, 21, 10), False),  # Saturday
        (at(2026, 12, 25, 10), False),  # bank holiday
        (at(2026, 11, 16, 9), False),  # now
        (at(2026, 11, 13, 10), False),  # past
        (at(2026, 11, 18, 23, 30), False),  # would end the next day
        (dt.datetime(2027, 3, 30, 9, 0, tzinfo=UTC), True),  # 10:00 BST
        (dt.datetime(2027, 3, 29, 9, 0, tzinfo=UTC), False),  # Easter Monday
    ],
)
def test_slot_errors(start: dt.datetime, ok: bool) -> None:
    errors = rules.slot_errors(start=start, now=NOW)
    assert (errors == {}) is ok
    if not ok:
        assert set(errors) == {"start"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10:00", dt.time(10, 0)),
        ("9:30", dt.time(9, 30)),
        (" 14.15 ", dt.time(14, 15)),
        ("23:59", dt.time(23, 59)),
        ("24:00", None),
        ("10:60", None),
        ("10", None),
        ("ten", None),
        ("", None),
    ],
)
def test_parse_time(text: str, expected: dt.time | None) -> None:
    assert rules.parse_time(text) == expected


# --- default attendees ------------------------------------------------------------------------

PM, CA, QDO, PSY, PP, SPO = (
    Candidate(i, n) for i, n in enumerate(["PM", "CA", "QDO", "PSY", "PP", "SPO"], 1)
)
FULL_TEAM = [
    TeamMember("programme_manager", PM),
    TeamMember("case_admin", CA),
    TeamMember("qdo", QDO),
    TeamMember("senior_forensic_psychologist", PSY),
]


def choose(**overrides: object) -> rules.DefaultAttendees:
    arguments: dict = {
        "team": FULL_TEAM,
        "practitioner": PP,
        "practitioner_grade": "PO",
        "spo": SPO,
        "in_custody": False,
    }
    arguments.update(overrides)
    return rules.default_attendees(**arguments)


def picked(choice: rules.DefaultAttendees) -> list[tuple[int, str]]:
    return [(p.user_id, p.role) for p in choice.attendees]


def test_default_attendees_for_a_community_case() -> None:
    choice = choose()
    assert picked(choice) == [
        (1, "programme_manager"),
        (2, "case_admin"),
        (3, "qdo"),
        (4, "senior_forensic_psychologist"),
        (5, "practitioner"),
        (6, "spo"),
    ]
    assert choice.missing == []
    assert all(p.reason for p in choice.attendees)


@pytest.mark.parametrize(
    ("overrides", "expected_roles", "missing_words"),
    [
        ({"in_custody": True, "practitioner_grade": "POM"}, {"pom"}, []),
        ({"in_custody": True, "practitioner_grade": "PO"}, {"practitioner"}, ["POM"]),
        ({"practitioner": None}, set(), ["practitioner"]),
        ({"spo": None}, set(), ["SPO"]),
        ({"team": FULL_TEAM[1:]}, set(), ["Programme Manager"]),
        ({"team": [*FULL_TEAM[:3]]}, set(), ["Senior Forensic Psychologist"]),
        (
            {"team": [TeamMember("programme_manager", PM, is_default=False), *FULL_TEAM[1:]]},
            set(),
            ["Programme Manager"],
        ),
        ({"practitioner": Candidate(5, "PP", has_email=False)}, set(), ["no email"]),
    ],
)
def test_default_attendees_say_what_is_missing(
    overrides: dict, expected_roles: set[str], missing_words: list[str]
) -> None:
    choice = choose(**overrides)
    roles = {role for _id, role in picked(choice)}
    assert expected_roles <= roles
    assert len(choice.missing) == len(missing_words)
    for text, words in zip(choice.missing, missing_words, strict=True):
        assert words in text


def test_someone_in_two_places_is_invited_once_for_the_first() -> None:
    team = [*FULL_TEAM, TeamMember("qdo", PM)]
    choice = choose(team=team)
    assert [p.user_id for p in choice.attendees].count(1) == 1
    assert picked(choice)[0] == (1, "programme_manager")


def test_several_default_qdos_are_all_invited() -> None:
    other = Candidate(9, "QDO2")
    choice = choose(team=[*FULL_TEAM, TeamMember("qdo", other)])
    assert (9, "qdo") in picked(choice)


# --- the record -------------------------------------------------------------------------------

TODAY = dt.date(2026, 11, 18)
BLOCKER = [("accommodation", "No move-on address")]
ACTION = ActionRow("Refer to housing", True, TODAY)


@pytest.mark.parametrize(
    ("outcome", "question", "destination", "blockers", "actions", "fields"),
    [
        ("resolved_at_triage", "", "", BLOCKER, [], set()),
        ("resolved_at_triage", "", "", BLOCKER, [ACTION], set()),
        ("for_panel", "How can partners help?", "", BLOCKER, [], set()),
        ("for_panel", "", "", BLOCKER, [], {"panel_question"}),
        ("for_panel", "  ", "", BLOCKER, [], {"panel_question"}),
        ("signposted", "", "Adult social care", BLOCKER, [], set()),
        ("signposted", "", "", BLOCKER, [], {"signpost_destination"}),
        ("withdrawn", "", "", [], [], set()),
        ("withdrawn", "Q?", "", [], [], {"panel_question"}),
        ("resolved_at_triage", "", "Somewhere", BLOCKER, [], {"signpost_destination"}),
        ("resolved_at_triage", "", "", [], [], {"blockers"}),
        ("", "", "", [], [], {"outcome"}),
        ("closed", "", "", [], [], {"outcome"}),
        ("resolved_at_triage", "", "", [("weather", "x")], [], {"blocker-0-theme"}),
        ("resolved_at_triage", "", "", [("engagement", " ")], [], {"blocker-0-description"}),
        (
            "resolved_at_triage",
            "",
            "",
            BLOCKER,
            [ActionRow("", False, None)],
            {"action-0-description", "action-0-owner", "action-0-due_date"},
        ),
        (
            "resolved_at_triage",
            "",
            "",
            BLOCKER,
            [ACTION, ActionRow("Late", True, TODAY - dt.timedelta(days=1))],
            {"action-1-due_date"},
        ),
    ],
)
def test_record_errors(
    outcome: str,
    question: str,
    destination: str,
    blockers: list,
    actions: list,
    fields: set[str],
) -> None:
    errors = rules.record_errors(
        outcome=outcome,
        panel_question=question,
        signpost_destination=destination,
        blockers=blockers,
        actions=actions,
        themes=THEMES,
        today=TODAY,
    )
    assert set(errors) == fields
    assert all(message[0].isupper() for message in errors.values())


def test_the_themes_are_the_designs() -> None:
    assert THEMES == [
        "accommodation",
        "mental_health_services",
        "adult_social_care",
        "substance_misuse_services",
        "hostility_to_staff",
        "gender_identity",
        "immigration_status",
        "family_relationships",
        "childhood_trauma",
        "child_protection",
        "youth_offending_history",
        "engagement",
        "release_planning",
        "prison_liaison",
        "risk_management",
        "other",
    ]
