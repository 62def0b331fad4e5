"""Pages for reflective conversations and referrals. Thin: parse input, call a selector or a
service, render.

Every page declares its access policy ("person": need-to-know on the person through
accounts.access.get_person_for, 404 or the limited-access 403), is sent with no-store, and records
the view in the audit trail before showing anything. Recording a conversation also needs the
practitioner or SPO role, referring the practitioner, SPO or Complex Cases team role, and moving or
closing a referral the Complex Cases team role for the referral's region; without it the answer is
the same 404 as for a person out of scope.

The referrals page (/referrals/, "scoped_list") is the Complex Cases team's work queue: cc_team
only, 404 for everyone else (practitioners, SPOs and heads of service see their referrals on My
work); rows are referrals in the user's region(s) whose person they may see, limited-access rows
reduced to the CRN; each view of the list is audited ("list").
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from complexcases.accounts import access
from complexcases.accounts.policy import access_policy
from complexcases.core.audit import audit_record, audited_read
from complexcases.intake.selectors import email_for_referral
from complexcases.panels.selectors import panel_for_referral
from complexcases.referrals import rules, selectors, services
from complexcases.referrals.forms import (
    ConversationForm,
    ReferralCloseForm,
    ReferralForm,
    ReferralMoveForm,
)
from complexcases.referrals.models import Referral
from complexcases.referrals.states import (
    ClosureReason,
    ConversationOutcome,
    ReferralStatus,
    Route,
    RouteReason,
)
from complexcases.screening.criteria import CRITERIA_LABELS

# The list pages' pagination (the GOV.UK component's context), shared with the monthly lists.
from complexcases.screening.views import paginate
from complexcases.triage.selectors import triage_for_referral


def _apply_errors(form: Form, error: ValidationError) -> None:
    """Put a service's field messages on the form (unknown fields become form-level errors)."""
    for name, messages_ in error.message_dict.items():
        field = name if name in form.fields else None
        if name == "held_on":
            field = "held_on_day"
        for message in messages_:
            form.add_error(field, message)


def _error_list(form: Form, anchors: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The error summary's entries, each linking to its field."""
    anchors = anchors or {}
    entries = []
    for name, errors in form.errors.items():
        target = anchors.get(name, f"id_{name}" if name != "__all__" else "")
        for error in errors:
            entries.append({"text": str(error), "href": f"#{target}" if target else ""})
    return entries


@access_policy("person")
@never_cache
@login_required
def conversation_record(request: HttpRequest, crn: str) -> HttpResponse:
    user = request.user
    person = selectors.person_for_action(
        user, crn, roles_ok=selectors.may_record_conversation(user), request=request
    )
    today = timezone.localdate()
    if request.method == "POST":
        form = ConversationForm(request.POST)
        if form.is_valid():
            try:
                conversation = services.conversation_record(
                    actor=user,
                    person=person,
                    outcome=form.cleaned_data["outcome"],
                    held_on=form.cleaned_data["held_on"],
                    supported_elsewhere=form.cleaned_data["supported_elsewhere"],
                    note=form.cleaned_data["note"],
                    request=request,
                )
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                if conversation.outcome == ConversationOutcome.REFER_TO_COMPLEX_CASES:
                    messages.success(
                        request, "Reflective conversation recorded. Now refer the case."
                    )
                    return redirect("referrals:referral_create", crn=person.crn)
                messages.success(request, "Reflective conversation recorded")
                return redirect("screening:person", crn=person.crn)
    else:
        form = ConversationForm(
            initial={
                "held_on_day": today.day,
                "held_on_month": today.month,
                "held_on_year": today.year,
            }
        )
    with audited_read(
        actor=user,
        object_type="person",
        object_id=person.crn,
        person_crn=person.crn,
        request=request,
        details={"page": "conversation_form"},
    ):
        return render(
            request,
            "referrals/conversation_form.html",
            {
                "nav": "lists",
                "person": person,
                "form": form,
                "errors": _error_list(form),
                "month": selectors.conversation_month(person),
                "outcomes": ConversationOutcome.choices,
            },
            status=400 if request.method == "POST" else 200,
        )


@access_policy("person")
@never_cache
@login_required
def referral_create(request: HttpRequest, crn: str) -> HttpResponse:
    user = request.user
    person = selectors.person_for_action(
        user, crn, roles_ok=selectors.may_refer(user), request=request
    )
    existing = selectors.open_referral(person)
    if existing is not None:
        messages.info(request, "This person already has an open referral. Here it is.")
        return redirect("referrals:referral", referral_id=existing.pk)
    snapshot = selectors.screening_snapshot(person)
    form = ReferralForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.referral_create(
                actor=user,
                person=person,
                challenges=form.cleaned_data["challenges"],
                support_sought=form.cleaned_data["support_sought"],
                route=None,
                route_reason=form.cleaned_data["route_reason"] if not snapshot.eligible else "",
                route_reason_other=form.cleaned_data["route_reason_other"]
                if not snapshot.eligible
                else "",
                request=request,
            )
        except services.OpenReferralExists as exists:
            messages.info(request, "This person already has an open referral. Here it is.")
            return redirect("referrals:referral", referral_id=exists.referral.pk)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "Referral sent to the Complex Cases team")
            return redirect("referrals:referral", referral_id=referral.pk)
    elif request.method == "POST" and not snapshot.eligible:
        # Show every problem at once: the route reason too, not only the empty text boxes.
        route_errors = rules.route_errors(
            route=Route.PROFESSIONAL_JUDGEMENT,
            route_reason=str(form.data.get("route_reason", "")),
            route_reason_other=str(form.data.get("route_reason_other", "")),
            eligible=False,
        )
        for name, message in route_errors.items():
            if name in form.fields and name not in form.errors:
                form.add_error(name, message)
    with audited_read(
        actor=user,
        object_type="person",
        object_id=person.crn,
        person_crn=person.crn,
        request=request,
        details={"page": "referral_form"},
    ):
        return render(
            request,
            "referrals/referral_form.html",
            {
                "nav": "lists",
                "person": person,
                "form": form,
                "errors": _error_list(form, {"route_reason": "id_route_reason_0"}),
                "snapshot": snapshot,
                "criteria": [CRITERIA_LABELS[c] for c in snapshot.criteria_met],
                "route_reasons": RouteReason.choices,
            },
            status=400 if request.method == "POST" else 200,
        )


def _form_errors(form: Form, first_choice: set[str]) -> list[dict[str, str]]:
    """The error summary's entries for a prefixed form; radios link to their first option."""
    entries = []
    for name, errors in form.errors.items():
        if name == "__all__":
            href = ""
        else:
            target = form[name].auto_id
            href = f"#{target}_0" if name in first_choice else f"#{target}"
        for error in errors:
            entries.append({"text": str(error), "href": href})
    return entries


def _stale(referral: Referral, form: Form) -> bool:
    """The page the user acted on showed another status: someone moved the referral since."""
    shown = form.cleaned_data.get("from_status") or ""
    return bool(shown) and shown != referral.status


def _moved_on_message(status: str) -> str:
    label = selectors.STATUS_LABELS.get(status, status)
    return (
        f"This referral has changed since you opened the page: it is now {label}. "
        "Check its timeline, then try again."
    )


def _apply_move(request: HttpRequest, referral: Referral, form: ReferralMoveForm) -> bool:
    """Move the referral; True when moved, otherwise the form carries the reason why not."""
    if not form.is_valid():
        return False
    if _stale(referral, form):
        form.add_error(None, _moved_on_message(referral.status))
        return False
    try:
        services.referral_transition(
            referral=referral,
            to=form.cleaned_data["to"],
            actor=request.user,
            reason=form.cleaned_data["reason"].strip(),
        )
    except services.TransitionNotAllowed as refused:
        form.add_error(None, _moved_on_message(refused.from_status))
        return False
    except ValidationError as error:
        _apply_errors(form, error)
        return False
    return True


def _apply_close(request: HttpRequest, referral: Referral, form: ReferralCloseForm) -> bool:
    """Close the referral; True when closed, otherwise the form carries the reason why not."""
    if not form.is_valid():
        return False
    if _stale(referral, form):
        form.add_error(None, _moved_on_message(referral.status))
        return False
    try:
        services.referral_close(
            referral=referral,
            actor=request.user,
            closure_reason=form.cleaned_data["closure_reason"],
            closure_destination=form.cleaned_data["closure_destination"],
            reason=form.cleaned_data["reason"].strip(),
        )
    except services.TransitionNotAllowed as refused:
        form.add_error(None, _moved_on_message(refused.from_status))
        return False
    except ValidationError as error:
        _apply_errors(form, error)
        return False
    return True


def _refuse_management(request: HttpRequest, referral: Referral) -> None:
    """Someone who may see the referral but not run it tried to change it: the same 404 as for
    a referral out of scope (DESIGN.md section 2), audited."""
    audit_record(
        actor=request.user,
        action="refused",
        object_type="referral",
        object_id=referral.pk,
        person_crn=referral.person.crn,
        outcome="refused",
        reason="no role to move this referral",
        request=request,
    )
    raise access.NotFound()


@access_policy("person")
@never_cache
@login_required
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    """The referral, its timeline and, for the Complex Cases team of its region, the forms that
    move it along the workflow (states.MOVES) or close it. A POST moves or closes through
    services.referral_transition / referral_close and redirects back (POST-redirect-GET); anyone
    else POSTing gets the 404 they would get for a referral out of scope."""
    user = request.user
    referral = selectors.referral_get_for(user, referral_id, request=request)
    person: Any = referral.person
    may_manage = selectors.may_manage_referral(user, referral)
    choices = selectors.move_choices(referral.status)
    initial = {"from_status": referral.status}
    move_form = ReferralMoveForm(choices=choices, prefix="move", initial=initial)
    close_form = ReferralCloseForm(prefix="close", initial=initial)
    errors: list[dict[str, str]] = []
    status = 200
    if request.method == "POST":
        if not may_manage:
            _refuse_management(request, referral)
        action = request.POST.get("action")
        if action == "move" and choices:
            move_form = ReferralMoveForm(request.POST, choices=choices, prefix="move")
            if _apply_move(request, referral, move_form):
                label = dict(choices)[move_form.cleaned_data["to"]]
                messages.success(request, f"Referral moved to {label}")
                return redirect("referrals:referral", referral_id=referral.pk)
            errors = _form_errors(move_form, {"to"})
        elif action == "close" and referral.status != ReferralStatus.CLOSED:
            close_form = ReferralCloseForm(request.POST, prefix="close")
            if _apply_close(request, referral, close_form):
                messages.success(request, "Referral closed")
                return redirect("referrals:referral", referral_id=referral.pk)
            errors = _form_errors(close_form, {"closure_reason"})
        else:
            errors = [{"text": _moved_on_message(referral.status), "href": ""}]
        status = 409 if any(e["href"] == "" for e in errors) else 400
        # Show the page as the referral is now: another member of the team may have moved it.
        referral.refresh_from_db(
            fields=["status", "closure_reason", "closure_destination", "closed_at"]
        )
        choices = selectors.move_choices(referral.status)
    with audited_read(
        actor=user,
        object_type="referral",
        object_id=referral.pk,
        person_crn=person.crn,
        request=request,
    ):
        timeline = selectors.referral_timeline(referral)
        return render(
            request,
            "referrals/referral.html",
            {
                "nav": "lists",
                "referral": referral,
                "person": person,
                "timeline": timeline,
                "status_label": dict(ReferralStatus.choices).get(referral.status, referral.status),
                "route_label": dict(Route.choices).get(referral.route, referral.route),
                "route_reason_label": dict(RouteReason.choices).get(referral.route_reason, ""),
                "closure_reason_label": dict(ClosureReason.choices).get(
                    referral.closure_reason, ""
                ),
                "criteria": [CRITERIA_LABELS.get(c, c) for c in referral.criteria_met or []],
                "person_href": reverse("screening:person", args=[person.crn]),
                "may_manage": may_manage and referral.status != ReferralStatus.CLOSED,
                "move_form": move_form,
                "move_choices": choices,
                "close_form": close_form,
                "closure_reasons": ClosureReason.choices,
                "errors": errors,
                "triage": triage_for_referral(referral, user=user),
                "panel": panel_for_referral(referral, user=user),
                "inbound_email": email_for_referral(referral),
            },
            status=status,
        )


# --- the Complex Cases team's referrals -----------------------------------------------------

QUEUE_PAGE_SIZE = 50


@access_policy("scoped_list")
@never_cache
@login_required
def referral_queue(request: HttpRequest) -> HttpResponse:
    """The Complex Cases team's referrals in their region(s), by status along the workflow, oldest
    first; `?status=` shows one status (closed ones only this way).

    Only for the cc_team role: everyone else gets 404 (practitioners, SPOs and heads of service
    find their referrals on My work). An unknown status is a 404 too. The list is audited
    ("list") before it is read; limited-access rows show the CRN only.
    """
    user = request.user
    status = request.GET.get("status") or None
    if not selectors.may_run_referrals(user) or (
        status is not None and status not in selectors.QUEUE_ORDER
    ):
        audit_record(
            actor=user,
            action="refused",
            object_type="referral_queue",
            outcome="refused",
            reason="no cc_team role" if status is None else "not found or not in scope",
            request=request,
        )
        raise access.NotFound()
    with audited_read(
        actor=user,
        action="list",
        object_type="referral_queue",
        object_id=status or "open",
        request=request,
        details={"status": status or "open", "page": request.GET.get("page", "1")},
    ):
        counts = selectors.referral_queue_counts(user)
        page, pagination = paginate(
            request,
            selectors.referral_queue(user, status=status),
            per_page=QUEUE_PAGE_SIZE,
            label="Pages of referrals",
        )
        referrals = list(page.object_list)
        # A limited-access row stays in its status's group (the filter already says as much),
        # showing the CRN only.
        pairs = list(zip(referrals, selectors.referral_rows(referrals), strict=True))
        groups = [
            {
                "status": key,
                "label": selectors.STATUS_LABELS[key],
                "count": counts[key],
                "is_closed": key == ReferralStatus.CLOSED,
                "rows": [row for referral, row in pairs if referral.status == key],
            }
            for key in selectors.QUEUE_ORDER
            if any(referral.status == key for referral in referrals)
        ]
        return render(
            request,
            "referrals/queue.html",
            {
                "nav": "referrals",
                "status": status,
                "status_label": selectors.STATUS_LABELS.get(status or "", ""),
                "statuses": [
                    (key, selectors.STATUS_LABELS[key], counts[key])
                    for key in selectors.QUEUE_ORDER
                ],
                "open_total": sum(counts[key] for key in selectors.OPEN_STATUSES),
                "groups": groups,
                "page": page,
                "pagination": pagination,
            },
        )
