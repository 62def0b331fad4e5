"""The panel's scheduled work with frozen time: meetings kept a year ahead, papers issued on their
date, QDO follow-up reminders and reflection prompts sent once; and the daily task run through a
real Celery worker on Redis, its email arriving at a real SMTP server."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import time_machine

from complexcases.notifications import services as notifications
from complexcases.notifications.models import OutboxMessage
from complexcases.notifications.tests.fixtures import read_retrying
from complexcases.panels import services, tasks
from complexcases.panels.models import FollowUp, PanelCase, PanelMeeting
from complexcases.panels.rules import PanelRole
from complexcases.panels.tests.world import BOOKED_AT, build_panel_world

CONCLUDED = dt.datetime(2027, 2, 1, 12, 0, tzinfo=dt.UTC)


def book(world: Any) -> PanelCase:
    return services.panel_case_book(
        actor=world.users["cc_eoe"], referral=world.referral, question="Q", now=BOOKED_AT
    )


@pytest.mark.django_db
def test_meetings_are_kept_a_year_ahead_without_duplicates() -> None:
    world = build_panel_world()
    before = PanelMeeting.objects.filter(series=world.series).count()
    added = services.meetings_schedule_all(today=dt.date(2027, 6, 15))
    # The world scheduled 2027; a year from mid-June 2027 adds January to June 2028 (the first
    # Monday of May 2028 is a bank holiday, moved to the Tuesday).
    assert added == 6
    assert PanelMeeting.objects.filter(series=world.series).count() == before + 6
    assert services.meetings_schedule_all(today=dt.date(2027, 6, 15)) == 0
    may = PanelMeeting.objects.get(series=world.series, scheduled_date=dt.date(2028, 5, 1))
    assert may.date == dt.date(2028, 5, 2)


@pytest.mark.django_db
def test_follow_up_reminder_goes_to_the_qdo_once_on_the_due_date() -> None:
    world = build_panel_world()
    world.users["cc_eoe"].email = "qdo@justice.example"
    world.users["cc_eoe"].save(update_fields=["email"])
    case = book(world)
    services.panel_case_conclude(
        actor=world.roster[PanelRole.CHAIR], case=case, summary="Agreed.", now=CONCLUDED
    )
    follow_up = FollowUp.objects.get(referral=world.referral)
    assert follow_up.due == dt.date(2027, 3, 1)
    day_before = dt.datetime(2027, 2, 28, 8, 0, tzinfo=dt.UTC)
    assert services.follow_up_reminders_send(now=day_before) == 0
    on_the_day = dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)
    assert services.follow_up_reminders_send(now=on_the_day) == 1
    assert services.follow_up_reminders_send(now=on_the_day) == 0
    reminder = OutboxMessage.objects.get(kind="follow_up_reminder")
    assert reminder.to == ["qdo@justice.example"]
    assert world.person.crn not in reminder.body and world.person.surname not in reminder.body


@pytest.mark.django_db
def test_reflection_prompt_goes_to_panel_members_once_after_the_meeting() -> None:
    world = build_panel_world()
    case = book(world)
    services.papers_issue_due(now=dt.datetime(2027, 1, 25, 8, 0, tzinfo=dt.UTC))
    services.panel_case_conclude(
        actor=world.roster[PanelRole.CHAIR], case=case, summary="Agreed.", now=CONCLUDED
    )
    assert services.reflection_prompts_send(now=CONCLUDED) == 1
    assert services.reflection_prompts_send(now=CONCLUDED) == 0
    prompt = OutboxMessage.objects.get(kind="panel_reflection_prompt")
    assert "mh.lead@justice.example" in prompt.to
    # Parties to the case (practitioner, SPO) are not panel members: not prompted.
    assert "manager@justice.example" not in prompt.to


@pytest.mark.django_db
def test_the_daily_task_issues_papers_on_their_date() -> None:
    world = build_panel_world()
    case = book(world)
    with time_machine.travel(dt.datetime(2027, 1, 22, 8, 0, tzinfo=dt.UTC), tick=False):
        assert tasks.panels_daily()["papers_issued"] == 0
    with time_machine.travel(dt.datetime(2027, 1, 25, 8, 0, tzinfo=dt.UTC), tick=False):
        result = tasks.panels_daily()
    assert result["papers_issued"] == 1
    case.refresh_from_db()
    assert case.papers_issued_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_daily_task_and_the_papers_email_arrives(
    celery_worker: Any, smtp_server: Any
) -> None:
    world = build_panel_world()
    case = book(world)
    # The meeting's papers date has come (the world's meetings are in 2027).
    PanelMeeting.objects.filter(pk=case.meeting_id).update(papers_due=dt.date(2026, 1, 5))
    OutboxMessage.objects.all().delete()
    tasks.panels_daily.delay()  # through the Redis broker, run by the worker thread
    deadline = time.monotonic() + 20
    while not read_retrying(PanelCase.objects.filter(papers_issued_at__isnull=False).exists):
        assert time.monotonic() < deadline, "the worker did not issue the papers"
        time.sleep(0.1)
    # The papers' invitation was queued by the task; send what is due.
    notifications.outbox_send_due()
    received = smtp_server.wait_for(1)
    assert any("Complex Cases panel" in str(r.message["Subject"]) for r in received)
    for item in received:
        assert world.person.crn not in item.message.as_string()


@pytest.mark.django_db
@pytest.mark.parametrize("attach", [False, True])
def test_papers_attached_only_when_the_setting_allows(
    settings: Any, smtp_server: Any, attach: bool
) -> None:
    settings.CC_PANEL_PAPERS_ATTACH = attach
    world = build_panel_world()
    case = book(world)
    services.papers_issue_due(now=dt.datetime(2027, 1, 25, 8, 0, tzinfo=dt.UTC))
    papers = OutboxMessage.objects.filter(kind="panel_invitation", ref_id=str(case.pk)).order_by(
        "-id"
    )[0]
    assert f"/panels/cases/{case.pk}/papers/" in papers.body
    notifications.outbox_send_due()
    received = [
        r
        for r in smtp_server.wait_for(2)
        if "papers for your" in r.message.get_body(preferencelist=("plain",)).get_content()
    ]
    assert len(received) == 1
    pdfs = [
        part
        for part in received[0].message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]
    assert len(pdfs) == (1 if attach else 0)
    if attach:
        assert pdfs[0].get_content()[:4] == b"%PDF"
    # The file is not kept in the outbox once sent.
    papers.refresh_from_db()
    assert papers.status == "sent" and papers.attachment is None


@pytest.mark.django_db
def test_papers_are_not_attached_when_limited_access_refuses_someone_invited(
    settings: Any,
) -> None:
    from complexcases.people.models import LimitedAccess

    settings.CC_PANEL_PAPERS_ATTACH = True
    world = build_panel_world()
    lead = world.roster[PanelRole.MENTAL_HEALTH_LEAD]
    LimitedAccess.objects.create(person=world.person, username=lead.username, kind="EXCLUSION")
    case = book(world)
    services.papers_issue_due(now=dt.datetime(2027, 1, 25, 8, 0, tzinfo=dt.UTC))
    papers = OutboxMessage.objects.filter(kind="panel_invitation", ref_id=str(case.pk)).order_by(
        "-id"
    )[0]
    assert papers.attachment_name == "" and papers.attachment is None
