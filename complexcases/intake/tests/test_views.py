"""The needs-attention pages: who reaches them, completing and dismissing, query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from complexcases.accounts.models import Region
from complexcases.accounts.tests.cast import CAST_SCOPE
from complexcases.core.models import AuditEvent
from complexcases.intake import selectors, services
from complexcases.intake.models import InboundEmail
from complexcases.intake.tests.mail import STRANGER_ADDRESS, make_email, stored
from complexcases.people.tests.factories import PersonFactory, ScreeningResultFactory
from complexcases.referrals import services as referral_services
from complexcases.referrals.models import Referral
from complexcases.referrals.tests.world import LISTED, NOT_LISTED

pytestmark = pytest.mark.django_db

CAST = list(CAST_SCOPE)
WORKS_QUEUE = {"cc_eoe"}  # the Complex Cases team of the mailbox's region (EOE), nobody else
NEAR_MISS = "Y000005"

BODY = f"""Please help with {LISTED}.

What is challenging:
Hostile to staff.

What support is sought:
Ideas.
"""


def needs_attention(body: str = BODY, sender: str = STRANGER_ADDRESS, **kwargs: Any) -> Any:
    ingested = services.ingest_message(
        raw=make_email(sender=sender, body=body, **kwargs), region=Region.objects.get(code="EOE")
    )
    return stored(ingested)


def client_for(world: Any, username: str) -> Client:
    client = Client()
    client.force_login(world.users[username])
    return client


def expected(username: str) -> int:
    if username == "inactive_spo":
        return 302  # signed out: to the sign-in page
    return 200 if username in WORKS_QUEUE else 404


@pytest.mark.parametrize("username", CAST)
def test_access_matrix(world: Any, username: str) -> None:
    email = needs_attention()
    client = client_for(world, username)
    queue = client.get("/referrals/needs-attention/")
    detail = client.get(f"/referrals/needs-attention/{email.pk}/")
    post = client.post(
        f"/referrals/needs-attention/{email.pk}/", {"action": "dismiss", "reason": "x"}
    )
    assert queue.status_code == expected(username)
    assert detail.status_code == expected(username)
    if username in WORKS_QUEUE:
        assert "no-store" in queue["Cache-Control"]
        assert "Hostile to staff." in detail.content.decode()
        assert post.status_code == 302
    else:
        assert post.status_code == expected(username)
        email.refresh_from_db()
        assert email.status == "needs_attention"
    if expected(username) == 404:
        assert AuditEvent.objects.filter(
            action="refused", object_type="inbound_email", actor_username=username
        ).exists()


def test_anonymous_is_sent_to_sign_in(world: Any) -> None:
    email = needs_attention()
    assert Client().get("/referrals/needs-attention/").status_code == 302
    assert Client().get(f"/referrals/needs-attention/{email.pk}/").status_code == 302


def test_queue_lists_what_needs_attention_in_the_region_only(world: Any) -> None:
    waiting = needs_attention(subject="First one")
    referred = needs_attention(sender="manager@example.justice.invalid", subject="Made one")
    elsewhere = needs_attention(subject="London one")
    InboundEmail.objects.filter(pk=elsewhere.pk).update(region=world.regions["LDN"])
    assert referred.status == "referred"

    page = client_for(world, "cc_eoe").get("/referrals/needs-attention/").content.decode()

    assert "First one" in page
    assert "Made one" not in page and "London one" not in page
    assert f"/referrals/needs-attention/{waiting.pk}/" in page
    assert "The sender is not a known member of staff" in page
    assert AuditEvent.objects.filter(
        action="list", object_type="inbound_email", actor_username="cc_eoe"
    ).exists()
    # The queue belongs to the mailbox's region (CC_IMAP_REGION): nobody else has one.
    for username in ("cc_ldn", "admin", "manager", "analyst_eoe"):
        assert list(selectors.needs_attention_for(world.users[username])) == []


def test_queue_query_count_does_not_grow_with_the_rows(world: Any) -> None:
    client = client_for(world, "cc_eoe")
    needs_attention(sender="colleague@example.justice.invalid")  # a known sender, no CRN
    with CaptureQueriesContext(connection) as one:
        assert client.get("/referrals/needs-attention/").status_code == 200
    for _ in range(6):
        needs_attention(sender="colleague@example.justice.invalid", body="No CRN here.")
        needs_attention()
    with CaptureQueriesContext(connection) as many:
        page = client.get("/referrals/needs-attention/")
    assert page.content.decode().count("/referrals/needs-attention/") >= 13
    assert len(many) == len(one)
    # session, user, roles, mailbox region, count, audit (with its savepoint), rows, session save
    # Twelve, plus two for limited access on the people the emails name (one to find them, one
    # for their entries), whatever the number of rows.
    assert len(many) <= 14


def test_detail_shows_the_original_email_and_is_audited_with_the_crn(world: Any) -> None:
    email = needs_attention()
    page = client_for(world, "cc_eoe").get(f"/referrals/needs-attention/{email.pk}/")
    text = page.content.decode()
    assert STRANGER_ADDRESS in text
    assert "Please help with Y000001." in text
    assert 'value="Y000001"' in text  # the CRN the email names, ready to confirm
    assert AuditEvent.objects.filter(
        action="view", object_type="inbound_email", object_id=str(email.pk), person_crn=LISTED
    ).exists()


def test_completing_makes_the_referral_as_the_team_member(world: Any) -> None:
    email = needs_attention()
    response = client_for(world, "cc_eoe").post(
        f"/referrals/needs-attention/{email.pk}/",
        {
            "action": "complete",
            "crn": "y000001",
            "challenges": "Hostile to staff.",
            "support_sought": "Ideas.",
        },
    )
    referral = Referral.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/referrals/{referral.pk}/")
    assert referral.person == world.person
    assert referral.referred_by == world.users["cc_eoe"]
    assert referral.route == "monthly_list"
    email.refresh_from_db()
    assert (email.status, email.referral, email.resolved_by) == (
        "completed",
        referral,
        world.users["cc_eoe"],
    )
    assert [t.to_status for t in email.transitions.all()] == ["needs_attention", "completed"]
    assert selectors.email_for_referral(referral) == email
    assert AuditEvent.objects.filter(
        action="transition", object_type="inbound_email", person_crn=LISTED
    ).exists()
    # Done: the page shows it, without the forms; a second completion is refused.
    client = client_for(world, "cc_eoe")
    page = client.get(f"/referrals/needs-attention/{email.pk}/").content.decode()
    assert "Make the referral" not in page and f"/referrals/{referral.pk}/" in page
    again = client.post(
        f"/referrals/needs-attention/{email.pk}/",
        {"action": "complete", "crn": LISTED, "challenges": "x", "support_sought": "y"},
    )
    assert again.status_code == 302 and Referral.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"crn": "", "challenges": "a", "support_sought": "b"}, "crn", "Enter the person"),
        ({"crn": "12345", "challenges": "a", "support_sought": "b"}, "crn", "Enter a CRN"),
        (
            {"crn": NOT_LISTED, "challenges": "a", "support_sought": "b"},
            "crn",
            "There is no person with this CRN that you can refer",
        ),
        (
            {"crn": "Z999999", "challenges": "a", "support_sought": "b"},
            "crn",
            "There is no person with this CRN that you can refer",
        ),
        ({"crn": LISTED, "challenges": "", "support_sought": "b"}, "challenges", "Enter what"),
        ({"crn": LISTED, "challenges": "a", "support_sought": " "}, "support_sought", "Enter"),
        (
            {"crn": NEAR_MISS, "challenges": "a", "support_sought": "b"},
            "route_reason_0",
            "Select why you are referring this person",
        ),
        (
            {"crn": NEAR_MISS, "challenges": "a", "support_sought": "b", "route_reason": "other"},
            "route_reason_other",
            "Enter the reason for the referral",
        ),
    ],
)
def test_completing_shows_validation_errors(
    world: Any, data: dict[str, str], field: str, message: str
) -> None:
    near_miss = PersonFactory(
        crn=NEAR_MISS,
        team=world.teams["A1"],
        pdu=world.pdus["A"],
        offender_manager=world.users["manager"].staff,
    )
    ScreeningResultFactory(
        run=world.run, person=near_miss, criteria_count=5, eligible=False, near_miss=True
    )
    email = needs_attention()
    response = client_for(world, "cc_eoe").post(
        f"/referrals/needs-attention/{email.pk}/", {"action": "complete", **data}
    )
    text = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in text and message in text
    assert f'href="#id_{field}"' in text
    assert Referral.objects.count() == 0
    email.refresh_from_db()
    assert email.status == "needs_attention"


def test_completing_for_a_person_not_on_the_list_needs_a_reason(world: Any) -> None:
    near_miss = PersonFactory(
        crn=NEAR_MISS,
        team=world.teams["A1"],
        pdu=world.pdus["A"],
        offender_manager=world.users["manager"].staff,
    )
    ScreeningResultFactory(
        run=world.run, person=near_miss, criteria_count=5, eligible=False, near_miss=True
    )
    email = needs_attention(body=f"About {NEAR_MISS}: hostile.")
    response = client_for(world, "cc_eoe").post(
        f"/referrals/needs-attention/{email.pk}/",
        {
            "action": "complete",
            "crn": NEAR_MISS,
            "challenges": "Hostile.",
            "support_sought": "Ideas.",
            "route_reason": "gender_identity",
        },
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.route, referral.route_reason) == ("professional_judgement", "gender_identity")


def test_completing_for_a_person_with_an_open_referral_is_refused(world: Any) -> None:
    referral_services.referral_create(
        actor=world.users["manager"], person=world.person, challenges="a", support_sought="b"
    )
    email = needs_attention()
    response = client_for(world, "cc_eoe").post(
        f"/referrals/needs-attention/{email.pk}/",
        {"action": "complete", "crn": LISTED, "challenges": "a", "support_sought": "b"},
    )
    assert response.status_code == 400
    assert "This person already has an open referral" in response.content.decode()
    assert Referral.objects.count() == 1


def test_dismissing_needs_a_reason(world: Any) -> None:
    email = needs_attention()
    client = client_for(world, "cc_eoe")
    empty = client.post(f"/referrals/needs-attention/{email.pk}/", {"action": "dismiss"})
    assert empty.status_code == 400
    assert "Enter why you are dismissing this email" in empty.content.decode()
    assert 'href="#id_reason"' in empty.content.decode()

    done = client.post(
        f"/referrals/needs-attention/{email.pk}/",
        {"action": "dismiss", "reason": "Not a referral: a general enquiry"},
    )

    assert (done.status_code, done["Location"]) == (302, "/referrals/needs-attention/")
    email.refresh_from_db()
    assert (email.status, email.resolution_note, email.resolved_by) == (
        "dismissed",
        "Not a referral: a general enquiry",
        world.users["cc_eoe"],
    )
    assert AuditEvent.objects.filter(
        action="transition", object_type="inbound_email", object_id=str(email.pk)
    ).exists()
    assert selectors.needs_attention_for(world.users["cc_eoe"]).count() == 0
    page = client.get(f"/referrals/needs-attention/{email.pk}/").content.decode()
    assert "Not a referral: a general enquiry" in page
    again = client.post(
        f"/referrals/needs-attention/{email.pk}/", {"action": "dismiss", "reason": "again"}
    )
    assert again.status_code == 302
    email.refresh_from_db()
    assert email.resolution_note == "Not a referral: a general enquiry"


def test_an_unknown_action_changes_nothing(world: Any) -> None:
    email = needs_attention()
    response = client_for(world, "cc_eoe").post(
        f"/referrals/needs-attention/{email.pk}/", {"action": "delete"}
    )
    assert response.status_code == 400
    email.refresh_from_db()
    assert email.status == "needs_attention"


def test_the_referral_include_shows_the_original_email(world: Any) -> None:
    from django.template.loader import render_to_string

    email = needs_attention()
    html = render_to_string("intake/_referral_email.html", {"inbound_email": email})
    assert "Original email" in html and "Hostile to staff." in html
    assert render_to_string("intake/_referral_email.html", {}).strip() == ""


def test_the_email_text_is_escaped(world: Any) -> None:
    email = needs_attention(body="<script>alert(1)</script> Y000001", subject="<b>bold</b>")
    page = client_for(world, "cc_eoe").get(f"/referrals/needs-attention/{email.pk}/")
    text = page.content.decode()
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    assert "<b>bold</b>" not in text


def test_an_email_about_a_person_whose_limited_access_refuses_the_team_member_is_hidden(
    db: Any,
) -> None:
    from complexcases.accounts.tests.cast import build_cast, build_org
    from complexcases.intake import services as intake_services
    from complexcases.people.models import LimitedAccess

    world: Any = build_cast(build_org())
    raw = (
        b"From: someone@elsewhere.example\r\nTo: cc@justice.example\r\n"
        b"Subject: About Y000001\r\nMessage-ID: <limited@elsewhere.example>\r\n\r\n"
        b"Please look at Y000001.\r\n"
    )
    intake_services.ingest_message(raw=raw, region=world.regions["EOE"])
    email = InboundEmail.objects.get()
    cc = world.users["cc_eoe"]
    LimitedAccess.objects.create(person=world.person, username=cc.username, kind="EXCLUSION")
    client = Client()
    client.force_login(cc)
    queue = client.get("/referrals/needs-attention/").content.decode()
    assert "About Y000001" not in queue and "Limited access" in queue
    detail = client.get(f"/referrals/needs-attention/{email.pk}/")
    assert detail.status_code == 403
    assert "Please look at" not in detail.content.decode()
