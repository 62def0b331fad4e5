"""The access matrix for the pages: each member of the standard cast against every page and download.

Expected outcomes are written out here from DESIGN.md section 2, not derived from accounts.access,
so the matrix checks the module rather than repeating it. The API has its own matrix (test_api.py).

The people, all listed (eligible) in November's run, in PDU A, team A1, managed by `manager`:
- OPEN: no limited access;
- EXCLUDED: an nDelius exclusion of `spo_a1`;
- RESTRICTED: a restriction allowing only `manager`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from complexcases.accounts.tests.cast import CAST_SCOPE, build_cast, build_org
from complexcases.people.models import LimitedAccess
from complexcases.people.tests.factories import (
    PersonFactory,
    ScreeningResultFactory,
    ScreeningRunFactory,
)

OPEN, EXCLUDED, RESTRICTED = "Y000001", "Y000002", "Y000003"
MONTH = "2026-11"
LIST = f"/lists/{MONTH}/PDUA/"
DOWNLOAD = f"/lists/{MONTH}/PDUA/download.csv"

# Who has the listed people of PDU A in scope (before limited access), and who may open PDU A.
IN_SCOPE = {"manager", "cover_a1", "spo_a1", "hos_a", "cc_eoe"}
OPENS_PDU_A = IN_SCOPE | {"colleague", "spo_a2", "analyst_eoe", "analyst_national"}
MAY_DOWNLOAD = {"hos_a", "cc_eoe"}
ANALYSTS = {"analyst_eoe", "analyst_national"}
SIGNED_OUT = {"inactive_spo"}  # an inactive account's session is not a signed-in user
CAST = list(CAST_SCOPE)  # the standard cast, defined once in accounts/tests/cast.py


def expected_person_status(username: str, crn: str) -> int:
    if username in SIGNED_OUT:
        return 302
    if username not in IN_SCOPE:
        return 404
    if crn == EXCLUDED and username == "spo_a1":
        return 403
    if crn == RESTRICTED and username != "manager":
        return 403
    return 200


@pytest.fixture(scope="module")
def _world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Any]:
    with django_db_blocker.unblock(), transaction.atomic():
        world: Any = build_cast(build_org())
        team, pdu, manager = world.teams["A1"], world.pdus["A"], world.users["manager"].staff
        people = {
            OPEN: world.person,
            EXCLUDED: PersonFactory(crn=EXCLUDED, team=team, pdu=pdu, offender_manager=manager),
            RESTRICTED: PersonFactory(crn=RESTRICTED, team=team, pdu=pdu, offender_manager=manager),
        }
        LimitedAccess.objects.create(person=people[EXCLUDED], username="spo_a1", kind="EXCLUSION")
        LimitedAccess.objects.create(
            person=people[RESTRICTED], username="manager", kind="RESTRICTION"
        )
        finished = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)
        run = ScreeningRunFactory(as_of=dt.date(2026, 11, 1), finished_at=finished)
        for person in people.values():
            ScreeningResultFactory(run=run, person=person, eligible=True)
        world.people = people
        yield world
        transaction.set_rollback(True)


@pytest.fixture
def world(_world: Any, db: Any) -> Any:
    return _world


def client_for(world: Any, username: str) -> Client:
    client = Client()
    client.force_login(world.users[username])
    return client


@pytest.mark.parametrize("username", CAST)
def test_person_pages(world: Any, username: str) -> None:
    client = client_for(world, username)
    for crn in (OPEN, EXCLUDED, RESTRICTED):
        response = client.get(f"/people/{crn}/")
        assert response.status_code == expected_person_status(username, crn), crn
        person = world.people[crn]
        if response.status_code == 403:
            body = response.content.decode()
            assert "limited access" in body.lower()
            assert person.surname not in body and person.forename not in body
        if response.status_code == 200:
            assert person.surname in response.content.decode()
            assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("username", CAST)
def test_pdu_list(world: Any, username: str) -> None:
    response = client_for(world, username).get(LIST)
    if username in SIGNED_OUT:
        assert response.status_code == 302
        return
    if username not in OPENS_PDU_A:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    body = response.content.decode()
    for crn, person in world.people.items():
        status = expected_person_status(username, crn)
        shown_in_full = status == 200 and username not in ANALYSTS
        assert (f'href="/people/{crn}/"' in body) == shown_in_full, crn
        assert (crn in body) == (username in IN_SCOPE), crn  # a refused row keeps its CRN
        assert (person.surname in body) == shown_in_full, crn
    if username in IN_SCOPE and username != "manager":
        assert "Limited access" in body


@pytest.mark.parametrize("username", CAST)
def test_list_download(world: Any, username: str) -> None:
    client = client_for(world, username)
    form = client.get(DOWNLOAD)
    posted = client.post(DOWNLOAD, {"reason": "Planning this month's conversations"})
    if username in SIGNED_OUT:
        assert (form.status_code, posted.status_code) == (302, 302)
        return
    if username not in MAY_DOWNLOAD:
        assert (form.status_code, posted.status_code) == (404, 404)
        return
    assert form.status_code == 200
    assert posted.status_code == 200
    rows = {row["crn"]: row for row in csv.DictReader(io.StringIO(posted.content.decode()))}
    assert set(rows) == {OPEN, EXCLUDED, RESTRICTED}
    assert rows[OPEN]["criteria_met"] != ""
    assert rows[RESTRICTED]["criteria_met"] == ""  # limited access: the CRN only


@pytest.mark.parametrize("username", CAST)
def test_aggregate_pages_and_administration(world: Any, username: str) -> None:
    client = client_for(world, username)
    signed_in = username not in SIGNED_OUT
    assert client.get("/").status_code == (200 if signed_in else 302)
    assert client.get("/runs/").status_code == (200 if signed_in else 302)
    expected_audit = 200 if username == "admin" else (404 if signed_in else 302)
    assert client.get("/audit/").status_code == expected_audit
    expected_admin = 200 if username == "admin" else 302
    assert client.get("/admin/").status_code == expected_admin


@pytest.mark.parametrize("username", sorted(ANALYSTS))
def test_analysts_never_receive_identifiers_from_any_page(world: Any, username: str) -> None:
    client = client_for(world, username)
    identifiers = set()
    for person in world.people.values():
        identifiers |= {person.crn, person.surname, person.date_of_birth.strftime("%-d %B %Y")}
    pages = ["/", "/runs/", LIST, f"{LIST}?near_misses=yes", DOWNLOAD]
    pages += [f"/people/{crn}/" for crn in world.people]
    for url in pages:
        body = client.get(url).content.decode()
        leaked = sorted(value for value in identifiers if value in body)
        assert leaked == [], (url, leaked)
