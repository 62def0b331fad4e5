"""Builds the embedded demo: a synthetic East of England extract, imported and screened for two
months, with a demo sign-in for every kind of user and limited-access cases to try.

Only for the embedded demo (`make run`): it refuses to run unless DEBUG is on or it is forced,
because it gives accounts a shared, printed password.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count

from complexcases.accounts.models import Staff, User
from complexcases.accounts.services import role_request_resolve, user_role_grant
from complexcases.core import clock
from complexcases.people.generator import generate_extract
from complexcases.people.importer import import_extract
from complexcases.people.models import ExtractImport
from complexcases.screening.models import ScreeningResult, ScreeningRun
from complexcases.screening.services import screening_run_create

DEMO_REGION = "EOE"
DEMO_SEED = 2021
DEMO_PASSWORD = "complex-cases-demo"  # noqa: S105 - the embedded demo's shared password, printed at start
DEMO_ACTOR = "demo_setup"
CAST_FILE = "demo-cast.json"


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    try_this: str


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    months: tuple[str, str]
    accounts: tuple[DemoAccount, ...]


def same_day_previous_month(day: dt.date) -> dt.date:
    first = day.replace(day=1)
    previous_last = first - dt.timedelta(days=1)
    return previous_last.replace(day=min(day.day, previous_last.day))


def demo_allowed() -> bool:
    return bool(settings.DEBUG)


def demo_setup(*, people: int, say: Callable[[str], None]) -> DemoSummary:
    """Make sure the demo exists: import, screen last month and this month, cast the sign-ins.

    Every stage is built relative to today (`core.clock`, the same clock the services check
    against), so the demo shows upcoming triages and panels and actions both due and overdue
    whatever day it is built. Tests move the clock (time-machine) rather than pass a date.
    Reuses what is there: a second call changes nothing.
    """
    today = clock.today()
    previous = same_day_previous_month(today)
    months = (previous.strftime("%Y-%m"), today.strftime("%Y-%m"))
    cast_path = Path(settings.VAR_DIR) / CAST_FILE
    created = False
    if not ExtractImport.objects.exists():
        with tempfile.TemporaryDirectory(prefix="cc-demo-") as tmp:
            out = Path(tmp) / "extract"
            say(f"Generating a synthetic East of England extract of {people:,} people…")
            generate_extract(
                out, people=people, seed=DEMO_SEED, regions=[DEMO_REGION], extract_date=today
            )
            say("Importing it (accounts are provisioned from its staff)…")
            import_extract(out, actor=DEMO_ACTOR)
            _screen(previous, today, say)
            cast = _choose_cast(months[1])
            say("Adding two limited-access cases to the extract and importing it again…")
            _add_limited_access(out, cast)
            import_extract(out, actor=DEMO_ACTOR)
        say("Recording reflective conversations and referrals at each stage…")
        _demo_workflow(cast, months[1], today)
        cast_path.write_text(json.dumps(cast, indent=2))
        created = True
    else:
        created = _screen(previous, today, say)
    cast = json.loads(cast_path.read_text()) if cast_path.exists() else _choose_cast(months[1])
    accounts = _demo_accounts(cast)
    return DemoSummary(created=created, months=months, accounts=accounts)


def _screen(previous: dt.date, today: dt.date, say: Callable[[str], None]) -> bool:
    done = set(ScreeningRun.objects.values_list("month", flat=True))
    screened = False
    for as_of in (previous, today):
        if as_of.strftime("%Y-%m") not in done:
            say(f"Screening the caseload as of {as_of:%-d %B %Y}…")
            screening_run_create(as_of=as_of, actor=DEMO_ACTOR)
            screened = True
    return screened


def _choose_cast(month: str) -> dict[str, str]:
    """Pick real provisioned staff for the demo: the practitioner with most people on this month's
    list, their SPO and Head of PDU, and a QDO of the region; and two of the practitioner's listed
    people for the limited-access cases."""
    run = ScreeningRun.objects.filter(month=month).order_by("-started_at", "-id").first()
    if run is None:
        raise RuntimeError("The demo needs a screening run for this month")
    busiest = (
        ScreeningResult.objects.filter(
            run=run,
            eligible=True,
            person__offender_manager__grade__in=["PO", "PSO"],
            person__offender_manager__username__gt="",
        )
        .values("person__offender_manager")
        .annotate(listed=Count("id"))
        .order_by("-listed", "person__offender_manager")
        .first()
    )
    if busiest is None:
        raise RuntimeError("The demo extract has nobody on this month's list")
    practitioner = Staff.objects.select_related("team__pdu").get(
        pk=busiest["person__offender_manager"]
    )
    team, pdu = practitioner.team, practitioner.team.pdu

    def first(**filters: object) -> str:
        staff = Staff.objects.filter(**filters).exclude(username="").order_by("staff_code").first()
        if staff is None:
            raise RuntimeError(f"The demo extract has no staff matching {filters}")
        return staff.username

    listed = list(
        ScreeningResult.objects.filter(
            run=run, eligible=True, person__offender_manager=practitioner
        )
        .order_by("person__crn")
        .values_list("person__crn", flat=True)
    )
    return {
        "practitioner": practitioner.username,
        "spo": first(grade="SPO", team=team),
        "head_of_service": first(grade="HOPDU", team__pdu=pdu),
        "cc_team": first(grade="QDO", team__pdu__region=pdu.region),
        "restricted_crn": listed[0],
        "excluded_crn": listed[1] if len(listed) > 1 else "",
    }


def _demo_workflow(cast: dict[str, str], month: str, today: dt.date) -> None:
    """Conversations on some of the SPO's listed cases (others still await one), and a referral at
    every stage of the process, so each page of the workflow has something to show."""
    from complexcases.referrals import services as referrals
    from complexcases.referrals.states import ReferralStatus as S

    run = ScreeningRun.objects.filter(month=month).order_by("-started_at", "-id").first()
    users = {u.username: u for u in User.objects.filter(username__in=cast.values())}
    spo, cc_team = users[cast["spo"]], users[cast["cc_team"]]
    limited = {cast["restricted_crn"], cast.get("excluded_crn", "")}
    listed = [
        result.person
        for result in ScreeningResult.objects.filter(run=run, eligible=True)
        .select_related("person__team", "person__pdu")
        .order_by("person__crn")
        if result.person.crn not in limited
    ]
    practitioner = users[cast["practitioner"]]
    team_code = Staff.objects.get(username=cast["spo"]).team.code
    everyone = ScreeningResult.objects.filter(run=run, eligible=True, person__team__code=team_code)
    # The SPO's team, the practitioner's own cases first (some are limited-access cases).
    team = sorted(
        (result.person for result in everyone.select_related("person__offender_manager")),
        key=lambda p: (p.offender_manager.username != cast["practitioner"], p.crn),
    )

    def actor_for(person: Any) -> Any:
        return practitioner if person.offender_manager.username == cast["practitioner"] else spo

    outcomes = [
        ("refer_to_complex_cases", ""),
        ("no_further_support", ""),
        ("supported_elsewhere", "Managed at MAPPA level 2"),
    ]
    for person, (outcome, elsewhere) in zip(team, outcomes, strict=False):
        referrals.conversation_record(
            actor=actor_for(person),
            person=person,
            outcome=outcome,
            held_on=today,
            supported_elsewhere=elsewhere,
            note="Synthetic demo note.",
            month=month,
        )
    open_to_the_team = [p for p in team if p.crn not in limited]
    if open_to_the_team:
        referrals.referral_create(
            actor=actor_for(open_to_the_team[0]),
            person=open_to_the_team[0],
            challenges="Engagement has broken down since the move to approved premises.",
            support_sought="Ideas from psychology on how to rebuild engagement.",
        )
    # The rest of the process, through the same services the pages use, for listed people of
    # other teams: triage (one booked, one held with each outcome), the panel (cases concluded,
    # booked, followed up), a referral by email that needs attention, and nDelius contacts.
    from complexcases.intake.demo import demo_seed as intake_seed
    from complexcases.panels.demo import demo_seed as panels_seed
    from complexcases.triage.demo import demo_seed as triage_seed
    from complexcases.triage.demo import hold_for_panel

    others = [p for p in listed if p.team.code != team_code]
    received_at = dt.datetime.combine(
        today - dt.timedelta(days=TRIAGE_HISTORY_DAYS), dt.time(9), tzinfo=clock.LONDON
    )

    def refer(person: Any, challenges: str, support: str) -> Any:
        return referrals.referral_create(
            actor=cc_team,
            person=person,
            challenges=challenges,
            support_sought=support,
            now=received_at,
        )

    for_triage = [
        refer(
            person,
            "Several agencies are involved and nobody is coordinating the plan.",
            "A triage to find the specific blockers.",
        )
        for person in others[:5]
    ]
    triage_seed(
        region_code=DEMO_REGION, cc_team_user=cc_team, referrals_received=for_triage, today=today
    )
    for_panel = [
        refer(
            person,
            "Release planning is blocked: no accommodation has been found.",
            "Help from the prison resettlement representative and psychology.",
        )
        for person in others[5:9]
    ]
    hold_for_panel(
        referrals=for_panel,
        cc_team_user=cc_team,
        day=_working_day_on_or_before(received_at.date() + dt.timedelta(days=7)),
    )
    team_users = {
        u.username: u for u in User.objects.filter(username__in=["demo.pm", "demo.caseadmin"])
    }
    panels_seed(
        region_code=DEMO_REGION,
        cc_team_user=cc_team,
        chair_user=_demo_user("demo.panel", "Panel", "Member"),
        programme_manager=team_users.get("demo.pm", cc_team),
        case_admin=team_users.get("demo.caseadmin", cc_team),
        awaiting_panel=[r for r in for_panel if _status(r) == S.AWAITING_PANEL],
        today=today,
    )
    intake_seed(
        region_code=DEMO_REGION,
        cc_team_user=cc_team,
        known_sender_user=practitioner,
        crn_referable=open_to_the_team[0].crn if open_to_the_team else "",
    )


# How far back the demo's triage and panel examples start (referrals received, triages held).
TRIAGE_HISTORY_DAYS = 110


def _status(referral: Any) -> str:
    from complexcases.referrals.models import Referral

    return Referral.objects.values_list("status", flat=True).get(pk=referral.pk)


def _working_day_on_or_before(day: dt.date) -> dt.date:
    from complexcases.notifications.rules import is_working_day

    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def _demo_user(username: str, first_name: str, last_name: str) -> Any:
    user, _ = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first_name,
            "last_name": last_name,
            "email": f"{username}@justice.example",
        },
    )
    return user


# The configuration an administrator manages in the admin pages: accounts and roles, the regions'
# Complex Cases teams and panel rosters, and panel series. No case data is registered there.
ADMIN_MODELS = (
    ("accounts", "user"),
    ("accounts", "userrole"),
    ("triage", "triageteammember"),
    ("panels", "panelmember"),
    ("panels", "panelseries"),
)


def _admin_permissions(user: Any) -> None:
    """Give the demo administrator the admin-page permissions for the configuration models."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    wanted = Q()
    for app_label, model in ADMIN_MODELS:
        wanted |= Q(content_type__app_label=app_label, content_type__model=model)
    user.user_permissions.add(*Permission.objects.filter(wanted))


def _add_limited_access(out: Path, cast: dict[str, str]) -> None:
    """A restriction allowing only the practitioner on one listed case, and an exclusion of the SPO
    from another, so every demo user can see how limited access looks."""
    with (out / "limited_access.csv").open("a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([cast["restricted_crn"], cast["practitioner"], "RESTRICTION", "", ""])
        if cast["excluded_crn"]:
            writer.writerow([cast["excluded_crn"], cast["spo"], "EXCLUSION", "", ""])


@transaction.atomic
def _demo_accounts(cast: dict[str, str]) -> tuple[DemoAccount, ...]:
    """Give the cast the demo password, and make the users the extract does not have."""
    extra = {
        "panel_member": ("demo.panel", "Panel", "Member"),
        "analyst": ("demo.analyst", "Demo", "Analyst"),
        "admin": ("demo.admin", "Demo", "Administrator"),
    }
    for role, (username, first_name, last_name) in extra.items():
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "is_staff": role == "admin",
            },
        )
        scope = {"region": DEMO_REGION} if role in {"panel_member", "analyst"} else {}
        user_role_grant(
            actor=DEMO_ACTOR,
            request=role_request_resolve(username=username, role=role, **scope),
        )
    _admin_permissions(User.objects.get(username=extra["admin"][0]))
    usernames = {
        **{role: cast[role] for role in ("practitioner", "spo", "head_of_service", "cc_team")}
    }
    usernames.update({role: names[0] for role, names in extra.items()})
    for user in User.objects.filter(username__in=usernames.values()):
        if not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
    restricted, excluded = cast["restricted_crn"], cast.get("excluded_crn", "")
    hints = {
        "practitioner": f"your caseload: conversations, referrals; {restricted} is restricted to you",
        "spo": f"your team: cases awaiting a conversation; you are excluded from {excluded}",
        "head_of_service": "listed people in your PDU; CSV download",
        "cc_team": (
            "My work, the referrals queue, an email needing attention, the triage calendar,"
            " panels (book, papers, meetings), follow-ups; demo.pm is the Programme Manager"
        ),
        "panel_member": "chairs the panel: invited cases, papers (page and PDF), the chair's view",
        "analyst": "counts only, never names or CRNs",
        "admin": (
            "users, roles, triage teams, panel rosters and series (/admin/); the audit trail"
            " (/audit/); no case data"
        ),
    }
    return tuple(DemoAccount(role, usernames[role], hints[role]) for role in hints)
