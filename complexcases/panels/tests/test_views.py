"""Panel pages: access for the cast, booking, the chair's view, papers and minutes as PDF (text
checked with pypdf: the right case, never one the reader may not see), follow-up."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pypdf
import pytest
import time_machine
from django.test import Client

from complexcases.accounts.tests.cast import give
from complexcases.core.models import AuditEvent
from complexcases.notifications.models import OutboxMessage
from complexcases.panels import services
from complexcases.panels.models import FollowUp, PanelCase, PapersOpening
from complexcases.panels.rules import PanelRole
from complexcases.panels.tests.world import BOOKED_AT, build_panel_world, referral_awaiting_panel
from complexcases.people.models import LimitedAccess
from complexcases.people.tests.factories import PersonFactory, UserFactory
from complexcases.referrals.models import Referral

pytestmark = pytest.mark.django_db

PAPERS_OUT = dt.datetime(2027, 1, 25, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def world() -> Any:
    return build_panel_world()


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def booked(world: Any) -> PanelCase:
    return services.panel_case_book(
        actor=world.users["cc_eoe"],
        referral=world.referral,
        question="How can the panel help rebuild engagement?",
        now=BOOKED_AT,
    )


def pdf_text(response: Any) -> str:
    assert response["Content-Type"] == "application/pdf"
    reader = pypdf.PdfReader(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    return "\n".join(page.extract_text() for page in reader.pages)


@time_machine.travel(BOOKED_AT, tick=False)
def test_cc_team_books_through_the_page_with_the_proposed_invitees(world: Any) -> None:
    client = client_for(world.users["cc_eoe"])
    page = client.get(f"/panels/book/{world.referral.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Mental health lead" in body and "Mental health concerns" in body
    lead = world.roster[PanelRole.MENTAL_HEALTH_LEAD]
    chair = world.roster[PanelRole.CHAIR]
    meeting_id = page.context["meetings"][0].pk
    response = client.post(
        f"/panels/book/{world.referral.pk}/",
        {"meeting": meeting_id, "question": "What next?", "invitees": [str(chair.pk)]},
    )
    assert response.status_code == 302
    case = PanelCase.objects.get(referral=world.referral)
    assert response["Location"] == f"/panels/cases/{case.pk}/"
    assert list(case.invitations.values_list("user", flat=True)) == [chair.pk]
    assert lead.pk not in set(case.invitations.values_list("user", flat=True))
    assert Referral.objects.get(pk=world.referral.pk).status == "panel_booked"


@time_machine.travel(BOOKED_AT, tick=False)
def test_booking_without_a_question_shows_the_error(world: Any) -> None:
    client = client_for(world.users["cc_eoe"])
    meeting_id = client.get(f"/panels/book/{world.referral.pk}/").context["meetings"][0].pk
    response = client.post(
        f"/panels/book/{world.referral.pk}/", {"meeting": meeting_id, "question": ""}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body and "Enter the question for the panel" in body
    assert not PanelCase.objects.exists()


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("cc_eoe", 200),
        ("cc_ldn", 404),
        ("manager", 404),
        ("spo_a1", 404),
        ("analyst_eoe", 404),
        ("admin", 404),
        ("panel_eoe", 404),
    ],
)
def test_booking_page_access(world: Any, username: str, status: int) -> None:
    with time_machine.travel(BOOKED_AT, tick=False):
        response = client_for(world.users[username]).get(f"/panels/book/{world.referral.pk}/")
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "before_papers", "after_papers"),
    [
        ("cc_eoe", 200, 200),
        ("cc_ldn", 404, 404),
        ("manager", 200, 200),  # manages the person
        ("spo_a1", 200, 200),
        ("colleague", 404, 404),
        ("analyst_eoe", 404, 404),
        ("admin", 404, 404),
        ("mental_health_lead", 404, 200),  # invited panel member: from papers issue
        ("uninvited_member", 404, 404),
    ],
)
def test_case_page_access_matrix(
    world: Any, who: str, before_papers: int, after_papers: int
) -> None:
    case = booked(world)
    if who == "mental_health_lead":
        user = world.roster[PanelRole.MENTAL_HEALTH_LEAD]
    elif who == "uninvited_member":
        user = UserFactory(username="uninvited")
        give(user, "panel_member", region=world.regions["EOE"])
    else:
        user = world.users[who]
    client = client_for(user)
    assert client.get(f"/panels/cases/{case.pk}/").status_code == before_papers
    services.papers_issue_due(now=PAPERS_OUT)
    assert client.get(f"/panels/cases/{case.pk}/").status_code == after_papers
    assert client.get(f"/panels/cases/{case.pk}/papers/").status_code == after_papers


def test_limited_access_case_is_refused_with_403_even_for_an_invited_member(world: Any) -> None:
    case = booked(world)
    services.papers_issue_due(now=PAPERS_OUT)
    lead = world.roster[PanelRole.MENTAL_HEALTH_LEAD]
    LimitedAccess.objects.create(person=world.person, username=lead.username, kind="EXCLUSION")
    response = client_for(lead).get(f"/panels/cases/{case.pk}/")
    assert response.status_code == 403
    assert world.person.surname not in response.content.decode()


def test_opening_the_papers_is_recorded_once_and_audited_each_time(world: Any) -> None:
    case = booked(world)
    services.papers_issue_due(now=PAPERS_OUT)
    lead = world.roster[PanelRole.MENTAL_HEALTH_LEAD]
    client = client_for(lead)
    page = client.get(f"/panels/cases/{case.pk}/papers/").content.decode()
    assert "How can the panel help rebuild engagement?" in page
    client.get(f"/panels/cases/{case.pk}/papers/")
    assert PapersOpening.objects.filter(case=case, user=lead).count() == 1
    assert (
        AuditEvent.objects.filter(object_type="panel_papers", actor_username=lead.username).count()
        == 2
    )


def test_papers_pdf_holds_the_case(world: Any) -> None:
    case = booked(world)
    services.papers_issue_due(now=PAPERS_OUT)
    response = client_for(world.users["cc_eoe"]).get(f"/panels/cases/{case.pk}/papers.pdf")
    text = pdf_text(response)
    assert world.person.crn in text and "rebuild engagement" in text
    assert "Mental health concerns: met" in text


def test_minutes_pdf_holds_only_the_cases_the_reader_may_see(world: Any) -> None:
    first = booked(world)
    other = PersonFactory(
        crn="Y000777",
        surname="Otherperson",
        team=world.teams["A2"],
        pdu=world.pdus["A"],
        offender_manager=world.users["cover_a1"].staff,
    )
    second_referral = referral_awaiting_panel(
        world, other, route="professional_judgement", route_reason="practitioner_concern"
    )
    second = services.panel_case_book(
        actor=world.users["cc_eoe"],
        referral=second_referral,
        question="Second question",
        now=BOOKED_AT,
    )
    assert first.meeting_id == second.meeting_id
    services.papers_issue_due(now=PAPERS_OUT)
    # The mental health lead is invited to the first case only (the second has no such need).
    lead = world.roster[PanelRole.MENTAL_HEALTH_LEAD]
    assert not second.invitations.filter(user=lead).exists()
    text = pdf_text(client_for(lead).get(f"/panels/meetings/{first.meeting_id}/minutes.pdf"))
    assert world.person.crn in text and "Y000777" not in text and "Otherperson" not in text
    everything = pdf_text(
        client_for(world.users["cc_eoe"]).get(f"/panels/meetings/{first.meeting_id}/minutes.pdf")
    )
    assert world.person.crn in everything and "Y000777" in everything


@time_machine.travel(dt.datetime(2027, 2, 1, 10, 30, tzinfo=dt.UTC), tick=False)
def test_the_chair_runs_the_case_and_concludes_it(world: Any) -> None:
    case = booked(world)
    services.papers_issue_due(now=PAPERS_OUT)
    chair = world.roster[PanelRole.CHAIR]
    client = client_for(chair)
    page = client.get(f"/panels/cases/{case.pk}/").content.decode()
    assert "managed under MAPPA" in page  # the referral's criteria include mappa
    assert (
        client.post(
            f"/panels/cases/{case.pk}/",
            {"action": "note", "note-step": "2", "note-text": "Overview given."},
        ).status_code
        == 302
    )
    invitation = case.invitations.get(user=chair)
    assert (
        client.post(
            f"/panels/cases/{case.pk}/",
            {"action": "attendance", f"attendance-{invitation.pk}": "attended"},
        ).status_code
        == 302
    )
    missing_owner = client.post(
        f"/panels/cases/{case.pk}/",
        {
            "action": "action",
            "action-description": "Refer to psychology",
            "action-due": "1/3/2027",
        },
    )
    assert missing_owner.status_code == 400
    assert "Select who owns the action" in missing_owner.content.decode()
    agreed = client.post(
        f"/panels/cases/{case.pk}/",
        {
            "action": "action",
            "action-description": "Refer to psychology",
            "action-owner": str(world.users["manager"].pk),
            "action-due": "1/3/2027",
        },
    )
    assert agreed.status_code == 302
    empty = client.post(f"/panels/cases/{case.pk}/", {"action": "conclude", "conclude-summary": ""})
    assert empty.status_code == 400
    done = client.post(
        f"/panels/cases/{case.pk}/",
        {"action": "conclude", "conclude-summary": "Psychology consultation agreed."},
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == "concluded"
    assert case.notes.get(step=2).text == "Overview given."
    assert Referral.objects.get(pk=world.referral.pk).status == "heard_at_panel"
    assert OutboxMessage.objects.filter(kind="panel_outcome").count() == 1
    after = client.get(f"/panels/cases/{case.pk}/").content.decode()
    assert "Refer to psychology" in after and "The record is locked" in after
    assert 'name="note-text"' not in after


def test_a_member_sends_apologies_from_the_case_page(world: Any) -> None:
    case = booked(world)
    services.papers_issue_due(now=PAPERS_OUT)
    lead = world.roster[PanelRole.MENTAL_HEALTH_LEAD]
    client = client_for(lead)
    assert (
        client.post(
            f"/panels/cases/{case.pk}/", {"action": "respond", "respond-status": "apologies"}
        ).status_code
        == 302
    )
    assert case.invitations.get(user=lead).status == "apologies"
    # A member who is not the chair cannot record attendance or conclude.
    assert (
        client.post(
            f"/panels/cases/{case.pk}/", {"action": "conclude", "conclude-summary": "x"}
        ).status_code
        == 404
    )
    page = (
        client_for(world.users["cc_eoe"])
        .get(f"/panels/meetings/{case.meeting_id}/")
        .content.decode()
    )
    assert "Nobody attending" in page and "Mental health lead" in page


def test_qdo_records_the_follow_up(world: Any) -> None:
    case = booked(world)
    services.papers_issue_due(now=PAPERS_OUT)
    services.panel_case_conclude(actor=world.users["cc_eoe"], case=case, summary="Agreed.")
    follow_up = FollowUp.objects.get(referral=world.referral)
    client = client_for(world.users["cc_eoe"])
    invalid = client.post(f"/panels/follow-ups/{follow_up.pk}/", {"outcome": "close"})
    assert invalid.status_code == 400
    assert "Choose the practitioner&#x27;s wellbeing from 1 to 5" in invalid.content.decode()
    done = client.post(
        f"/panels/follow-ups/{follow_up.pk}/",
        {"progress_notes": "Done", "wellbeing": "4", "confidence": "5", "outcome": "close"},
    )
    assert done.status_code == 302
    referral = Referral.objects.get(pk=world.referral.pk)
    assert (referral.status, referral.closure_reason) == ("closed", "completed")
    # The practitioner sees the follow-up but may not record one.
    assert (
        client_for(world.users["manager"]).get(f"/panels/follow-ups/{follow_up.pk}/").status_code
        == 200
    )


@pytest.mark.parametrize(
    ("username", "status"),
    [("cc_eoe", 200), ("analyst_eoe", 404), ("admin", 404), ("manager", 404)],
)
def test_panels_home_access(world: Any, username: str, status: int) -> None:
    assert client_for(world.users[username]).get("/panels/").status_code == status


def test_panels_home_lists_the_invited_cases_of_a_panel_member(world: Any) -> None:
    case = booked(world)
    lead = world.roster[PanelRole.MENTAL_HEALTH_LEAD]
    assert client_for(lead).get("/panels/").status_code == 404  # nothing yet: papers not out
    services.papers_issue_due(now=PAPERS_OUT)
    body = client_for(lead).get("/panels/").content.decode()
    assert f"/panels/cases/{case.pk}/" in body


def test_closing_the_referral_by_hand_cancels_the_scheduled_follow_up(world: Any) -> None:
    case = booked(world)
    services.panel_case_conclude(actor=world.users["cc_eoe"], case=case, summary="Agreed.")
    follow_up = FollowUp.objects.get(referral=world.referral)
    response = client_for(world.users["cc_eoe"]).post(
        f"/referrals/{world.referral.pk}/",
        {
            "action": "close",
            "close-closure_reason": "withdrawn",
            "close-from_status": "heard_at_panel",
        },
    )
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == "cancelled"
    assert Referral.objects.get(pk=world.referral.pk).status == "closed"


@time_machine.travel(BOOKED_AT, tick=False)
def test_the_booker_can_add_a_roster_member_the_rules_did_not_propose(world: Any) -> None:
    client = client_for(world.users["cc_eoe"])
    page = client.get(f"/panels/book/{world.referral.pk}/")
    deputy = world.roster["deputy_chair"]
    assert f'name="extra" type="checkbox" value="{deputy.pk}"' in page.content.decode()
    response = client.post(
        f"/panels/book/{world.referral.pk}/",
        {
            "meeting": page.context["meetings"][0].pk,
            "question": "Q",
            "invitees": [str(world.roster[PanelRole.CHAIR].pk)],
            "extra": [str(deputy.pk)],
        },
    )
    assert response.status_code == 302
    case = PanelCase.objects.get(referral=world.referral)
    added = case.invitations.get(user=deputy)
    assert (added.panel_role, added.reason) == ("chair", "Added by the Complex Cases team")


def test_limited_access_rows_show_only_the_crn_on_panel_lists_and_my_work(world: Any) -> None:
    case = booked(world)
    services.papers_issue_due(now=PAPERS_OUT)
    cc = world.users["cc_eoe"]
    LimitedAccess.objects.create(person=world.person, username=cc.username, kind="EXCLUSION")
    lead = world.roster[PanelRole.MENTAL_HEALTH_LEAD]
    LimitedAccess.objects.create(person=world.person, username=lead.username, kind="EXCLUSION")
    surname = world.person.surname
    meeting = client_for(cc).get(f"/panels/meetings/{case.meeting_id}/").content.decode()
    assert surname not in meeting and f"/panels/cases/{case.pk}/" not in meeting
    member_home = client_for(lead).get("/panels/").content.decode()
    assert surname not in member_home and "Limited access" in member_home
    member_work = client_for(lead).get("/my-work/").content.decode()
    assert surname not in member_work
    assert (
        client_for(lead).get(f"/panels/meetings/{case.meeting_id}/minutes.pdf").status_code == 200
    )
    text = pdf_text(client_for(lead).get(f"/panels/meetings/{case.meeting_id}/minutes.pdf"))
    assert world.person.crn not in text


def test_limited_access_follow_up_and_awaiting_rows_show_only_the_crn(world: Any) -> None:
    cc = world.users["cc_eoe"]
    LimitedAccess.objects.create(person=world.person, username=cc.username, kind="EXCLUSION")
    home = client_for(cc).get("/panels/").content.decode()
    assert world.person.surname not in home and world.person.crn in home
    case = booked(world)
    services.panel_case_conclude(actor=world.roster[PanelRole.CHAIR], case=case, summary="S.")
    work = client_for(cc).get("/my-work/").content.decode()
    assert world.person.surname not in work


def test_an_invited_member_cannot_open_the_persons_other_pages(world: Any) -> None:
    booked(world)
    services.papers_issue_due(now=PAPERS_OUT)
    lead = client_for(world.roster[PanelRole.MENTAL_HEALTH_LEAD])
    assert lead.get(f"/people/{world.person.crn}/").status_code == 404
    assert lead.get(f"/referrals/{world.referral.pk}/").status_code == 404


def test_a_second_conclude_or_an_action_after_conclusion_is_refused_not_a_500(world: Any) -> None:
    from complexcases.actions.models import Action

    case = booked(world)
    client = client_for(world.users["cc_eoe"])
    first = client.post(
        f"/panels/cases/{case.pk}/", {"action": "conclude", "conclude-summary": "A"}
    )
    assert first.status_code == 302
    again = client.post(
        f"/panels/cases/{case.pk}/", {"action": "conclude", "conclude-summary": "B"}
    )
    assert again.status_code == 400
    late_action = client.post(
        f"/panels/cases/{case.pk}/",
        {
            "action": "action",
            "action-description": "Too late",
            "action-owner": str(world.users["manager"].pk),
            "action-due": "1/3/2030",
        },
    )
    assert late_action.status_code == 400
    assert "add an addendum" in late_action.content.decode()
    assert not Action.objects.filter(description="Too late").exists()
    assert PanelCase.objects.get(pk=case.pk).summary == "A"
