"""Suite-wide test configuration: the notice for skipped PostgreSQL or browser parts, and the
clock-shift option.

On a machine without PostgreSQL or Chromium, `make test` skips those parts with a visible notice.
CI sets CC_REQUIRE_ALL=1, which turns any such skip into a failure.

`--clock-shift-days N` runs the suite with the clock moved N days ahead (time-machine, ticking),
so a test that depends on today's real date fails now rather than on the day the calendar reaches
it. CI runs the non-browser suite this way 400 days and 3 years ahead (`.ci/run`). Tests that
travel to a fixed date themselves still do so (time-machine nests). Browser tests are left out of
those passes: Chromium keeps the real clock, so it would drop the shifted server's cookies.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
import time_machine

from complexcases.core import clock

REQUIRE_ALL = os.environ.get("CC_REQUIRE_ALL") == "1"

# Shared fixtures: a real SMTP server on loopback (smtp_server) and a real Celery worker on Redis
# (celery_worker), used by every app whose work sends email.
pytest_plugins = ["complexcases.notifications.tests.fixtures"]


def skip_or_fail(reason: str) -> None:
    """Skip with a visible reason, or fail when CI requires every part to run."""
    if REQUIRE_ALL:
        pytest.fail(f"CC_REQUIRE_ALL is set but {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-shift-days",
        type=int,
        default=0,
        help="Run with the clock moved this many days ahead (ticking); 0 for the real clock.",
    )


def pytest_configure(config: pytest.Config) -> None:
    days = config.getoption("clock_shift_days")
    if days:
        moved_to = clock.now() + dt.timedelta(days=days)
        traveller = time_machine.travel(moved_to, tick=True)
        traveller.start()
        config.stash[_TRAVELLER] = traveller


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    days = config.getoption("clock_shift_days")
    if days:
        return f"clock moved {days} days ahead: tests run as if today were {clock.today()}"
    return None


_TRAVELLER = pytest.StashKey[time_machine.travel]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped:
        terminalreporter.section("NOTICE: parts of the suite were skipped", sep="!", yellow=True)
        terminalreporter.write_line(
            f"{len(skipped)} tests skipped (see the reasons above). Set CC_REQUIRE_ALL=1 to make"
            " skips fail, as CI does."
        )
