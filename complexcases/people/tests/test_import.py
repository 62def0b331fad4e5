"""import_extract: schema-1 validation, all-or-nothing refusal, and snapshot semantics (DESIGN.md §3).

Runs on SQLite by default and on PostgreSQL with DATABASE_URL set.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from complexcases.accounts.models import Pdu, Region, Staff, Team
from complexcases.core.commands import default_actor
from complexcases.people.importer import ExtractRefused, ImportResult, import_extract
from complexcases.people.importer import reader as reader_module
from complexcases.people.models import (
    Assessment,
    ExtractImport,
    LimitedAccess,
    Person,
    Registration,
    Sentence,
)
from complexcases.people.tests.extract_builder import (
    Extract,
    csv_bytes,
    sample_extract,
    without_column,
    write_extract,
    zip_extract,
)

pytestmark = pytest.mark.django_db

CASE_MODELS = [Region, Pdu, Team, Staff, Person, Registration, Assessment, Sentence, LimitedAccess]


def table_contents(*, with_imports: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the import writes, in primary key order."""
    models = [*CASE_MODELS, ExtractImport] if with_imports else CASE_MODELS
    return {
        model.__name__: list(model._default_manager.order_by("pk").values_list())
        for model in models
    }


def run_import(
    tmp_path: Path, extract: Extract | None = None, name: str = "extract"
) -> ImportResult:
    return import_extract(write_extract(tmp_path / name, extract), actor="tester")


def refused(tmp_path: Path, extract: Extract, name: str = "bad") -> ExtractRefused:
    with pytest.raises(ExtractRefused) as caught:
        run_import(tmp_path, extract, name)
    return caught.value


def messages(refusal: ExtractRefused) -> list[str]:
    return [str(problem) for problem in refusal.problems]


@pytest.fixture
def imported(tmp_path: Path) -> ImportResult:
    """The sample extract, imported once: the state a bad extract must leave untouched."""
    return run_import(tmp_path, name="good")


# -- a good extract ------------------------------------------------------------------------------


def test_first_import_creates_everything(tmp_path: Path) -> None:
    extract = sample_extract()
    result = run_import(tmp_path, extract)

    assert result.changed
    assert Region.objects.count() == 2
    assert Pdu.objects.count() == len(extract["pdus.csv"])
    assert Team.objects.count() == len(extract["teams.csv"])
    assert Staff.objects.filter(in_extract=True).count() == len(extract["staff.csv"])
    assert Person.objects.filter(on_caseload=True).count() == len(extract["people.csv"])
    assert Registration.objects.count() == len(extract["registrations.csv"])
    assert Assessment.objects.count() == len(extract["oasys_assessments.csv"])
    assert Sentence.objects.count() == len(extract["sentences.csv"])
    assert LimitedAccess.objects.count() == len(extract["limited_access.csv"])

    person = Person.objects.select_related("pdu__region", "team", "offender_manager").get(
        crn="X000002"
    )
    assert (person.forename, person.surname, person.gender) == ("Sam", "Specimen", "F")
    assert person.date_of_birth == dt.date(1990, 2, 28)
    assert person.gender_identity_differs is True
    assert person.in_custody is True
    assert person.expected_release_date == dt.date(2027, 3, 15)
    assert (person.pdu.code, person.pdu.region.code, person.pdu.region.name) == (
        "N56NPS",
        "EOE",
        "East of England",
    )
    assert (person.team.code, person.offender_manager.staff_code) == ("N56T01", "N56A001")
    assert Person.objects.get(crn="X000001").gender_identity_differs is None

    full = Assessment.objects.get(assessment_id="9000001")
    assert (full.rosh_overall, full.q4_8, full.q10_2, full.q10_5, full.q10_6) == (
        "HIGH",
        1,
        2,
        "YES",
        1,
    )
    assert (full.r3_1, full.r3_2, full.drug_score, full.alcohol_score) == ("NO", "DK", 4, 2)
    assert (full.opd_result, full.opd_override, full.completed_date) == (
        "SCREEN_IN",
        False,
        dt.date(2026, 6, 1),
    )
    unanswered = Assessment.objects.get(assessment_id="9000002")
    assert (unanswered.status, unanswered.completed_date, unanswered.rosh_overall) == (
        "OPEN",
        None,
        "",
    )
    assert (unanswered.q4_8, unanswered.drug_score, unanswered.opd_override) == (None, None, None)

    mappa = Registration.objects.get(person__crn="X000001", register_type_code="MAPP")
    assert (mappa.register_level_code, mappa.register_category_code) == ("M2", "M1")
    assert (
        Registration.objects.filter(person__crn="X000002", register_type_code="ALSH").count() == 2
    )
    assert Staff.objects.get(staff_code="N56A002").email == ""
    assert Sentence.objects.get(person__crn="X000001", event_number="1").sentence_type == "IPP"
    restriction = LimitedAccess.objects.get(person__crn="Z000004")
    assert (restriction.kind, restriction.username, restriction.start_date) == (
        "RESTRICTION",
        "ada.testwell",
        None,
    )


def test_the_import_is_recorded(tmp_path: Path) -> None:
    result = run_import(tmp_path)
    record = result.record
    directory = tmp_path / "extract"
    expected = hashlib.sha256(
        b"".join(
            (directory / name).read_bytes() for name in sorted(p.name for p in directory.iterdir())
        )
    ).hexdigest()

    assert ExtractImport.objects.get() == record
    assert record.outcome == ExtractImport.Outcome.APPLIED
    assert record.checksum == expected
    assert record.extract_date == dt.date(2026, 11, 1)
    assert record.schema_version == 1
    assert record.run_by == "tester"
    assert record.source_name == "extract"
    assert record.finished_at is not None
    assert record.started_at <= record.finished_at
    assert record.row_counts == {
        "pdus.csv": 3,
        "teams.csv": 3,
        "staff.csv": 4,
        "people.csv": 4,
        "registrations.csv": 6,
        "oasys_assessments.csv": 3,
        "sentences.csv": 3,
        "limited_access.csv": 2,
    }
    assert record.changes["people"] == {"added": 4, "updated": 0, "off_caseload": 0}
    assert record.changes["registrations"] == {"added": 6, "removed": 0}
    assert record.changes == result.changes


def test_importing_the_same_extract_again_changes_nothing(tmp_path: Path) -> None:
    run_import(tmp_path)
    before = table_contents(with_imports=False)

    again = run_import(tmp_path)

    assert not again.changed
    assert again.record.outcome == ExtractImport.Outcome.NO_CHANGES
    assert all(count == 0 for table in again.changes.values() for count in table.values())
    assert table_contents(with_imports=False) == before
    assert ExtractImport.objects.count() == 2


def test_column_and_row_order_do_not_matter(tmp_path: Path) -> None:
    run_import(tmp_path)
    before = table_contents(with_imports=False)
    shuffled = sample_extract()
    for filename, rows in shuffled.items():
        if filename.endswith(".csv"):
            shuffled[filename] = [dict(reversed(list(row.items()))) for row in reversed(rows)]

    again = run_import(tmp_path, shuffled, name="shuffled")

    assert not again.changed
    assert table_contents(with_imports=False) == before


def test_a_changed_snapshot_updates_exactly_what_changed(tmp_path: Path) -> None:
    run_import(tmp_path)
    untouched_registration = Registration.objects.get(
        person__crn="X000001", register_type_code="MAPP"
    )
    untouched_person = Person.objects.filter(crn="X000003").values_list().get()
    changed = sample_extract()
    # Z000004 leaves the snapshot, with their rows and their manager.
    changed["people.csv"] = [row for row in changed["people.csv"] if row["crn"] != "Z000004"]
    for filename in ("registrations.csv", "limited_access.csv"):
        changed[filename] = [row for row in changed[filename] if row["crn"] != "Z000004"]
    changed["staff.csv"] = [row for row in changed["staff.csv"] if row["staff_code"] != "N07A001"]
    changed["registrations.csv"][0]["deregistration_date"] = "2026-10-01"  # RHRH deregistered
    changed["oasys_assessments.csv"][0]["rosh_overall"] = "VERY_HIGH"
    changed["sentences.csv"] = [
        row
        for row in changed["sentences.csv"]
        if (row["crn"], row["event_number"]) != ("X000001", "2")
    ]
    changed["limited_access.csv"].append(
        {
            "crn": "X000001",
            "username": "cal.fixture",
            "kind": "EXCLUSION",
            "start_date": "2026-10-15",
            "end_date": "",
        }
    )

    result = run_import(tmp_path, changed, name="changed")

    assert result.changes == {
        "regions": {"added": 0, "updated": 0},
        "pdus": {"added": 0, "updated": 0},
        "teams": {"added": 0, "updated": 0},
        "staff": {"added": 0, "updated": 0, "not_in_extract": 1},
        "people": {"added": 0, "updated": 0, "off_caseload": 1},
        "registrations": {"added": 1, "removed": 2},
        "assessments": {"added": 0, "updated": 1, "removed": 0},
        "sentences": {"added": 0, "updated": 0, "removed": 1},
        "limited_access": {"added": 1, "removed": 1},
    }
    gone = Person.objects.get(crn="Z000004")
    assert gone.on_caseload is False
    assert Staff.objects.get(staff_code="N07A001").in_extract is False
    assert Person.objects.filter(on_caseload=True).count() == 3
    rhrh = Registration.objects.get(person__crn="X000001", register_type_code="RHRH")
    assert rhrh.deregistration_date == dt.date(2026, 10, 1)
    assert not Registration.objects.filter(person=gone).exists()
    assert Assessment.objects.get(assessment_id="9000001").rosh_overall == "VERY_HIGH"
    assert not Sentence.objects.filter(person__crn="X000001", event_number="2").exists()
    assert LimitedAccess.objects.filter(person__crn="X000001", username="cal.fixture").exists()
    assert not LimitedAccess.objects.filter(person=gone).exists()
    # Rows that did not change are the same rows, not deleted and re-inserted.
    assert Registration.objects.get(pk=untouched_registration.pk) == untouched_registration
    assert Person.objects.filter(crn="X000003").values_list().get() == untouched_person

    back = run_import(tmp_path, name="back")

    assert back.changes["people"] == {"added": 0, "updated": 1, "off_caseload": 0}
    assert back.changes["staff"] == {"added": 0, "updated": 1, "not_in_extract": 0}
    assert Person.objects.get(crn="Z000004").on_caseload is True
    assert Staff.objects.get(staff_code="N07A001").in_extract is True
    assert Person.objects.get(crn="Z000004").pk == gone.pk


def test_changed_people_and_organisation_are_updated(tmp_path: Path) -> None:
    run_import(tmp_path)
    changed = sample_extract()
    changed["people.csv"][0].update(
        surname="Renamed", team_code="N56T01", in_custody="Y", expected_release_date="2027-01-01"
    )
    changed["pdus.csv"][0]["pdu_name"] = "Northamptonshire PDU"
    changed["staff.csv"][2]["grade"] = "PO"
    changed["people.csv"].append(
        dict(changed["people.csv"][2], crn="X000005", forename="New", surname="Arrival")
    )

    result = run_import(tmp_path, changed, name="changed")

    assert result.changes["people"] == {"added": 1, "updated": 1, "off_caseload": 0}
    assert result.changes["pdus"] == {"added": 0, "updated": 1}
    assert result.changes["staff"] == {"added": 0, "updated": 1, "not_in_extract": 0}
    person = Person.objects.get(crn="X000001")
    assert (person.surname, person.in_custody) == ("Renamed", True)
    assert person.expected_release_date == dt.date(2027, 1, 1)
    assert Pdu.objects.get(code="N56NPS").name == "Northamptonshire PDU"
    assert Person.objects.get(crn="X000005").team.code == "N56T02"


@pytest.mark.parametrize(("copies", "added", "removed"), [(1, 0, 1), (3, 1, 0), (0, 0, 2)])
def test_identical_registrations_are_counted_as_a_multiset(
    tmp_path: Path, copies: int, added: int, removed: int
) -> None:
    run_import(tmp_path)  # X000002 has the same ALSH registration twice
    changed = sample_extract()
    alsh = changed["registrations.csv"][3]
    others = [row for row in changed["registrations.csv"] if row != alsh]
    changed["registrations.csv"] = others + [dict(alsh) for _ in range(copies)]

    result = run_import(tmp_path, changed, name="changed")

    assert result.changes["registrations"] == {"added": added, "removed": removed}
    assert Registration.objects.filter(person__crn="X000002").count() == copies
    assert Registration.objects.count() == len(others) + copies


@pytest.mark.parametrize("folder", [None, "extract-2026-11"])
def test_a_zip_of_the_extract_imports_like_the_directory(
    tmp_path: Path, folder: str | None
) -> None:
    directory = write_extract(tmp_path / "extract")
    archive = zip_extract(directory, tmp_path / "extract.zip", folder=folder)

    result = import_extract(archive, actor="tester")

    assert result.record.source_name == "extract.zip"
    assert Person.objects.count() == 4
    assert Registration.objects.count() == 6
    assert not import_extract(directory, actor="tester").changed


def test_a_zip_with_files_in_two_folders_is_refused(tmp_path: Path) -> None:
    directory = write_extract(tmp_path / "extract")
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in sorted(directory.iterdir()):
            folder = "a" if file.name < "p" else "b"
            zipped.write(file, f"{folder}/{file.name}")

    with pytest.raises(ExtractRefused) as caught:
        import_extract(archive, actor="tester")
    assert messages(caught.value) == [
        "two.zip:1: -: -: the files must be at the root of the .zip or inside one top-level folder"
    ]


def test_a_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExtractRefused) as caught:
        import_extract(tmp_path / "nowhere", actor="tester")
    assert messages(caught.value) == ["nowhere:1: -: -: no such directory or .zip file"]


def test_extra_columns_are_ignored_with_a_warning(tmp_path: Path) -> None:
    extract = sample_extract()
    for row in extract["people.csv"]:
        row["nickname"] = "Ace"

    result = run_import(tmp_path, extract)

    assert result.warnings == ["people.csv:1: nickname: extra column, ignored"]
    assert result.record.warnings == result.warnings
    assert Person.objects.count() == 4


def test_an_older_extract_date_is_a_warning(tmp_path: Path) -> None:
    run_import(tmp_path)
    older = sample_extract()
    older["manifest.json"]["extract_date"] = "2026-10-01"

    result = run_import(tmp_path, older, name="older")

    assert any("older than the latest imported extract" in w for w in result.warnings)


def test_progress_is_reported_while_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader_module, "PROGRESS_EVERY", 2)
    seen: list[tuple[str, int]] = []

    import_extract(
        write_extract(tmp_path / "extract"),
        actor="tester",
        progress=lambda filename, rows: seen.append((filename, rows)),
    )

    assert ("people.csv", 4) in seen
    assert ("registrations.csv", 6) in seen


# -- a bad extract: every problem reported, nothing written ----------------------------------------


def _set(filename: str, row: int, column: str, value: str) -> Callable[[Extract], None]:
    def change(extract: Extract) -> None:
        extract[filename][row][column] = value

    return change


def _duplicate(filename: str, row: int) -> Callable[[Extract], None]:
    def change(extract: Extract) -> None:
        extract[filename].append(dict(extract[filename][row]))

    return change


def _manifest(**values: Any) -> Callable[[Extract], None]:
    def change(extract: Extract) -> None:
        extract["manifest.json"].update(values)

    return change


def _drop_column(filename: str, column: str) -> Callable[[Extract], None]:
    def change(extract: Extract) -> None:
        extract[filename] = without_column(extract[filename], column)

    return change


def _drop_file(filename: str) -> Callable[[Extract], None]:
    def change(extract: Extract) -> None:
        del extract[filename]

    return change


def _raw(filename: str, replace: bytes, by: bytes) -> Callable[[Extract], None]:
    """Replace bytes in the file as written (for broken quoting and bytes that are not UTF-8)."""

    def change(extract: Extract) -> None:
        data = csv_bytes(extract[filename])
        assert replace in data
        extract[filename] = data.replace(replace, by, 1)

    return change


BAD_EXTRACTS = {
    "malformed CRN in people": (
        _set("people.csv", 2, "crn", "x000003"),
        "people.csv:4: crn: x000003: not a CRN (a capital letter and six digits)",
    ),
    "malformed CRN in registrations": (
        _set("registrations.csv", 1, "crn", "X00001"),
        "registrations.csv:3: crn: X00001: not a CRN (a capital letter and six digits)",
    ),
    "unknown PDU of a person": (
        _set("people.csv", 0, "pdu_code", "N99XXX"),
        "people.csv:2: pdu_code: N99XXX: unknown PDU: not in pdus.csv",
    ),
    "unknown team of a person": (
        _set("people.csv", 0, "team_code", "N56T99"),
        "people.csv:2: team_code: N56T99: unknown team: not in teams.csv",
    ),
    "team of a person outside their PDU": (
        _set("people.csv", 0, "team_code", "N56T02"),
        "people.csv:2: team_code: N56T02: team belongs to PDU N56CAM, not the person's PDU N56NPS",
    ),
    "unknown offender manager": (
        _set("people.csv", 1, "offender_manager_staff_code", "N56A999"),
        "people.csv:3: offender_manager_staff_code: N56A999: unknown staff: not in staff.csv",
    ),
    "unknown PDU of a team": (
        _set("teams.csv", 2, "pdu_code", "N99XXX"),
        "teams.csv:4: pdu_code: N99XXX: unknown PDU: not in pdus.csv",
    ),
    "unknown team of a member of staff": (
        _set("staff.csv", 0, "team_code", "N56T99"),
        "staff.csv:2: team_code: N56T99: unknown team: not in teams.csv",
    ),
    "unknown CRN in registrations": (
        _set("registrations.csv", 5, "crn", "X999999"),
        "registrations.csv:7: crn: X999999: unknown CRN: not in people.csv",
    ),
    "unknown CRN in assessments": (
        _set("oasys_assessments.csv", 1, "crn", "X999999"),
        "oasys_assessments.csv:3: crn: X999999: unknown CRN: not in people.csv",
    ),
    "unknown CRN in sentences": (
        _set("sentences.csv", 2, "crn", "X999999"),
        "sentences.csv:4: crn: X999999: unknown CRN: not in people.csv",
    ),
    "unknown CRN in limited access": (
        _set("limited_access.csv", 0, "crn", "X999999"),
        "limited_access.csv:2: crn: X999999: unknown CRN: not in people.csv",
    ),
    "missing column": (
        _drop_column("people.csv", "surname"),
        "people.csv:1: surname: -: required column is missing",
    ),
    "missing file": (
        _drop_file("sentences.csv"),
        "sentences.csv:1: -: -: required file is missing",
    ),
    "missing manifest": (
        _drop_file("manifest.json"),
        "manifest.json:1: -: -: required file is missing",
    ),
    "bad grade": (
        _set("staff.csv", 1, "grade", "BOSS"),
        "staff.csv:3: grade: BOSS: not one of PSO, PO, SPO, HOPDU, QDO, POM, PSYCH, MANAGER,"
        " ADMIN, OTHER",
    ),
    "bad gender": (
        _set("people.csv", 0, "gender", "Q"),
        "people.csv:2: gender: Q: not one of M, F, X",
    ),
    "bad yes/no": (
        _set("people.csv", 0, "in_custody", "yes"),
        "people.csv:2: in_custody: yes: not one of Y, N",
    ),
    "bad assessment status": (
        _set("oasys_assessments.csv", 0, "status", "DONE"),
        "oasys_assessments.csv:2: status: DONE: not one of COMPLETE, LOCKED_INCOMPLETE, OPEN",
    ),
    "bad OASys answer": (
        _set("oasys_assessments.csv", 0, "q10_2", "3"),
        "oasys_assessments.csv:2: q10_2: 3: not one of 0, 1, 2",
    ),
    "negative score": (
        _set("oasys_assessments.csv", 0, "drug_score", "-1"),
        "oasys_assessments.csv:2: drug_score: -1: not a non-negative whole number",
    ),
    "bad limited access kind": (
        _set("limited_access.csv", 1, "kind", "BAN"),
        "limited_access.csv:3: kind: BAN: not one of EXCLUSION, RESTRICTION",
    ),
    "impossible date": (
        _set("people.csv", 1, "date_of_birth", "2024-02-30"),
        "people.csv:3: date_of_birth: 2024-02-30: not a real date",
    ),
    "date in another form": (
        _set("registrations.csv", 0, "registration_date", "10/01/2024"),
        "registrations.csv:2: registration_date: 10/01/2024: not a date in the form YYYY-MM-DD",
    ),
    "empty required value": (
        _set("people.csv", 0, "surname", ""),
        "people.csv:2: surname: : required value is empty",
    ),
    "duplicate crn": (
        _duplicate("people.csv", 0),
        "people.csv:6: crn: X000001: duplicate crn: first on line 2",
    ),
    "duplicate assessment_id": (
        _set("oasys_assessments.csv", 2, "assessment_id", "9000001"),
        "oasys_assessments.csv:4: assessment_id: 9000001: duplicate assessment_id: first on line 2",
    ),
    "duplicate staff_code": (
        _set("staff.csv", 3, "staff_code", "N56A001"),
        "staff.csv:5: staff_code: N56A001: duplicate staff_code: first on line 2",
    ),
    "duplicate team_code": (
        _duplicate("teams.csv", 1),
        "teams.csv:5: team_code: N56T02: duplicate team_code: first on line 3",
    ),
    "duplicate pdu_code": (
        _duplicate("pdus.csv", 0),
        "pdus.csv:5: pdu_code: N56NPS: duplicate pdu_code: first on line 2",
    ),
    "duplicate sentence event": (
        _set("sentences.csv", 1, "event_number", "1"),
        "sentences.csv:3: event_number: 1: duplicate event_number: first on line 2",
    ),
    "region with two names": (
        _set("pdus.csv", 1, "region_name", "East Anglia"),
        "pdus.csv:3: region_name: East Anglia: region EOE has another name on line 2",
    ),
    "wrong schema version": (
        _manifest(schema_version=2),
        "manifest.json:1: schema_version: 2: unsupported schema version: this service reads schema 1",
    ),
    "schema version as text": (
        _manifest(schema_version="1"),
        'manifest.json:1: schema_version: "1": unsupported schema version',
    ),
    "impossible extract date": (
        _manifest(extract_date="2026-13-01"),
        "manifest.json:1: extract_date: 2026-13-01: not a real date in the form YYYY-MM-DD",
    ),
    "manifest that is not JSON": (
        lambda extract: extract.update({"manifest.json": b"{schema_version: 1"}),
        "manifest.json:1: -: -: not valid JSON",
    ),
    "unclosed quote": (
        _raw("people.csv", b"X000002,Sam", b'X000002,"Sam'),
        "people.csv:3: -: -: broken CSV quoting (unexpected end of data)",
    ),
    "text after a closing quote": (
        _raw("teams.csv", b"N56T02,Peterborough North", b'N56T02,"Peterborough" North'),
        "teams.csv:3: -: -: broken CSV quoting (',' expected after '\"')",
    ),
    "bytes that are not UTF-8": (
        _raw("people.csv", b"Specimen", b"Sp\xe9cimen"),
        "people.csv:3: surname: Sp\\xe9cimen: bytes that are not valid UTF-8",
    ),
    "bytes that are not UTF-8 in the header": (
        _raw("sentences.csv", b"sentence_type", b"sentence_typ\xe9"),
        "sentences.csv:1: sentence_typ\\xe9: -: bytes that are not valid UTF-8",
    ),
    "a row with too many cells": (
        _raw(
            "staff.csv",
            b"N56A002,Bea,Sampleton,,SPO,N56T01,bea.sampleton",
            b"N56A002,Bea,Sampleton,,SPO,N56T01,bea.sampleton,x",
        ),
        "staff.csv:3: -: -: row has 8 cells but the header has 7",
    ),
    "an empty file": (
        lambda extract: extract.update({"limited_access.csv": b""}),
        "limited_access.csv:1: -: -: empty file: no header row",
    ),
}


@pytest.mark.parametrize(("spoil", "expected"), list(BAD_EXTRACTS.values()), ids=list(BAD_EXTRACTS))
def test_a_bad_extract_is_refused_and_changes_nothing(
    tmp_path: Path, imported: ImportResult, spoil: Callable[[Extract], None], expected: str
) -> None:
    before = table_contents()
    extract = sample_extract()
    spoil(extract)

    refusal = refused(tmp_path, extract)

    assert any(message.startswith(expected) for message in messages(refusal)), messages(refusal)
    assert refusal.total == len(refusal.problems) >= 1
    assert table_contents() == before


def test_a_bad_first_extract_writes_nothing_at_all(tmp_path: Path) -> None:
    extract = sample_extract()
    extract["sentences.csv"][0]["active"] = "maybe"

    refused(tmp_path, extract)

    assert all(not rows for rows in table_contents().values())


def test_every_problem_is_listed_not_just_the_first(tmp_path: Path) -> None:
    extract = sample_extract()
    extract["people.csv"][0]["gender"] = "Q"
    extract["people.csv"][0]["date_of_birth"] = "1985-02-29"
    extract["oasys_assessments.csv"][2]["r3_1"] = "MAYBE"
    extract["manifest.json"]["schema_version"] = 3

    refusal = refused(tmp_path, extract)

    assert messages(refusal) == [
        "manifest.json:1: schema_version: 3: unsupported schema version: this service reads"
        " schema 1",
        "people.csv:2: date_of_birth: 1985-02-29: not a real date",
        "people.csv:2: gender: Q: not one of M, F, X",
        "oasys_assessments.csv:4: r3_1: MAYBE: not one of YES, NO, DK",
    ]


def test_long_values_are_cut_to_40_characters(tmp_path: Path) -> None:
    extract = sample_extract()
    extract["people.csv"][0]["forename"] = "A" * 101

    refusal = refused(tmp_path, extract)

    problem = refusal.problems[0]
    assert str(problem) == f"people.csv:2: forename: {'A' * 39}…: longer than 100 characters"


def test_at_most_100_problems_are_listed(tmp_path: Path) -> None:
    extract = sample_extract()
    template = extract["registrations.csv"][0]
    extract["registrations.csv"] += [
        dict(template, registration_date="2024-02-30") for _ in range(150)
    ]

    refusal = refused(tmp_path, extract)

    assert refusal.total == 150
    assert len(refusal.problems) == 100
    assert refusal.lines()[-1] == "... and 50 more problems"
    assert (
        refusal.lines()[0] == "registrations.csv:8: registration_date: 2024-02-30: not a real date"
    )
    assert len(refusal.lines()) == 101


# -- the command ----------------------------------------------------------------------------------


def test_command_prints_a_summary_then_no_changes(tmp_path: Path) -> None:
    directory = write_extract(tmp_path / "extract")
    out = io.StringIO()

    call_command("import_extract", str(directory), "--actor", "operator", stdout=out)

    printed = out.getvalue()
    assert "Imported extract: extract of 2026-11-01, schema 1" in printed
    assert "people           4 added, 0 updated, 0 off caseload" in printed
    assert ExtractImport.objects.get().run_by == "operator"

    out = io.StringIO()
    call_command("import_extract", str(directory), stdout=out)

    assert "No changes: the stored case data already equals this extract." in out.getvalue()
    assert ExtractImport.objects.filter(outcome="no_changes").count() == 1
    latest = ExtractImport.objects.order_by("-pk").first()
    assert latest is not None
    assert latest.run_by == default_actor()  # the OS user name


def test_command_refuses_a_bad_extract_with_exit_status_2(
    tmp_path: Path, imported: ImportResult
) -> None:
    before = table_contents()
    extract = sample_extract()
    extract["people.csv"][1]["crn"] = "AB12345"
    extract["manifest.json"]["schema_version"] = 2
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(SystemExit) as exit_:
        call_command(
            "import_extract", str(write_extract(tmp_path / "bad", extract)), stdout=out, stderr=err
        )

    assert exit_.value.code == 2
    printed = err.getvalue().splitlines()
    assert printed[0].startswith("manifest.json:1: schema_version: 2: ")
    assert "people.csv:3: crn: AB12345: not a CRN (a capital letter and six digits)" in printed
    assert printed[-1].startswith("Extract refused: ")
    assert "Nothing was imported." in printed[-1]
    assert table_contents() == before


def test_command_warns_about_extra_columns(tmp_path: Path) -> None:
    extract = sample_extract()
    extract["teams.csv"] = [dict(row, cost_centre="CC1") for row in extract["teams.csv"]]
    err = io.StringIO()

    call_command(
        "import_extract",
        str(write_extract(tmp_path / "x", extract)),
        stdout=io.StringIO(),
        stderr=err,
    )

    assert "Warning: teams.csv:1: cost_centre: extra column, ignored" in err.getvalue()
    assert Team.objects.count() == 3


def test_foreign_keys_are_in_place_after_a_first_import(tmp_path: Path) -> None:
    # On PostgreSQL a first import drops the case tables' foreign keys and adds them back.
    from django.db import connection

    def foreign_keys() -> dict[str, list[tuple[Any, ...]]]:
        with connection.cursor() as cursor:
            return {
                model._meta.db_table: sorted(
                    (tuple(info["columns"]), info["foreign_key"])
                    for info in connection.introspection.get_constraints(
                        cursor, model._meta.db_table
                    ).values()
                    if info["foreign_key"]
                )
                for model in (Person, Registration, Assessment, Sentence, LimitedAccess)
            }

    before = foreign_keys()
    assert all(before.values())

    run_import(tmp_path)

    assert foreign_keys() == before


def test_values_outside_the_common_range_are_still_read(tmp_path: Path) -> None:
    extract = sample_extract()
    extract["oasys_assessments.csv"][0]["drug_score"] = "1500"
    extract["people.csv"][0]["date_of_birth"] = "1904-02-29"  # a leap day, a century ago

    run_import(tmp_path, extract)

    assert Assessment.objects.get(assessment_id="9000001").drug_score == 1500
    assert Person.objects.get(crn="X000001").date_of_birth == dt.date(1904, 2, 29)
