"""Triage for the embedded demo: the region's Complex Cases team by function, one booked triage
in the future and held triages with each outcome.

Only for the demo (called by demo.services when building the demo). Idempotent where practical:
existing team members are kept, and a referral that already has a triage is left alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from complexcases.accounts.models import Region, Staff, User
from complexcases.referrals.states import ReferralStatus
from complexcases.triage import rules, selectors, services
from complexcases.triage.models import TriageMeeting, TriageTeamMember
from complexcases.triage.states import TeamFunction

DEMO_ACTOR = "demo_setup"
DEMO_USERS: dict[str, tuple[str, str, str]] = {
    TeamFunction.PROGRAMME_MANAGER: ("demo.pm", "Demo", "Programme Manager"),
    TeamFunction.CASE_ADMIN: ("demo.caseadmin", "Demo", "Case Administrator"),
    TeamFunction.SENIOR_FORENSIC_PSYCHOLOGIST: ("demo.psychologist", "Demo", "Psychologist"),
}
GRADE_FOR: dict[str, str] = {
    TeamFunction.QDO: "QDO",
    TeamFunction.SENIOR_FORENSIC_PSYCHOLOGIST: "PSYCH",
}

OUTCOMES: list[dict[str, Any]] = [
    {
        "outcome": "resolved_at_triage",
        "blockers": [("accommodation", "The approved premises place ends soon with no move-on.")],
        "guidance": "Contact the local authority housing team through the duty to refer.",
        "action": "Make a duty to refer to the local authority housing team",
    },
    {
        "outcome": "for_panel",
        "panel_question": "How can partners help rebuild engagement after repeated breaches?",
        "blockers": [
            ("mental_health_services", "Discharged by the community mental health team."),
            ("engagement", "Has missed four appointments since the change of practitioner."),
        ],
        "guidance": "Keep contact short and predictable until the panel.",
        "action": "Share the latest psychiatric report with the psychologist",
    },
    {
        "outcome": "signposted",
        "signpost_destination": "Adult social care assessment team",
        "blockers": [("adult_social_care", "Care needs have not been assessed since release.")],
        "guidance": "Ask for a Care Act assessment.",
        "action": "Request a Care Act assessment",
    },
    {"outcome": "withdrawn", "blockers": [], "guidance": "The practitioner withdrew the referral."},
]


def _region_user(function: str, region: Region) -> Any:
    grade = GRADE_FOR.get(function)
    if grade is None:
        return None
    staff = (
        Staff.objects.filter(grade=grade, team__pdu__region=region, user__is_active=True)
        .exclude(email="")
        .order_by("staff_code")
        .first()
    )
    return User.objects.filter(staff=staff).first() if staff is not None else None


def _demo_user(function: str, region: Region) -> Any:
    from complexcases.accounts.services import role_request_resolve, user_role_grant
    from complexcases.demo.services import DEMO_PASSWORD

    username, first_name, last_name = DEMO_USERS[function]
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first_name,
            "last_name": last_name,
            "email": f"{username}@justice.example",
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    user_role_grant(
        actor=DEMO_ACTOR,
        request=role_request_resolve(username=username, role="cc_team", region=region.code),
    )
    return user


def _team(region: Region, cc_team_user: Any) -> None:
    for function in TeamFunction.values:
        if TriageTeamMember.objects.filter(region=region, function=function).exists():
            continue
        user = _region_user(function, region)
        if user is None and function == TeamFunction.QDO:
            user = cc_team_user
        if user is None:
            user = _demo_user(function, region)
        services.triage_team_member_save(
            actor=DEMO_ACTOR,
            member=TriageTeamMember(region=region, function=function, user=user, is_default=True),
            created=True,
        )


def _invitees(referral: Any) -> list[services.Invitee]:
    return [services.Invitee(p.user, p.role) for p in selectors.booking_defaults(referral).proposed]


def _working_days_before(today: dt.date, count: int) -> list[dt.date]:
    days: list[dt.date] = []
    day = today
    while len(days) < count:
        day -= dt.timedelta(days=1)
        if rules.day_slots(day):
            days.append(day)
    return days


def demo_seed(
    *, region_code: str, cc_team_user: Any, referrals_received: list[Any], today: dt.date
) -> None:
    """Set up the region's triage team, book the first received referral into the next free
    slot after today, and hold past triages of the next four with each outcome in turn."""
    region = Region.objects.get(code=region_code)
    _team(region, cc_team_user)
    todo = [
        r
        for r in referrals_received
        if r.status == ReferralStatus.RECEIVED
        and not TriageMeeting.objects.filter(referral=r).exists()
    ]
    if not todo:
        return
    first, held = todo[0], todo[1 : 1 + len(OUTCOMES)]
    invitees = _invitees(first)
    slot = selectors.suggested_slot(
        [i.user.pk for i in invitees], after=rules.london(today + dt.timedelta(days=1), DAY)
    )
    if slot is not None and invitees:
        services.triage_book(actor=cc_team_user, referral=first, start=slot[0], invitees=invitees)
    for referral, day, plan in zip(
        held, _working_days_before(today, len(held)), OUTCOMES, strict=False
    ):
        invitees = _invitees(referral)
        if not invitees:
            continue
        start = rules.london(day, dt.time(10, 0))
        meeting = services.triage_book(
            actor=cc_team_user,
            referral=referral,
            start=start,
            invitees=invitees,
            now=start - dt.timedelta(days=7),
        )
        action = plan.get("action")
        services.triage_outcome_record(
            actor=cc_team_user,
            meeting=meeting,
            outcome=plan["outcome"],
            blockers=plan["blockers"],
            actions_agreed=[services.ActionInput(action, cc_team_user, day + dt.timedelta(days=14))]
            if action
            else [],
            guidance=plan.get("guidance", ""),
            panel_question=plan.get("panel_question", ""),
            signpost_destination=plan.get("signpost_destination", ""),
            today=day,
        )


DAY = dt.time(0)


def hold_for_panel(*, referrals: list[Any], cc_team_user: Any, day: dt.date) -> None:
    """Hold a past triage on `day` for each received referral, with the outcome "for panel", so
    the panel part of the demo starts from referrals that reached it through triage."""
    plan = OUTCOMES[1]
    for index, referral in enumerate(referrals):
        invitees = _invitees(referral)
        if not invitees or TriageMeeting.objects.filter(referral=referral).exists():
            continue
        start = rules.london(day, dt.time(9, 0)) + dt.timedelta(minutes=45 * index)
        meeting = services.triage_book(
            actor=cc_team_user,
            referral=referral,
            start=start,
            invitees=invitees,
            now=start - dt.timedelta(days=7),
        )
        services.triage_outcome_record(
            actor=cc_team_user,
            meeting=meeting,
            outcome="for_panel",
            blockers=plan["blockers"],
            actions_agreed=[
                services.ActionInput(plan["action"], cc_team_user, day + dt.timedelta(days=14))
            ],
            guidance=plan["guidance"],
            panel_question=plan["panel_question"],
            today=day,
        )
