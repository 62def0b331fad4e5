"""Export of a month's list in the section-6 format (CSV or JSON), streamed row by row.

`export_rows` reads the results in pages from the database and yields plain dicts; the writers format
them exactly as DESIGN.md section 6 says. Nothing builds the whole list in memory, so a national
`--all` export (250,000 rows) runs in flat memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from complexcases.screening.criteria import mask_to_ids
from complexcases.screening.models import Change, ScreeningResult, ScreeningRun

CSV_HEADER = ("crn", "pdu_code", "criteria_count", "criteria_met", "eligible", "change")
# Section 6: the change column is `new`, `continuing` or empty ("left" is not exported).
EXPORTED_CHANGES = frozenset({Change.NEW.value, Change.CONTINUING.value})
_PAGE = 2_000


def latest_run_for_month(month: str) -> ScreeningRun | None:
    """The month's latest finished run (greatest started_at, then id): the one its list is read from."""
    return (
        ScreeningRun.objects.filter(month=month, finished_at__isnull=False)
        .select_related("criteria_set")
        .order_by("-started_at", "-id")
        .first()
    )


def export_rows(
    run: ScreeningRun, *, pdu_code: str | None = None, include_all: bool = False
) -> Iterator[dict[str, Any]]:
    """The run's rows, ordered by PDU code then CRN: eligible people only unless include_all.

    Each row: crn, pdu_code, criteria_count, criteria_met (ids in table order), eligible (bool),
    change (as stored: "new", "continuing", "left" or ""). With include_all, the rows of people who
    left the caseload since last month's list are included too.
    """
    results = ScreeningResult.objects.filter(run=run)
    if not include_all:
        results = results.filter(eligible=True)
    if pdu_code is not None:
        results = results.filter(pdu__code=pdu_code)
    rows = results.order_by("pdu__code", "person__crn").values_list(
        "person__crn", "pdu__code", "criteria_count", "criteria_mask", "eligible", "change"
    )
    for crn, pdu, count, mask, eligible, change in rows.iterator(chunk_size=_PAGE):
        yield {
            "crn": crn,
            "pdu_code": pdu,
            "criteria_count": count,
            "criteria_met": mask_to_ids(mask),
            "eligible": bool(eligible),
            "change": change,
        }


def _exported_change(change: str) -> str:
    return change if change in EXPORTED_CHANGES else ""


def write_csv(rows: Iterable[dict[str, Any]], stream: TextIO) -> int:
    """Write the section-6 CSV (header, then one line per row) and return the number of rows."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    count = 0
    for row in rows:
        writer.writerow(
            (
                row["crn"],
                row["pdu_code"],
                row["criteria_count"],
                ";".join(row["criteria_met"]),
                "true" if row["eligible"] else "false",
                _exported_change(row["change"]),
            )
        )
        count += 1
    return count


def write_json(rows: Iterable[dict[str, Any]], stream: TextIO) -> int:
    """Write the section-6 JSON (a list of objects with the CSV's keys) and return the row count."""
    count = 0
    stream.write("[")
    for row in rows:
        item = {
            "crn": row["crn"],
            "pdu_code": row["pdu_code"],
            "criteria_count": row["criteria_count"],
            "criteria_met": list(row["criteria_met"]),
            "eligible": bool(row["eligible"]),
            "change": _exported_change(row["change"]),
        }
        stream.write(("\n" if count == 0 else ",\n") + json.dumps(item))
        count += 1
    stream.write("\n]\n" if count else "]\n")
    return count
