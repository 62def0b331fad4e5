"""The files of an extract: their columns (DESIGN.md section 3) and the directory they go in."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, TextIO

SCHEMA_VERSION = 1

# Section 3 of DESIGN.md, in a conventional column order (order is free in the contract).
COLUMNS: dict[str, tuple[str, ...]] = {
    "pdus.csv": ("region_code", "region_name", "pdu_code", "pdu_name"),
    "teams.csv": ("team_code", "team_name", "pdu_code"),
    "staff.csv": ("staff_code", "forename", "surname", "email", "grade", "team_code", "username"),
    "people.csv": (
        "crn", "forename", "surname", "date_of_birth", "gender", "gender_identity_differs",
        "pdu_code", "team_code", "offender_manager_staff_code", "in_custody",
        "expected_release_date",
    ),
    "registrations.csv": (
        "crn", "register_type_code", "register_level_code", "register_category_code",
        "registration_date", "deregistration_date",
    ),
    "oasys_assessments.csv": (
        "crn", "assessment_id", "assessment_type", "status", "completed_date", "rosh_overall",
        "q4_8", "q10_2", "q10_5", "q10_6", "r3_1", "r3_2", "drug_score", "alcohol_score",
        "opd_result", "opd_override",
    ),
    "sentences.csv": ("crn", "event_number", "sentence_type", "sentence_date", "active"),
    "limited_access.csv": ("crn", "username", "kind", "start_date", "end_date"),
}  # fmt: skip
EXTRACT_FILE_NAMES: tuple[str, ...] = ("manifest.json", *COLUMNS)


class ExtractDirectoryError(Exception):
    """The output directory cannot take an extract (not a directory, or holds other things)."""


def prepare_directory(out_dir: Path) -> None:
    """Create `out_dir` if absent. A non-empty directory is accepted only if it holds nothing but
    extract files (a previous extract, overwritten); anything else is refused, so a mistyped path
    never mixes an extract into someone's own files."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExtractDirectoryError(f"{out_dir} exists and is not a directory")
    if out_dir.is_dir():
        strangers = sorted(
            entry.name
            for entry in out_dir.iterdir()
            if entry.name not in EXTRACT_FILE_NAMES or not entry.is_file()
        )
        if strangers:
            shown = ", ".join(strangers[:5]) + (", ..." if len(strangers) > 5 else "")
            raise ExtractDirectoryError(
                f"{out_dir} is not empty and does not look like an extract (it holds {shown}); "
                "give a new or empty directory, or one holding a previous extract"
            )
    out_dir.mkdir(parents=True, exist_ok=True)


def open_csv(path: Path) -> tuple[TextIO, Any]:
    handle = path.open("w", encoding="utf-8", newline="")
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(COLUMNS[path.name])
    return handle, writer


def write_rows(path: Path, rows: list[tuple[str, ...]]) -> int:
    handle, writer = open_csv(path)
    with handle:
        writer.writerows(rows)
    return len(rows)
