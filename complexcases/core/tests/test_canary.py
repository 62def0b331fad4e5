"""The canary: a person with a distinctive synthetic name and CRN goes through the whole flow, and
neither appears anywhere personal data must not go.

Zebedee Quixotic-Canary (CRN Q987654) is screened onto November's list; their SPO is reminded of
the awaiting conversation, records it (refer) and refers through the pages; the Complex Cases team
closes that referral; the practitioner refers again through POST /api/v1/referrals and the team
closes that one too; the practitioner then refers by email (ingested from raw bytes through
intake.services), and a stranger's email about the same person lands in the needs-attention queue;
the team books a triage through the booking page (invitations), reschedules it without the
psychologist (update and cancellation), and records the outcome "for panel" with a blocker,
guidance, an action and the question; the action's reminders and escalation go out; the team
books the panel through its page (invitations), the papers are issued on their date (updated
invitations), read on the page and as PDF, the chair's summary goes out and the QDO's follow-up
closes the referral; the nDelius contacts are exported with `export_delius_contacts`; the outbox is
sent to a real SMTP server (the smtp_server fixture) with notifications.services.outbox_send_due.
The practitioners write the person's name and CRN in their free text, as real ones do.

Then:
- no OutboxMessage's subject, text, HTML or invitation, and no message the SMTP server received
  (raw bytes and every decoded part, headers included), holds the CRN or any part of the name;
- no log line does: all log output at DEBUG (django.db.backends stays at its configured INFO,
  which test_logging.py holds it to) as written by the project's configured handlers, which carry
  core.logging.RedactPersonalDataFilter, and as pytest's caplog sees it through the same filter;
  nor, for the name (which no filter can spot), any log record before redaction;
- every URL the flow requested, every redirect, and every link, form action or source on the
  pages it received carries the CRN only on the service's own case pages (/people/<crn>/...) or in
  the API (/api/v1/...), and never the name; no other response header holds either (download file
  names, for instance); the links in emails carry neither and all point at the service
  (CC_SERVICE_URL);
- the audit trail holds the flow: it is allowed to hold the CRN, being the record of who consulted,
  changed or disclosed what (DPA 2018 s.62);
- the nDelius contact file does carry the CRN (and the practitioners' notes): it is the case
  record's upload, going back into nDelius, which is allowed and expected.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from complexcases.accounts.models import Region
from complexcases.accounts.tests.cast import build_cast, build_org, give, staff_user
from complexcases.accounts.tokens import api_token_issue
from complexcases.actions.services import action_reminders_send
from complexcases.core.logging import RedactPersonalDataFilter
from complexcases.core.models import AuditEvent
from complexcases.intake import services as intake
from complexcases.intake.tests.mail import STRANGER_ADDRESS, make_email
from complexcases.notifications.models import DeliusContact, OutboxMessage, OutboxStatus
from complexcases.notifications.services import outbox_send_due
from complexcases.panels import services as panels
from complexcases.panels.models import FollowUp, PanelCase, PanelMeeting
from complexcases.panels.rules import PanelRole
from complexcases.people.tests.factories import (
    AssessmentFactory,
    PersonFactory,
    RegistrationFactory,
    SentenceFactory,
    UserFactory,
)
from complexcases.referrals.models import Referral
from complexcases.referrals.services import conversation_reminders_send
from complexcases.screening.services import screening_run_create
from complexcases.triage import selectors as triage_selectors
from complexcases.triage.models import TriageMeeting, TriageTeamMember

pytestmark = pytest.mark.django_db

CRN = "Q987654"
FORENAME = "Zebedee"
SURNAME = "Quixotic-Canary"
# Searched case-insensitively; "Quixotic" also catches the surname split at its hyphen.
SECRETS = (CRN, FORENAME, SURNAME, "Quixotic")
NAME_PARTS = {FORENAME, SURNAME, "Quixotic"}
NAME = f"{FORENAME} {SURNAME}"

NOW = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)  # Monday 16 November 2026
AS_OF = dt.date(2026, 11, 2)
MONTH = "2026-11"
ACTION_DUE = dt.date(2026, 11, 30)
PAPERS_DAY = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)  # 5 working days before the panel
PANEL_DAY = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)  # the first Monday of December
# The triage team of East of England: username -> (function, grade).
TEAM = {
    "cc_eoe": ("programme_manager", "QDO"),
    "ca_eoe": ("case_admin", "ADMIN"),
    "qdo_eoe": ("qdo", "QDO"),
    "psych_eoe": ("senior_forensic_psychologist", "PSYCH"),
}
CASE_PAGE = re.compile(rf"^(https?://[^/]+)?/people/{CRN}(/|$)")
API_PATH = re.compile(r"^(https?://[^/]+)?/api/v1/")
URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>]+")
URL_IN_HTML = re.compile(r"(?:href|action|src)=\"([^\"]*)\"")


def leaks(text: str) -> list[str]:
    """The secrets found in the text (case-insensitive)."""
    folded = text.casefold()
    return [secret for secret in SECRETS if secret.casefold() in folded]


def unfold_ics(text: str) -> str:
    """iCalendar folds long lines (RFC 5545 3.1): join them, so a CRN split by a fold is seen."""
    return re.sub(r"\r?\n[ \t]", "", text)


# --- the world ---------------------------------------------------------------------------------


def build_canary_world() -> Any:
    """The standard cast; the canary in team A1, managed by `manager`, meeting seven criteria; the
    East of England triage team (cc_eoe its Programme Manager)."""
    world: Any = build_cast(build_org())
    canary = PersonFactory(
        crn=CRN,
        forename=FORENAME,
        surname=SURNAME,
        date_of_birth=dt.date(1979, 5, 17),
        team=world.teams["A1"],
        pdu=world.pdus["A"],
        offender_manager=world.users["manager"].staff,
    )
    for code, level in (("RHRH", ""), ("AMHL", ""), ("ALSH", ""), ("MAPP", "M2")):
        RegistrationFactory(person=canary, register_type_code=code, register_level_code=level)
    AssessmentFactory(
        person=canary,
        completed_date=dt.date(2026, 9, 1),
        q10_6=2,
        q10_5="YES",
        q4_8=1,
        drug_score=3,
    )
    SentenceFactory(person=canary, sentence_type="IPP", active=True)
    eoe = world.regions["EOE"]
    for username, (function, grade) in TEAM.items():
        user = world.users.get(username)
        if user is None:
            user = staff_user(username, world.teams["B1"], grade=grade)
            give(user, "cc_team", region=eoe)
            world.users[username] = user
        TriageTeamMember.objects.create(region=eoe, function=function, user=user)
    # The region's panel: a roster, and a series on the first Monday of each month.
    cc = world.users["cc_eoe"]
    roster: dict[str, Any] = {PanelRole.QDO: cc}
    for role in (
        PanelRole.CHAIR,
        PanelRole.PROGRAMME_MANAGER,
        PanelRole.CASE_ADMIN,
        PanelRole.HEAD_PUBLIC_PROTECTION,
        PanelRole.MENTAL_HEALTH_LEAD,
    ):
        roster[role] = UserFactory(username=f"panel_{role}")
        give(roster[role], "panel_member", region=eoe)
    for role_name, member in roster.items():
        panels.roster_member_set(actor=cc, region=eoe, role=role_name, user=member)
    series = panels.series_create(
        actor=cc,
        region=eoe,
        name="East of England panel",
        rrule="FREQ=MONTHLY;BYDAY=+1MO",
        first_date=dt.date(2026, 12, 7),
        start_time=dt.time(10, 0),
        end_time=dt.time(13, 0),
        holiday_policy="next_working_day",
    )
    panels.meetings_schedule(
        series=series, start=dt.date(2026, 12, 1), until=dt.date(2027, 3, 31), actor=cc
    )
    world.chair = roster[PanelRole.CHAIR]
    world.canary = canary
    return world


# --- what the flow requested ------------------------------------------------------------------


@dataclass
class Requests:
    """Every URL requested (and every redirect's target), and every URL on the HTML received."""

    urls: list[str] = field(default_factory=list)
    page_urls: list[tuple[str, str]] = field(default_factory=list)  # (page, url on it)
    headers: list[tuple[str, str, str]] = field(default_factory=list)  # (page, name, value)


class RecordingClient(Client):
    """The test client, noting what it asked for and what it was sent back."""

    def __init__(self, requests: Requests, **defaults: Any) -> None:
        super().__init__(**defaults)
        self.requests = requests

    def request(self, **request: Any) -> Any:
        path = str(request.get("PATH_INFO", ""))
        query = str(request.get("QUERY_STRING", ""))
        self.requests.urls.append(f"{path}?{query}" if query else path)
        response = super().request(**request)
        if response.has_header("Location"):
            self.requests.urls.append(response["Location"])
        self.requests.headers += [
            (path, name, value) for name, value in response.items() if name != "Location"
        ]
        if response.get("Content-Type", "").startswith("text/html"):
            for url in URL_IN_HTML.findall(response.content.decode()):
                self.requests.page_urls.append((path, url))
        return response


def signed_in(requests: Requests, username: str) -> RecordingClient:
    client = RecordingClient(requests)
    response = client.post(
        "/sign-in/", {"username": username, "password": "correct horse battery staple"}
    )
    assert response.status_code == 302, f"{username} could not sign in"
    return client


# --- the log output ---------------------------------------------------------------------------


class _RawRecords(logging.Handler):
    """Keeps each record's message as logged, before any handler's redaction filter runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # a malformed call: keep its format string
            self.messages.append(str(record.msg))


@dataclass
class Logs:
    streams: list[io.StringIO]
    raw: _RawRecords
    caplog: Any

    def output(self) -> str:
        """Everything the configured handlers wrote, and every record as caplog formats it."""
        texts = [stream.getvalue() for stream in self.streams] + [self.caplog.text]
        texts += [self.caplog.handler.format(record) for record in self.caplog.records]
        return "\n".join(texts)


@contextmanager
def captured_logs(caplog: Any) -> Iterator[Logs]:
    """All log output at DEBUG through the project's configured handlers (as test_logging.py)."""
    root = logging.getLogger()
    configured = [
        handler
        for handler in root.handlers
        if any(isinstance(f, RedactPersonalDataFilter) for f in handler.filters)
    ]
    assert configured, "the root logger has no handler with the redaction filter"
    streams = [io.StringIO() for _ in configured]
    previous = [h.setStream(s) for h, s in zip(configured, streams, strict=True)]  # type: ignore[attr-defined]
    raw = _RawRecords()
    root.handlers.insert(0, raw)  # first, so it sees each record before a filter rewrites it
    caplog.handler.addFilter(RedactPersonalDataFilter())
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.server", "django.request", "django.security"):
        caplog.set_level(logging.DEBUG, logger=name)
    try:
        yield Logs(streams=streams, raw=raw, caplog=caplog)
    finally:
        root.removeHandler(raw)
        for handler, stream in zip(configured, previous, strict=True):
            handler.setStream(stream)  # type: ignore[attr-defined]


# --- the emails -------------------------------------------------------------------------------


def received_texts(received: Any) -> list[tuple[str, str]]:
    """(what, text) for a message the SMTP server received: the raw bytes, each header and every
    decoded part (base64 or quoted-printable could otherwise hide a leak)."""
    message = received.message
    texts = [("raw", message.as_bytes(policy=email.policy.SMTP).decode("utf-8", "replace"))]
    texts += [(f"header {name}", str(value)) for name, value in message.items()]
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        text = payload.decode(part.get_content_charset() or "utf-8", "replace")
        if part.get_content_type() == "text/calendar" or part.get_filename() == "invite.ics":
            text = unfold_ics(text)
        texts.append((f"part {part.get_content_type()}", text))
    return texts


def outbox_texts(message: OutboxMessage) -> list[tuple[str, str]]:
    return [
        ("subject", message.subject),
        ("body", message.body),
        ("html", message.html_body),
        ("ics", unfold_ics(message.ics)),
    ]


# --- the flow ---------------------------------------------------------------------------------


def _referral_closed_by_the_team(cc: RecordingClient, referral: Referral, reason: str) -> None:
    form = {
        "action": "close",
        "close-from_status": "received",
        "close-closure_reason": reason,
        "close-closure_destination": "Local MAPPA coordinator" if reason == "signposted" else "",
        "close-reason": f"Closed by the team: {NAME} is known to them.",
    }
    response = cc.post(f"/referrals/{referral.pk}/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    referral.refresh_from_db()
    assert referral.status == "closed"


def run_the_flow(world: Any, requests: Requests, tmp_path: Path) -> dict[str, Any]:
    users = world.users
    found: dict[str, Any] = {}

    # Listed in November's run.
    run = screening_run_create(as_of=AS_OF, actor="canary-test")
    assert run.results.get(person=world.canary).eligible

    # The SPO is reminded of the awaiting conversation (a count and a link).
    assert conversation_reminders_send(today=NOW.date()) == 1

    spo = signed_in(requests, "spo_a1")
    for url in ("/", f"/lists/{MONTH}/PDUA/", "/my-work/", f"/people/{CRN}/"):
        assert spo.get(url).status_code == 200, url
    assert NAME in spo.get(f"/lists/{MONTH}/PDUA/").content.decode()

    # Someone out of scope is refused (a 404, logged by django.request, audited).
    stranger = signed_in(requests, "other_region_pp")
    assert stranger.get(f"/people/{CRN}/").status_code == 404

    # Reflective conversation, then the referral through the page.
    assert spo.get(f"/people/{CRN}/conversation/").status_code == 200
    response = spo.post(
        f"/people/{CRN}/conversation/",
        {
            "outcome": "refer_to_complex_cases",
            "held_on_day": "16",
            "held_on_month": "11",
            "held_on_year": "2026",
            "note": f"Talked through {NAME} ({CRN}): stuck on accommodation.",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/people/{CRN}/refer/"
    response = spo.post(
        f"/people/{CRN}/refer/",
        {
            "challenges": f"{NAME} ({CRN}) will not engage with the approved premises.",
            "support_sought": f"Ideas for working with {FORENAME}.",
        },
        follow=True,
    )
    page_referral = Referral.objects.get(person=world.canary)
    assert response.redirect_chain[-1][0] == f"/referrals/{page_referral.pk}/"
    assert spo.get("/my-work/").status_code == 200

    # The team sees it and closes it (withdrawn).
    cc = signed_in(requests, "cc_eoe")
    for url in ("/my-work/", "/referrals/", f"/referrals/{page_referral.pk}/"):
        assert cc.get(url).status_code == 200, url
    _referral_closed_by_the_team(cc, page_referral, "withdrawn")

    # The practitioner refers through the API; a second try is a conflict; the team signposts it.
    key = api_token_issue(actor="canary-test", user=users["manager"], name="canary").key
    api = RecordingClient(requests, HTTP_AUTHORIZATION=f"Token {key}")
    body = {
        "crn": CRN,
        "challenges": f"{NAME} ({CRN}) misses appointments.",
        "support_sought": f"A plan for {FORENAME}.",
        "route": "monthly_list",
    }
    created = api.post("/api/v1/referrals", body, content_type="application/json")
    assert created.status_code == 201, created.content
    api_referral = Referral.objects.get(pk=created.json()["id"])
    again = api.post("/api/v1/referrals", body, content_type="application/json")
    assert again.status_code == 409
    for url in (f"/api/v1/referrals/{api_referral.pk}", f"/api/v1/people/{CRN}"):
        assert api.get(url).status_code == 200, url
    assert api.get("/api/v1/referrals", {"status": "received"}).status_code == 200
    _referral_closed_by_the_team(cc, api_referral, "signposted")

    # The practitioner refers by email; a stranger's email about the person needs attention.
    region = Region.objects.get(code="EOE")
    email_body = (
        f"Hello team,\n\nPlease can you help with {NAME}, {CRN}.\n\n"
        f"What is challenging:\n{FORENAME} is hostile to staff.\n\n"
        "What support is sought:\nA psychology consultation.\n"
    )
    referred = intake.ingest_message(
        raw=make_email(
            sender=users["manager"].email, subject=f"Referral {CRN} {NAME}", body=email_body
        ),
        region=region,
    )
    assert referred.outcome == "referred"
    attention = intake.ingest_message(
        raw=make_email(sender=STRANGER_ADDRESS, subject=f"About {NAME}", body=email_body),
        region=region,
    )
    assert attention.outcome == "needs_attention"
    for url in (
        "/referrals/needs-attention/",
        f"/referrals/needs-attention/{attention.inbound_email_id}/",
    ):
        assert cc.get(url).status_code == 200, url
    referral = Referral.objects.get(person=world.canary, status="received")

    # Triage booked through the page (invitations to the defaults) ...
    book = f"/referrals/{referral.pk}/triage/book/"
    assert cc.get(book).status_code == 200
    invited = [p.user.pk for p in triage_selectors.booking_defaults(referral).proposed]
    assert users["psych_eoe"].pk in invited
    slot = {"start_day": "18", "start_month": "11", "start_year": "2026", "add_attendees": ""}
    response = cc.post(book, {**slot, "start_time": "10:00", "attendees": invited})
    assert response.status_code == 302, response.content.decode()[:3000]
    meeting = TriageMeeting.objects.get(referral=referral)
    assert response["Location"] == f"/triage/{meeting.pk}/"
    for url in (f"/triage/{meeting.pk}/", "/triage/", f"/referrals/{referral.pk}/"):
        assert cc.get(url).status_code == 200, url

    # ... rescheduled an hour later without the psychologist (an update and a cancellation) ...
    without = [pk for pk in invited if pk != users["psych_eoe"].pk]
    response = cc.post(book, {**slot, "start_time": "11:00", "attendees": without})
    assert response.status_code == 302, response.content.decode()[:3000]
    meeting.refresh_from_db()
    assert meeting.sequence == 1

    # ... and its outcome recorded: for panel.
    response = cc.post(
        f"/triage/{meeting.pk}/",
        {
            "outcome": "for_panel",
            "panel_question": f"How can the team build trust with {FORENAME}?",
            "blocker-0-theme": "accommodation",
            "blocker-0-description": f"No approved premises will take {NAME} ({CRN}).",
            "guidance": f"One point of contact for {FORENAME}.",
            "sensitive_notes": f"{NAME} disclosed a bereavement.",
            "action-0-description": f"Ask the psychologist for a formulation on {CRN}.",
            "action-0-owner": str(users["manager"].pk),
            "action-0-due_day": str(ACTION_DUE.day),
            "action-0-due_month": str(ACTION_DUE.month),
            "action-0-due_year": str(ACTION_DUE.year),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    referral.refresh_from_db()
    assert referral.status == "awaiting_panel"
    for url in (f"/triage/{meeting.pk}/", f"/referrals/{referral.pk}/", f"/people/{CRN}/"):
        assert cc.get(url).status_code == 200, url
    assert spo.get(f"/triage/{meeting.pk}/").status_code == 200  # an attendee

    # The action's owner is reminded (due soon), then it is overdue and escalated.
    assert action_reminders_send(today=dt.date(2026, 11, 27))["due_soon"] == 1
    late = action_reminders_send(today=dt.date(2026, 12, 8))
    assert (late["overdue"], late["escalation"]) == (1, 1)

    # The panel: booked through the page (invitations), papers issued on their date, the chair's
    # summary (outcome email), the QDO's follow-up closing the referral.
    book = f"/panels/book/{referral.pk}/"
    assert cc.get(book).status_code == 200
    meeting_id = PanelMeeting.objects.order_by("date").values_list("pk", flat=True)[0]
    response = cc.post(
        book,
        {
            "meeting": str(meeting_id),
            "slot": "",
            "question": f"How can the team build trust with {FORENAME} ({CRN})?",
            "invitees": [str(i.user.pk) for i in panels.invitees_proposed(referral)],
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    case = PanelCase.objects.get(referral=referral)
    assert cc.get(f"/panels/cases/{case.pk}/").status_code == 200
    assert panels.papers_issue_due(now=PAPERS_DAY) == 1
    chair = signed_in(requests, world.chair.username)
    for url in (f"/panels/cases/{case.pk}/", f"/panels/cases/{case.pk}/papers/"):
        assert chair.get(url).status_code == 200, url
    assert chair.get(f"/panels/cases/{case.pk}/papers.pdf").status_code == 200
    case = panels.panel_case_conclude(
        actor=world.chair,
        case=case,
        summary=f"{NAME} ({CRN}): psychology consultation agreed.",
        now=PANEL_DAY,
    )
    follow_up = FollowUp.objects.get(referral=referral)
    assert cc.get(f"/panels/follow-ups/{follow_up.pk}/").status_code == 200
    panels.follow_up_record(
        actor=users["cc_eoe"],
        follow_up=follow_up,
        progress_notes=f"{FORENAME} attended the consultation.",
        remaining_blockers="",
        wellbeing=4,
        confidence=4,
        outcome="close",
    )
    referral.refresh_from_db()
    assert (referral.status, referral.closure_reason) == ("closed", "completed")
    assert cc.get(f"/referrals/{referral.pk}/").status_code == 200

    # An administrator asks the audit trail who has looked at the case (DPA 2018 s.62).
    admin = signed_in(requests, "admin")
    assert admin.get("/audit/").status_code == 200
    search = admin.post("/audit/", {"crn": CRN})  # a POST: no CRN in the URL
    assert search.status_code == 200
    assert "reflective_conversation" in search.content.decode()
    assert admin.post("/audit/", {"crn": CRN, "page": "2"}).status_code == 200

    # The nDelius contacts, exported once.
    contacts = tmp_path / "contacts.csv"
    call_command(
        "export_delius_contacts",
        "--format",
        "csv",
        "--output",
        str(contacts),
        "--actor",
        "canary-test",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    found["contacts"] = contacts.read_text(encoding="utf-8")

    # Out they go, to the real SMTP server.
    pending = OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count()
    assert outbox_send_due() == {"sent": pending, "retry": 0, "failed": 0, "skipped": 0}
    return found


# --- the test ---------------------------------------------------------------------------------


def test_the_canary_leaves_no_trace_outside_the_case_record(
    smtp_server: Any, caplog: Any, tmp_path: Path, time_machine: Any
) -> None:
    time_machine.move_to(NOW, tick=True)
    world = build_canary_world()
    requests = Requests()
    with captured_logs(caplog) as logs:
        found = run_the_flow(world, requests, tmp_path)

    # The flow did what it says: every kind of email went out, through the SMTP server.
    messages = list(OutboxMessage.objects.order_by("id"))
    kinds = {m.kind for m in messages}
    assert {
        "conversation_reminder",
        "intake_acknowledgement",
        "triage_invitation",
        "triage_cancellation",
        "action_due_soon",
        "action_overdue",
        "action_escalation",
        "panel_invitation",
        "panel_outcome",
    } <= kinds, kinds
    assert all(m.status == OutboxStatus.SENT for m in messages)
    received = smtp_server.wait_for(len(messages))
    assert len(received) == len(messages)

    # Where the name or CRN turned up where it must not: collected, so one run shows them all.
    found_leaks: list[str] = []

    # No email holds the name or the CRN: not in the outbox, not on the wire.
    for message in messages:
        for what, text in outbox_texts(message):
            if leaks(text):
                found_leaks.append(f"outbox {message.kind} {what}: {leaks(text)}")
    for item in received:
        for what, text in received_texts(item):
            if leaks(text):
                found_leaks.append(f"email {item.message['Subject']!r} {what}: {leaks(text)}")

    # Links in emails point at the service and carry no identifier at all.
    email_urls = {
        url.rstrip(".,;)")
        for message in messages
        for _what, text in outbox_texts(message)
        for url in URL_IN_TEXT.findall(text)
    }
    assert email_urls
    for url in sorted(email_urls):
        assert url.startswith(settings.CC_SERVICE_URL), url
        if leaks(url):
            found_leaks.append(f"link in an email: {url}")

    # URLs: the CRN only on case pages and in the API; the name never.
    assert any(CASE_PAGE.match(url) for url in requests.urls)
    for where, url in [("requested", url) for url in requests.urls] + [
        (f"on {page}", url) for page, url in requests.page_urls
    ]:
        if NAME_PARTS & set(leaks(url)) or (
            CRN.casefold() in url.casefold() and not (CASE_PAGE.match(url) or API_PATH.match(url))
        ):
            found_leaks.append(f"URL {where}: {url}")

    # Nor does any other response header (file names of downloads, for instance).
    for page, name, value in requests.headers:
        if leaks(value):
            found_leaks.append(f"header {name} of {page}: {value}")

    # No log line names the person; the flow was logged, so this could have failed.
    output = logs.output()
    assert "outbox message" in output and "exported" in output
    assert "Not Found" in output  # the refused look at the case page
    found_leaks += [f"log: {line}" for line in output.splitlines() if leaks(line)]
    found_leaks += [f"log record: {m}" for m in logs.raw.messages if NAME_PARTS & set(leaks(m))]

    assert found_leaks == [], "\n".join(dict.fromkeys(found_leaks))

    # The audit trail holds the flow (the CRN belongs there).
    trail = AuditEvent.objects.filter(person_crn=CRN)
    done = set(trail.values_list("action", "object_type"))
    assert {
        ("view", "person"),
        ("refused", "person"),
        ("create", "reflective_conversation"),
        ("create", "referral"),
        ("transition", "referral"),
        ("create", "inbound_email"),
        ("create", "triage_meeting"),
        ("send", "triage_meeting"),
        ("update", "triage_meeting"),
        ("create", "triage_record"),
        ("create", "panel_case"),
        ("send", "panel_papers"),
        ("send", "panel_outcome"),
        ("audit_search", "audit_trail"),
    } <= done, sorted(done)
    assert trail.filter(actor_username="other_region_pp", outcome="refused").exists()
    export = AuditEvent.objects.get(action="export", object_type="delius_contacts")
    references = set(
        DeliusContact.objects.filter(person=world.canary).values_list(
            "external_reference", flat=True
        )
    )
    details: dict[str, Any] = export.details or {}
    assert references and references <= set(details.get("external_references", []))

    # The nDelius upload is the case record: it carries the CRN, by design.
    rows = found["contacts"].splitlines()
    assert rows[0].startswith("external_reference,crn,")
    # The conversation, the triage booked and its outcome, the panel's outcome.
    assert sum(CRN in row for row in rows[1:]) >= 4
