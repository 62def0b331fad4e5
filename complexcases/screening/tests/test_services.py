"""Screening runs: results, counts, the change against last month, re-runs, the criteria set."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pytest

from complexcases.core.models import AuditEvent
from complexcases.people.models import Person
from complexcases.people.tests.factories import (
    AssessmentFactory,
    PersonFactory,
    RegistrationFactory,
    SentenceFactory,
    TeamFactory,
)
from complexcases.screening import facts
from complexcases.screening.criteria import CRITERIA_IDS, CURRENT, ids_to_mask, mask_to_ids
from complexcases.screening.models import CriteriaSet, ScreeningResult, ScreeningRun
from complexcases.screening.services import CriteriaSetChanged, screening_run_create

pytestmark = pytest.mark.django_db

OCTOBER = dt.date(2026, 10, 15)
NOVEMBER = dt.date(2026, 11, 15)
DECEMBER = dt.date(2026, 12, 1)
ALL = CRITERIA_IDS


def give(person: Any, ids: Iterable[str], completed: dt.date = dt.date(2026, 9, 1)) -> Any:
    """Case data meeting exactly the given criteria (one OASys assessment holds the answers)."""
    ids = set(ids)
    answers: dict[str, object] = {"rosh_overall": "LOW", "opd_result": "SCREEN_OUT"}
    registrations = {"rosh": "RHRH", "mental_health": "AMHL", "self_harm": "ALSH"}
    for cid, code in registrations.items():
        if cid in ids:
            RegistrationFactory(person=person, register_type_code=code)
    if "mappa" in ids:
        RegistrationFactory(person=person, register_type_code="MAPP", register_level_code="M2")
    if "ipp" in ids:
        SentenceFactory(person=person, sentence_type="IPP", active=True)
    answers["q10_6"] = 2 if "mental_health" in ids else 0
    answers["q10_5"] = "YES" if "self_harm" in ids else "NO"
    answers["q4_8"] = 1 if "learning_difficulties" in ids else 0
    if "opd" in ids:
        answers["opd_result"] = "SCREEN_IN"
    answers["drug_score"] = 3 if "substance_misuse" in ids else 0
    if ids & {"mental_health", "self_harm", "learning_difficulties", "opd", "substance_misuse"}:
        AssessmentFactory(person=person, completed_date=completed, **answers)
    return person


def result(run: ScreeningRun, person: Person) -> ScreeningResult:
    return ScreeningResult.objects.get(run=run, person=person)


def snapshot(run: ScreeningRun) -> list[tuple]:
    """A run's results without ids or the run: what 'the same results' means."""
    return list(
        ScreeningResult.objects.filter(run=run)
        .order_by("person_id")
        .values_list(
            "person_id",
            "pdu_id",
            "team_id",
            "on_caseload",
            "criteria_count",
            "criteria_mask",
            "eligible",
            "near_miss",
            "no_current_oasys",
            "change",
            "months_on_list",
            "evidence",
        )
    )


@pytest.fixture
def teams():  # type: ignore[no-untyped-def]
    return TeamFactory(), TeamFactory()


def test_run_stores_a_result_with_evidence_for_everyone_on_the_caseload(teams) -> None:  # type: ignore[no-untyped-def]
    north, south = teams
    eligible = give(PersonFactory(team=north), ALL[:7])
    near_miss = give(PersonFactory(team=north), ALL[:5])
    no_oasys = give(PersonFactory(team=south), ("rosh", "mappa", "ipp"))
    give(PersonFactory(team=south, on_caseload=False), ALL)  # off the caseload: not screened

    run = screening_run_create(as_of=NOVEMBER, actor="tester")

    assert (run.as_of, run.month, run.run_by) == (NOVEMBER, "2026-11", "tester")
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert run.previous_run is None
    assert run.people_screened == 3
    assert (run.eligible_count, run.near_miss_count, run.no_current_oasys_count) == (1, 1, 1)
    assert (run.new_count, run.continuing_count, run.left_count) == (1, 0, 0)
    assert run.counts_by_pdu == {
        north.pdu.code: {
            "eligible": 1, "near_miss": 1, "new": 1, "continuing": 0, "left": 0, "screened": 2,
        },
        south.pdu.code: {
            "eligible": 0, "near_miss": 0, "new": 0, "continuing": 0, "left": 0, "screened": 1,
        },
    }  # fmt: skip
    assert ScreeningResult.objects.filter(run=run).count() == 3

    listed = result(run, eligible)
    assert (listed.criteria_count, listed.eligible, listed.near_miss) == (7, True, False)
    assert mask_to_ids(listed.criteria_mask) == list(ALL[:7])
    assert (listed.change, listed.months_on_list) == ("new", 1)
    assert (listed.pdu_id, listed.team_id, listed.on_caseload) == (north.pdu_id, north.pk, True)
    evidence = listed.evidence
    assert [c["id"] for c in evidence["criteria"]] == list(CRITERIA_IDS)
    assert [c["met"] for c in evidence["criteria"]] == [True] * 7 + [False]
    assert evidence["no_current_oasys"] is False
    assert evidence["latest_oasys"]["completed_date"] == "2026-09-01"

    missed = result(run, near_miss)
    assert (missed.criteria_count, missed.eligible, missed.near_miss) == (5, False, True)
    assert (missed.change, missed.months_on_list) == ("", 0)

    flagged = result(run, no_oasys)
    assert flagged.no_current_oasys is True
    assert flagged.criteria_mask == ids_to_mask(["rosh", "mappa", "ipp"])
    assert flagged.evidence["no_current_oasys"] is True


def test_new_continuing_and_left_across_months(teams) -> None:  # type: ignore[no-untyped-def]
    north, south = teams
    stays = give(PersonFactory(team=north), ALL[:7])
    drops = give(PersonFactory(team=north), ALL[:6])
    leaves_caseload = give(PersonFactory(team=south), ALL[:6])
    joins = give(PersonFactory(team=south), ALL[:4])
    give(PersonFactory(team=south), ALL[:5])
    october = screening_run_create(as_of=OCTOBER, actor="tester")
    assert october.new_count == 3

    # Between the runs: a registration ends, a person leaves the caseload, another gains two criteria.
    drops.registrations.filter(register_type_code="AMHL").update(
        deregistration_date=dt.date(2026, 10, 20)
    )
    Person.objects.filter(pk=leaves_caseload.pk).update(on_caseload=False)
    give(joins, ("mappa", "ipp"))
    november = screening_run_create(as_of=NOVEMBER, actor="tester")

    assert november.previous_run == october
    assert (november.new_count, november.continuing_count, november.left_count) == (1, 1, 2)
    assert (november.eligible_count, november.near_miss_count, november.people_screened) == (
        2,
        2,
        4,
    )
    assert (result(november, stays).change, result(november, stays).months_on_list) == (
        "continuing",
        2,
    )
    assert (result(november, joins).change, result(november, joins).months_on_list) == ("new", 1)
    dropped = result(november, drops)
    assert (dropped.change, dropped.eligible, dropped.on_caseload) == ("left", False, True)
    assert (dropped.criteria_count, dropped.near_miss, dropped.months_on_list) == (5, True, 0)
    gone = result(november, leaves_caseload)
    assert (gone.change, gone.on_caseload, gone.eligible) == ("left", False, False)
    assert (gone.criteria_count, gone.criteria_mask, gone.months_on_list) == (0, 0, 0)
    assert (gone.pdu_id, gone.team_id) == (south.pdu_id, south.pk)
    assert gone.evidence["on_caseload"] is False
    assert "no longer on the caseload" in gone.evidence["summary"]
    assert [c["met"] for c in gone.evidence["criteria"]] == [False] * 8
    assert november.counts_by_pdu[north.pdu.code] == {
        "eligible": 1, "near_miss": 1, "new": 0, "continuing": 1, "left": 1, "screened": 2,
    }  # fmt: skip
    assert november.counts_by_pdu[south.pdu.code] == {
        "eligible": 1, "near_miss": 1, "new": 1, "continuing": 0, "left": 1, "screened": 2,
    }  # fmt: skip

    december = screening_run_create(as_of=DECEMBER, actor="tester")
    assert december.previous_run == november
    assert result(december, stays).months_on_list == 3
    assert (result(december, joins).change, result(december, joins).months_on_list) == (
        "continuing",
        2,
    )
    # Left last month and not listed since: no longer "left".
    assert result(december, drops).change == ""
    assert not ScreeningResult.objects.filter(run=december, person=leaves_caseload).exists()
    assert december.left_count == 0


def test_change_is_against_the_latest_run_of_the_previous_month(teams) -> None:  # type: ignore[no-untyped-def]
    north, _ = teams
    person = give(PersonFactory(team=north), ALL[:6])
    screening_run_create(as_of=dt.date(2026, 10, 1), actor="tester")
    person.registrations.filter(register_type_code="RHRH").update(
        deregistration_date=dt.date(2026, 10, 10)
    )
    latest_october = screening_run_create(as_of=dt.date(2026, 10, 20), actor="tester")
    assert result(latest_october, person).eligible is False
    RegistrationFactory(person=person, register_type_code="RVHR", registration_date=NOVEMBER)

    november = screening_run_create(as_of=NOVEMBER, actor="tester")

    assert november.previous_run == latest_october
    assert (result(november, person).change, result(november, person).months_on_list) == ("new", 1)


def test_rerun_makes_a_new_run_and_leaves_the_old_untouched(teams) -> None:  # type: ignore[no-untyped-def]
    north, south = teams
    for ids, team in ((ALL[:7], north), (ALL[:5], south), (ALL[:2], south)):
        give(PersonFactory(team=team), ids)
    first = screening_run_create(as_of=NOVEMBER, actor="tester")
    before = snapshot(first)
    first_counts = ScreeningRun.objects.filter(pk=first.pk).values().get()

    second = screening_run_create(as_of=NOVEMBER, actor="someone else")

    assert second.pk != first.pk
    assert ScreeningRun.objects.filter(month="2026-11").count() == 2
    assert snapshot(first) == before
    assert ScreeningRun.objects.filter(pk=first.pk).values().get() == first_counts
    # Screening twice for the same date gives identical results.
    assert snapshot(second) == before
    for field in ("people_screened", "eligible_count", "near_miss_count", "counts_by_pdu"):
        assert getattr(second, field) == getattr(first, field)


def test_results_do_not_depend_on_how_the_caseload_is_chunked(teams, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    north, south = teams
    for index, ids in enumerate([ALL[:7], ALL[:5], (), ALL[2:8], ALL[:6], ALL[1:4], ALL]):
        give(PersonFactory(team=north if index % 2 else south, on_caseload=index != 3), ids)
    whole = screening_run_create(as_of=NOVEMBER, actor="tester")
    monkeypatch.setattr(facts, "CHUNK_SIZE", 2)
    progress: list[tuple[str, int]] = []

    chunked = screening_run_create(
        as_of=NOVEMBER, actor="tester", progress=lambda stage, n: progress.append((stage, n))
    )

    assert snapshot(chunked) == snapshot(whole)
    assert progress == [("screened", 2), ("screened", 4), ("screened", 6)]


def test_criteria_set_and_parameters_are_recorded_once() -> None:
    first = screening_run_create(as_of=OCTOBER, actor="tester")
    second = screening_run_create(as_of=NOVEMBER, actor="tester")

    criteria_set = CriteriaSet.objects.get()
    assert (criteria_set.code, criteria_set.version) == (CURRENT["code"], CURRENT["version"])
    assert criteria_set.parameters == CURRENT
    assert first.criteria_set == second.criteria_set == criteria_set
    assert ScreeningRun.objects.get(pk=first.pk).parameters == CURRENT


def test_changed_parameters_under_an_old_version_are_refused() -> None:
    CriteriaSet.objects.create(
        code=CURRENT["code"],
        version=CURRENT["version"],
        parameters={**CURRENT, "eligible_threshold": 5},
    )
    with pytest.raises(CriteriaSetChanged):
        screening_run_create(as_of=NOVEMBER, actor="tester")
    assert not ScreeningRun.objects.exists()


def test_a_run_is_audited_without_personal_data(teams) -> None:  # type: ignore[no-untyped-def]
    give(PersonFactory(team=teams[0]), ALL)
    run = screening_run_create(as_of=NOVEMBER, actor="tester")

    event = AuditEvent.objects.get(action="screen")
    assert (event.actor_username, event.object_id) == ("tester", str(run.pk))
    assert event.person_crn == ""
    assert event.details is not None and event.details["people_screened"] == 1
