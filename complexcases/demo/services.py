"""Builds the embedded demo: a synthetic East of England extract, imported and screened for two months.

Only for the embedded demo (`make run`): it refuses to run unless DEBUG is on or it is forced, because it
creates accounts with a shared, printed password.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from complexcases.accounts.models import User
from complexcases.people.generator import generate_extract
from complexcases.people.importer import import_extract
from complexcases.people.models import ExtractImport
from complexcases.screening.models import ScreeningRun
from complexcases.screening.services import screening_run_create

DEMO_REGION = "EOE"
DEMO_SEED = 2021
DEMO_PASSWORD = "complex-cases-demo"  # noqa: S105 - the embedded demo's shared password, printed at start
DEMO_ACTOR = "demo_setup"


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    extract_date: dt.date
    months: tuple[str, str]
    usernames: tuple[str, ...]


def same_day_previous_month(day: dt.date) -> dt.date:
    first = day.replace(day=1)
    previous_last = first - dt.timedelta(days=1)
    return previous_last.replace(day=min(day.day, previous_last.day))


def demo_setup(*, people: int, today: dt.date | None = None, say: Callable[[str], None]) -> DemoSummary:
    """Make sure the demo data exists: import once, screen last month and this month. Reuses what is there."""
    today = today or timezone.localdate()
    previous = same_day_previous_month(today)
    months = (previous.strftime("%Y-%m"), today.strftime("%Y-%m"))
    created = False
    if not ExtractImport.objects.exists():
        with tempfile.TemporaryDirectory(prefix="cc-demo-") as tmp:
            out = Path(tmp) / "extract"
            say(f"Generating a synthetic East of England extract of {people:,} people…")
            generate_extract(out, people=people, seed=DEMO_SEED, regions=[DEMO_REGION], extract_date=today)
            say("Importing it…")
            import_extract(out, actor=DEMO_ACTOR)
        created = True
    existing = set(ScreeningRun.objects.filter(month__in=months).values_list("month", flat=True))
    for as_of in (previous, today):
        if as_of.strftime("%Y-%m") not in existing:
            say(f"Screening the caseload as of {as_of:%-d %B %Y}…")
            screening_run_create(as_of=as_of, actor=DEMO_ACTOR)
            created = True
    usernames = _demo_accounts()
    return DemoSummary(created=created, extract_date=today, months=months, usernames=usernames)


@transaction.atomic
def _demo_accounts() -> tuple[str, ...]:
    """The demo's sign-ins. Roles and need-to-know arrive with the access work; for now one account."""
    user, made = User.objects.get_or_create(
        username="demo", defaults={"first_name": "Demo", "last_name": "User", "is_staff": True}
    )
    if made or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return (user.username,)


def demo_allowed() -> bool:
    return bool(settings.DEBUG)
