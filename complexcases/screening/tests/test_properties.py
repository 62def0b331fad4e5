"""Properties of the screening rules that must hold for any facts (hypothesis). No database."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complexcases.screening.criteria import CC_2021_V1, CRITERIA_IDS, mask_to_ids
from complexcases.screening.rules import (
    AssessmentFact,
    PersonFacts,
    RegistrationFact,
    Screener,
    ScreeningOutcome,
    SentenceFact,
    evidence_json,
    latest_oasys,
    screen_person,
)

PARAMETERS = CC_2021_V1
AS_OF = dt.date(2026, 11, 15)
CHECKS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Severity orders: a later value is at least as severe as an earlier one.
ROSH_ORDER = ["", "LOW", "MEDIUM", "HIGH", "VERY_HIGH"]
LEVEL_ORDER = [None, 0, 1, 2]
YES_NO_ORDER = ["", "NO", "DK", "YES"]
OPD_RESULT_ORDER = ["", "SCREEN_OUT", "SCREEN_IN"]
OVERRIDE_ORDER = [None, False, True]

dates = st.dates(min_value=AS_OF - dt.timedelta(days=900), max_value=AS_OF + dt.timedelta(days=60))
codes = st.sampled_from(["RHRH", "RVHR", "RMRH", "RLRH", "AMHL", "RMDO", "ALSH", "MAPP", "WEAP"])
levels = st.sampled_from(["", "M1", "M2", "M3"])


@st.composite
def registrations(draw: st.DrawFn, current: bool | None = None) -> RegistrationFact:
    start = draw(dates)
    end = draw(st.none() | st.dates(min_value=start, max_value=start + dt.timedelta(days=900)))
    if current:
        start = min(start, AS_OF)
        end = None if end is None or end <= AS_OF else end
    return RegistrationFact(draw(codes), start, end, draw(levels), draw(levels))


def assessments(assessment_id: str) -> st.SearchStrategy[AssessmentFact]:
    return st.builds(
        AssessmentFact,
        assessment_id=st.just(assessment_id),
        completed_date=st.none() | dates,
        status=st.sampled_from(["COMPLETE", "LOCKED_INCOMPLETE", "OPEN"]),
        assessment_type=st.sampled_from(["LAYER1", "LAYER3"]),
        rosh_overall=st.sampled_from(ROSH_ORDER),
        q4_8=st.sampled_from(LEVEL_ORDER),
        q10_2=st.sampled_from(LEVEL_ORDER),
        q10_5=st.sampled_from(YES_NO_ORDER[1:] + [""]),
        q10_6=st.sampled_from(LEVEL_ORDER),
        r3_1=st.sampled_from(YES_NO_ORDER),
        r3_2=st.sampled_from(YES_NO_ORDER),
        drug_score=st.none() | st.integers(0, 12),
        alcohol_score=st.none() | st.integers(0, 12),
        opd_result=st.sampled_from(OPD_RESULT_ORDER),
        opd_override=st.sampled_from(OVERRIDE_ORDER),
    )


@st.composite
def people(draw: st.DrawFn) -> PersonFacts:
    # Assessment ids are unique, as in the extract; numbers and text mixed.
    ids = draw(
        st.lists(
            st.integers(1, 400).map(str) | st.sampled_from(["A1", "A20", "B3"]),
            max_size=4,
            unique=True,
        )
    )
    person_assessments = tuple(draw(assessments(i)) for i in ids)
    person_registrations = tuple(draw(st.lists(registrations(), max_size=6)))
    person_sentences = tuple(
        draw(
            st.lists(
                st.builds(
                    SentenceFact,
                    sentence_type=st.sampled_from(["IPP", "DPP", "SDS", "LIFE"]),
                    active=st.booleans(),
                    sentence_date=st.none() | dates,
                    event_number=st.integers(1, 9).map(str),
                ),
                max_size=3,
            )
        )
    )
    return PersonFacts(person_registrations, person_assessments, person_sentences)


def screen(person: PersonFacts) -> ScreeningOutcome:
    return screen_person(person, as_of=AS_OF, parameters=PARAMETERS)


# One screener shared across examples: its caches must never change an answer.
SHARED = Screener(PARAMETERS, AS_OF)


@CHECKS
@given(people(), registrations(current=True))
def test_adding_a_current_registration_never_lowers_the_count(
    person: PersonFacts, registration: RegistrationFact
) -> None:
    more = replace(person, registrations=(*person.registrations, registration))
    assert screen(more).criteria_count >= screen(person).criteria_count


@st.composite
def more_severe(draw: st.DrawFn, assessment: AssessmentFact) -> AssessmentFact:
    """The same assessment with one answer made at least as severe."""
    item = draw(
        st.sampled_from(
            [
                "rosh_overall",
                "q4_8",
                "q10_2",
                "q10_5",
                "q10_6",
                "r3_1",
                "r3_2",
                "drug_score",
                "alcohol_score",
                "opd_result",
                "opd_override",
            ]  # fmt: skip
        )
    )
    current = getattr(assessment, item)
    if item in ("drug_score", "alcohol_score"):
        value = draw(st.integers(current or 0, 15))
    else:
        orders: dict[str, list[Any]] = {
            "rosh_overall": ROSH_ORDER,
            "q4_8": LEVEL_ORDER,
            "q10_2": LEVEL_ORDER,
            "q10_6": LEVEL_ORDER,
            "q10_5": YES_NO_ORDER,
            "r3_1": YES_NO_ORDER,
            "r3_2": YES_NO_ORDER,
            "opd_result": OPD_RESULT_ORDER,
            "opd_override": OVERRIDE_ORDER,
        }
        order = orders[item]
        # NO, DK and unanswered are equally "not yes": only YES is more severe than any of them.
        floor = order.index(current) if order is not YES_NO_ORDER or current == "YES" else 0
        value = draw(st.sampled_from(order[floor:]))
        if order is YES_NO_ORDER and current != "YES" and value != "YES":
            value = current
    return replace(assessment, **{item: value})  # type: ignore[arg-type]


@st.composite
def people_with_current_oasys(draw: st.DrawFn) -> PersonFacts:
    person = draw(people())
    usable = draw(assessments("Z1"))
    window = dt.timedelta(weeks=PARAMETERS["oasys_window_weeks"]) - dt.timedelta(days=1)
    usable = replace(
        usable,
        completed_date=draw(st.dates(min_value=AS_OF - window, max_value=AS_OF)),
        status=draw(st.sampled_from(PARAMETERS["oasys_usable_statuses"])),
    )
    return replace(person, assessments=(*person.assessments, usable))


@CHECKS
@given(people_with_current_oasys(), st.data())
def test_a_more_severe_answer_on_the_latest_assessment_never_lowers_the_count(
    person: PersonFacts, data: st.DataObject
) -> None:
    latest = latest_oasys(person.assessments, AS_OF, PARAMETERS)
    assert latest is not None
    worse = data.draw(more_severe(latest))
    changed = replace(
        person,
        assessments=tuple(worse if a is latest else a for a in person.assessments),
    )
    assert screen(changed).criteria_count >= screen(person).criteria_count


@CHECKS
@given(people())
def test_same_input_same_result_in_any_order(person: PersonFacts) -> None:
    first = screen(person)
    assert screen(person) == first
    reordered = PersonFacts(
        tuple(reversed(person.registrations)),
        tuple(reversed(person.assessments)),
        tuple(reversed(person.sentences)),
    )
    assert screen(reordered) == first
    assert evidence_json(screen(reordered)) == evidence_json(first)


@CHECKS
@given(people())
def test_count_is_the_number_of_met_criteria(person: PersonFacts) -> None:
    outcome = screen(person)
    met = [c.id for c in outcome.criteria if c.met]
    assert [c.id for c in outcome.criteria] == list(CRITERIA_IDS)
    assert outcome.criteria_count == len(met) == bin(outcome.criteria_mask).count("1")
    assert list(outcome.met_ids) == met == mask_to_ids(outcome.criteria_mask)
    assert outcome.eligible is (len(met) >= PARAMETERS["eligible_threshold"])
    assert outcome.near_miss is (len(met) == PARAMETERS["near_miss_count"])
    assert outcome.no_current_oasys is (outcome.latest_oasys is None)


@CHECKS
@given(people())
def test_a_reused_screener_agrees_with_a_fresh_one(person: PersonFacts) -> None:
    outcome = SHARED.screen(person)
    assert outcome == screen(person)
    assert SHARED.evidence_text(outcome) == json.dumps(
        evidence_json(outcome), separators=(",", ":")
    )
