"""python manage.py import_extract PATH [--actor NAME]

Imports a schema-1 case data extract (a directory, or a .zip of one). Prints a summary of the rows read
and the changes made. A bad extract is refused: every problem is listed on stderr as
`file:line: column: value: reason` (up to 100), nothing is written and the exit status is 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from complexcases.core.commands import default_actor
from complexcases.people.importer import ExtractRefused, ImportResult, import_extract
from complexcases.people.importer.source import EXTRACT_FILES

EXIT_REFUSED = 2


class Command(BaseCommand):
    help = "Import a case data extract (schema 1): a directory of CSV files, or a .zip of one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the extract directory or .zip file")
        parser.add_argument(
            "--actor",
            default=None,
            help="who is running the import, for the record (default: your user name)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        actor: str = options["actor"] or default_actor()
        progress = self._progress if self.stdout.isatty() else None
        try:
            result = import_extract(path, actor=actor, progress=progress)
        except ExtractRefused as refused:
            for line in refused.lines():
                self.stderr.write(line)
            self.stderr.write(
                f"Extract refused: {refused.total:,} problem{'s' if refused.total != 1 else ''}."
                " Nothing was imported."
            )
            raise SystemExit(EXIT_REFUSED) from None
        self._summary(result)

    def _progress(self, filename: str, rows: int) -> None:
        self.stdout.write(f"  {filename}: {rows:,} rows read…")

    def _summary(self, result: ImportResult) -> None:
        record = result.record
        for warning in result.warnings:
            self.stderr.write(f"Warning: {warning}")
        self.stdout.write(
            f"Imported {record.source_name}: extract of {record.extract_date}, schema"
            f" {record.schema_version}, checksum {record.checksum[:12]}…, run by {record.run_by}."
        )
        self.stdout.write("Rows read:")
        for filename in EXTRACT_FILES[1:]:
            self.stdout.write(f"  {filename:<24} {result.row_counts.get(filename, 0):>10,}")
        if result.provisioning is not None and result.provisioning.changed:
            self.stdout.write(f"Accounts: {result.provisioning.summary()}")
        if not result.changed:
            self.stdout.write("No changes: the stored case data already equals this extract.")
            return
        self.stdout.write("Changes:")
        for table, counts in result.changes.items():
            described = ", ".join(
                f"{count:,} {what.replace('_', ' ')}" for what, count in counts.items()
            )
            self.stdout.write(f"  {table:<16} {described}")
