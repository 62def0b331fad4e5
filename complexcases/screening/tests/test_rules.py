"""Table-driven tests of every edge of the screening rules (DESIGN.md section 4). No database."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
from dataclasses import replace

import pytest

from complexcases.screening.criteria import CC_2021_V1, CRITERIA_IDS, ids_to_mask
from complexcases.screening.rules import (
    AssessmentFact,
    PersonFacts,
    RegistrationFact,
    Screener,
    SentenceFact,
    assessment_id_greater,
    evidence_json,
    latest_oasys,
    registration_is_current,
    screen_person,
)

D = dt.date(2026, 11, 15)
DAY = dt.timedelta(days=1)
WINDOW = dt.timedelta(weeks=55)
PARAMETERS = CC_2021_V1


def reg(code: str, start: dt.date = dt.date(2024, 1, 1), end: dt.date | None = None, level: str = "",
        category: str = "") -> RegistrationFact:  # fmt: skip
    return RegistrationFact(code, start, end, level, category)


def oasys(assessment_id: str = "1000", completed: dt.date | None = D - 30 * DAY, **answers: object) -> AssessmentFact:  # fmt: skip
    return AssessmentFact(assessment_id, completed, **answers)  # type: ignore[arg-type]


def facts(registrations=(), assessments=(), sentences=()) -> PersonFacts:  # type: ignore[no-untyped-def]
    return PersonFacts(tuple(registrations), tuple(assessments), tuple(sentences))


def met(person: PersonFacts, as_of: dt.date = D, parameters: dict = PARAMETERS) -> set[str]:
    outcome = screen_person(person, as_of=as_of, parameters=parameters)
    return set(outcome.met_ids)


def criterion(person: PersonFacts, cid: str, as_of: dt.date = D) -> dict:
    """The evidence JSON entry of one criterion."""
    outcome = screen_person(person, as_of=as_of, parameters=PARAMETERS)
    return next(c for c in evidence_json(outcome)["criteria"] if c["id"] == cid)


# --- when a registration is current -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "current"),
    [
        (D, None, True),  # registered on the as-of date
        (D - DAY, D, False),  # deregistered on the as-of date
        (D - DAY, D + DAY, True),  # deregistered the day after
        (D + DAY, None, False),  # registration in the future
        (D - 400 * DAY, None, True),
        (D - 400 * DAY, D - DAY, False),
    ],
)
def test_registration_current_at_as_of_date(
    start: dt.date, end: dt.date | None, current: bool
) -> None:
    registration = reg("RHRH", start, end)
    assert registration_is_current(registration, D) is current
    assert ("rosh" in met(facts([registration]))) is current


def test_not_current_registration_shows_why_in_evidence() -> None:
    entry = criterion(facts([reg("RVHR", D - 100 * DAY, D)]), "rosh")
    (fact,) = [f for f in entry["facts"] if f["source"] == "registration"]
    assert fact == {
        "source": "registration",
        "item": "RVHR",
        "label": "RoSH very high registration",
        "value": f"ended {D.isoformat()}",
        "date": (D - 100 * DAY).isoformat(),
        "met": False,
    }
    assert entry["met"] is False


# --- which OASys assessment is the latest ----------------------------------------------------------


@pytest.mark.parametrize(
    ("completed", "used"),
    [
        (D - WINDOW, False),  # exactly 55 weeks old
        (D - WINDOW + DAY, True),  # a day younger
        (D, True),  # completed on the as-of date
        (D + DAY, False),  # completed after the as-of date
        (None, False),  # never completed
    ],
)
def test_oasys_window(completed: dt.date | None, used: bool) -> None:
    assessment = oasys(completed=completed, q4_8=2)
    assert (latest_oasys([assessment], D, PARAMETERS) is not None) is used
    assert ("learning_difficulties" in met(facts(assessments=[assessment]))) is used


@pytest.mark.parametrize(
    ("status", "used"), [("COMPLETE", True), ("LOCKED_INCOMPLETE", True), ("OPEN", False)]
)
def test_oasys_status(status: str, used: bool) -> None:
    assessment = oasys(status=status, q4_8=1)
    assert ("learning_difficulties" in met(facts(assessments=[assessment]))) is used


def test_open_assessment_ignored_even_when_newest() -> None:
    older = oasys("1", D - 60 * DAY, q4_8=0)
    newest_open = oasys("2", D - DAY, status="OPEN", q4_8=2)
    assert latest_oasys([older, newest_open], D, PARAMETERS) == older
    assert "learning_difficulties" not in met(facts(assessments=[older, newest_open]))


def test_locked_incomplete_newer_than_complete_is_used() -> None:
    complete = oasys("1", D - 60 * DAY, q4_8=0)
    locked = oasys("2", D - 10 * DAY, status="LOCKED_INCOMPLETE", q4_8=1)
    assert latest_oasys([complete, locked], D, PARAMETERS) == locked


def test_greatest_completed_date_wins_over_greater_id() -> None:
    newer = oasys("5", D - 10 * DAY, q4_8=1)
    older_greater_id = oasys("9", D - 20 * DAY, q4_8=0)
    assert latest_oasys([older_greater_id, newer], D, PARAMETERS) == newer


@pytest.mark.parametrize(
    ("ids", "winner"),
    [
        (("9", "10"), "10"),  # numerically, not as text
        (("10", "9"), "10"),
        (("100200", "100199"), "100200"),
        (("A9", "A10"), "A9"),  # not both numbers: compared as text
        (("B1", "A2"), "B1"),
    ],
)
def test_tie_on_completed_date_goes_to_greatest_assessment_id(
    ids: tuple[str, str], winner: str
) -> None:
    same_day = D - 10 * DAY
    assessments = [oasys(i, same_day) for i in ids]
    chosen = latest_oasys(assessments, D, PARAMETERS)
    assert chosen is not None and chosen.assessment_id == winner
    assert latest_oasys(list(reversed(assessments)), D, PARAMETERS) == chosen


def test_assessment_id_comparison() -> None:
    assert assessment_id_greater("10", "9")
    assert not assessment_id_greater("9", "10")
    assert assessment_id_greater("9x", "10x")


def test_tie_decides_which_answers_count() -> None:
    lower = oasys("99", D - 5 * DAY, q4_8=2)
    greater = oasys("100", D - 5 * DAY, q4_8=0)
    assert "learning_difficulties" not in met(facts(assessments=[lower, greater]))


# --- no current OASys ---------------------------------------------------------------------------------


def _everything_registered() -> list[RegistrationFact]:
    return [
        reg("RVHR"),
        reg("AMHL"),
        reg("RMDO"),
        reg("ALSH"),
        reg("MAPP", level="M3", category="M1"),
    ]


def test_no_current_oasys_makes_every_oasys_condition_false_and_is_flagged() -> None:
    stale = oasys(completed=D - WINDOW, rosh_overall="VERY_HIGH", q4_8=2, q10_2=2, q10_5="YES",
                  q10_6=2, r3_1="YES", r3_2="YES", drug_score=9, alcohol_score=9,
                  opd_result="SCREEN_IN", opd_override=True)  # fmt: skip
    person = facts(_everything_registered(), [stale], [SentenceFact("IPP", True, D - 999 * DAY)])
    outcome = screen_person(person, as_of=D, parameters=PARAMETERS)
    assert outcome.no_current_oasys is True
    assert outcome.latest_oasys is None
    # Registration- and sentence-only criteria are still met; the OASys ones are not, even where the
    # registration half of an "and" condition is there.
    assert set(outcome.met_ids) == {"rosh", "mappa", "ipp"}
    evidence = evidence_json(outcome)
    assert evidence["no_current_oasys"] is True
    assert evidence["latest_oasys"] is None
    mental_health = next(c for c in evidence["criteria"] if c["id"] == "mental_health")
    assert [f["met"] for f in mental_health["facts"] if f["source"] == "oasys"] == [False]


def test_current_oasys_is_not_flagged_and_is_described() -> None:
    assessment = oasys("77", D - DAY, status="LOCKED_INCOMPLETE", assessment_type="LAYER1")
    outcome = screen_person(facts(assessments=[assessment]), as_of=D, parameters=PARAMETERS)
    assert outcome.no_current_oasys is False
    assert evidence_json(outcome)["latest_oasys"] == {
        "assessment_id": "77",
        "assessment_type": "LAYER1",
        "status": "LOCKED_INCOMPLETE",
        "completed_date": (D - DAY).isoformat(),
    }


# --- the conditions, one by one ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        (facts([reg("RHRH")]), True),
        (facts([reg("RVHR")]), True),
        (facts([reg("RMRH")]), False),
        (facts([reg("RLRH")]), False),
        (facts(assessments=[oasys(rosh_overall="HIGH")]), True),
        (facts(assessments=[oasys(rosh_overall="VERY_HIGH")]), True),
        (facts(assessments=[oasys(rosh_overall="MEDIUM")]), False),
        (facts(assessments=[oasys(rosh_overall="")]), False),
    ],
)
def test_rosh(person: PersonFacts, expected: bool) -> None:
    assert ("rosh" in met(person)) is expected


@pytest.mark.parametrize(
    ("level", "category", "expected"),
    [
        ("M2", "M1", True),
        ("M3", "M4", True),
        ("M1", "M1", False),
        ("M1", "M2", False),  # category 2 at level 1 is not level 2
        ("M1", "M3", False),
        ("", "M3", False),
    ],
)
def test_mappa_needs_level_2_or_3(level: str, category: str, expected: bool) -> None:
    person = facts([reg("MAPP", level=level, category=category)])
    assert ("mappa" in met(person)) is expected


def test_mappa_level_2_not_current_is_not_met() -> None:
    assert "mappa" not in met(facts([reg("MAPP", D - 90 * DAY, D - DAY, level="M2")]))


@pytest.mark.parametrize(
    ("registration", "answers", "expected"),
    [
        ("AMHL", {"q10_2": 1}, True),
        ("RMDO", {"q10_6": 1}, True),
        ("AMHL", {"q10_2": 2, "q10_6": 0}, True),
        ("AMHL", {"q10_2": 0, "q10_6": 0}, False),  # registration alone
        ("AMHL", {}, False),  # unanswered
        (None, {"q10_2": 2, "q10_6": 2}, False),  # answers alone
        ("ALSH", {"q10_2": 2}, False),  # the wrong registration
    ],
)
def test_mental_health_needs_registration_and_answer(
    registration: str | None, answers: dict, expected: bool
) -> None:
    registrations = [reg(registration)] if registration else []
    person = facts(registrations, [oasys(**answers)])
    assert ("mental_health" in met(person)) is expected


@pytest.mark.parametrize(
    ("registration", "answers", "expected"),
    [
        ("ALSH", {"q10_5": "YES"}, True),
        ("ALSH", {"r3_1": "YES"}, True),
        ("ALSH", {"r3_2": "YES"}, True),
        ("ALSH", {"q10_5": "NO", "r3_1": "NO", "r3_2": "NO"}, False),  # registration alone
        ("ALSH", {"q10_5": "DK", "r3_1": "DK", "r3_2": "DK"}, False),  # don't know is not yes
        ("ALSH", {"q10_5": "", "r3_1": "", "r3_2": ""}, False),  # unanswered is not yes
        (None, {"q10_5": "YES", "r3_1": "YES", "r3_2": "YES"}, False),  # answers alone
        ("AMHL", {"q10_5": "YES"}, False),
    ],
)
def test_self_harm_needs_registration_and_answer(
    registration: str | None, answers: dict, expected: bool
) -> None:
    registrations = [reg(registration)] if registration else []
    person = facts(registrations, [oasys(**answers)])
    assert ("self_harm" in met(person)) is expected


@pytest.mark.parametrize(
    ("cid", "registration", "item", "below", "at"),
    [
        ("mental_health", "AMHL", "q10_2", 0, 1),
        ("mental_health", "AMHL", "q10_6", 0, 1),
        ("learning_difficulties", None, "q4_8", 0, 1),
        ("substance_misuse", None, "drug_score", 1, 2),
        ("substance_misuse", None, "alcohol_score", 3, 4),
    ],
)
def test_thresholds(cid: str, registration: str | None, item: str, below: int, at: int) -> None:
    registrations = [reg(registration)] if registration else []
    for value, expected in ((None, False), (below, False), (at, True), (at + 5, True)):
        person = facts(registrations, [oasys(**{item: value})])  # type: ignore[arg-type]
        assert (cid in met(person)) is expected, (item, value)


@pytest.mark.parametrize(
    ("result", "override", "expected"),
    [
        ("SCREEN_IN", None, True),
        ("SCREEN_IN", False, True),
        ("SCREEN_OUT", True, True),  # override Y with SCREEN_OUT
        ("SCREEN_OUT", False, False),
        ("SCREEN_OUT", None, False),
        ("", True, True),
        ("", None, False),
    ],
)
def test_opd(result: str, override: bool | None, expected: bool) -> None:
    person = facts(assessments=[oasys(opd_result=result, opd_override=override)])
    assert ("opd" in met(person)) is expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (SentenceFact("IPP", True), True),
        (SentenceFact("DPP", True), True),
        (SentenceFact("IPP", False), False),  # inactive IPP
        (SentenceFact("LIFE", True), False),
        (SentenceFact("EDS", True), False),
    ],
)
def test_ipp(sentence: SentenceFact, expected: bool) -> None:
    assert ("ipp" in met(facts(sentences=[sentence]))) is expected


# --- counting: eligible at 6, near miss at 5 --------------------------------------------------------


def meeting(ids: tuple[str, ...]) -> PersonFacts:
    """Facts meeting exactly the given criteria and no other (one assessment carries the answers)."""
    registrations: list[RegistrationFact] = []
    answers: dict[str, object] = {"rosh_overall": "LOW", "opd_result": "SCREEN_OUT"}
    sentences: list[SentenceFact] = [SentenceFact("SDS", True)]
    if "rosh" in ids:
        registrations.append(reg("RHRH"))
    if "mental_health" in ids:
        registrations.append(reg("AMHL"))
        answers["q10_2"] = 1
    if "self_harm" in ids:
        registrations.append(reg("ALSH"))
        answers["r3_2"] = "YES"
    if "learning_difficulties" in ids:
        answers["q4_8"] = 2
    if "mappa" in ids:
        registrations.append(reg("MAPP", level="M2", category="M1"))
    if "opd" in ids:
        answers["opd_result"] = "SCREEN_IN"
    if "substance_misuse" in ids:
        answers["alcohol_score"] = 4
    if "ipp" in ids:
        sentences.append(SentenceFact("IPP", True))
    return facts(registrations, [oasys(**answers)], sentences)  # type: ignore[arg-type]


SUBSETS = [ids for size in range(9) for ids in itertools.combinations(CRITERIA_IDS, size)]


@pytest.mark.parametrize("ids", SUBSETS, ids=lambda ids: "+".join(ids) or "none")
def test_every_combination_counts_exactly_what_is_met(ids: tuple[str, ...]) -> None:
    outcome = screen_person(meeting(ids), as_of=D, parameters=PARAMETERS)
    assert outcome.met_ids == ids
    assert outcome.criteria_count == len(ids)
    assert outcome.criteria_mask == ids_to_mask(ids)
    assert outcome.eligible is (len(ids) >= 6)
    assert outcome.near_miss is (len(ids) == 5)


@pytest.mark.parametrize(
    ("count", "eligible", "near_miss", "wording"),
    [
        (4, False, False, "not eligible"),
        (5, False, True, "near miss"),
        (6, True, False, "eligible"),
        (7, True, False, "eligible"),
    ],
)
def test_eligible_at_six_near_miss_at_five(
    count: int, eligible: bool, near_miss: bool, wording: str
) -> None:
    outcome = screen_person(meeting(CRITERIA_IDS[:count]), as_of=D, parameters=PARAMETERS)
    assert (outcome.eligible, outcome.near_miss) == (eligible, near_miss)
    assert f"{count} of 8 criteria met" in outcome.summary
    assert wording in outcome.summary


# --- parameters, not code, decide -------------------------------------------------------------------


def test_thresholds_and_codes_come_from_the_parameters() -> None:
    person = facts([reg("XRSH")], [oasys(drug_score=1, q4_8=1)])
    assert met(person) == {"learning_difficulties"}
    changed = copy.deepcopy(PARAMETERS)
    changed["rosh"]["register_codes"] = ["XRSH"]
    changed["substance_misuse"]["oasys_min"]["drug_score"] = 1
    changed["learning_difficulties"]["oasys_min"]["q4_8"] = 2
    assert met(person, parameters=changed) == {"rosh", "substance_misuse"}


def test_window_and_eligibility_come_from_the_parameters() -> None:
    person = meeting(("rosh", "learning_difficulties"))
    person = replace(
        person, assessments=(replace(person.assessments[0], completed_date=D - 40 * DAY),)
    )
    changed = copy.deepcopy(PARAMETERS)
    changed["oasys_window_weeks"] = 5
    changed["eligible_threshold"] = 1
    outcome = screen_person(person, as_of=D, parameters=changed)
    assert outcome.met_ids == ("rosh",)
    assert outcome.no_current_oasys is True
    assert outcome.eligible is True


# --- evidence ---------------------------------------------------------------------------------------


def test_evidence_for_a_met_and_an_unmet_criterion() -> None:
    completed = D - 20 * DAY
    person = facts(
        [reg("RHRH", dt.date(2025, 3, 4)), reg("AMHL", dt.date(2025, 6, 7))],
        [oasys("4242", completed, rosh_overall="MEDIUM", q10_2=0, q10_6=None)],
    )
    rosh = criterion(person, "rosh")
    assert rosh["met"] is True
    assert rosh["label"] == "Risk of serious harm high or very high"
    assert rosh["summary"].startswith("Met:") and "RHRH" in rosh["summary"]
    assert rosh["facts"] == [
        {
            "source": "registration",
            "item": "RHRH",
            "label": "RoSH high registration",
            "value": "current",
            "date": "2025-03-04",
            "met": True,
        },
        {
            "source": "oasys",
            "item": "rosh_overall",
            "label": "OASys overall RoSH",
            "value": "MEDIUM",
            "date": completed.isoformat(),
            "met": False,
        },
    ]
    mental_health = criterion(person, "mental_health")
    assert mental_health["met"] is False
    assert mental_health["summary"].startswith("Not met")
    assert mental_health["facts"] == [
        {
            "source": "registration",
            "item": "AMHL",
            "label": "Mental health issues registration",
            "value": "current",
            "date": "2025-06-07",
            "met": True,
        },
        {
            "source": "oasys",
            "item": "q10_2",
            "label": "OASys 10.2 psychological problems",
            "value": "0",
            "date": completed.isoformat(),
            "met": False,
        },
        {
            "source": "oasys",
            "item": "q10_6",
            "label": "OASys 10.6 psychiatric problems",
            "value": "(unanswered)",
            "date": completed.isoformat(),
            "met": False,
        },
    ]


def test_evidence_of_sentences_and_answers_in_words() -> None:
    person = facts(
        assessments=[oasys(r3_1="DK", q10_5="YES", opd_override=True)],
        sentences=[
            SentenceFact("IPP", False, dt.date(2009, 1, 2)),
            SentenceFact("DPP", True, None),
        ],
    )
    ipp = criterion(person, "ipp")
    assert ipp["met"] is True
    assert [(f["item"], f["value"], f["date"], f["met"]) for f in ipp["facts"]] == [
        ("DPP", "active", None, True),
        ("IPP", "inactive", "2009-01-02", False),
    ]
    self_harm = {f["item"]: f["value"] for f in criterion(person, "self_harm")["facts"]}
    assert self_harm == {"q10_5": "Yes", "r3_1": "Don't know", "r3_2": "(unanswered)"}
    opd = {f["item"]: f["value"] for f in criterion(person, "opd")["facts"]}
    assert opd == {"opd_result": "(unanswered)", "opd_override": "Yes"}


def test_evidence_json_has_the_agreed_shape() -> None:
    outcome = screen_person(meeting(CRITERIA_IDS), as_of=D, parameters=PARAMETERS)
    evidence = evidence_json(outcome)
    assert [c["id"] for c in evidence["criteria"]] == list(CRITERIA_IDS)
    for entry in evidence["criteria"]:
        assert set(entry) == {"id", "label", "met", "summary", "facts"}
        assert entry["met"] is True
        for fact in entry["facts"]:
            assert set(fact) == {"source", "item", "label", "value", "date", "met"}
            assert fact["source"] in {"registration", "oasys", "sentence"}
    assert json.loads(json.dumps(evidence)) == evidence


def test_screener_evidence_text_is_the_evidence_json() -> None:
    screener = Screener(PARAMETERS, D)
    for ids in SUBSETS[::7]:
        outcome = screener.screen(meeting(ids))
        text = screener.evidence_text(outcome)
        assert text == json.dumps(evidence_json(outcome), separators=(",", ":"))


def test_fact_order_does_not_change_the_result() -> None:
    person = facts(
        [reg("RHRH", dt.date(2020, 1, 1), dt.date(2021, 1, 1)), reg("RVHR", dt.date(2022, 1, 1))],
        [oasys("1", D - 9 * DAY), oasys("2", D - 9 * DAY, q4_8=1)],
        [
            SentenceFact("IPP", False, dt.date(2008, 1, 1), "1"),
            SentenceFact("IPP", True, None, "2"),
        ],
    )
    shuffled = facts(
        reversed(person.registrations), reversed(person.assessments), reversed(person.sentences)
    )
    first = screen_person(person, as_of=D, parameters=PARAMETERS)
    second = screen_person(shuffled, as_of=D, parameters=PARAMETERS)
    assert first == second
    assert evidence_json(first) == evidence_json(second)


def _reversed_keys(value: object) -> object:
    if isinstance(value, dict):
        return {key: _reversed_keys(value[key]) for key in reversed(list(value))}
    return value


def test_key_order_of_stored_parameters_does_not_matter() -> None:
    # PostgreSQL's jsonb gives a stored parameters object's keys back in another order.
    reordered = _reversed_keys(PARAMETERS)
    assert list(reordered["self_harm"]["oasys_yes"]) != list(PARAMETERS["self_harm"]["oasys_yes"])  # type: ignore[index]
    for ids in SUBSETS[::5]:
        person = meeting(ids)
        original = screen_person(person, as_of=D, parameters=PARAMETERS)
        assert screen_person(person, as_of=D, parameters=reordered) == original  # type: ignore[arg-type]
