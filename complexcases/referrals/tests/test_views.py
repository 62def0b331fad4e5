"""Pages: the access matrix (cast × referral page, conversation form, referral form), the journeys
from the list and the person page, the list's "awaiting conversation" marker and the timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from complexcases.accounts.tests.cast import CAST_SCOPE
from complexcases.core.models import AuditEvent
from complexcases.people.models import LimitedAccess
from complexcases.referrals import services
from complexcases.referrals.models import Referral, ReflectiveConversation
from complexcases.referrals.tests.world import LISTED, MONTH, NOT_LISTED, build_world

pytestmark = pytest.mark.django_db

CAST = list(CAST_SCOPE)  # the standard cast, defined once in accounts/tests/cast.py
# Written out from DESIGN.md section 2 and the brief, not derived from the code.
SEES_PERSON = {"manager", "cover_a1", "spo_a1", "hos_a", "cc_eoe"}
RECORDS = {"manager", "cover_a1", "spo_a1"}  # practitioner or SPO who may see the person
REFERS = {"manager", "cover_a1", "spo_a1", "cc_eoe"}


def expected(username: str, allowed: set[str]) -> int:
    if username == "inactive_spo":
        return 302
    return 200 if username in allowed else 404


@pytest.fixture
def world(db: Any) -> Any:
    return build_world()


def client_for(world: Any, username: str) -> Client:
    client = Client()
    client.force_login(world.users[username])
    return client


@pytest.mark.parametrize("username", CAST)
def test_access_matrix(world: Any, username: str) -> None:
    # The open referral is made by the colleague's SPO so the manager's sight comes from the case.
    referral = services.referral_create(
        actor=world.users["spo_a1"],
        person=world.person,
        challenges="Hostile to staff",
        support_sought="Ideas",
    )
    client = client_for(world, username)
    assert client.get(f"/people/{LISTED}/conversation/").status_code == expected(username, RECORDS)
    page = client.get(f"/referrals/{referral.pk}/")
    assert page.status_code == expected(username, SEES_PERSON)
    if page.status_code == 200:
        assert "Hostile to staff" in page.content.decode()
        assert "no-store" in page["Cache-Control"]
    # The referral form redirects to the open referral for those who may refer.
    form = client.get(f"/people/{LISTED}/refer/")
    if username in REFERS:
        assert (form.status_code, form["Location"]) == (302, f"/referrals/{referral.pk}/")
    else:
        assert form.status_code == expected(username, set())


@pytest.mark.parametrize("username", CAST)
def test_referral_form_matrix_without_an_open_referral(world: Any, username: str) -> None:
    client = client_for(world, username)
    assert client.get(f"/people/{LISTED}/refer/").status_code == expected(username, REFERS)


def test_cc_team_sees_a_referred_person_who_is_not_listed(world: Any) -> None:
    cc = client_for(world, "cc_eoe")
    assert cc.get(f"/people/{NOT_LISTED}/").status_code == 404
    referral = services.referral_create(
        actor=world.users["manager"],
        person=world.not_listed,
        challenges="c",
        support_sought="s",
        route_reason="gender_identity",
    )
    assert cc.get(f"/people/{NOT_LISTED}/").status_code == 200
    assert cc.get(f"/referrals/{referral.pk}/").status_code == 200
    assert client_for(world, "cc_ldn").get(f"/referrals/{referral.pk}/").status_code == 404


def test_limited_access_refuses_the_referral_page_with_403(world: Any) -> None:
    referral = services.referral_create(
        actor=world.users["manager"],
        person=world.person,
        challenges="Distinctive challenge text",
        support_sought="s",
    )
    LimitedAccess.objects.create(person=world.person, username="spo_a1", kind="EXCLUSION")
    response = client_for(world, "spo_a1").get(f"/referrals/{referral.pk}/")
    assert response.status_code == 403
    assert "Distinctive challenge text" not in response.content.decode()
    assert world.person.surname not in response.content.decode()


def test_unknown_referral_is_404_and_audited(world: Any) -> None:
    assert client_for(world, "cc_eoe").get("/referrals/999999/").status_code == 404
    assert AuditEvent.objects.filter(action="refused", object_type="referral").exists()


def test_spo_records_a_conversation_then_refers_and_the_timeline_shows_both(world: Any) -> None:
    client = client_for(world, "spo_a1")
    form = client.get(f"/people/{LISTED}/conversation/")
    assert "Record a reflective conversation" in form.content.decode()
    recorded = client.post(
        f"/people/{LISTED}/conversation/",
        {
            "outcome": "refer_to_complex_cases",
            "held_on_day": "5",
            "held_on_month": "11",
            "held_on_year": "2026",
            "note": "Agreed to refer",
        },
    )
    assert (recorded.status_code, recorded["Location"]) == (302, f"/people/{LISTED}/refer/")
    refer_form = client.get(recorded["Location"]).content.decode()
    assert "On the 2026-11 monthly list" in refer_form
    assert "Why are you referring" not in refer_form  # no route reason for a listed person
    sent = client.post(
        f"/people/{LISTED}/refer/",
        {"challenges": "Accommodation keeps failing", "support_sought": "Housing expertise"},
    )
    referral = Referral.objects.get()
    assert sent["Location"] == f"/referrals/{referral.pk}/"
    page = client.get(sent["Location"]).content.decode()
    assert "Accommodation keeps failing" in page and "On the monthly list" in page
    services.referral_transition(
        referral=referral, to="triage_booked", actor=world.users["cc_eoe"], reason="Slot found"
    )
    person_page = client.get(f"/people/{LISTED}/").content.decode()
    timeline = person_page[person_page.index('id="timeline"') :]
    first = timeline.index("Reflective conversation recorded")
    second = timeline.index("Referral made")
    third = timeline.index("Received → Triage booked")
    assert first < second < third
    assert "View the open referral" in person_page
    assert AuditEvent.objects.filter(action="view", object_type="referral").exists()


def test_referral_form_errors_are_summarised(world: Any) -> None:
    client = client_for(world, "manager")
    response = client.post(f"/people/{NOT_LISTED}/refer/", {"challenges": "", "route_reason": ""})
    body = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in body
    assert 'href="#id_challenges"' in body and "Enter what is challenging" in body
    assert "Select why you are referring this person" in body
    assert not Referral.objects.exists()


def test_conversation_form_refuses_an_impossible_date(world: Any) -> None:
    response = client_for(world, "manager").post(
        f"/people/{LISTED}/conversation/",
        {"outcome": "no_further_support", "held_on_day": "31", "held_on_month": "2"},
    )
    assert response.status_code == 400
    assert "Enter the date of the conversation as a real date" in response.content.decode()
    assert not ReflectiveConversation.objects.exists()


def test_the_list_marks_people_awaiting_a_conversation(world: Any) -> None:
    client = client_for(world, "spo_a1")
    before = client.get(f"/lists/{MONTH}/PDUA/").content.decode()
    assert "Awaiting conversation" in before
    assert f'href="/people/{LISTED}/conversation/"' in before
    services.conversation_record(
        actor=world.users["spo_a1"],
        person=world.person,
        outcome="no_further_support",
        held_on=dt.date(2026, 11, 4),
    )
    after = client.get(f"/lists/{MONTH}/PDUA/").content.decode()
    assert "Awaiting conversation" not in after


def test_head_of_service_sees_the_marker_but_no_record_link(world: Any) -> None:
    body = client_for(world, "hos_a").get(f"/lists/{MONTH}/PDUA/").content.decode()
    assert "Awaiting conversation" in body
    assert "/conversation/" not in body


# --- the Complex Cases team's referrals page and closing on the referral page ----------------

# Written out from DESIGN.md section 2 and the brief. The referrals page is the Complex Cases
# team's work queue: cc_team only (the other region's team sees the page, without these rows);
# practitioners, SPOs and heads of service find their referrals on My work, so /referrals/ is a
# 404 for them, as for analysts (never identifiers) and admins (no case data).
RUNS_REFERRALS = {"cc_eoe", "cc_ldn"}
MANAGES = {"cc_eoe"}  # cc_team of the referral's region


def _referral(world: Any) -> Referral:
    return services.referral_create(
        actor=world.users["manager"],
        person=world.person,
        challenges="Hostile to staff",
        support_sought="Ideas",
    )


@pytest.mark.parametrize("username", CAST)
def test_referrals_page_access_matrix(world: Any, username: str) -> None:
    _referral(world)
    response = client_for(world, username).get("/referrals/")
    assert response.status_code == expected(username, RUNS_REFERRALS)
    if response.status_code == 200:
        body = response.content.decode()
        assert "no-store" in response["Cache-Control"]
        # Only the team of the referral's region sees its row.
        assert (LISTED in body) == (username in MANAGES)
        assert (escape(world.person.surname) in body) == (username in MANAGES)


@pytest.mark.parametrize("username", CAST)
def test_referral_close_access_matrix(world: Any, username: str) -> None:
    referral = _referral(world)
    client = client_for(world, username)
    page = client.get(f"/referrals/{referral.pk}/")
    if page.status_code == 200:
        assert ("Close the referral" in page.content.decode()) == (username in MANAGES)
        assert "Move the referral" not in page.content.decode()
    closed = client.post(
        f"/referrals/{referral.pk}/",
        {
            "action": "close",
            "close-closure_reason": "withdrawn",
            "close-from_status": "received",
        },
    )
    referral.refresh_from_db()
    if username in MANAGES:
        assert (closed.status_code, closed["Location"]) == (302, f"/referrals/{referral.pk}/")
        assert (referral.status, referral.closure_reason) == ("closed", "withdrawn")
    else:
        # Refused as for viewing: 404 out of scope or without the role, sign-in when inactive.
        assert closed.status_code == expected(username, set())
        assert referral.status == "received"
    # A generic move is refused whoever asks: 400 for the team, the same refusal as above for
    # everyone else (who learns nothing about the referral).
    moved = client.post(
        f"/referrals/{referral.pk}/",
        {"action": "move", "move-to": "triage_booked", "move-reason": "Slot on Tuesday"},
    )
    assert moved.status_code == (400 if username in MANAGES else expected(username, set()))
    referral.refresh_from_db()
    assert referral.status == ("closed" if username in MANAGES else "received")


def test_refused_close_is_audited(world: Any) -> None:
    referral = _referral(world)
    response = client_for(world, "hos_a").post(
        f"/referrals/{referral.pk}/",
        {"action": "close", "close-closure_reason": "withdrawn"},
    )
    assert response.status_code == 404
    assert AuditEvent.objects.filter(
        action="refused", object_type="referral", object_id=str(referral.pk)
    ).exists()
    assert Referral.objects.get(pk=referral.pk).status == "received"


def test_limited_access_refuses_a_close_with_403(world: Any) -> None:
    referral = _referral(world)
    LimitedAccess.objects.create(person=world.person, username="cc_eoe", kind="EXCLUSION")
    client = client_for(world, "cc_eoe")
    response = client.post(
        f"/referrals/{referral.pk}/",
        {"action": "close", "close-closure_reason": "withdrawn"},
    )
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.status == "received"
    queue = client.get("/referrals/").content.decode()
    assert LISTED in queue and "Limited access" in queue
    assert escape(world.person.surname) not in queue
    assert f'href="/referrals/{referral.pk}/"' not in queue
