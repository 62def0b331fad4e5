"""POST /api/v1/referrals, GET /api/v1/referrals/{id} (DESIGN.md section 6, a contract) and
GET /api/v1/referrals?status= (the referrals the caller may see)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from complexcases.accounts.tests.cast import CAST_SCOPE
from complexcases.accounts.tokens import api_token_issue
from complexcases.core.models import AuditEvent
from complexcases.people.models import LimitedAccess
from complexcases.people.tests.factories import PersonFactory
from complexcases.referrals import services
from complexcases.referrals.models import Referral
from complexcases.referrals.tests.world import LISTED, NOT_LISTED, build_world

pytestmark = pytest.mark.django_db

URL = "/api/v1/referrals"


@pytest.fixture
def world(db: Any) -> Any:
    cache.clear()
    return build_world()


def api(world: Any, username: str) -> APIClient:
    client = APIClient()
    key = api_token_issue(actor="test", user=world.users[username]).key
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "crn": LISTED,
        "challenges": "Keeps missing appointments",
        "support_sought": "A psychologist's view",
        "route": "monthly_list",
        **overrides,
    }


def test_post_creates_a_referral_and_get_reads_it(world: Any) -> None:
    client = api(world, "manager")
    created = client.post(URL, body(), format="json")
    assert created.status_code == 201
    data = created.json()
    assert {k: data[k] for k in ("crn", "status", "route")} == {
        "crn": LISTED,
        "status": "received",
        "route": "monthly_list",
    }
    assert Referral.objects.get().pk == data["id"]
    read = client.get(f"{URL}/{data['id']}")
    assert read.status_code == 200
    got = read.json()
    assert (got["id"], got["crn"], got["status"], got["route"]) == (
        data["id"],
        LISTED,
        "received",
        "monthly_list",
    )
    assert got["history"][0]["to_status"] == "received"
    assert AuditEvent.objects.filter(object_type="referral", action="view").exists()


def test_second_open_referral_is_409_with_the_open_id(world: Any) -> None:
    client = api(world, "manager")
    first = client.post(URL, body(), format="json").json()
    second = client.post(URL, body(), format="json")
    assert second.status_code == 409
    assert second.json()["id"] == first["id"]


def test_validation_errors_are_400_with_field_messages(world: Any) -> None:
    client = api(world, "manager")
    missing = client.post(URL, {"crn": LISTED}, format="json")
    assert missing.status_code == 400
    assert {"challenges", "support_sought", "route"} <= set(missing.json())
    not_listed = client.post(URL, body(crn=NOT_LISTED), format="json")
    assert not_listed.status_code == 400
    assert "not on the latest monthly list" in not_listed.json()["route"][0]
    no_reason = client.post(
        URL, body(crn=NOT_LISTED, route="professional_judgement"), format="json"
    )
    assert no_reason.status_code == 400 and "route_reason" in no_reason.json()
    ok = client.post(
        URL,
        body(crn=NOT_LISTED, route="professional_judgement", route_reason="gender_identity"),
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["route_reason"] == "gender_identity"


@pytest.mark.parametrize("username", ["other_region_pp", "colleague", "hos_a", "analyst_eoe"])
def test_no_access_is_404(world: Any, username: str) -> None:
    assert api(world, username).post(URL, body(), format="json").status_code == 404
    referral = api(world, "manager").post(URL, body(), format="json").json()
    assert api(world, username).get(f"{URL}/{referral['id']}").status_code == (
        200 if username == "hos_a" else 404
    )
    assert Referral.objects.count() == 1


def test_unknown_crn_and_id_are_404_and_no_credentials_401(world: Any) -> None:
    client = api(world, "cc_eoe")
    assert client.post(URL, body(crn="Z999999"), format="json").status_code == 404
    assert client.get(f"{URL}/123456").status_code == 404
    assert client.get(f"{URL}/999999999999999999").status_code == 404
    assert APIClient().post(URL, body(), format="json").status_code == 401


def test_limited_access_is_403_with_the_crn_only(world: Any) -> None:
    LimitedAccess.objects.create(person=world.person, username="manager", kind="RESTRICTION")
    response = api(world, "spo_a1").post(URL, body(), format="json")
    assert response.status_code == 403
    assert (
        response.json()["crn"] == LISTED and world.person.surname not in response.content.decode()
    )


# --- GET /api/v1/referrals ----------------------------------------------------------------------


def _referred(world: Any, crn: str, *, pdu: str = "A", team: str = "A1") -> Referral:
    person: Any = PersonFactory(
        crn=crn,
        team=world.teams[team],
        pdu=world.pdus[pdu],
        offender_manager=world.users["manager"].staff,
    )
    return services.referral_create(
        actor=world.users["manager"],
        person=person,
        challenges="Distinctive challenge text",
        support_sought="s",
        route_reason="practitioner_concern",
    )


def _crns(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["crn"] for row in response.json()["results"]]


# Who may list the referral of a person in PDU A, team A1, managed by `manager` (made by the
# manager): whoever may GET it by id (DESIGN.md section 2), written out here.
LISTS_IT = {"manager", "cover_a1", "spo_a1", "hos_a", "cc_eoe"}


@pytest.mark.parametrize("username", list(CAST_SCOPE))
def test_list_matrix(world: Any, username: str) -> None:
    _referred(world, "Y100001")
    if username == "inactive_spo":
        return  # an inactive account cannot hold a token that authenticates
    response = api(world, username).get(URL)
    if username in {"analyst_eoe", "analyst_national", "admin", "no_roles"}:
        # Never identifiers: the same 404 as for anything not theirs.
        assert response.status_code == 404
        return
    assert ("Y100001" in _crns(response)) == (username in LISTS_IT)


def test_list_filters_by_status_oldest_first_and_leaves_closed_out_by_default(
    world: Any,
) -> None:
    cc = world.users["cc_eoe"]
    first = _referred(world, "Y100001")
    second = _referred(world, "Y100002")
    third = _referred(world, "Y100003")
    services.referral_transition(referral=second, to="triage_booked", actor=cc, reason="r")
    services.referral_close(referral=third, actor=cc, closure_reason="withdrawn")
    client = api(world, "cc_eoe")
    assert _crns(client.get(URL)) == ["Y100001", "Y100002"]
    assert _crns(client.get(URL, {"status": "received"})) == ["Y100001"]
    closed = client.get(URL, {"status": "closed"}).json()["results"]
    assert [(r["id"], r["status"], r["closure_reason"]) for r in closed] == [
        (third.pk, "closed", "withdrawn")
    ]
    row = client.get(URL, {"status": "received"}).json()["results"][0]
    assert row["id"] == first.pk and row["pdu_code"] == "PDUA" and row["team_code"] == "TA1"
    assert row["limited_access"] is False and row["route"] == "professional_judgement"
    assert "challenges" not in row  # the sensitive text is on the referral, not in lists


def test_unknown_status_is_400_with_a_clear_message(world: Any) -> None:
    response = api(world, "cc_eoe").get(URL, {"status": "lost"})
    assert response.status_code == 400
    message = response.json()["status"][0]
    assert '"lost" is not a referral status' in message and "awaiting_panel" in message


def test_limited_access_rows_carry_the_id_and_crn_only(world: Any) -> None:
    referral = _referred(world, "Y100001")
    LimitedAccess.objects.create(person=referral.person, username="manager", kind="RESTRICTION")
    response = api(world, "cc_eoe").get(URL)
    assert response.json()["results"] == [
        {"id": referral.pk, "crn": "Y100001", "limited_access": True}
    ]
    assert referral.person.surname not in response.content.decode()


def test_list_is_paginated_and_audited(world: Any) -> None:
    for number in range(1, 4):
        _referred(world, f"Y10000{number}")
    client = api(world, "cc_eoe")
    page = client.get(URL, {"page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert _crns(client.get(URL, {"page_size": 2, "page": 2})) == ["Y100003"]
    assert client.get(URL, {"page": 9}).status_code == 404
    assert client.get(URL, {"page_size": 0}).status_code == 400
    event = AuditEvent.objects.filter(action="list", object_type="referrals").first()
    assert event is not None and (event.details or {})["channel"] == "api"
    assert APIClient().get(URL).status_code == 401


# The token (with its last-used stamp), the roles, the audit record (three statements in a
# savepoint), the page's count and the page of rows. A bound, not a measurement.
LIST_MAX_QUERIES = 9


def test_list_queries_do_not_grow_with_rows(world: Any, django_assert_max_num_queries: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(world, "cc_eoe")
    _referred(world, "Y100001")
    client.get(URL)  # the token's first use is stamped once
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    for number in range(2, 20):
        _referred(world, f"Y1{number:05d}", pdu="B", team="B1")
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL).status_code == 200
    assert len(few) == len(many)
    with django_assert_max_num_queries(LIST_MAX_QUERIES):
        client.get(URL)


def test_an_empty_status_is_400_not_everything(world: Any) -> None:
    response = api(world, "cc_eoe").get(URL, {"status": ""})
    assert response.status_code == 400
    assert "is not a referral status" in response.json()["status"][0]
