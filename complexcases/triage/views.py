"""Triage pages. Thin: parse input, call a selector or a service, render.

- /referrals/<id>/triage/book/  book or reschedule (cc_team of the referral's region)
- /triage/<id>/                 the meeting: who, when; the record form (cc_team); attendees view
- /triage/<id>/cancel/          cancel (POST, cc_team)
- /triage/                      the calendar of the user's region(s) (cc_team)

Every page declares its access policy, is sent with no-store, and records the view in the audit
trail before showing anything. Refusals are the same 404 as "not there", or the limited-access 403.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from complexcases.accounts import access
from complexcases.accounts.policy import access_policy
from complexcases.core import clock
from complexcases.core.audit import audit_record, audited_read
from complexcases.core.forms import error_summary
from complexcases.referrals.states import ReferralStatus
from complexcases.triage import selectors, services
from complexcases.triage.forms import BookingForm, CancelForm, RecordForm
from complexcases.triage.states import ROLE_LABELS, BlockerTheme, MeetingStatus, TriageOutcome

SERVICE_FIELDS = {"start": "start_day", "reason": "reason"}
_ROW = re.compile(r"^(blocker|action)-(\d+)-(.+)$")


def _apply_errors(
    form: Form, error: ValidationError, rows: dict[str, list[int]] | None = None
) -> None:
    """Put a service's field messages on the form. Row errors ("blocker-1-theme") are numbered by
    the rows given to the service; `rows` maps them back to the form's rows."""
    for name, texts in error.message_dict.items():
        target = SERVICE_FIELDS.get(name, name)
        match = _ROW.match(name)
        if match and rows is not None:
            kind, index, part = match.group(1), int(match.group(2)), match.group(3)
            row = rows[kind][index]
            target = f"{kind}-{row}-{'due_day' if part == 'due_date' else part}"
        field = target if target in form.fields else None
        for text in texts:
            form.add_error(field, text)


# --- booking ----------------------------------------------------------------------------------


@access_policy("person")
@never_cache
@login_required
def triage_book(request: HttpRequest, referral_id: int) -> HttpResponse:
    user = request.user
    referral = selectors.referral_for_triage(user, referral_id, request=request)
    person: Any = referral.person
    current = selectors.booked_meeting(referral)
    if current is None and referral.status != ReferralStatus.RECEIVED:
        messages.info(request, "This referral is not waiting for a triage.")
        return redirect("referrals:referral", referral_id=referral.pk)
    defaults = selectors.booking_defaults(referral)
    current_rows = list(current.attendees.select_related("user__staff")) if current else []
    offered: dict[int, str] = {}
    for row in current_rows:
        offered[row.user_id] = f"{services.display_name(row.user)} ({ROLE_LABELS[row.role]})"
    for proposed in defaults.proposed:
        offered.setdefault(
            proposed.user.pk, f"{services.display_name(proposed.user)} ({proposed.label})"
        )
    form = BookingForm(
        request.POST if request.method == "POST" else None, choices=list(offered.items())
    )
    now = clock.now()
    suggestion = selectors.suggested_slot(
        list(offered), after=now, exclude=current.pk if current else None
    )
    if request.method == "POST" and form.is_valid():
        added, problems = selectors.resolve_additions(referral, form.cleaned_data["add_attendees"])
        for problem in problems:
            form.add_error("add_attendees", problem)
        if not problems:
            invitees = selectors.invitees_for(
                defaults.proposed, current_rows, set(form.cleaned_data["attendees"]), added
            )
            try:
                if current is None:
                    meeting = services.triage_book(
                        actor=user,
                        referral=referral,
                        start=form.cleaned_data["start"],
                        invitees=invitees,
                        request=request,
                    )
                    messages.success(request, "Triage booked. Invitations are on their way.")
                else:
                    meeting = services.triage_reschedule(
                        actor=user,
                        meeting=current,
                        start=form.cleaned_data["start"],
                        invitees=invitees,
                        request=request,
                    )
                    messages.success(request, "Triage updated. Changes are on their way.")
            except services.TransitionNotAllowed:
                messages.info(request, "This referral has moved on: it is not waiting for triage.")
                return redirect("referrals:referral", referral_id=referral.pk)
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                return redirect("triage:meeting", meeting_id=meeting.pk)
    elif request.method != "POST":
        start = current.start if current else (suggestion[0] if suggestion else None)
        local = start.astimezone(timezone.get_current_timezone()) if start else None
        form = BookingForm(
            initial={
                "start_day": local.day if local else None,
                "start_month": local.month if local else None,
                "start_year": local.year if local else None,
                "start_time": f"{local:%H:%M}" if local else "",
                "attendees": list(offered)
                if current is None
                else [row.user_id for row in current_rows],
            },
            choices=list(offered.items()),
        )
    with audited_read(
        actor=user,
        object_type="referral",
        object_id=referral.pk,
        person_crn=person.crn,
        request=request,
        details={"page": "triage_booking"},
    ):
        return render(
            request,
            "triage/book.html",
            {
                "nav": "triage",
                "referral": referral,
                "person": person,
                "current": current,
                "form": form,
                "errors": error_summary(
                    form, {"attendees": "attendees", "start_day": "id_start_day"}
                ),
                "defaults": defaults,
                "suggestion": suggestion,
                "chosen": {int(v) for v in (form["attendees"].value() or [])},
                "slot_minutes": services.slot_minutes(),
            },
            status=400 if request.method == "POST" else 200,
        )


# --- the meeting ------------------------------------------------------------------------------


def _owners(page: selectors.MeetingPage) -> list[tuple[int, str]]:
    owners = {
        a.user_id: f"{services.display_name(a.user)} ({ROLE_LABELS[a.role]})"
        for a in page.attendees
    }
    return sorted(owners.items(), key=lambda item: item[1])


def _render_meeting(
    request: HttpRequest,
    page: selectors.MeetingPage,
    *,
    record_form: RecordForm | None = None,
    cancel_form: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    meeting = page.meeting
    person: Any = meeting.referral.person
    may_change = page.manages and meeting.status == MeetingStatus.BOOKED
    if may_change and record_form is None:
        record_form = RecordForm(owners=_owners(page))
    if may_change and cancel_form is None:
        cancel_form = CancelForm()
    errors: list[dict[str, str]] = []
    for form in (record_form, cancel_form):
        if form is not None and form.is_bound:
            errors += error_summary(form, {"outcome": "id_outcome_0", "blockers": "blockers"})
    with audited_read(
        actor=request.user,
        object_type="triage_meeting",
        object_id=meeting.pk,
        person_crn=person.crn,
        request=request,
        details={"person_shown": page.sees_person},
    ):
        return render(
            request,
            "triage/meeting.html",
            {
                "nav": "triage",
                "page": page,
                "meeting": meeting,
                "referral": meeting.referral,
                "person": person if page.sees_person else None,
                "attendees": [(a, ROLE_LABELS[a.role]) for a in page.attendees],
                "status_label": dict(MeetingStatus.choices)[meeting.status],
                "record_form": record_form if may_change else None,
                "cancel_form": cancel_form if may_change else None,
                "may_change": may_change,
                "errors": errors,
                "outcomes": TriageOutcome.choices,
                "outcome_labels": dict(TriageOutcome.choices),
                "theme_labels": dict(BlockerTheme.choices),
                **(selectors.meeting_record(meeting) if page.sees_person else {}),
            },
            status=status,
        )


@access_policy("person")
@never_cache
@login_required
def triage_meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    page = selectors.meeting_get_for(request.user, meeting_id, request=request)
    if request.method != "POST":
        return _render_meeting(request, page)
    if not page.manages:
        # Attendees may look; only the region's Complex Cases team records.
        audit_record(
            actor=request.user,
            action="refused",
            object_type="triage_meeting",
            object_id=page.meeting.pk,
            outcome="refused",
            reason="record: not in the team",
            request=request,
        )
        raise access.NotFound()
    form = RecordForm(request.POST, owners=_owners(page))
    if form.is_valid():
        data = form.cleaned_data
        owners = {a.user_id: a.user for a in page.attendees}
        rows = {
            "blocker": [b[0] for b in data["blockers"]],
            "action": [a[0] for a in data["actions"]],
        }
        try:
            services.triage_outcome_record(
                actor=request.user,
                meeting=page.meeting,
                outcome=data["outcome"],
                blockers=[(theme, text) for _i, theme, text in data["blockers"]],
                actions_agreed=[
                    services.ActionInput(text, owners.get(owner) if owner else None, due)
                    for _i, text, owner, due in data["actions"]
                ],
                guidance=data["guidance"],
                sensitive_notes=data["sensitive_notes"],
                panel_question=data["panel_question"],
                signpost_destination=data["signpost_destination"],
                request=request,
            )
        except services.TransitionNotAllowed:
            messages.info(request, "This triage has already been recorded or cancelled.")
            return redirect("triage:meeting", meeting_id=page.meeting.pk)
        except ValidationError as error:
            _apply_errors(form, error, rows)
        else:
            messages.success(request, "Triage outcome recorded")
            return redirect("triage:meeting", meeting_id=page.meeting.pk)
    return _render_meeting(request, page, record_form=form, status=400)


@access_policy("person")
@never_cache
@login_required
@require_POST
def triage_cancel(request: HttpRequest, meeting_id: int) -> HttpResponse:
    page = selectors.meeting_get_for(request.user, meeting_id, request=request)
    if not page.manages:
        audit_record(
            actor=request.user,
            action="refused",
            object_type="triage_meeting",
            object_id=page.meeting.pk,
            outcome="refused",
            reason="cancel: not in the team",
            request=request,
        )
        raise access.NotFound()
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.triage_cancel(
                actor=request.user,
                meeting=page.meeting,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except services.TransitionNotAllowed:
            messages.info(request, "This triage has already been recorded or cancelled.")
        except ValidationError as error:
            _apply_errors(form, error)
            return _render_meeting(request, page, cancel_form=form, status=400)
        else:
            messages.success(request, "Triage cancelled. The referral is waiting for triage again.")
        return redirect("triage:meeting", meeting_id=page.meeting.pk)
    return _render_meeting(request, page, cancel_form=form, status=400)


# --- the calendar -----------------------------------------------------------------------------


@access_policy("scoped_list")
@never_cache
@login_required
def triage_calendar(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not access.grants_for(user).listed_region_ids:
        audit_record(
            actor=user,
            action="refused",
            object_type="triage_calendar",
            outcome="refused",
            reason="not in a Complex Cases team",
            request=request,
        )
        raise access.NotFound()
    today = clock.today()
    with audited_read(actor=user, action="list", object_type="triage_calendar", request=request):
        days = selectors.triage_calendar(user, today=today)
        return render(
            request,
            "triage/calendar.html",
            {"nav": "triage", "days": days, "slot_minutes": services.slot_minutes()},
        )
