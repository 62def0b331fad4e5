"""The synthetic extract generator: contract of DESIGN.md section 3, determinism, realism.

Everything is checked from the CSV files themselves, independently of the importer and of the
screening engine (the small evaluator below is a plain reading of section 4, written for these tests).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from complexcases.people.generator import ExtractDirectoryError, generate_extract
from complexcases.people.reference import UnknownRegionError

EXTRACT_DATE = dt.date(2026, 11, 16)
PEOPLE = 2000
SEED = 20211

# DESIGN.md section 3, written out here rather than imported so that the test can fail.
SECTION_3_COLUMNS = {
    "pdus.csv": {"region_code", "region_name", "pdu_code", "pdu_name"},
    "teams.csv": {"team_code", "team_name", "pdu_code"},
    "staff.csv": {"staff_code", "forename", "surname", "email", "grade", "team_code", "username"},
    "people.csv": {
        "crn", "forename", "surname", "date_of_birth", "gender", "gender_identity_differs",
        "pdu_code", "team_code", "offender_manager_staff_code", "in_custody",
        "expected_release_date",
    },
    "registrations.csv": {
        "crn", "register_type_code", "register_level_code", "register_category_code",
        "registration_date", "deregistration_date",
    },
    "oasys_assessments.csv": {
        "crn", "assessment_id", "assessment_type", "status", "completed_date", "rosh_overall",
        "q4_8", "q10_2", "q10_5", "q10_6", "r3_1", "r3_2", "drug_score", "alcohol_score",
        "opd_result", "opd_override",
    },
    "sentences.csv": {"crn", "event_number", "sentence_type", "sentence_date", "active"},
    "limited_access.csv": {"crn", "username", "kind", "start_date", "end_date"},
}  # fmt: skip

EAST_OF_ENGLAND_PDUS = {
    "Bedfordshire",
    "Cambridgeshire and Peterborough",
    "Essex North",
    "Essex South",
    "Hertfordshire",
    "Norfolk",
    "Northamptonshire",
    "Suffolk",
}
ALL_REGIONS = {"NE", "NW", "YH", "GM", "EM", "WM", "EOE", "WAL", "SW", "SC", "KSS", "LDN"}
CRN = re.compile(r"[A-Z][0-9]{6}")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def read(directory: Path, name: str) -> list[dict[str, str]]:
    with (directory / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def header(directory: Path, name: str) -> list[str]:
    with (directory / name).open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def is_date(value: str) -> bool:
    if not DATE.fullmatch(value):
        return False
    dt.date.fromisoformat(value)
    return True


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("extract") / "national"
    generate_extract(out, people=PEOPLE, seed=SEED, extract_date=EXTRACT_DATE)
    return out


# --- determinism ------------------------------------------------------------------------------


def files_of(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        generate_extract(tmp_path / name, people=300, seed=5, extract_date=EXTRACT_DATE)
    first, second = files_of(tmp_path / "a"), files_of(tmp_path / "b")
    assert len(first) == 9
    assert first == second


def test_different_seed_gives_a_different_extract(tmp_path: Path) -> None:
    generate_extract(tmp_path / "a", people=300, seed=5, extract_date=EXTRACT_DATE)
    generate_extract(tmp_path / "b", people=300, seed=6, extract_date=EXTRACT_DATE)
    first, second = files_of(tmp_path / "a"), files_of(tmp_path / "b")
    assert first["people.csv"] != second["people.csv"]
    assert first["staff.csv"] != second["staff.csv"]


def test_region_order_does_not_change_the_extract(tmp_path: Path) -> None:
    generate_extract(tmp_path / "a", people=200, seed=5, regions=["EOE", "LDN"])
    generate_extract(tmp_path / "b", people=200, seed=5, regions=["ldn", "eoe", "LDN"])
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")


def test_returned_counts_are_the_rows_written(extract: Path, tmp_path: Path) -> None:
    counts = generate_extract(tmp_path / "x", people=250, seed=9, extract_date=EXTRACT_DATE)
    for stem, count in counts.items():
        assert len(read(tmp_path / "x", f"{stem}.csv")) == count
    assert counts["people"] == 250


# --- the section 3 contract -------------------------------------------------------------------


def test_every_file_has_exactly_the_section_3_columns(extract: Path) -> None:
    assert {path.name for path in extract.iterdir()} == {*SECTION_3_COLUMNS, "manifest.json"}
    for name, columns in SECTION_3_COLUMNS.items():
        found = header(extract, name)
        assert len(found) == len(set(found)), name
        assert set(found) == columns, name
        assert read(extract, name), f"{name} has no rows"
    assert json.loads((extract / "manifest.json").read_text(encoding="utf-8")) == {
        "schema_version": 1,
        "extract_date": EXTRACT_DATE.isoformat(),
    }


def test_files_are_utf8_with_unix_or_windows_line_ends_and_no_blank_rows(extract: Path) -> None:
    for name in SECTION_3_COLUMNS:
        text = (extract / name).read_bytes().decode("utf-8")
        lines = text.splitlines()
        assert all(line.strip() for line in lines), name
        assert not text.startswith("\ufeff"), name


def test_every_value_is_in_its_allowed_set(extract: Path) -> None:
    yes_no = {"Y", "N"}
    grades = {"PSO", "PO", "SPO", "HOPDU", "QDO", "POM", "PSYCH", "MANAGER", "ADMIN", "OTHER"}
    for row in read(extract, "staff.csv"):
        assert row["grade"] in grades
        assert all(row[column] for column in SECTION_3_COLUMNS["staff.csv"]), row
    for row in read(extract, "people.csv"):
        assert CRN.fullmatch(row["crn"])
        assert row["forename"] and row["surname"]
        assert is_date(row["date_of_birth"])
        assert row["gender"] in {"M", "F", "X"}
        assert row["gender_identity_differs"] in {"Y", "N", ""}
        assert row["in_custody"] in yes_no
        release = row["expected_release_date"]
        assert release == "" or is_date(release)
        if row["in_custody"] == "N":
            assert release == ""
    for row in read(extract, "registrations.csv"):
        assert row["register_type_code"]
        assert is_date(row["registration_date"])
        ended = row["deregistration_date"]
        assert ended == "" or (is_date(ended) and ended > row["registration_date"])
        if row["register_type_code"] == "MAPP":
            assert row["register_level_code"] in {"M1", "M2", "M3"}
            assert row["register_category_code"] in {"M1", "M2", "M3", "M4"}
        else:
            assert row["register_level_code"] == row["register_category_code"] == ""
    for row in read(extract, "oasys_assessments.csv"):
        assert row["assessment_type"] in {"LAYER1", "LAYER3"}
        assert row["status"] in {"COMPLETE", "LOCKED_INCOMPLETE", "OPEN"}
        completed = row["completed_date"]
        if row["status"] == "OPEN":
            assert completed == "" or is_date(completed)
        else:
            assert is_date(completed)
            assert completed <= EXTRACT_DATE.isoformat()
        assert row["rosh_overall"] in {"LOW", "MEDIUM", "HIGH", "VERY_HIGH", ""}
        for question in ("q4_8", "q10_2", "q10_6"):
            assert row[question] in {"0", "1", "2", ""}
        assert row["q10_5"] in {"YES", "NO", ""}
        assert row["r3_1"] in {"YES", "NO", "DK", ""}
        assert row["r3_2"] in {"YES", "NO", "DK", ""}
        for score in ("drug_score", "alcohol_score"):
            assert row[score] == "" or row[score].isdigit()
        assert row["opd_result"] in {"SCREEN_IN", "SCREEN_OUT", ""}
        assert row["opd_override"] in {"Y", "N", ""}
    for row in read(extract, "sentences.csv"):
        assert row["event_number"].isdigit()
        assert row["sentence_type"] in {"IPP", "DPP", "LIFE", "SDS", "EDS", "CO", "SSO"}
        assert row["sentence_date"] == "" or is_date(row["sentence_date"])
        assert row["active"] in yes_no
    for row in read(extract, "limited_access.csv"):
        assert row["kind"] in {"EXCLUSION", "RESTRICTION"}
        for column in ("start_date", "end_date"):
            assert row[column] == "" or is_date(row[column])


def test_every_reference_resolves_and_every_key_is_unique(extract: Path) -> None:
    pdus = read(extract, "pdus.csv")
    teams = read(extract, "teams.csv")
    staff = read(extract, "staff.csv")
    people = read(extract, "people.csv")
    pdu_codes = [row["pdu_code"] for row in pdus]
    team_codes = [row["team_code"] for row in teams]
    staff_codes = [row["staff_code"] for row in staff]
    crns = [row["crn"] for row in people]
    assessment_ids = [row["assessment_id"] for row in read(extract, "oasys_assessments.csv")]
    for keys in (pdu_codes, team_codes, staff_codes, crns, assessment_ids):
        assert len(keys) == len(set(keys))
    team_pdu = {row["team_code"]: row["pdu_code"] for row in teams}
    assert set(team_pdu.values()) <= set(pdu_codes)
    assert {row["team_code"] for row in staff} <= set(team_codes)
    staff_by_code = {row["staff_code"]: row for row in staff}
    for person in people:
        assert team_pdu.get(person["team_code"]) == person["pdu_code"], person["team_code"]
        assert person["offender_manager_staff_code"] in staff_by_code
    known = set(crns)
    for name in ("registrations.csv", "oasys_assessments.csv", "sentences.csv"):
        assert {row["crn"] for row in read(extract, name)} <= known, name
    events = [(row["crn"], row["event_number"]) for row in read(extract, "sentences.csv")]
    assert len(events) == len(set(events))
    usernames = {row["username"] for row in staff}
    for row in read(extract, "limited_access.csv"):
        assert row["crn"] in known
        assert row["username"] in usernames


def test_crns_match_the_format_and_differ_by_region(extract: Path) -> None:
    people = read(extract, "people.csv")
    region_of_pdu = {row["pdu_code"]: row["region_code"] for row in read(extract, "pdus.csv")}
    letters: dict[str, set[str]] = defaultdict(set)
    for person in people:
        assert CRN.fullmatch(person["crn"]), person["crn"]
        letters[region_of_pdu[person["pdu_code"]]].add(person["crn"][0])
    assert all(len(found) == 1 for found in letters.values())
    assert len({next(iter(found)) for found in letters.values()}) == len(letters)


def test_usernames_are_unique_lowercase_and_emails_use_the_reserved_domain(extract: Path) -> None:
    staff = read(extract, "staff.csv")
    usernames = [row["username"] for row in staff]
    assert len(usernames) == len(set(usernames))
    for row in staff:
        assert re.fullmatch(r"[a-z]+\.[a-z]+[0-9]+", row["username"]), row["username"]
        assert row["email"] == f"{row['username']}@justice.example"


# --- organisation -----------------------------------------------------------------------------


def test_all_twelve_regions_by_default_and_east_of_england_has_its_eight_pdus(
    extract: Path,
) -> None:
    pdus = read(extract, "pdus.csv")
    assert {row["region_code"] for row in pdus} == ALL_REGIONS
    east = {row["pdu_name"] for row in pdus if row["region_code"] == "EOE"}
    assert east == EAST_OF_ENGLAND_PDUS
    assert {row["region_name"] for row in pdus if row["region_code"] == "EOE"} == {
        "East of England"
    }


def test_regions_filter_keeps_only_the_chosen_regions(tmp_path: Path) -> None:
    generate_extract(tmp_path, people=400, seed=3, regions=["EOE", "LDN"])
    pdus = read(tmp_path, "pdus.csv")
    assert {row["region_code"] for row in pdus} == {"EOE", "LDN"}
    pdu_codes = {row["pdu_code"] for row in pdus}
    assert {row["pdu_code"] for row in read(tmp_path, "teams.csv")} <= pdu_codes
    people = read(tmp_path, "people.csv")
    assert len(people) == 400
    assert {row["pdu_code"] for row in people} <= pdu_codes
    assert {row["pdu_code"] for row in people} & {c for c in pdu_codes if c.startswith("EOE")}
    assert {row["pdu_code"] for row in people} & {c for c in pdu_codes if c.startswith("LDN")}


def test_unknown_region_is_refused_naming_the_valid_codes(tmp_path: Path) -> None:
    with pytest.raises(UnknownRegionError) as refused:
        generate_extract(tmp_path / "x", people=10, seed=1, regions=["EOE", "ATLANTIS"])
    assert "ATLANTIS" in str(refused.value)
    assert all(code in str(refused.value) for code in ALL_REGIONS)
    assert not (tmp_path / "x").exists()


def test_teams_staff_and_managers_have_the_expected_structure(extract: Path) -> None:
    pdus = read(extract, "pdus.csv")
    teams = read(extract, "teams.csv")
    staff = read(extract, "staff.csv")
    region_of_pdu = {row["pdu_code"]: row["region_code"] for row in pdus}
    team_pdu = {row["team_code"]: row["pdu_code"] for row in teams}
    by_team: dict[str, Counter[str]] = defaultdict(Counter)
    by_pdu: dict[str, Counter[str]] = defaultdict(Counter)
    by_region: dict[str, Counter[str]] = defaultdict(Counter)
    for row in staff:
        by_team[row["team_code"]][row["grade"]] += 1
        by_pdu[team_pdu[row["team_code"]]][row["grade"]] += 1
        by_region[region_of_pdu[team_pdu[row["team_code"]]]][row["grade"]] += 1
    case_teams = [code for code, grades in by_team.items() if grades["PO"]]
    for pdu in region_of_pdu:
        assert 4 <= sum(1 for code in case_teams if team_pdu[code] == pdu) <= 8, pdu
        assert by_pdu[pdu]["HOPDU"] == 1, pdu
    for code in case_teams:
        assert 1 <= by_team[code]["SPO"] <= 2
        assert by_team[code]["PSO"] >= 1
    for region in ALL_REGIONS:
        for grade in ("QDO", "PSYCH", "POM", "MANAGER", "ADMIN"):
            assert by_region[region][grade] >= 1, (region, grade)

    staff_by_code = {row["staff_code"]: row for row in staff}
    managed_by: Counter[str] = Counter()
    for person in read(extract, "people.csv"):
        manager = staff_by_code[person["offender_manager_staff_code"]]
        managed_by[manager["grade"]] += 1
        if manager["grade"] == "POM":
            assert person["in_custody"] == "Y"
            assert (
                region_of_pdu[team_pdu[manager["team_code"]]] == region_of_pdu[person["pdu_code"]]
            )
        else:
            assert manager["grade"] in {"PO", "PSO"}
            assert manager["team_code"] == person["team_code"]
    assert managed_by["PO"] > managed_by["PSO"] > managed_by["POM"] > 0


# --- realism ----------------------------------------------------------------------------------


def test_realism_features_are_present(extract: Path) -> None:
    today = EXTRACT_DATE.isoformat()
    window = (EXTRACT_DATE - dt.timedelta(weeks=55)).isoformat()
    assessments = read(extract, "oasys_assessments.csv")
    statuses = Counter(row["status"] for row in assessments)
    assert statuses["OPEN"] and statuses["LOCKED_INCOMPLETE"]
    assert statuses["COMPLETE"] > statuses["OPEN"] + statuses["LOCKED_INCOMPLETE"]
    assert Counter(row["assessment_type"] for row in assessments)["LAYER1"]
    assert any(row["completed_date"] and row["completed_date"] <= window for row in assessments)
    assert any(row[column] == "" for row in assessments for column in ("q10_2", "r3_1"))
    per_person = Counter(row["crn"] for row in assessments)
    assert max(per_person.values()) >= 3

    registrations = read(extract, "registrations.csv")
    ended = [row for row in registrations if row["deregistration_date"]]
    assert ended and any(row["register_type_code"] in {"RHRH", "RVHR", "ALSH"} for row in ended)
    assert any(row["deregistration_date"] <= today for row in ended)
    codes = {row["register_type_code"] for row in registrations}
    assert {"RLRH", "RMRH", "RHRH", "RVHR", "AMHL", "ALSH", "MAPP"} <= codes
    assert codes & {"DASO", "CHSC", "WEAP"}
    mappa_levels = {
        row["register_level_code"] for row in registrations if row["register_type_code"] == "MAPP"
    }
    assert {"M1", "M2"} <= mappa_levels

    people = read(extract, "people.csv")
    custody = [row for row in people if row["in_custody"] == "Y"]
    assert 0.1 < len(custody) / len(people) < 0.4
    assert any(row["expected_release_date"] > today for row in custody)
    genders = Counter(row["gender"] for row in people)
    assert genders["M"] > genders["F"] > genders["X"]
    assert any(row["gender_identity_differs"] == "Y" for row in people)

    sentences = read(extract, "sentences.csv")
    types = Counter(row["sentence_type"] for row in sentences if row["active"] == "Y")
    assert types["IPP"] + types["DPP"] >= 1
    assert types["CO"] and types["SDS"]
    assert any(row["active"] == "N" for row in sentences)

    limited = read(extract, "limited_access.csv")
    assert {row["kind"] for row in limited} == {"EXCLUSION", "RESTRICTION"}
    assert len({row["crn"] for row in limited}) <= max(2, round(len(people) * 0.002))


# A plain reading of DESIGN.md section 4, for checking proportions only.


def screen(directory: Path, as_of: dt.date) -> dict[str, int]:
    """Criteria met per CRN as of a date."""
    day = as_of.isoformat()
    window_start = (as_of - dt.timedelta(weeks=55)).isoformat()
    current: dict[str, set[str]] = defaultdict(set)
    for row in read(directory, "registrations.csv"):
        ended = row["deregistration_date"]
        if row["registration_date"] <= day and (not ended or ended > day):
            current[row["crn"]].add(row["register_type_code"])
            if row["register_type_code"] == "MAPP" and row["register_level_code"] in {"M2", "M3"}:
                current[row["crn"]].add("MAPPA_2_3")
    latest: dict[str, dict[str, str]] = {}
    for row in read(directory, "oasys_assessments.csv"):
        completed = row["completed_date"]
        if row["status"] == "OPEN" or not completed or not window_start < completed <= day:
            continue
        best = latest.get(row["crn"])
        if best is None or (completed, int(row["assessment_id"])) > (
            best["completed_date"],
            int(best["assessment_id"]),
        ):
            latest[row["crn"]] = row
    ipp = {
        row["crn"]
        for row in read(directory, "sentences.csv")
        if row["active"] == "Y" and row["sentence_type"] in {"IPP", "DPP"}
    }

    def at_least(oasys: dict[str, str], question: str, threshold: int) -> bool:
        return oasys.get(question, "") != "" and int(oasys[question]) >= threshold

    counts = {}
    for person in read(directory, "people.csv"):
        crn = person["crn"]
        codes = current[crn]
        oasys = latest.get(crn, {})
        met = [
            bool(codes & {"RHRH", "RVHR"}) or oasys.get("rosh_overall") in {"HIGH", "VERY_HIGH"},
            bool(codes & {"AMHL", "RMDO"})
            and (at_least(oasys, "q10_2", 1) or at_least(oasys, "q10_6", 1)),
            "ALSH" in codes and "YES" in {oasys.get(q) for q in ("q10_5", "r3_1", "r3_2")},
            at_least(oasys, "q4_8", 1),
            "MAPPA_2_3" in codes,
            oasys.get("opd_result") == "SCREEN_IN" or oasys.get("opd_override") == "Y",
            at_least(oasys, "drug_score", 2) or at_least(oasys, "alcohol_score", 4),
            crn in ipp,
        ]
        counts[crn] = sum(met)
    return counts


def test_eligible_people_are_few_and_near_misses_more(extract: Path) -> None:
    counts = Counter(screen(extract, EXTRACT_DATE).values())
    eligible = sum(number for met, number in counts.items() if met >= 6)
    near_misses = counts[5]
    assert 0.003 * PEOPLE <= eligible <= 0.03 * PEOPLE
    assert near_misses > eligible
    assert counts[0] + counts[1] + counts[2] > PEOPLE * 0.7  # most people meet few criteria


def test_some_eligible_people_are_new_this_month_and_some_continue(tmp_path: Path) -> None:
    # One region keeps this quick while giving enough eligible people (about 50) to see movement.
    generate_extract(tmp_path, people=5000, seed=SEED, regions=["EOE"], extract_date=EXTRACT_DATE)
    previous = EXTRACT_DATE.replace(month=EXTRACT_DATE.month - 1)
    now = {crn for crn, met in screen(tmp_path, EXTRACT_DATE).items() if met >= 6}
    before = {crn for crn, met in screen(tmp_path, previous).items() if met >= 6}
    assert now - before, "nobody is new to the list"
    assert now & before, "nobody continues on the list"
    assert len(now & before) > len(now - before), "most of the list should continue"


# --- extract date and output directory --------------------------------------------------------


@time_machine.travel(dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC), tick=False)
def test_extract_date_defaults_to_today_in_london(tmp_path: Path) -> None:
    generate_extract(tmp_path, people=5, seed=1, regions=["WAL"])
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["extract_date"] == "2026-07-01"  # 00:30 British Summer Time


def test_refuses_a_non_empty_directory_that_is_not_an_extract(tmp_path: Path) -> None:
    (tmp_path / "thesis.docx").write_text("mine", encoding="utf-8")
    with pytest.raises(ExtractDirectoryError):
        generate_extract(tmp_path, people=5, seed=1, regions=["NE"])
    assert [path.name for path in tmp_path.iterdir()] == ["thesis.docx"]


def test_overwrites_a_previous_extract(tmp_path: Path) -> None:
    generate_extract(tmp_path, people=50, seed=1, regions=["NE"])
    generate_extract(tmp_path, people=20, seed=2, regions=["NE"])
    assert len(read(tmp_path, "people.csv")) == 20


# --- the command ------------------------------------------------------------------------------


def test_command_creates_the_directory_and_prints_counts(tmp_path: Path) -> None:
    out = tmp_path / "new" / "extract"
    stdout = io.StringIO()
    call_command(
        "generate_extract", str(out), "--people", "120", "--seed", "4", "--regions", "EOE,LDN",
        "--extract-date", "2026-03-31", stdout=stdout,
    )  # fmt: skip
    printed = stdout.getvalue()
    assert "people.csv" in printed and "120" in printed
    assert {row["region_code"] for row in read(out, "pdus.csv")} == {"EOE", "LDN"}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["extract_date"] == "2026-03-31"


def test_command_refuses_an_unknown_region_naming_the_valid_codes(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("generate_extract", str(tmp_path / "x"), "--people", "5", "--seed", "1",
                     "--regions", "EOE,MARS")  # fmt: skip
    assert "MARS" in str(refused.value) and "KSS" in str(refused.value)


def test_command_refuses_a_directory_holding_other_things(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(CommandError, match="does not look like an extract"):
        call_command("generate_extract", str(tmp_path), "--people", "5", "--seed", "1")


def test_command_refuses_a_malformed_extract_date(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("generate_extract", str(tmp_path), "--people", "5", "--seed", "1",
                     "--extract-date", "31/03/2026")  # fmt: skip
