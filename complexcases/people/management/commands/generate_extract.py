"""`python manage.py generate_extract OUT_DIR --people N --seed S [--regions EOE,LDN] [--extract-date D]`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from complexcases.core import clock
from complexcases.people.generator import ExtractDirectoryError, generate_extract
from complexcases.people.reference import REGION_CODES, UnknownRegionError


class Command(BaseCommand):
    help = (
        "Write a synthetic case data extract (schema 1) into OUT_DIR: deterministic for a seed, "
        "realistic in proportions, never real data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out_dir", type=Path, help="directory to write (created if absent)")
        parser.add_argument("--people", type=int, required=True, help="number of people")
        parser.add_argument("--seed", type=int, required=True, help="random seed")
        parser.add_argument(
            "--regions",
            default="",
            help=f"comma-separated region codes (default: all): {','.join(REGION_CODES)}",
        )
        parser.add_argument(
            "--extract-date", default="", help="YYYY-MM-DD (default: today in Europe/London)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        people: int = options["people"]
        if people < 0:
            raise CommandError("--people must not be negative")
        regions = [code for code in options["regions"].split(",") if code.strip()]
        extract_date = clock.today()
        if options["extract_date"]:
            try:
                extract_date = dt.date.fromisoformat(options["extract_date"])
            except ValueError as exc:
                raise CommandError(
                    f"--extract-date must be a date as YYYY-MM-DD, not {options['extract_date']!r}"
                ) from exc
        out_dir: Path = options["out_dir"]
        try:
            counts = generate_extract(
                out_dir,
                people=people,
                seed=options["seed"],
                regions=regions or None,
                extract_date=extract_date,
            )
        except UnknownRegionError as exc:
            raise CommandError(str(exc)) from exc
        except (ExtractDirectoryError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Wrote a synthetic extract to {out_dir} (extract date {extract_date.isoformat()}, "
            f"regions {','.join(regions).upper() or 'all'}, seed {options['seed']}):"
        )
        for name, count in counts.items():
            self.stdout.write(f"  {name + '.csv':<24}{count:>10,} rows")
