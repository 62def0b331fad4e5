"""Builds small, valid schema-1 extracts from Python dicts, so a test can spoil one cell or file.

    extract = sample_extract()
    extract["people.csv"][1]["crn"] = "AB12345"      # people.csv line 3
    path = write_extract(tmp_path / "x", extract)

A CSV file is a list of row dicts (the header is the keys, in order); a value of bytes is written as the
file's raw content; a file missing from the dict is not written. Row i of a CSV is on line i + 2.
Synthetic data only: CRNs start with X or Z, names are invented.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

Extract = dict[str, Any]


def _rows(header: str, *lines: str) -> list[dict[str, str]]:
    columns = header.split(",")
    return [dict(zip(columns, line.split(","), strict=True)) for line in lines]


_SAMPLE: Extract = {
    "manifest.json": {"schema_version": 1, "extract_date": "2026-11-01"},
    "pdus.csv": _rows(
        "region_code,region_name,pdu_code,pdu_name",
        "EOE,East of England,N56NPS,Northamptonshire",
        "EOE,East of England,N56CAM,Cambridgeshire and Peterborough",
        "LDN,London,N07CAM,Camden and Islington",
    ),
    "teams.csv": _rows(
        "team_code,team_name,pdu_code",
        "N56T01,Northampton Central,N56NPS",
        "N56T02,Peterborough North,N56CAM",
        "N07T01,Camden One,N07CAM",
    ),
    "staff.csv": _rows(
        "staff_code,forename,surname,email,grade,team_code,username",
        "N56A001,Ada,Testwell,ada.testwell@example.justice.invalid,PO,N56T01,ada.testwell",
        "N56A002,Bea,Sampleton,,SPO,N56T01,bea.sampleton",
        "N56A003,Cal,Fixture,cal.fixture@example.justice.invalid,PSO,N56T02,",
        "N07A001,Dee,Mockford,dee.mockford@example.justice.invalid,PO,N07T01,dee.mockford",
    ),
    "people.csv": _rows(
        "crn,forename,surname,date_of_birth,gender,gender_identity_differs,pdu_code,team_code,"
        "offender_manager_staff_code,in_custody,expected_release_date",
        "X000001,Alex,Example,1985-06-01,M,,N56NPS,N56T01,N56A001,N,",
        "X000002,Sam,Specimen,1990-02-28,F,Y,N56NPS,N56T01,N56A001,Y,2027-03-15",
        "X000003,Jo,Placeholder,1979-12-31,X,N,N56CAM,N56T02,N56A003,N,",
        "Z000004,Kit,Dummy,2000-01-01,M,N,N07CAM,N07T01,N07A001,N,",
    ),
    "registrations.csv": _rows(
        "crn,register_type_code,register_level_code,register_category_code,registration_date,"
        "deregistration_date",
        "X000001,RHRH,,,2024-01-10,",
        "X000001,MAPP,M2,M1,2024-03-01,",
        "X000001,AMHL,,,2023-05-05,2024-05-05",
        "X000002,ALSH,,,2025-01-01,",
        "X000002,ALSH,,,2025-01-01,",
        "Z000004,RMRH,,,2022-07-07,",
    ),
    "oasys_assessments.csv": _rows(
        "crn,assessment_id,assessment_type,status,completed_date,rosh_overall,q4_8,q10_2,q10_5,"
        "q10_6,r3_1,r3_2,drug_score,alcohol_score,opd_result,opd_override",
        "X000001,9000001,LAYER3,COMPLETE,2026-06-01,HIGH,1,2,YES,1,NO,DK,4,2,SCREEN_IN,N",
        "X000001,9000002,LAYER3,OPEN,,,,,,,,,,,,",
        "X000002,9000003,LAYER1,LOCKED_INCOMPLETE,2026-01-15,MEDIUM,0,0,NO,0,YES,NO,0,7,SCREEN_OUT,Y",
    ),
    "sentences.csv": _rows(
        "crn,event_number,sentence_type,sentence_date,active",
        "X000001,1,IPP,2008-04-01,Y",
        "X000001,2,SDS,2019-09-09,N",
        "X000003,1,CO,2025-02-02,Y",
    ),
    "limited_access.csv": _rows(
        "crn,username,kind,start_date,end_date",
        "X000002,dee.mockford,EXCLUSION,2025-01-01,",
        "Z000004,ada.testwell,RESTRICTION,,",
    ),
}


def sample_extract() -> Extract:
    """A fresh copy of the small valid extract, safe to change."""
    return copy.deepcopy(_SAMPLE)


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    header: list[str] = []
    for row in rows:
        header.extend(column for column in row if column not in header)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def write_extract(directory: Path, extract: Extract | None = None) -> Path:
    """Write the extract's files into DIRECTORY (created); return DIRECTORY."""
    extract = sample_extract() if extract is None else extract
    directory.mkdir(parents=True, exist_ok=True)
    for filename, content in extract.items():
        if isinstance(content, bytes):
            data = content
        elif filename.endswith(".json"):
            data = json.dumps(content).encode("utf-8")
        else:
            data = csv_bytes(content)
        (directory / filename).write_bytes(data)
    return directory


def zip_extract(directory: Path, zip_path: Path, *, folder: str | None = None) -> Path:
    """Zip an extract directory's files, at the zip's root or inside FOLDER."""
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(directory.iterdir()):
            archive.write(file, f"{folder}/{file.name}" if folder else file.name)
    return zip_path


def without_column(rows: list[dict[str, str]], column: str) -> list[dict[str, str]]:
    return [{key: value for key, value in row.items() if key != column} for row in rows]
