"""The one clock: London calendar dates, and time moved by tests moves it for every caller."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from complexcases.core import clock


def test_today_is_the_london_date_not_the_utc_one() -> None:
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST).
    with time_machine.travel(dt.datetime(2027, 6, 30, 23, 30, tzinfo=dt.UTC), tick=False):
        assert clock.today() == dt.date(2027, 7, 1)
        assert clock.this_month() == "2027-07"
    # In winter London is on UTC.
    with time_machine.travel(dt.datetime(2027, 12, 31, 23, 30, tzinfo=dt.UTC), tick=False):
        assert clock.today() == dt.date(2027, 12, 31)


def test_now_is_aware_and_agrees_with_django() -> None:
    with time_machine.travel(dt.datetime(2028, 2, 29, 12, tzinfo=dt.UTC), tick=False):
        assert clock.now() == timezone.now() == dt.datetime(2028, 2, 29, 12, tzinfo=dt.UTC)
        assert clock.now().tzinfo is not None


def test_local_date_of_an_instant() -> None:
    moment = dt.datetime(2027, 3, 28, 23, 15, tzinfo=dt.UTC)  # after the clocks went forward
    assert clock.local_date(moment) == dt.date(2027, 3, 29)
    assert clock.local_now().tzinfo == clock.LONDON
