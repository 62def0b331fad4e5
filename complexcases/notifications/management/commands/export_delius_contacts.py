"""Export the pending nDelius contacts for upload, each exactly once.

    python manage.py export_delius_contacts --format csv --output contacts.csv
    python manage.py export_delius_contacts --format json            # to standard output
    python manage.py export_delius_contacts --again 12 --output contacts-12.csv

The file is written and the contacts are marked exported in one transaction: if the file cannot be
written nothing is marked, and a contact marked exported is in a file. With --output the file is
written to a temporary name and renamed into place, so a reader never sees half a file; an existing
file is never overwritten. Every export is a disclosure and is audited.
"""

from __future__ import annotations

import getpass
import io
import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from complexcases.notifications import services
from complexcases.notifications.export import FORMATS, write_rows
from complexcases.notifications.models import DeliusExportBatch


class Command(BaseCommand):
    help = "Write the pending nDelius contacts (CSV or JSON) and mark them exported."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("--output", type=Path, help="File to write (default: standard output)")
        parser.add_argument(
            "--again", type=int, metavar="BATCH_ID", help="Write a past batch again, explicitly"
        )
        parser.add_argument(
            "--actor",
            default="",
            help="Who runs the export, for the audit trail (default: OS user)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fmt: str = options["format"]
        output: Path | None = options["output"]
        actor = options["actor"] or f"command:{_os_user()}"
        if output is not None and output.exists():
            raise CommandError(f"{output} exists; choose another file name")

        def write(rows: list[dict[str, str]]) -> None:
            if output is None:
                # Whole text in one write: OutputWrapper would add a newline to each fragment.
                buffer = io.StringIO()
                write_rows(rows, buffer, fmt)
                self.stdout.write(buffer.getvalue(), ending="")
            else:
                _write_file_atomically(output, rows, fmt)

        if options["again"] is not None:
            try:
                batch = services.delius_batch_reexport(
                    batch_id=options["again"], actor=actor, write=write
                )
            except DeliusExportBatch.DoesNotExist:
                raise CommandError(f"There is no export batch {options['again']}") from None
            self.stderr.write(f"Re-exported batch {batch.pk}: {batch.contact_count} contacts")
            return

        result = services.delius_contacts_export(actor=actor, fmt=fmt, write=write)
        if result is None:
            self.stderr.write("No pending contacts")
        else:
            self.stderr.write(f"Exported batch {result.pk}: {result.contact_count} contacts")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"


def _write_file_atomically(path: Path, rows: list[dict[str, str]], fmt: str) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            write_rows(rows, stream, fmt)
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists():
            raise CommandError(f"{path} appeared while exporting; nothing was marked exported")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
