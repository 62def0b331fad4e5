"""Export of a month's list: the exact section-6 CSV and JSON, filters, and the command's errors."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from complexcases.core.models import AuditEvent
from complexcases.people.models import Person
from complexcases.people.tests.factories import PduFactory, PersonFactory, TeamFactory
from complexcases.screening.export import export_rows, latest_run_for_month, write_csv
from complexcases.screening.services import screening_run_create
from complexcases.screening.tests.test_services import ALL, give

pytestmark = pytest.mark.django_db

OCTOBER = dt.date(2026, 10, 15)
NOVEMBER = dt.date(2026, 11, 15)
HEADER = "crn,pdu_code,criteria_count,criteria_met,eligible,change"
SEVEN = "rosh;mental_health;self_harm;learning_difficulties;mappa;opd;substance_misuse"
SIX = "rosh;mental_health;self_harm;learning_difficulties;mappa;opd"


@pytest.fixture
def caseload() -> dict[str, Person]:
    """Two PDUs; listed, near-miss and leaving people; screened in October and November."""
    alpha = TeamFactory(pdu=PduFactory(code="ALPHA"))
    beta = TeamFactory(pdu=PduFactory(code="BETA"))
    people = {
        "continuing": give(PersonFactory(crn="C000003", team=beta), ALL[:7]),
        "new": give(PersonFactory(crn="B000002", team=alpha), ALL[:4]),
        "also_listed": give(PersonFactory(crn="A000009", team=beta), ALL[:6]),
        "near_miss": give(PersonFactory(crn="D000004", team=alpha), ALL[:5]),
        "drops": give(PersonFactory(crn="E000005", team=alpha), ALL[:6]),
        "leaves_caseload": give(PersonFactory(crn="F000006", team=beta), ALL[:6]),
    }
    screening_run_create(as_of=OCTOBER, actor="tester")
    give(people["new"], ("mappa", "ipp"))
    people["drops"].registrations.filter(register_type_code="RHRH").delete()
    Person.objects.filter(pk=people["leaves_caseload"].pk).update(on_caseload=False)
    screening_run_create(as_of=NOVEMBER, actor="tester")
    return people


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export_screening", *args, stdout=out)
    return out.getvalue()


def test_csv_lists_the_eligible_people_ordered_by_pdu_then_crn(caseload) -> None:  # type: ignore[no-untyped-def]
    assert export("--month", "2026-11") == "\n".join(
        [
            HEADER,
            "B000002,ALPHA,6,rosh;mental_health;self_harm;learning_difficulties;mappa;ipp,true,new",
            f"A000009,BETA,6,{SIX},true,continuing",
            f"C000003,BETA,7,{SEVEN},true,continuing",
            "",
        ]
    )


def test_csv_of_every_person_with_all(caseload) -> None:  # type: ignore[no-untyped-def]
    assert export("--month", "2026-11", "--all", "--format", "csv") == "\n".join(
        [
            HEADER,
            "B000002,ALPHA,6,rosh;mental_health;self_harm;learning_difficulties;mappa;ipp,true,new",
            "D000004,ALPHA,5,rosh;mental_health;self_harm;learning_difficulties;mappa,false,",
            # left the list: "left" is not a section-6 change, so the column is empty
            "E000005,ALPHA,5,mental_health;self_harm;learning_difficulties;mappa;opd,false,",
            f"A000009,BETA,6,{SIX},true,continuing",
            f"C000003,BETA,7,{SEVEN},true,continuing",
            "F000006,BETA,0,,false,",  # left the caseload
            "",
        ]
    )


def test_json_has_the_same_keys_with_a_list_and_a_boolean(caseload) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(export("--month", "2026-11", "--format", "json", "--pdu", "BETA"))
    assert rows == [
        {
            "crn": "A000009",
            "pdu_code": "BETA",
            "criteria_count": 6,
            "criteria_met": SIX.split(";"),
            "eligible": True,
            "change": "continuing",
        },
        {
            "crn": "C000003",
            "pdu_code": "BETA",
            "criteria_count": 7,
            "criteria_met": SEVEN.split(";"),
            "eligible": True,
            "change": "continuing",
        },
    ]


def test_json_with_all_and_an_empty_list(caseload) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(export("--month", "2026-11", "--format", "json", "--all", "--pdu", "ALPHA"))
    assert [(r["crn"], r["eligible"], r["change"]) for r in rows] == [
        ("B000002", True, "new"),
        ("D000004", False, ""),
        ("E000005", False, ""),
    ]
    PduFactory(code="EMPTY")
    assert json.loads(export("--month", "2026-11", "--format", "json", "--pdu", "EMPTY")) == []
    assert export("--month", "2026-11", "--pdu", "EMPTY") == HEADER + "\n"


def test_pdu_filter(caseload) -> None:  # type: ignore[no-untyped-def]
    lines = export("--month", "2026-11", "--pdu", "ALPHA").splitlines()
    assert lines[0] == HEADER
    assert [line.split(",")[0] for line in lines[1:]] == ["B000002"]


def test_the_months_latest_run_is_used(caseload) -> None:  # type: ignore[no-untyped-def]
    give(caseload["near_miss"], ("ipp",))
    latest = screening_run_create(as_of=dt.date(2026, 11, 20), actor="tester")

    assert latest_run_for_month("2026-11") == latest
    assert "D000004,ALPHA,6," in export("--month", "2026-11")
    october = export("--month", "2026-10")
    assert [line.split(",")[0] for line in october.splitlines()[1:]] == [
        "E000005",
        "A000009",
        "C000003",
        "F000006",
    ]


def test_output_file_and_audit(caseload, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "list.csv"
    err = io.StringIO()
    call_command(
        "export_screening", "--month", "2026-11", "--output", str(target), "--actor", "analyst1",
        stdout=io.StringIO(), stderr=err,
    )  # fmt: skip
    assert target.read_text(encoding="utf-8") == export("--month", "2026-11")
    assert "3 rows" in err.getvalue()
    event = AuditEvent.objects.filter(action="export", actor_username="analyst1").get()
    assert event.object_id == str(latest_run_for_month("2026-11").pk)  # type: ignore[union-attr]
    assert event.details is not None and event.details["month"] == "2026-11"


def test_export_rows_streams(caseload) -> None:  # type: ignore[no-untyped-def]
    run = latest_run_for_month("2026-11")
    assert run is not None
    rows = export_rows(run, include_all=True)
    assert iter(rows) is rows  # a generator, not a list
    first = next(rows)
    assert first == {
        "crn": "B000002",
        "pdu_code": "ALPHA",
        "criteria_count": 6,
        "criteria_met": [
            "rosh",
            "mental_health",
            "self_harm",
            "learning_difficulties",
            "mappa",
            "ipp",
        ],
        "eligible": True,
        "change": "new",
    }
    # The stored change is kept in the rows; the writers export only new and continuing.
    rest = {row["crn"]: row["change"] for row in rows}
    assert rest["E000005"] == rest["F000006"] == "left"
    out = io.StringIO()
    assert write_csv(export_rows(run, pdu_code="BETA", include_all=True), out) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--month", "2026-12"), "No screening run for 2026-12"),
        (("--month", "2026-11", "--pdu", "NOWHERE"), "Unknown PDU"),
        (("--month", "2026-13"), "YYYY-MM"),
        (("--month", "November"), "YYYY-MM"),
    ],
)
def test_command_errors(caseload, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match=message):
        export(*args)


def test_no_run_at_all_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="No screening run for 2026-11"):
        export("--month", "2026-11")


def test_run_screening_command_prints_the_summary(caseload) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    call_command("run_screening", "--as-of", "2026-11-30", "--actor", "tester", stdout=out)
    text = out.getvalue()
    assert "as of 2026-11-30 (month 2026-11)" in text
    assert "cc-2021 version 1" in text
    for label, value in (
        ("people screened", 5), ("eligible", 3), ("near misses", 2), ("new", 1),
        ("continuing", 2), ("left", 2), ("no current OASys", 0),
    ):  # fmt: skip
        assert any(line.split() == [*label.split(), str(value)] for line in text.splitlines()), (
            label
        )
    assert any(line.split() == ["ALPHA", "1"] for line in text.splitlines())
    assert any(line.split() == ["BETA", "2"] for line in text.splitlines())
    assert "C000003" not in text  # counts only, no personal data


@pytest.mark.parametrize("as_of", ["2026-11-31", "31/11/2026", "20261130", "yesterday"])
def test_run_screening_refuses_a_bad_date(as_of: str) -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("run_screening", "--as-of", as_of, stdout=io.StringIO())


def test_an_export_records_its_reason(caseload) -> None:  # type: ignore[no-untyped-def]
    export("--month", "2026-11", "--actor", "reasoned", "--reason", "Quarterly assurance")
    assert AuditEvent.objects.get(actor_username="reasoned").reason == "Quarterly assurance"


def test_a_script_without_a_reason_is_recorded_as_giving_none(caseload, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO())  # not a terminal
    export("--month", "2026-11", "--actor", "script")
    assert AuditEvent.objects.get(actor_username="script").reason.startswith("(none given")


def test_on_a_terminal_the_reason_is_asked_for(caseload, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal())
    answers = iter(["", "Planning the panel"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    export("--month", "2026-11", "--actor", "asked")
    assert AuditEvent.objects.get(actor_username="asked").reason == "Planning the panel"


def test_an_empty_reason_is_refused(caseload) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="--reason must not be empty"):
        export("--month", "2026-11", "--reason", "  ")
    assert not AuditEvent.objects.filter(action="export").exists()
