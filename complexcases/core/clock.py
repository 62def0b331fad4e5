"""The one source of "now" and "today" for the service.

Every service, selector, view, task, command and the demo reads the clock here, never
`timezone.now()`, `timezone.localdate()`, `date.today()` or `datetime.now()` directly (ruff's
banned-api rule enforces it, pyproject.toml). So a caller that passes a date and a service that
checks against the clock agree: both come from here, and a test that moves time (time-machine)
moves it for all of them at once.

Calendar dates are Europe/London dates: the service runs for England and Wales, so "today",
"this month" and working days are the London calendar's, whatever the server's own zone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def now() -> dt.datetime:
    """The current instant, timezone-aware (UTC): what `django.utils.timezone.now()` gives with
    USE_TZ, without needing settings (the extract generator runs outside Django too)."""
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today's date in Europe/London."""
    return now().astimezone(LONDON).date()


def local_date(moment: dt.datetime) -> dt.date:
    """The Europe/London calendar date of an instant."""
    return moment.astimezone(LONDON).date()


def local_now() -> dt.datetime:
    """The current instant in Europe/London (for stamps people read, e.g. file names)."""
    return now().astimezone(LONDON)


def this_month() -> str:
    """The current London calendar month as `YYYY-MM`."""
    return today().strftime("%Y-%m")
