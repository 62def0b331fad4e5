"""The access matrix for My work: each member of the standard cast against /my-work/.

Expected outcomes are written out from DESIGN.md section 2 and the brief, not derived from the
code. The world: the cast's person (LISTED, eligible in November's run, PDU A, team A1, managed by
`manager`) with an open referral made by the manager, awaiting a reflective conversation.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from complexcases.accounts.tests.cast import CAST_SCOPE
from complexcases.core.models import AuditEvent
from complexcases.referrals import services
from complexcases.referrals.tests.world import LISTED, build_world

pytestmark = pytest.mark.django_db

CAST = list(CAST_SCOPE)
# Who sees the person's name on My work, and in which section.
IN_YOUR_REFERRALS = {"manager"}  # made it and manages the person (cover_a1 neither)
IN_AWAITING = {"spo_a1"}  # SPO of team A1
IN_NEW_REFERRALS = {"cc_eoe"}  # cc_team of the region
IN_PDU_REFERRALS = {"hos_a"}  # head of service of PDU A
SEES_NAME = IN_YOUR_REFERRALS | IN_AWAITING | IN_NEW_REFERRALS | IN_PDU_REFERRALS
NO_IDENTIFIERS = {"analyst_eoe", "analyst_national", "admin", "no_roles"}


@pytest.fixture
def world(db: Any) -> Any:
    world = build_world()
    world.referral = services.referral_create(
        actor=world.users["manager"],
        person=world.person,
        challenges="Distinctive challenge text",
        support_sought="s",
    )
    return world


@pytest.mark.parametrize("username", CAST)
def test_my_work_matrix(world: Any, username: str) -> None:
    client = Client()
    client.force_login(world.users[username])
    response = client.get("/my-work/")
    if username == "inactive_spo":
        assert response.status_code == 302  # not a signed-in user
        return
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert (escape(world.person.surname) in body) == (username in SEES_NAME)
    assert (LISTED in body) == (username in SEES_NAME)
    assert "Distinctive challenge text" not in body  # the referral's text stays on its page
    assert ('id="your-referrals"' in body) == (
        username in {"manager", "colleague", "cover_a1", "other_region_pp", "spo_a1", "spo_a2"}
    )
    assert ('id="awaiting-conversation"' in body) == (username in {"spo_a1", "spo_a2"})
    assert ('id="new-referrals"' in body) == (username in {"cc_eoe", "cc_ldn"})
    assert ('id="your-pdu"' in body) == (username in {"hos_a", "hos_b"})
    assert ('id="analyst"' in body) == (username in {"analyst_eoe", "analyst_national"})
    assert ('id="admin"' in body) == (username == "admin")
    listed = AuditEvent.objects.filter(
        action="list", object_type="my_work", actor_username=username
    )
    # Pages with identifiers are audited; the analyst's and admin's pointers carry none.
    assert listed.exists() == (username not in NO_IDENTIFIERS)


@pytest.mark.parametrize("username", ["analyst_eoe", "analyst_national", "admin"])
def test_analyst_and_admin_never_see_identifiers(world: Any, username: str) -> None:
    client = Client()
    client.force_login(world.users[username])
    body = client.get("/my-work/").content.decode()
    assert LISTED not in body and escape(world.person.surname) not in body
    assert "/referrals/" not in body and "/people/" not in body
