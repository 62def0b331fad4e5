"""Screening in worker processes gives exactly the rows of screening in this process.

Worker processes read the caseload through their own connections, so the data must be committed
(transactional_db) and the database shared: PostgreSQL, or SQLite in a file. The suite's SQLite
database is in memory, where the run stays in one process (also tested).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db import connection

from complexcases.people.generator import generate_extract
from complexcases.people.importer import import_extract
from complexcases.screening import facts
from complexcases.screening.models import ScreeningResult
from complexcases.screening.services import screening_run_create

AS_OF = dt.date(2026, 11, 1)
COLUMNS = ("person_id", "criteria_count", "criteria_mask", "eligible", "change", "evidence")


def _results(run_id: int) -> list[tuple]:
    return list(
        ScreeningResult.objects.filter(run_id=run_id).order_by("person_id").values_list(*COLUMNS)
    )


@pytest.mark.django_db(transaction=True)
def test_worker_processes_give_the_same_results_as_one_process(tmp_path: Path, settings) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: worker processes cannot share an in-memory SQLite database")
    generate_extract(tmp_path / "x", people=1200, seed=11, regions=["EOE"], extract_date=AS_OF)
    import_extract(tmp_path / "x", actor="test")
    settings.CC_SCREENING_PARALLEL_MIN_PEOPLE = 1
    settings.CC_SCREENING_PROCESSES = 2
    assert facts.worker_count(1200) == 2
    parallel = screening_run_create(as_of=AS_OF, actor="test")
    settings.CC_SCREENING_PROCESSES = 1
    assert facts.worker_count(1200) == 0
    serial = screening_run_create(as_of=AS_OF, actor="test")
    assert parallel.people_screened == serial.people_screened == 1200
    assert parallel.counts_by_pdu == serial.counts_by_pdu
    assert _results(parallel.pk) == _results(serial.pk)


@pytest.mark.django_db
def test_an_in_memory_database_is_screened_in_this_process(settings) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the in-memory SQLite case")
    settings.CC_SCREENING_PARALLEL_MIN_PEOPLE = 1
    settings.CC_SCREENING_PROCESSES = 2
    assert facts.worker_count(1_000_000) == 0


def test_small_caseloads_are_screened_in_this_process(settings) -> None:
    settings.CC_SCREENING_PARALLEL_MIN_PEOPLE = 50_000
    settings.CC_SCREENING_PROCESSES = 2
    assert facts.worker_count(49_999) == 0
