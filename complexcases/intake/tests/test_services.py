"""Storing a message and deciding what it becomes, without IMAP; the demo seed; the queue's
services."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from complexcases.accounts.models import Region
from complexcases.intake import selectors, services
from complexcases.intake.demo import demo_seed
from complexcases.intake.models import InboundEmail
from complexcases.intake.states import AttentionReason
from complexcases.intake.tests.mail import (
    MANAGER_ADDRESS,
    STRANGER_ADDRESS,
    make_email,
    stored,
)
from complexcases.notifications.models import OutboxMessage
from complexcases.people.tests.factories import UserFactory
from complexcases.referrals import services as referral_services
from complexcases.referrals.models import Referral
from complexcases.referrals.tests.world import LISTED, NOT_LISTED

pytestmark = pytest.mark.django_db


def ingest(raw: bytes) -> services.Ingested:
    return services.ingest_message(raw=raw, region=Region.objects.get(code="EOE"))


def reason_of(ingested: services.Ingested) -> str:
    return str(stored(ingested).reason)


@pytest.mark.parametrize(
    ("sender", "subject", "body", "reason"),
    [
        (MANAGER_ADDRESS, "Two people", f"{LISTED} and {NOT_LISTED}", "several_crns"),
        (MANAGER_ADDRESS, f"Referral {LISTED}", "", "incomplete"),
        ("MANAGER@EXAMPLE.JUSTICE.INVALID", "Referral", "No CRN", "no_crn"),  # any case
        (STRANGER_ADDRESS, "Referral", f"About {LISTED}", "unknown_sender"),
    ],
)
def test_what_needs_attention_and_why(
    world: Any, sender: str, subject: str, body: str, reason: str
) -> None:
    ingested = ingest(make_email(sender=sender, subject=subject, body=body))
    assert ingested.outcome == "needs_attention"
    assert reason_of(ingested) == reason
    assert Referral.objects.count() == 0


def test_a_known_sender_not_on_the_list_refers_on_professional_judgement(world: Any) -> None:
    ingested = ingest(make_email(body=f"About {NOT_LISTED}: will not engage."))
    assert ingested.outcome == "referred"
    referral = Referral.objects.get()
    assert (referral.route, referral.route_reason) == (
        "professional_judgement",
        "practitioner_concern",
    )
    assert referral.challenges == f"About {NOT_LISTED}: will not engage."


def test_an_inactive_or_ambiguous_sender_is_unknown(world: Any) -> None:
    world.users["manager"].is_active = False
    world.users["manager"].save(update_fields=["is_active"])
    assert reason_of(ingest(make_email())) == "unknown_sender"
    UserFactory(username="twin1", email="shared@example.justice.invalid")
    UserFactory(username="twin2", email="shared@example.justice.invalid")
    assert reason_of(ingest(make_email(sender="shared@example.justice.invalid"))) == (
        "unknown_sender"
    )


def test_ingesting_twice_is_a_duplicate(world: Any) -> None:
    raw = make_email()
    assert ingest(raw).outcome == "referred"
    assert ingest(raw) == services.Ingested("duplicate")
    assert (InboundEmail.objects.count(), Referral.objects.count()) == (1, 1)


def test_a_message_without_message_id_is_deduplicated_by_its_bytes(world: Any) -> None:
    raw = b"From: someone@partner.example.invalid\r\nSubject: Hi\r\n\r\nHello\r\n"
    assert ingest(raw).outcome == "needs_attention"
    assert ingest(raw).outcome == "duplicate"


def test_no_acknowledgement_to_an_invalid_or_robot_address(world: Any) -> None:
    ingest(make_email(sender="mailer-daemon@partner.example.invalid", body="Bounce"))
    ingest(make_email(sender="bad@@example.invalid", body="x"))
    assert not OutboxMessage.objects.exists()
    assert InboundEmail.objects.count() == 2


def test_demo_seed_is_one_needs_attention_email_and_idempotent(world: Any) -> None:
    arguments = {
        "region_code": "EOE",
        "cc_team_user": world.users["cc_eoe"],
        "known_sender_user": world.users["manager"],
        "crn_referable": LISTED,
    }
    demo_seed(**arguments)
    demo_seed(**arguments)
    (email,) = InboundEmail.objects.all()
    assert (email.status, email.reason) == ("needs_attention", AttentionReason.UNKNOWN_SENDER)
    assert email.crns_named == []
    assert list(selectors.needs_attention_for(world.users["cc_eoe"])) == [email]


def test_complete_and_dismiss_refuse_an_email_already_dealt_with(world: Any) -> None:
    email = stored(ingest(make_email(sender=STRANGER_ADDRESS)))
    cc = world.users["cc_eoe"]
    services.inbound_email_dismiss(actor=cc, inbound_email=email, reason="Spam")
    with pytest.raises(services.TransitionNotAllowed):
        services.inbound_email_dismiss(actor=cc, inbound_email=email, reason="Again")
    with pytest.raises(services.TransitionNotAllowed):
        services.inbound_email_complete(
            actor=cc, inbound_email=email, crn=LISTED, challenges="a", support_sought="b"
        )
    assert Referral.objects.count() == 0


def test_complete_refuses_a_person_with_an_open_referral_and_keeps_the_email(world: Any) -> None:
    referral_services.referral_create(
        actor=world.users["manager"], person=world.person, challenges="a", support_sought="b"
    )
    email = stored(ingest(make_email(sender=STRANGER_ADDRESS)))
    with pytest.raises(ValidationError) as error:
        services.inbound_email_complete(
            actor=world.users["cc_eoe"],
            inbound_email=email,
            crn=LISTED,
            challenges="a",
            support_sought="b",
        )
    assert "crn" in error.value.message_dict
    email.refresh_from_db()
    assert email.status == "needs_attention"


def test_email_for_referral(world: Any) -> None:
    ingest(make_email())
    referral = Referral.objects.get()
    assert selectors.email_for_referral(referral) == InboundEmail.objects.get()
    other = referral_services.referral_create(
        actor=world.users["manager"],
        person=world.not_listed,
        challenges="a",
        support_sought="b",
        route_reason="practitioner_concern",
    )
    assert selectors.email_for_referral(other) is None
