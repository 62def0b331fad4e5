"""Writers for the nDelius contact upload file (CSV or JSON), in EXPORT_COLUMNS order.

CSV: a header row then one row per contact, comma-separated, quoted only where needed, lines ending
"\n". JSON: a list of objects with the same keys, every value a string ("sensitive": "Y"), indented
by two spaces, with a final newline.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import TextIO

from complexcases.notifications.services import EXPORT_COLUMNS

FORMATS = ("csv", "json")


def write_csv(rows: Iterable[dict[str, str]], stream: TextIO) -> None:
    writer = csv.DictWriter(stream, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)


def write_json(rows: Iterable[dict[str, str]], stream: TextIO) -> None:
    json.dump(
        [{column: row[column] for column in EXPORT_COLUMNS} for row in rows],
        stream,
        indent=2,
        ensure_ascii=False,
    )
    stream.write("\n")


def write_rows(rows: Iterable[dict[str, str]], stream: TextIO, fmt: str) -> None:
    if fmt == "csv":
        write_csv(rows, stream)
    elif fmt == "json":
        write_json(rows, stream)
    else:
        raise ValueError(f"format must be one of {FORMATS}")
