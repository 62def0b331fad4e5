"""The panel in the embedded demo: the region's roster and series, a past meeting with a concluded
case (actions in every status, a follow-up done, one due), an upcoming meeting with cases booked
(papers issued on time and late), and gaps in the roster so missing expertise shows.

Only for the demo (demo.services calls it). Idempotent: it does nothing once the region has a
panel series.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from complexcases.accounts.models import Region, User
from complexcases.actions import services as actions
from complexcases.panels import rules, services
from complexcases.panels.models import PanelMeeting, PanelSeries
from complexcases.panels.rules import PanelRole

DEMO_ACTOR = "demo_setup"

# Demo members for roles nobody in the extract holds. The other recommended roles are left empty on
# purpose, so the meeting page shows its "nobody attending" warning.
DEMO_MEMBERS: dict[str, tuple[str, str, str]] = {
    PanelRole.MENTAL_HEALTH_LEAD: ("demo.mhlead", "Demo", "Mental Health Lead"),
    PanelRole.HEAD_PUBLIC_PROTECTION: ("demo.publicprotection", "Demo", "Public Protection"),
}


def _member(username: str, first: str, last: str, region: Region) -> Any:
    from complexcases.accounts.services import role_request_resolve, user_role_grant
    from complexcases.demo.services import DEMO_PASSWORD

    user, created = User.objects.get_or_create(
        username=username,
        defaults={"first_name": first, "last_name": last, "email": f"{username}@justice.example"},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    user_role_grant(
        actor=DEMO_ACTOR,
        request=role_request_resolve(username=username, role="panel_member", region=region.code),
    )
    return user


def demo_seed(
    *,
    region_code: str,
    cc_team_user: Any,
    chair_user: Any,
    programme_manager: Any,
    case_admin: Any,
    awaiting_panel: list[Any],
    today: dt.date,
) -> None:
    """Roster, a fortnightly series and its meetings. Of the `awaiting_panel` referrals (four):
    one concluded at a meeting about two months ago, its follow-up done and another scheduled;
    one concluded at the latest meeting, its follow-up to come; one booked into the next meeting
    (papers issued late, as it was booked after their date); one into the meeting after."""
    region = Region.objects.get(code=region_code)
    if PanelSeries.objects.filter(region=region).exists():
        return
    roster: dict[str, Any] = {
        PanelRole.CHAIR: chair_user,
        PanelRole.PROGRAMME_MANAGER: programme_manager,
        PanelRole.CASE_ADMIN: case_admin,
        PanelRole.QDO: cc_team_user,
    }
    for role, (username, first, last) in DEMO_MEMBERS.items():
        roster[role] = _member(username, first, last, region)
    for role, user in roster.items():
        services.roster_member_set(actor=DEMO_ACTOR, region=region, role=role, user=user)
    start = today - dt.timedelta(days=SERIES_HISTORY_DAYS)
    series = services.series_create(
        actor=DEMO_ACTOR,
        region=region,
        name="East of England Complex Cases panel",
        rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
        first_date=start,
        start_time=dt.time(10, 0),
        end_time=dt.time(13, 0),
        holiday_policy=rules.HolidayPolicy.NEXT_WORKING_DAY,
        location="Microsoft Teams",
    )
    services.meetings_schedule(
        series=series, start=start, until=today + dt.timedelta(days=365), actor=DEMO_ACTOR
    )
    meetings = PanelMeeting.objects.filter(series=series)
    old = meetings.filter(date__lte=today - dt.timedelta(days=45)).order_by("-date").first()
    latest = meetings.filter(date__lt=today).order_by("-date").first()
    upcoming = list(meetings.filter(date__gt=today).order_by("date")[:2])
    referrals = list(awaiting_panel)
    for meeting, late in ((old, False), (latest, True)):
        if meeting is not None and referrals:
            _concluded_case(meeting, referrals.pop(0), cc_team_user, chair_user, today, late=late)
    now = dt.datetime.combine(today, dt.time(9), tzinfo=rules.LONDON)
    for meeting, referral in zip(upcoming, referrals, strict=False):
        services.panel_case_book(
            actor=cc_team_user,
            referral=referral,
            question="How can partners help rebuild engagement and plan the move-on?",
            meeting=meeting,
            now=min(now, meeting.start - dt.timedelta(days=1)),
        )


SERIES_HISTORY_DAYS = 100


def _concluded_case(
    meeting: PanelMeeting,
    referral: Any,
    cc_team_user: Any,
    chair: Any,
    today: dt.date,
    *,
    late: bool,
) -> None:
    """A case heard at a past meeting: attendance, notes, actions in every status, the chair's
    summary, and, once due, the QDO's first follow-up done with a further one scheduled. A `late`
    booking comes after the papers date, so its papers go out late (flagged on the pages)."""
    papers_day = dt.datetime.combine(meeting.papers_due, dt.time(7), tzinfo=rules.LONDON)
    booked_at = (
        papers_day + dt.timedelta(days=1, hours=2)
        if late
        else meeting.start - dt.timedelta(days=14)
    )
    case = services.panel_case_book(
        actor=cc_team_user,
        referral=referral,
        question="What would help the practitioner manage the risk on release?",
        meeting=meeting,
        now=booked_at,
    )
    if not late:
        services.papers_issue_due(now=papers_day)
    invitations = list(case.invitations.all())
    services.attendance_record(
        actor=cc_team_user,
        case=case,
        attendance={i.pk: "attended" if i.core else "apologies" for i in invitations},
    )
    for step, text in (
        (2, "The practitioner described the plan for release and the gaps in it."),
        (3, "Members asked about the accommodation options and the mental health history."),
        (4, "Psychology will consult with the practitioner; housing will be chased."),
    ):
        services.agenda_note_save(actor=chair, case=case, step=step, text=text)
    owner = getattr(referral.manager, "user", None) or cc_team_user
    day = meeting.date
    plans = [
        ("Book a psychology consultation", "open", ""),
        ("Chase the approved premises referral", "in_progress", ""),
        ("Share the risk management plan with the police", "done", ""),
        ("Apply for supported housing", "blocked", ""),
        ("Ask the prison for the behaviour log", "cancelled", "Released before it was needed"),
    ]
    for index, (description, status, reason) in enumerate(plans):
        action = actions.action_create(
            actor=chair,
            referral=referral,
            source="panel",
            source_id=case.pk,
            description=description,
            owner=owner,
            due_date=day + dt.timedelta(days=7 * (index + 1) - 21),
            today=day,
            allow_past_due=True,
        )
        if status != "open":
            actions.action_transition(
                action=action,
                to=status,
                actor=owner,
                note="Demo update.",
                cancellation_reason=reason,
            )
    services.panel_case_conclude(
        actor=chair,
        case=case,
        summary="Psychology consultation agreed; housing to be chased; review at follow-up.",
        now=meeting.end,
    )
    follow_up = case.follow_ups.get()
    if follow_up.due <= today:
        services.follow_up_record(
            actor=cc_team_user,
            follow_up=follow_up,
            progress_notes="Consultation held; housing application blocked on ID documents.",
            remaining_blockers="Identity documents for the housing application.",
            wellbeing=3,
            confidence=4,
            outcome="further_follow_up",
        )
