"""POST /api/v1/referrals and GET /api/v1/referrals/{id} (DESIGN.md section 6, a contract)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from complexcases.accounts.tokens import api_token_issue
from complexcases.core.models import AuditEvent
from complexcases.people.models import LimitedAccess
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
