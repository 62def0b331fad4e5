"""Panel pages. Thin: parse input, call a selector or a service, render.

- /panels/                          the panels: meetings and referrals awaiting panel (Complex Cases
                                    team); the cases a panel member is invited to
- /panels/book/<referral id>/       book a referral awaiting panel into a slot (Complex Cases team)
- /panels/meetings/<id>/            a meeting: slots, late papers, missing expertise, reflection
- /panels/meetings/<id>/minutes.pdf the minutes, holding only the cases the reader may see
- /panels/cases/<id>/               the case: the chair's seven-step view, attendance, notes,
                                    actions, conclusion, addenda; a member's reply to the invitation
- /panels/cases/<id>/papers/        the papers (each opening recorded); papers.pdf the same as PDF
- /panels/follow-ups/<id>/          the QDO's follow-up check-in

Every page declares its access policy and is audited before showing anything. Refusals are the
same 404 as "not there", or the limited-access 403 (accounts.access).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from complexcases.accounts import access
from complexcases.accounts.models import User
from complexcases.accounts.policy import access_policy
from complexcases.actions import selectors as actions_selectors
from complexcases.actions import services as actions_services
from complexcases.core import clock
from complexcases.core.audit import audit_record, audited_read
from complexcases.core.transitions import TransitionNotAllowed
from complexcases.panels import pdf, rules, selectors, services
from complexcases.panels.forms import (
    ActionForm,
    AddendumForm,
    BookForm,
    CancelForm,
    ConcludeForm,
    FollowUpForm,
    NoteForm,
    ReflectionForm,
    RespondForm,
)
from complexcases.panels.models import FollowUp, PanelCase
from complexcases.panels.states import (
    AGENDA_STEPS,
    Attendance,
    CaseStatus,
    FollowUpStatus,
    PartyRole,
)
from complexcases.referrals.models import Referral
from complexcases.referrals.states import ReferralStatus


def _errors(form: Form, error: ValidationError | None = None) -> list[dict[str, str]]:
    if error is not None:
        for name, texts in error.message_dict.items():
            for text in texts:
                form.add_error(name if name in form.fields else None, text)
    return [
        {
            "text": str(text),
            "href": f"#{form.prefix + '-' if form.prefix else 'id_'}{name}"
            if name != "__all__"
            else "",
        }
        for name, texts in form.errors.items()
        for text in texts
    ]


CHANGED = "This referral or case has changed since you opened the page. Check it and try again."


def _today() -> dt.date:
    return clock.today()


# --- overview ----------------------------------------------------------------------------------


@access_policy("scoped_list")
@never_cache
@login_required
def panels_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    regions = selectors.cc_team_region_ids(user)
    today = _today()
    invited = selectors.invited_cases_for(user)
    if not regions and not invited:
        raise access.NotFound()
    meetings = list(selectors.meetings_for(user, today=today)[:12]) if regions else []
    awaiting = list(selectors.awaiting_panel_for(user)) if regions else []
    audit_record(
        actor=user,
        action="list",
        object_type="panels",
        request=request,
        details={
            "cases": [case.pk for case in invited],
            "referrals": [referral.pk for referral in awaiting],
        },
    )
    return render(
        request,
        "panels/home.html",
        {
            "nav": "panels",
            "meetings": meetings,
            "awaiting": awaiting,
            "invited": invited,
            "series": selectors.series_in(regions),
            "roster": selectors.roster_in(regions),
            "manages": bool(regions),
        },
    )


# --- booking -----------------------------------------------------------------------------------


def _meeting_label(meeting: Any) -> str:
    label = f"{meeting.date:%A %-d %B %Y}, {meeting.start.astimezone(rules.LONDON):%H:%M}"
    return f"{label} ({meeting.free} free of {meeting.slot_count})"


@access_policy("cc_team")
@never_cache
@login_required
def panel_book(request: HttpRequest, referral_id: int) -> HttpResponse:
    user = request.user
    referral = selectors.referral_for_booking(user, referral_id, request=request)
    if referral.status != ReferralStatus.AWAITING_PANEL:
        messages.info(request, "This referral is not waiting for a panel.")
        return redirect("referrals:referral", referral_id=referral.pk)
    meetings = selectors.meetings_with_space(referral.pdu.region_id, now=clock.now())
    proposed = services.invitees_proposed(referral)
    invitee_choices = [
        (str(i.user.pk), f"{i.user.get_full_name() or i.user.username}") for i in proposed
    ]
    # Roster members the rules did not propose: the Programme Manager may add them.
    proposed_ids = {i.user.pk for i in proposed}
    others = [m for m in selectors.roster(referral.pdu.region_id) if m.user_id not in proposed_ids]
    extra_members = {str(m.user_id): m for m in others}
    form = BookForm(
        request.POST or None,
        meetings=[(m.pk, _meeting_label(m)) for m in meetings],
        invitee_choices=invitee_choices,
        extra_choices=[
            (key, m.user.get_full_name() or m.user.username) for key, m in extra_members.items()
        ],
        initial={
            "meeting": meetings[0].pk if meetings else None,
            "question": selectors.panel_question(referral),
            "invitees": [value for value, _ in invitee_choices],
        },
    )
    errors: list[dict[str, str]] = []
    status = 200
    chosen_values = (
        set(request.POST.getlist("invitees"))
        if request.method == "POST"
        else {value for value, _ in invitee_choices}
    )
    if request.method == "POST":
        if form.is_valid():
            chosen = set(form.cleaned_data["invitees"])
            meeting = next(m for m in meetings if m.pk == form.cleaned_data["meeting"])
            slot_text = form.cleaned_data["slot"].strip()
            try:
                case = services.panel_case_book(
                    actor=user,
                    referral=referral,
                    question=form.cleaned_data["question"],
                    meeting=meeting,
                    slot_index=int(slot_text) if slot_text.isdigit() else None,
                    invitees=[i for i in proposed if str(i.user.pk) in chosen]
                    + [
                        services.Invitee(
                            user=extra_members[key].user,
                            panel_role=extra_members[key].role,
                            reason="Added by the Complex Cases team",
                        )
                        for key in form.cleaned_data["extra"]
                    ],
                )
            except services.SlotTaken as taken:
                form.add_error("meeting", str(taken))
            except TransitionNotAllowed:
                form.add_error(None, CHANGED)
            except ValidationError as error:
                errors = _errors(form, error)
            else:
                messages.success(request, "Booked into the panel. Invitations have been sent.")
                return redirect("panels:case", case_id=case.pk)
        errors = errors or _errors(form)
        status = 400
    audit_record(
        actor=user,
        action="view",
        object_type="panel_booking",
        object_id=referral.pk,
        person_crn=referral.person.crn,
        request=request,
    )
    return render(
        request,
        "panels/book.html",
        {
            "nav": "panels",
            "referral": referral,
            "person": referral.person,
            "form": form,
            "meetings": meetings,
            "proposed": proposed,
            "errors": errors,
            "free_slots": [
                (
                    m,
                    ", ".join(
                        f"{s.start.astimezone(rules.LONDON):%H:%M} ({s.index})"
                        for s in services.meeting_slots(m)
                        if s.index not in m.taken  # type: ignore[attr-defined]
                    ),
                )
                for m in meetings
            ],
            "extra_rows": [
                {
                    "pk": key,
                    "name": m.user.get_full_name() or m.user.username,
                    "role": m.get_role_display() + (" (deputy)" if m.is_deputy else ""),
                    "checked": key in request.POST.getlist("extra"),
                }
                for key, m in extra_members.items()
            ],
            "invitee_rows": [
                {
                    "pk": str(i.user.pk),
                    "name": i.user.get_full_name() or i.user.username,
                    "role": rules.PANEL_ROLE_LABELS[rules.PanelRole(i.panel_role)]
                    if i.panel_role
                    else dict(PartyRole.choices)[i.party_role],
                    "reason": i.reason,
                    "checked": str(i.user.pk) in chosen_values,
                }
                for i in proposed
            ],
        },
        status=status,
    )


# --- the meeting -------------------------------------------------------------------------------


@access_policy("cc_team")
@never_cache
@login_required
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    user = request.user
    meeting = selectors.meeting_get_for(user, meeting_id)
    reflection_form = ReflectionForm(request.POST or None)
    if request.method == "POST" and reflection_form.is_valid():
        services.reflection_record(
            actor=user,
            meeting=meeting,
            wants_debrief=reflection_form.cleaned_data["wants_debrief"],
            note=reflection_form.cleaned_data["note"],
        )
        messages.success(request, "Thank you. Your reflection is recorded.")
        return redirect("panels:meeting", meeting_id=meeting.pk)
    slots = selectors.meeting_slots_view(meeting, user)
    with audited_read(
        actor=user,
        object_type="panel_meeting",
        object_id=meeting.pk,
        request=request,
        details={"cases": [slot.case.pk for slot in slots if slot.case is not None]},
    ):
        return render(
            request,
            "panels/meeting.html",
            {
                "nav": "panels",
                "meeting": meeting,
                "slots": slots,
                "late": [s for s in slots if s.case is not None and selectors.papers_late(s.case)],
                "held": meeting.date <= _today(),
                "reflection": selectors.reflection_of(user, meeting),
                "reflection_form": reflection_form,
                "manages": meeting.series.region_id in selectors.cc_team_region_ids(user),
            },
        )


@access_policy("scoped_list")
@never_cache
@login_required
def meeting_minutes_pdf(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """The meeting's minutes as a PDF: only the cases whose person the reader may see."""
    user = request.user
    meeting = selectors.meeting_get_for(user, meeting_id)
    cases = selectors.minutes_cases(meeting, user)
    audit_record(
        actor=user,
        action="download",
        object_type="panel_minutes",
        object_id=meeting.pk,
        request=request,
        details={"cases": [case.pk for case in cases]},
    )
    body = pdf.minutes_pdf(meeting, [selectors.case_record(case) for case in cases])
    return _pdf_response(body, f"panel-minutes-{meeting.date:%Y-%m-%d}.pdf")


def _pdf_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- the case ----------------------------------------------------------------------------------


def _owner_choices(case: PanelCase) -> list[tuple[str, str]]:
    """Owners of a panel action: members invited to the slot, the practitioner or the SPO."""
    users = {}
    for invitation in case.invitations.select_related("user", "delegate"):
        for user in (invitation.user, invitation.delegate):
            if user is not None and user.is_active:
                users[user.pk] = user
    return [
        (str(pk), user.get_full_name() or user.username)
        for pk, user in sorted(users.items(), key=lambda item: item[1].username)
    ]


def _case_post(
    request: HttpRequest, case: PanelCase, forms: dict[str, Form]
) -> HttpResponse | list[dict[str, str]]:
    """Handle one of the case page's forms; a redirect when done, else the errors to show."""
    user = request.user
    action = request.POST.get("action", "")
    may_run = selectors.may_run(user, case)
    invitation = selectors.invitation_of(user, case)
    form: Form
    if action == "respond" and invitation is not None:
        form = forms["respond"] = RespondForm(request.POST, prefix="respond")
        if not form.is_valid():
            return _errors(form)
        delegate = None
        if form.cleaned_data["status"] == "delegated":
            delegate = User.objects.filter(pk=_int(form.cleaned_data["delegate"])).first()
        try:
            services.invitation_respond(
                actor=user,
                invitation=invitation,
                status=form.cleaned_data["status"],
                delegate=delegate,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            return _errors(form, error)
        messages.success(request, "Your reply is recorded and the invitation updated.")
        return redirect("panels:case", case_id=case.pk)
    if not may_run:
        raise access.NotFound()
    try:
        if action == "attendance":
            values = {
                invitation_id: request.POST.get(f"attendance-{invitation_id}", "")
                for invitation_id in case.invitations.values_list("pk", flat=True)
            }
            services.attendance_record(
                actor=user, case=case, attendance={k: v for k, v in values.items() if v}
            )
            messages.success(request, "Attendance recorded.")
        elif action == "note":
            form = NoteForm(request.POST, prefix="note")
            if not form.is_valid():
                return [
                    {"text": "Choose a step of the agenda and enter the notes.", "href": "#agenda"}
                ]
            services.agenda_note_save(
                actor=user,
                case=case,
                step=form.cleaned_data["step"],
                text=form.cleaned_data["text"],
            )
            messages.success(request, f"Notes for step {form.cleaned_data['step']} saved.")
        elif action == "action":
            if case.status != CaseStatus.BOOKED:
                return [{"text": "The case is concluded: add an addendum instead.", "href": ""}]
            form = forms["action"] = ActionForm(request.POST, prefix="action")
            if not form.is_valid():
                return _errors(form)
            owners = dict(_owner_choices(case))
            owner = (
                User.objects.filter(pk=_int(form.cleaned_data["owner"])).first()
                if form.cleaned_data["owner"] in owners
                else None
            )
            try:
                actions_services.action_create(
                    actor=user,
                    referral=case.referral,
                    source="panel",
                    source_id=case.pk,
                    description=form.cleaned_data["description"],
                    owner=owner,
                    due_date=form.cleaned_data["due"],
                )
            except ValidationError as error:
                return _errors(form, error)
            messages.success(request, "Action agreed.")
        elif action == "conclude":
            form = forms["conclude"] = ConcludeForm(request.POST, prefix="conclude")
            if not form.is_valid():
                return _errors(form)
            services.panel_case_conclude(
                actor=user, case=case, summary=form.cleaned_data["summary"]
            )
            messages.success(
                request,
                "The case is concluded. The summary and actions have been shared with the "
                "practitioner, the SPO and the Head of PDU.",
            )
        elif action == "addendum":
            form = forms["addendum"] = AddendumForm(request.POST, prefix="addendum")
            if not form.is_valid():
                return _errors(form)
            services.addendum_add(actor=user, case=case, text=form.cleaned_data["text"])
            messages.success(request, "Addendum added.")
        elif action == "cancel":
            form = forms["cancel"] = CancelForm(request.POST, prefix="cancel")
            if not form.is_valid():
                return _errors(form)
            services.panel_case_cancel(actor=user, case=case, reason=form.cleaned_data["reason"])
            messages.success(
                request, "The slot is cancelled and the referral is awaiting panel again."
            )
            return redirect("referrals:referral", referral_id=case.referral_id)
        else:
            return [
                {
                    "text": "This record has changed since you opened the page. Try again.",
                    "href": "",
                }
            ]
    except TransitionNotAllowed:
        return [{"text": CHANGED, "href": ""}]
    except ValidationError as error:
        return [
            {"text": text, "href": ""} for texts in error.message_dict.values() for text in texts
        ]
    return redirect("panels:case", case_id=case.pk)


# The action the chair is offered for a MAPPA-managed person instead of reviewing MAPPA levels.
MAPPA_ACTION = "Take the case to the MAPPA meeting (the panel does not review MAPPA levels)"


def _int(value: str) -> int:
    return int(value) if str(value).isdigit() else 0


@access_policy("person")
@never_cache
@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = selectors.panel_case_get_for(user, case_id, request=request)
    forms: dict[str, Form] = {
        "respond": RespondForm(prefix="respond"),
        "action": ActionForm(prefix="action"),
        "conclude": ConcludeForm(prefix="conclude"),
        "addendum": AddendumForm(prefix="addendum"),
        "cancel": CancelForm(prefix="cancel"),
    }
    errors: list[dict[str, str]] = []
    status = 200
    if request.method == "POST":
        result = _case_post(request, case, forms)
        if isinstance(result, HttpResponse):
            return result
        errors, status = result, 400
        case = selectors.panel_case_get_for(user, case_id)
    record = selectors.case_record(case)
    with audited_read(
        actor=user,
        object_type="panel_case",
        object_id=case.pk,
        person_crn=case.referral.person.crn,
        request=request,
    ):
        return render(
            request,
            "panels/case.html",
            {
                "nav": "panels",
                "case": case,
                "record": record,
                "may_run": selectors.may_run(user, case) and case.status == CaseStatus.BOOKED,
                "may_add_addendum": selectors.may_run(user, case)
                and case.status == CaseStatus.CONCLUDED,
                "invitation": selectors.invitation_of(user, case),
                "deputies": selectors.deputies_for(selectors.invitation_of(user, case)),
                "owners": _owner_choices(case),
                "attendance_choices": [c for c in Attendance.choices if c[0]],
                "agenda": AGENDA_STEPS,
                "forms": forms,
                "errors": errors,
                "papers_late": selectors.papers_late(case),
                "rows": [
                    {
                        "invitation": i,
                        "opened": record.papers_opened.get(i.delegate_id or i.user_id),
                    }
                    for i in record.invitations
                ],
                "mappa_action": MAPPA_ACTION,
            },
            status=status,
        )


@access_policy("person")
@never_cache
@login_required
def case_papers(request: HttpRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = selectors.panel_case_get_for(user, case_id, request=request)
    services.papers_open(case=case, user=user, request=request)
    return render(
        request,
        "panels/papers.html",
        {"nav": "panels", "case": case, "papers": selectors.papers(case)},
    )


@access_policy("person")
@never_cache
@login_required
def case_papers_pdf(request: HttpRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = selectors.panel_case_get_for(user, case_id, request=request)
    services.papers_open(case=case, user=user, request=request)
    return _pdf_response(pdf.papers_pdf(case), f"panel-papers-{case.pk}.pdf")


# --- follow-up ---------------------------------------------------------------------------------


@access_policy("person")
@never_cache
@login_required
def follow_up_detail(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    user = request.user
    follow_up: FollowUp = selectors.follow_up_get_for(user, follow_up_id, request=request)
    may_record = follow_up.status == FollowUpStatus.SCHEDULED and (
        follow_up.qdo_id == user.pk
        or follow_up.referral.pdu.region_id in selectors.cc_team_region_ids(user)
    )
    form = FollowUpForm(request.POST or None)
    errors: list[dict[str, str]] = []
    status = 200
    if request.method == "POST":
        if not may_record:
            raise access.NotFound()
        if form.is_valid():
            try:
                services.follow_up_record(
                    actor=user,
                    follow_up=follow_up,
                    progress_notes=form.cleaned_data["progress_notes"],
                    remaining_blockers=form.cleaned_data["remaining_blockers"],
                    wellbeing=form.cleaned_data["wellbeing"],
                    confidence=form.cleaned_data["confidence"],
                    outcome=form.cleaned_data["outcome"],
                )
            except TransitionNotAllowed:
                form.add_error(None, CHANGED)
            except ValidationError as error:
                errors = _errors(form, error)
            else:
                messages.success(request, "Follow-up recorded.")
                return redirect("referrals:referral", referral_id=follow_up.referral_id)
        errors = errors or _errors(form)
        status = 400
    referral: Referral = follow_up.referral
    with audited_read(
        actor=user,
        object_type="follow_up",
        object_id=follow_up.pk,
        person_crn=referral.person.crn,
        request=request,
    ):
        return render(
            request,
            "panels/follow_up.html",
            {
                "nav": "panels",
                "follow_up": follow_up,
                "referral": referral,
                "person": referral.person,
                "actions": list(actions_selectors.actions_for_referral(referral)),
                "may_record": may_record,
                "form": form,
                "errors": errors,
            },
            status=status,
        )
