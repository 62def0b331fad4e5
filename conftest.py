"""Suite-wide test configuration: the notice for skipped PostgreSQL or browser parts.

On a machine without PostgreSQL or Chromium, `make test` skips those parts with a visible notice.
CI sets CC_REQUIRE_ALL=1, which turns any such skip into a failure.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_ALL = os.environ.get("CC_REQUIRE_ALL") == "1"

# Shared fixtures: a real SMTP server on loopback (smtp_server) and a real Celery worker on Redis
# (celery_worker), used by every app whose work sends email.
pytest_plugins = ["complexcases.notifications.tests.fixtures"]


def skip_or_fail(reason: str) -> None:
    """Skip with a visible reason, or fail when CI requires every part to run."""
    if REQUIRE_ALL:
        pytest.fail(f"CC_REQUIRE_ALL is set but {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped:
        terminalreporter.section("NOTICE: parts of the suite were skipped", sep="!", yellow=True)
        terminalreporter.write_line(
            f"{len(skipped)} tests skipped (see the reasons above). Set CC_REQUIRE_ALL=1 to make"
            " skips fail, as CI does."
        )
