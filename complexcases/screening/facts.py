"""Reading the caseload's facts in chunks and screening them, in this process or in worker processes.

A screened row is a plain tuple: (person id, PDU id, team id, criteria count, criteria mask,
eligible, near miss, no current OASys, evidence JSON text). The run (services.py) adds the change
against last month and writes the rows.

For a national caseload the pure rules are the bottleneck (Python, one core), so above
`CC_SCREENING_PARALLEL_MIN_PEOPLE` the chunks are read and screened by `CC_SCREENING_PROCESSES`
worker processes (default: one per core), each with its own database connection, while this process
writes. Workers only read the people and their facts, which the run does not change, so they see the
same committed data as the run. An in-memory SQLite database cannot be shared between processes:
there, and for small caseloads, everything runs in this process. Both paths give the same rows.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from django.conf import settings
from django.db import connection

from complexcases.people.models import Assessment, Person, Registration, Sentence
from complexcases.screening import criteria, worker
from complexcases.screening.rules import (
    AssessmentFact,
    PersonFacts,
    RegistrationFact,
    Screener,
    SentenceFact,
    oasys_window_start,
)

CHUNK_SIZE = 5_000  # people per read: three queries each

ScreenedRow = tuple[int, int, int, int, int, bool, bool, bool, str]
PersonKey = tuple[int, int, int]  # person id, PDU id, team id


def caseload_chunks() -> list[list[PersonKey]]:
    """Everyone on the caseload as (person id, PDU id, team id), by id, in chunks. One query."""
    chunk_size = CHUNK_SIZE
    people = list(
        Person.objects.filter(on_caseload=True)
        .order_by("id")
        .values_list("id", "pdu_id", "team_id")
    )
    return [people[i : i + chunk_size] for i in range(0, len(people), chunk_size)]


def read_facts(
    parameters: dict[str, Any], as_of: dt.date, people: Sequence[PersonKey]
) -> list[PersonFacts]:
    """The facts of a chunk of people (ordered by id), in three queries.

    Only facts the criteria set can use are read: registrations of the screened types, usable
    assessments inside the OASys window, sentences of the screened types. The rules apply the same
    conditions again, so this is only a narrowing, never a decision.
    """
    if not people:
        return []
    register_codes = criteria.screened_register_codes(parameters)
    sentence_types = criteria.screened_sentence_types(parameters)
    statuses = parameters["oasys_usable_statuses"]
    window_start = oasys_window_start(as_of, parameters)
    in_range = {"person_id__gte": people[0][0], "person_id__lte": people[-1][0]}
    registrations: dict[int, list[RegistrationFact]] = defaultdict(list)
    for person_id, *values in (
        Registration.objects.filter(register_type_code__in=register_codes, **in_range)
        .order_by()
        .values_list(
            "person_id",
            "register_type_code",
            "registration_date",
            "deregistration_date",
            "register_level_code",
            "register_category_code",
        )
    ):
        registrations[person_id].append(RegistrationFact(*values))  # type: ignore[arg-type]
    assessments: dict[int, list[AssessmentFact]] = defaultdict(list)
    for person_id, *values in (
        Assessment.objects.filter(
            status__in=statuses,
            completed_date__lte=as_of,
            completed_date__gt=window_start,
            **in_range,
        )
        .order_by()
        .values_list(
            "person_id",
            "assessment_id",
            "completed_date",
            "status",
            "assessment_type",
            *criteria.OASYS_ITEMS,  # in AssessmentFact's order
        )
    ):
        assessments[person_id].append(AssessmentFact(*values))  # type: ignore[arg-type]
    sentences: dict[int, list[SentenceFact]] = defaultdict(list)
    for person_id, *values in (
        Sentence.objects.filter(sentence_type__in=sentence_types, **in_range)
        .order_by()
        .values_list("person_id", "sentence_type", "active", "sentence_date", "event_number")
    ):
        sentences[person_id].append(SentenceFact(*values))  # type: ignore[arg-type]
    empty: tuple = ()
    return [
        PersonFacts(
            tuple(registrations.get(person_id, empty)),
            tuple(assessments.get(person_id, empty)),
            tuple(sentences.get(person_id, empty)),
        )
        for person_id, _, _ in people
    ]


def screen_chunk(
    screener: Screener, parameters: dict[str, Any], as_of: dt.date, people: Sequence[PersonKey]
) -> list[ScreenedRow]:
    """Read and screen one chunk of people."""
    rows: list[ScreenedRow] = []
    for (person_id, pdu_id, team_id), facts in zip(
        people, read_facts(parameters, as_of, people), strict=True
    ):
        outcome = screener.screen(facts)
        rows.append(
            (
                person_id,
                pdu_id,
                team_id,
                outcome.criteria_count,
                outcome.criteria_mask,
                outcome.eligible,
                outcome.near_miss,
                outcome.no_current_oasys,
                screener.evidence_text(outcome),
            )
        )
    return rows


def worker_count(people: int) -> int:
    """How many worker processes to screen `people` with; 0 means in this process."""
    processes = int(getattr(settings, "CC_SCREENING_PROCESSES", 0) or (os.cpu_count() or 1))
    minimum = int(getattr(settings, "CC_SCREENING_PARALLEL_MIN_PEOPLE", 50_000))
    if processes < 2 or people < minimum or _in_memory_database():
        return 0
    return processes


def _in_memory_database() -> bool:
    if connection.vendor != "sqlite":
        return False
    name = str(connection.settings_dict.get("NAME") or "")
    return name == ":memory:" or "mode=memory" in name or name == ""


def screen_caseload(parameters: dict[str, Any], as_of: dt.date) -> Iterator[list[ScreenedRow]]:
    """The caseload's screened rows, a chunk at a time, in person id order."""
    chunks = caseload_chunks()
    workers = worker_count(sum(len(chunk) for chunk in chunks))
    if workers == 0:
        screener = Screener(parameters, as_of)
        for people in chunks:
            yield screen_chunk(screener, parameters, as_of, people)
        return
    # Spawned (not forked) workers: a fork would share this process's open database connection.
    context = multiprocessing.get_context("spawn")
    with context.Pool(
        processes=workers,
        initializer=worker.start,
        initargs=(os.environ.get("DJANGO_SETTINGS_MODULE", ""), dict(connection.settings_dict)),
    ) as pool:
        # imap keeps the chunks in order; a few chunks ahead at most, so memory stays flat.
        yield from pool.imap(worker.screen, [(parameters, as_of, chunk) for chunk in chunks])
