"""python manage.py export_screening --month YYYY-MM [--pdu CODE] [--all] [--format csv|json] [--output FILE]

Writes the month's list (its latest run) in the DESIGN.md section-6 format to stdout or a file:
eligible people only unless --all.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from complexcases.accounts.models import Pdu
from complexcases.core.audit import AuditUnavailable, audit_record
from complexcases.core.commands import default_actor
from complexcases.core.models import AuditAction
from complexcases.screening.export import export_rows, latest_run_for_month, write_csv, write_json

MONTH_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


NO_REASON = "(none given: non-interactive export)"


def _reason(given: str | None) -> str:
    """The export's reason: --reason, or asked for on a terminal. Scripts (no terminal) that give
    none are still exported, as DESIGN.md section 6 allows, and recorded as giving none."""
    if given is not None and given.strip():
        return given.strip()[:500]
    if given is None and sys.stdin.isatty():
        while True:
            answer = input("Why is this export needed? ").strip()
            if answer:
                return answer[:500]
    if given is not None:
        raise CommandError("--reason must not be empty")
    return NO_REASON


class Command(BaseCommand):
    help = "Export a month's screening list (its latest run) as CSV or JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="the month, YYYY-MM")
        parser.add_argument("--pdu", default=None, help="only this PDU (its code)")
        parser.add_argument(
            "--all", action="store_true", dest="include_all", help="every person, not only eligible"
        )
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--output", type=Path, default=None, help="write to FILE, not stdout")
        parser.add_argument(
            "--reason",
            default=None,
            help="why the export is needed (recorded in the audit trail; asked for on a terminal)",
        )
        parser.add_argument(
            "--actor", default=None, help="who is exporting, for the audit trail (default: you)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        month: str = options["month"]
        if not MONTH_RE.match(month):
            raise CommandError(f"--month must be a month as YYYY-MM, got {month!r}")
        pdu_code: str | None = options["pdu"]
        if pdu_code is not None and not Pdu.objects.filter(code=pdu_code).exists():
            raise CommandError(f"Unknown PDU code {pdu_code!r}.")
        output: Path | None = options["output"]
        run = latest_run_for_month(month)
        if run is None:
            raise CommandError(
                f"No screening run for {month}: run `manage.py run_screening --as-of` for a date"
                " in that month first."
            )
        reason = _reason(options["reason"])
        # Recorded before any row is written: an export is a disclosure (fails closed).
        try:
            audit_record(
                reason=reason,
                actor=options["actor"] or default_actor(),
                action=AuditAction.EXPORT,
                object_type="screening_run",
                object_id=run.pk,
                details={
                    "month": month,
                    "pdu": pdu_code,
                    "all": options["include_all"],
                    "format": options["format"],
                    "to_file": output is not None,
                },
            )
        except AuditUnavailable as error:
            raise CommandError(
                "The audit trail is unavailable, so nothing was exported."
            ) from error
        rows = export_rows(run, pdu_code=pdu_code, include_all=options["include_all"])
        write = write_json if options["format"] == "json" else write_csv
        if output is None:
            write(rows, _Unended(self.stdout))  # type: ignore[arg-type]
            return
        with output.open("w", encoding="utf-8", newline="") as stream:
            count = write(rows, stream)
        self.stderr.write(f"Wrote {count:,} rows of run {run.pk} to {output}.")


class _Unended(io.TextIOBase):
    """A text stream over the command's stdout that writes exactly what it is given."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> int:
        self.wrapper.write(text, ending="")
        return len(text)
