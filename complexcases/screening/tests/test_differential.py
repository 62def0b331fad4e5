"""Differential test: the screening engine against a second, deliberately plain reading of section 4.

The oracle below works straight from the extract's CSV rows (csv.DictReader, strings and dates) and
shares no code with rules.py or criteria.py: every code, threshold and the window are written out
here as DESIGN.md section 4 states them. A generated extract of 3,000 people is imported and screened
at several dates; the two must agree on every person.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest

from complexcases.people.generator import generate_extract
from complexcases.people.importer import import_extract
from complexcases.screening.criteria import CRITERIA_IDS
from complexcases.screening.models import ScreeningResult
from complexcases.screening.services import screening_run_create

pytestmark = pytest.mark.django_db

EXTRACT_DATE = dt.date(2026, 11, 1)
PEOPLE = 3_000


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _rows(directory: Path, name: str) -> list[dict[str, str]]:
    with (directory / name).open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _number(text: str) -> int:
    """An OASys answer as a number; unanswered counts as nothing."""
    return int(text) if text != "" else -1


def _assessment_order(row: dict[str, str]) -> tuple:
    ident = row["assessment_id"]
    return (_date(row["completed_date"]), (0, int(ident), "") if ident.isdigit() else (1, 0, ident))


def plain_screening(directory: Path, as_of: dt.date) -> dict[str, tuple[set[str], str | None]]:
    """crn -> (criteria met, assessment id of the latest OASys or None), read from the CSV rows."""
    registrations = defaultdict(list)
    for row in _rows(directory, "registrations.csv"):
        registrations[row["crn"]].append(row)
    assessments = defaultdict(list)
    for row in _rows(directory, "oasys_assessments.csv"):
        assessments[row["crn"]].append(row)
    sentences = defaultdict(list)
    for row in _rows(directory, "sentences.csv"):
        sentences[row["crn"]].append(row)

    oldest_allowed = as_of - dt.timedelta(weeks=55)
    answers: dict[str, tuple[set[str], str | None]] = {}
    for person in _rows(directory, "people.csv"):
        crn = person["crn"]
        current = [
            r
            for r in registrations[crn]
            if _date(r["registration_date"]) <= as_of
            and (r["deregistration_date"] == "" or _date(r["deregistration_date"]) > as_of)
        ]
        current_codes = {r["register_type_code"] for r in current}
        usable = [
            a
            for a in assessments[crn]
            if a["status"] in ("COMPLETE", "LOCKED_INCOMPLETE")
            and a["completed_date"] != ""
            and oldest_allowed < _date(a["completed_date"]) <= as_of
        ]
        latest = max(usable, key=_assessment_order) if usable else None

        met = set()
        if current_codes & {"RHRH", "RVHR"} or (
            latest and latest["rosh_overall"] in ("HIGH", "VERY_HIGH")
        ):
            met.add("rosh")
        if (
            current_codes & {"AMHL", "RMDO"}
            and latest
            and (_number(latest["q10_2"]) >= 1 or _number(latest["q10_6"]) >= 1)
        ):
            met.add("mental_health")
        if (
            "ALSH" in current_codes
            and latest
            and "YES" in (latest["q10_5"], latest["r3_1"], latest["r3_2"])
        ):
            met.add("self_harm")
        if latest and _number(latest["q4_8"]) >= 1:
            met.add("learning_difficulties")
        if any(
            r["register_type_code"] == "MAPP" and r["register_level_code"] in ("M2", "M3")
            for r in current
        ):
            met.add("mappa")
        if latest and (latest["opd_result"] == "SCREEN_IN" or latest["opd_override"] == "Y"):
            met.add("opd")
        if latest and (_number(latest["drug_score"]) >= 2 or _number(latest["alcohol_score"]) >= 4):
            met.add("substance_misuse")
        if any(s["sentence_type"] in ("IPP", "DPP") and s["active"] == "Y" for s in sentences[crn]):
            met.add("ipp")
        answers[crn] = (met, latest["assessment_id"] if latest else None)
    return answers


def engine_screening(as_of: dt.date) -> dict[str, tuple[set[str], str | None, bool, bool, bool]]:
    run = screening_run_create(as_of=as_of, actor="differential-test")
    found = {}
    for crn, mask, count, eligible, near_miss, no_oasys, evidence in (
        ScreeningResult.objects.filter(run=run)
        .values_list(
            "person__crn",
            "criteria_mask",
            "criteria_count",
            "eligible",
            "near_miss",
            "no_current_oasys",
            "evidence",
        )
        .iterator()
    ):
        met = {cid for bit, cid in enumerate(CRITERIA_IDS) if mask & (1 << bit)}
        assert count == len(met)
        latest = evidence["latest_oasys"]
        found[crn] = (
            met,
            latest["assessment_id"] if latest else None,
            eligible,
            near_miss,
            no_oasys,
        )
    return found


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("differential") / "extract"
    generate_extract(directory, people=PEOPLE, seed=2021, extract_date=EXTRACT_DATE)
    return directory


def test_engine_agrees_with_a_plain_reading_of_the_rules(extract: Path) -> None:
    import_extract(extract, actor="differential-test")
    # The extract date and dates either side, so that registrations, deregistrations and
    # assessments fall on every side of the boundaries; and a date exactly 55 weeks after a busy
    # completion date, so that some assessments sit on the edge of the window.
    completed = sorted(
        _date(row["completed_date"])
        for row in _rows(extract, "oasys_assessments.csv")
        if row["completed_date"] and row["status"] != "OPEN"
    )
    busiest = max(set(completed), key=lambda day: (completed.count(day), day))
    window_edge = busiest + dt.timedelta(weeks=55)
    for as_of in (
        EXTRACT_DATE,
        EXTRACT_DATE - dt.timedelta(days=45),
        dt.date(2026, 12, 10),
        window_edge,
    ):
        expected = plain_screening(extract, as_of)
        found = engine_screening(as_of)
        assert set(found) == set(expected)
        disagreements = []
        for crn, (met, latest_id) in expected.items():
            got_met, got_latest, eligible, near_miss, no_oasys = found[crn]
            if (got_met, got_latest) != (met, latest_id):
                disagreements.append((crn, sorted(met), latest_id, sorted(got_met), got_latest))
            assert eligible is (len(met) >= 6)
            assert near_miss is (len(met) == 5)
            assert no_oasys is (latest_id is None)
        assert disagreements == [], f"as of {as_of}: {len(disagreements)} people differ"

        if as_of == EXTRACT_DATE:
            eligible_count = sum(len(met) >= 6 for met, _ in expected.values())
            near_misses = sum(len(met) == 5 for met, _ in expected.values())
            # A realistic caseload: a small fraction listed, more one criterion short.
            assert 0.003 <= eligible_count / PEOPLE <= 0.03
            assert near_misses > eligible_count
            # Each criterion is met by someone, so every condition was exercised.
            assert set().union(*(met for met, _ in expected.values())) == set(CRITERIA_IDS)
