"""python manage.py run_screening --as-of YYYY-MM-DD [--actor NAME]

Screens every person on the stored caseload as of the date (DESIGN.md section 4) and prints the run's
summary: as-of date, month, criteria set, people screened, eligible, near misses, new, continuing,
left, no current OASys, and the eligible count of each PDU. Counts only: no personal data.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from complexcases.core.commands import default_actor
from complexcases.screening.models import ScreeningRun
from complexcases.screening.services import CriteriaSetChanged, screening_run_create

DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def parse_as_of(text: str) -> dt.date:
    """A YYYY-MM-DD date, or CommandError."""
    if DATE_RE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise CommandError(f"--as-of must be a date as YYYY-MM-DD, got {text!r}")


class Command(BaseCommand):
    help = "Screen the stored caseload as of a date and print the run's summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", required=True, help="the screening date, YYYY-MM-DD")
        parser.add_argument(
            "--actor",
            default=None,
            help="who is running the screening, for the record (default: your user name)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = parse_as_of(options["as_of"])
        actor: str = options["actor"] or default_actor()
        progress = self._progress if self.stdout.isatty() else None
        try:
            run = screening_run_create(as_of=as_of, actor=actor, progress=progress)
        except CriteriaSetChanged as error:
            raise CommandError(str(error)) from error
        self._summary(run)

    def _progress(self, stage: str, count: int) -> None:
        self.stdout.write(f"  {count:,} people {stage}…")

    def _summary(self, run: ScreeningRun) -> None:
        seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
        lines = [
            f"Screening run {run.pk} as of {run.as_of.isoformat()} (month {run.month}),"
            f" criteria set {run.criteria_set.code} version {run.criteria_set.version},"
            f" in {seconds:.1f} s.",
            f"  people screened   {run.people_screened:>9,}",
            f"  eligible          {run.eligible_count:>9,}",
            f"  near misses       {run.near_miss_count:>9,}",
            f"  new               {run.new_count:>9,}",
            f"  continuing        {run.continuing_count:>9,}",
            f"  left              {run.left_count:>9,}",
            f"  no current OASys  {run.no_current_oasys_count:>9,}",
        ]
        if run.previous_run_id is not None:
            lines.append(f"  compared with run {run.previous_run_id} of the previous month")
        else:
            lines.append("  no run in the previous month: every eligible person is new")
        lines.append("Eligible by PDU:")
        for code, counts in sorted(run.counts_by_pdu.items()):
            lines.append(f"  {code:<16} {counts.get('eligible', 0):>7,}")
        for line in lines:
            self.stdout.write(line)
