"""My work's sections: what each role sees, limited access, the placeholders for other apps, and
query counts that do not grow with the rows. The access matrix is in test_page_access.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from complexcases.accounts.tests.cast import give
from complexcases.people.models import LimitedAccess
from complexcases.people.tests.factories import PersonFactory, ScreeningResultFactory
from complexcases.referrals import services
from complexcases.referrals.models import Referral
from complexcases.referrals.selectors import screening_snapshot
from complexcases.referrals.tests.world import LISTED, NOT_LISTED, build_world

pytestmark = pytest.mark.django_db

# What every page pays (session, user, idle-timeout stamp), the roles, the audit record (three
# statements in a savepoint), the latest run, one query per section (ten: five of referrals and
# conversations, actions, emails needing attention, triage, panel cases, follow-ups) and the
# mailbox's region. A bound, not a measurement: the test below shows it does not grow with rows.
MY_WORK_MAX_QUERIES = 21


@pytest.fixture
def world(db: Any) -> Any:
    return build_world()


def page(world: Any, username: str) -> str:
    client = Client()
    client.force_login(world.users[username])
    response = client.get("/my-work/")
    assert response.status_code == 200
    return response.content.decode()


def section(body: str, anchor: str) -> str:
    start = body.index(f'id="{anchor}"')
    end = body.find('<h2 class="govuk-heading-m"', start + 1)
    return body[start : end if end != -1 else len(body)]


def refer(world: Any, person: Any, *, actor: str = "manager") -> Referral:
    return services.referral_create(
        actor=world.users[actor],
        person=person,
        challenges="c",
        support_sought="s",
        route_reason="" if screening_snapshot(person).eligible else "practitioner_concern",
    )


def test_practitioner_sees_referrals_they_made_or_for_people_they_manage(world: Any) -> None:
    # Made by the Complex Cases team on the manager's behalf: still the manager's case.
    refer(world, world.person, actor="cc_eoe")
    other = PersonFactory(crn="Y100001", team=world.teams["A2"], pdu=world.pdus["A"])
    refer(world, other, actor="cover_a1")  # cover_a1 referred someone they do not manage
    mine = section(page(world, "manager"), "your-referrals")
    assert LISTED in mine and "Received" in mine and "Y100001" not in mine
    theirs = section(page(world, "cover_a1"), "your-referrals")
    assert "Y100001" in theirs


def test_closed_referrals_drop_off_after_four_weeks(world: Any) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)):
        referral = refer(world, world.person)
        services.referral_close(
            referral=referral, actor=world.users["cc_eoe"], closure_reason="withdrawn"
        )
    with time_machine.travel(dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)):
        assert "Closed: Withdrawn" in section(page(world, "manager"), "your-referrals")
    with time_machine.travel(dt.datetime(2026, 12, 10, 10, tzinfo=dt.UTC)):
        assert LISTED not in section(page(world, "manager"), "your-referrals")


def test_spo_sees_listed_cases_awaiting_a_conversation_until_one_is_recorded(world: Any) -> None:
    awaiting = section(page(world, "spo_a1"), "awaiting-conversation")
    assert LISTED in awaiting and NOT_LISTED not in awaiting  # eligible people only
    assert f'href="/people/{LISTED}/conversation/"' in awaiting
    assert "1 listed case in your team has no reflective conversation" in awaiting
    assert LISTED not in section(page(world, "spo_a2"), "awaiting-conversation")
    services.conversation_record(
        actor=world.users["spo_a1"],
        person=world.person,
        outcome="no_further_support",
        held_on=dt.date(2026, 11, 4),
    )
    after = section(page(world, "spo_a1"), "awaiting-conversation")
    assert LISTED not in after and "Every listed case in your teams" in after


def test_limited_access_rows_show_the_crn_only(world: Any) -> None:
    LimitedAccess.objects.create(person=world.person, username="spo_a1", kind="EXCLUSION")
    awaiting = section(page(world, "spo_a1"), "awaiting-conversation")
    assert LISTED in awaiting and "Limited access" in awaiting
    assert escape(world.person.surname) not in awaiting and "/conversation/" not in awaiting
    refer(world, world.person)
    LimitedAccess.objects.create(person=world.person, username="cc_eoe", kind="EXCLUSION")
    new = section(page(world, "cc_eoe"), "new-referrals")
    assert LISTED in new and "Limited access" in new and escape(world.person.surname) not in new


def test_cc_team_sees_new_referrals_of_their_region_only(world: Any) -> None:
    first = refer(world, world.person)
    refer(world, world.not_listed)
    services.referral_transition(
        referral=first, to="triage_booked", actor=world.users["cc_eoe"], reason="Booked"
    )
    new = section(page(world, "cc_eoe"), "new-referrals")
    assert NOT_LISTED in new and LISTED not in new  # booked for triage: no longer new
    assert 'href="/referrals/"' in new
    assert NOT_LISTED not in page(world, "cc_ldn")


def test_head_of_service_sees_the_pdus_counts_and_open_referrals(world: Any) -> None:
    refer(world, world.not_listed)
    body = page(world, "hos_a")
    pdu = section(body, "your-pdu")
    assert 'href="/lists/2026-11/PDUA/"' in pdu
    # One listed person (LISTED), one open referral (NOT_LISTED's).
    assert pdu.count('govuk-table__cell--numeric">1</td>') == 2
    assert NOT_LISTED in pdu and "Professional judgement" in pdu
    assert NOT_LISTED not in page(world, "hos_b")


def test_sections_from_other_apps_show_only_when_they_have_something(db: Any) -> None:
    from complexcases.intake.demo import demo_seed as intake_seed
    from complexcases.panels import services as panels
    from complexcases.panels.models import FollowUp
    from complexcases.panels.tests.world import BOOKED_AT, build_panel_world

    world = build_panel_world()
    give(world.users["cc_eoe"], "practitioner")
    body = page(world, "cc_eoe")
    for anchor in ("emails", "panel-cases", "follow-ups"):
        assert f'id="{anchor}"' not in body
    intake_seed(
        region_code="EOE",
        cc_team_user=world.users["cc_eoe"],
        known_sender_user=world.users["manager"],
        crn_referable=world.person.crn,
    )
    case = panels.panel_case_book(
        actor=world.users["cc_eoe"], referral=world.referral, question="Q", now=BOOKED_AT
    )
    panels.papers_issue_due(now=dt.datetime(2027, 1, 25, 9, 0, tzinfo=dt.UTC))
    body = page(world, "cc_eoe")
    assert 'id="emails"' in body and "/referrals/needs-attention/" in body
    # The QDO (cc_eoe) is not invited to panels; the chair is.
    assert 'id="panel-cases"' not in body
    chair = world.roster["chair"]
    chair_client = Client()
    chair_client.force_login(chair)
    assert f"/panels/cases/{case.pk}/" in chair_client.get("/my-work/").content.decode()
    panels.panel_case_conclude(actor=world.users["cc_eoe"], case=case, summary="Agreed.")
    follow_up = FollowUp.objects.get(referral=world.referral)
    body = page(world, "cc_eoe")
    assert 'id="follow-ups"' in body and f"/panels/follow-ups/{follow_up.pk}/" in body


def _everything(world: Any) -> Any:
    """One user holding every role with case data, so every section is read."""
    user = world.users["spo_a1"]
    give(user, "practitioner", team=world.teams["A1"])
    give(user, "cc_team", region=world.regions["EOE"])
    give(user, "head_of_service", pdu=world.pdus["A"])
    return user


def _queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/my-work/").status_code == 200
    return len(captured)


def test_my_work_queries_do_not_grow_with_rows(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    client = Client()
    client.force_login(_everything(world))
    refer(world, world.person, actor="spo_a1")
    few = _queries(client)
    for number in range(2, 25):
        person = PersonFactory(
            crn=f"Y1{number:05d}",
            team=world.teams["A1"],
            pdu=world.pdus["A"],
            offender_manager=world.users["spo_a1"].staff,
        )
        ScreeningResultFactory(run=world.run, person=person, criteria_count=6)
        if number % 2:
            refer(world, person, actor="spo_a1")
    body = client.get("/my-work/").content.decode()
    for anchor in ("your-referrals", "awaiting-conversation", "new-referrals", "your-pdu"):
        assert f'id="{anchor}"' in body
    assert _queries(client) == few
    with django_assert_max_num_queries(MY_WORK_MAX_QUERIES):
        client.get("/my-work/")
