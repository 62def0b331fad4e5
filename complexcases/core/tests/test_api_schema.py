"""schemathesis against the live OpenAPI schema (/api/v1/schema), through the WSGI application.

Two parts:
- generated cases for every operation (bounded: a few examples each, derandomised), positive and
  negative, authenticated with a token of a cc_team member whose region has screening data;
- chosen cases that reach the data (a person shown, a limited-access refusal, a page of rows
  with a limited-access row, a summary, referrals listed), since random CRNs and months almost
  never exist.
Each response must pass schemathesis's checks: no server error, a documented status code and
content type, a body that matches the schema, and 401 when the credentials are left off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from complexcases.accounts.tests.cast import build_cast, build_org
from complexcases.accounts.tokens import api_token_issue
from complexcases.people.models import LimitedAccess
from complexcases.people.tests.factories import (
    CriteriaSetFactory,
    PersonFactory,
    ScreeningResultFactory,
    ScreeningRunFactory,
)
from complexcases.referrals.services import referral_close, referral_create
from complexcases.screening.criteria import CRITERIA_IDS, ids_to_mask

SCHEMA_PATH = "/api/v1/schema"
MONTH = "2026-11"
SIX = ["rosh", "mental_health", "self_harm", "mappa", "substance_misuse", "ipp"]


def _test_wsgi_app() -> Callable[..., Iterable[bytes]]:
    """The project's WSGI handler, without closing the database connection after each request.

    Django closes "old" connections when a request starts and finishes; inside a test that would
    close the connection holding the test's transaction (the test client avoids it the same way).
    """
    handler = WSGIHandler()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = handler(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                response.close()  # type: ignore[attr-defined]
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return app


def _evidence() -> dict[str, Any]:
    return {
        "criteria": [
            {"id": cid, "label": cid, "met": cid in SIX, "summary": "", "facts": []}
            for cid in CRITERIA_IDS
        ],
        "latest_oasys": {
            "assessment_id": "100001",
            "assessment_type": "LAYER3",
            "status": "COMPLETE",
            "completed_date": "2026-06-01",
        },
        "no_current_oasys": False,
    }


def _build_data() -> str:
    """The cast, a finished November run listing people in EOE (one of them restricted to
    someone else), and a token for the EOE cc_team member. Returns the token's key."""
    world = build_cast(build_org())
    started = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
    run = ScreeningRunFactory(
        as_of=dt.date(2026, 11, 1),
        criteria_set=CriteriaSetFactory(),
        started_at=started,
        finished_at=started + dt.timedelta(minutes=5),
        people_screened=3,
        eligible_count=3,
        counts_by_pdu={"PDUA": {"screened": 2, "eligible": 2}, "PDUB": {"screened": 1}},
    )
    restricted: Any = PersonFactory(crn="Y000002", team=world.teams["A1"])
    other: Any = PersonFactory(crn="Y000003", team=world.teams["B1"])
    for person in (world.person, restricted, other):
        ScreeningResultFactory(
            run=run,
            person=person,
            criteria_count=len(SIX),
            criteria_mask=ids_to_mask(SIX),
            evidence=_evidence(),
        )
    LimitedAccess.objects.create(person=restricted, username="someone_else", kind="RESTRICTION")
    # Referrals to list: one open, one of the restricted person (a limited-access row), one closed.
    manager, cc = world.users["manager"], world.users["cc_eoe"]
    for person in (world.person, restricted):
        referral_create(actor=manager, person=person, challenges="c", support_sought="s")
    closed = referral_create(actor=manager, person=other, challenges="c", support_sought="s")
    referral_close(referral=closed, actor=cc, closure_reason="withdrawn")
    return api_token_issue(actor="test", user=world.users["cc_eoe"]).key


@pytest.fixture
def api_key(db: Any) -> str:
    cache.clear()  # no throttle history from earlier tests
    return _build_data()


# Loaded once, at collection, from the live application: serving the schema reads no data.
# (Not schemathesis.pytest.from_fixture: with pytest 9 it fails on the removed Node._nodeid.)
schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, _test_wsgi_app())


@pytest.fixture
def api_schema() -> Any:
    return schema


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_generated_requests_conform_to_the_schema(case: Any, api_key: str) -> None:
    response = case.call_and_validate(headers={"Authorization": f"Token {api_key}"})
    assert response.status_code < 500


CHOSEN: list[tuple[str, dict[str, Any], dict[str, Any], int]] = [
    ("/api/v1/people/{crn}", {"crn": "Y000001"}, {}, 200),
    ("/api/v1/people/{crn}", {"crn": "Y000002"}, {}, 403),
    ("/api/v1/people/{crn}", {"crn": "Y999999"}, {}, 404),
    ("/api/v1/screening-runs/{month}/results", {"month": MONTH}, {}, 200),
    ("/api/v1/screening-runs/{month}/results", {"month": MONTH}, {"page_size": 1}, 200),
    ("/api/v1/screening-runs/{month}/results", {"month": MONTH}, {"pdu": "PDUB"}, 200),
    ("/api/v1/screening-runs/{month}/results", {"month": MONTH}, {"pdu": "PDUC"}, 404),
    ("/api/v1/screening-runs/{month}/results", {"month": MONTH}, {"eligible": "maybe"}, 400),
    ("/api/v1/screening-runs/{month}/results", {"month": MONTH}, {"page": 9}, 404),
    ("/api/v1/screening-runs/{month}", {"month": MONTH}, {}, 200),
    ("/api/v1/screening-runs/{month}", {"month": "2026-13"}, {}, 404),
    ("/api/v1/referrals", {}, {}, 200),
    ("/api/v1/referrals", {}, {"status": "closed"}, 200),
    ("/api/v1/referrals", {}, {"status": "lost"}, 400),
    ("/api/v1/referrals", {}, {"page": 9}, 404),
]


@pytest.mark.parametrize(("path", "path_parameters", "query", "status"), CHOSEN)
def test_responses_with_data_conform_to_the_schema(
    api_schema: Any,
    api_key: str,
    path: str,
    path_parameters: dict[str, Any],
    query: dict[str, Any],
    status: int,
) -> None:
    case = api_schema[path]["GET"].Case(path_parameters=path_parameters, query=query)
    response = case.call_and_validate(headers={"Authorization": f"Token {api_key}"})
    assert response.status_code == status
    if path.endswith("/results") and status == 200 and not query:
        rows = response.json()["results"]
        assert {"crn": "Y000002", "limited_access": True} in rows
    if path == "/api/v1/referrals" and status == 200:
        rows = response.json()["results"]
        assert len(rows) == (1 if query else 2)
        assert any(row["limited_access"] for row in rows) == (not query)


def test_the_schema_lists_the_operations(api_schema: Any) -> None:
    operations = {
        (result.ok().path, result.ok().method.upper()) for result in api_schema.get_all_operations()
    }
    assert operations == {
        ("/api/v1/people/{crn}", "GET"),
        ("/api/v1/screening-runs/{month}", "GET"),
        ("/api/v1/screening-runs/{month}/results", "GET"),
        ("/api/v1/referrals", "GET"),
        ("/api/v1/referrals", "POST"),
        ("/api/v1/referrals/{referral_id}", "GET"),
    }
