"""Pure rules for notifications: retry back-off, working days, generic wording, the CRN guard.

No Django imports: plain values in, plain values out, so every edge is tested with tables of cases
(tests/test_rules.py).

- Retry back-off: exponential (1, 2, 4, ... minutes) capped at an hour, a bounded number of
  attempts; SMTP 5xx replies are permanent (retrying cannot help), anything else is transient.
- Working days: Monday to Friday except England and Wales bank holidays, taken from the maintained
  `holidays` package (substitute days and one-off holidays included), never from a hand list.
- Email leaves the secure system, so its wording is generic: a subject naming only the kind of
  meeting and its time in Europe/London, a body naming roles and a link into the service.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")

# ---------------------------------------------------------------------------------------------
# Retry back-off


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait after the n-th failed attempt, and when to give up.

    `attempts` is the number of attempts made so far (1 after the first failure).
    """

    base_seconds: int = 60
    factor: int = 2
    cap_seconds: int = 3600
    max_attempts: int = 20

    def delay(self, attempts: int) -> dt.timedelta:
        if attempts < 1:
            raise ValueError("attempts counts the attempts made, so it is at least 1")
        # Cap the exponent before computing: 2**attempts grows without bound otherwise.
        exponent = min(attempts - 1, 32)
        seconds = min(self.base_seconds * self.factor**exponent, self.cap_seconds)
        return dt.timedelta(seconds=seconds)

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


DEFAULT_RETRY_POLICY = RetryPolicy()


@dataclass(frozen=True)
class FailureDecision:
    """What to do after a failed send: retry after `delay`, or give up (with the reason)."""

    retry: bool
    delay: dt.timedelta | None
    reason: str  # "transient", "permanent" or "max_attempts"


def is_permanent_smtp_code(smtp_code: int | None) -> bool:
    """A 5xx reply means the server refuses the message for good; 4xx and no reply are transient."""
    return smtp_code is not None and 500 <= smtp_code <= 599


def decide_after_failure(
    *, attempts: int, smtp_code: int | None, policy: RetryPolicy = DEFAULT_RETRY_POLICY
) -> FailureDecision:
    """Retry with back-off unless the failure is permanent or the attempts are used up."""
    if is_permanent_smtp_code(smtp_code):
        return FailureDecision(retry=False, delay=None, reason="permanent")
    if policy.gives_up(attempts):
        return FailureDecision(retry=False, delay=None, reason="max_attempts")
    return FailureDecision(retry=True, delay=policy.delay(attempts), reason="transient")


# ---------------------------------------------------------------------------------------------
# Working days (England and Wales)


@functools.lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    # England and Wales share their bank holidays; the package lists them under GB/ENG.
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_bank_holiday(day: dt.date) -> bool:
    return day in _bank_holidays(day.year)


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday and not an England and Wales bank holiday."""
    return day.weekday() < 5 and not is_bank_holiday(day)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start` (`start` itself is not counted).

    add_working_days(d, 0) is d itself. Used for reminders such as "10 working days after the
    case was listed".
    """
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    remaining = days
    while remaining:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """The number of working days d with start < d <= end (0 when end <= start)."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


# ---------------------------------------------------------------------------------------------
# No personal data in email

# A CRN is a capital letter and six digits. The guard looks for that shape anywhere except inside a
# longer run of letters and digits, so "X123456", "(X123456)" and "/people/X123456/" are caught
# while iCalendar times such as "20261026T100000" are not.
CRN_SHAPED = re.compile(r"(?<![A-Za-z0-9])[A-Z][0-9]{6}(?![0-9])")


def contains_crn_shaped_token(text: str) -> bool:
    """True when `text` holds a CRN-shaped token ([A-Z] followed by six digits)."""
    # iCalendar folds long lines ("\r\n" and a space); unfold so a folded CRN cannot slip through.
    unfolded = text.replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "")
    return CRN_SHAPED.search(unfolded) is not None


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _require_aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("times must be timezone-aware")
    return value


def london_date_time(value: dt.datetime) -> str:
    """'Tuesday 3 March, 10:00' in Europe/London, independent of the machine's locale."""
    local = _require_aware(value).astimezone(LONDON)
    return (
        f"{_WEEKDAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}, "
        f"{local.hour:02d}:{local.minute:02d}"
    )


def meeting_subject(title: str, start: dt.datetime, *, cancelled: bool = False) -> str:
    """A generic subject: 'Complex Cases triage: Tuesday 3 March, 10:00' (London time)."""
    subject = f"{title}: {london_date_time(start)}"
    return f"Cancelled: {subject}" if cancelled else subject


def notification_body(
    *,
    intro: str,
    link: str,
    roles: Sequence[str] = (),
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> str:
    """A generic plain-text body: what happened, when, the roles involved and a link.

    The link leads into the service, which checks the reader's access before showing anything.
    """
    lines = [intro.strip(), ""]
    if start is not None:
        when = london_date_time(start)
        if end is not None:
            local_end = _require_aware(end).astimezone(LONDON)
            when += f" to {local_end.hour:02d}:{local_end.minute:02d}"
        lines.append(f"When: {when} (UK time)")
    if roles:
        lines.append("Who: " + ", ".join(roles))
    if start is not None or roles:
        lines.append("")
    lines += [
        "Sign in to the Complex Cases service to see the details:",
        link,
        "",
        "This email deliberately contains no case details.",
    ]
    return "\n".join(lines) + "\n"
