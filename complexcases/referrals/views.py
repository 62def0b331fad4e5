"""Pages for reflective conversations and referrals. Thin: parse input, call a selector or a
service, render.

Every page declares its access policy ("person": need-to-know on the person through
accounts.access.get_person_for, 404 or the limited-access 403), is sent with no-store, and records
the view in the audit trail before showing anything. Recording a conversation also needs the
practitioner or SPO role, referring the practitioner, SPO or Complex Cases team role, and closing a
referral the Complex Cases team role for the referral's region; without it the answer is the same
404 as for a person out of scope. The referral page moves a referral no other way: every other move
has its own flow in the triage or panels app (states.FLOW_FOR_MOVE), linked from the page.

The referrals page (/referrals/, "scoped_list") is the Complex Cases team's work queue: cc_team
only, 404 for everyone else (practitioners, SPOs and heads of service see their referrals on My
work); rows are referrals in the user's region(s) whose person they may see, limited-access rows
reduced to the CRN; each view of the list is audited ("list").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from complexcases.accounts import access
from complexcases.accounts.policy import access_policy
from complexcases.core import clock
from complexcases.core.audit import audit_record, audited_read
from complexcases.core.forms import apply_service_errors, error_summary
from complexcases.intake.selectors import email_for_referral
from complexcases.panels import services as panel_services
from complexcases.panels.selectors import booked_case, panel_for_referral
from complexcases.panels.states import CaseStatus
from complexcases.referrals import rules, selectors, services
from complexcases.referrals.forms import ConversationForm, ReferralCloseForm, ReferralForm
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
from complexcases.triage import services as triage_services
from complexcases.triage.selectors import booked_meeting, triage_for_referral


@access_policy("person")
@never_cache
@login_required
def conversation_record(request: HttpRequest, crn: str) -> HttpResponse:
    user = request.user
    person = selectors.person_for_action(
        user, crn, roles_ok=selectors.may_record_conversation(user), request=request
    )
    today = clock.today()
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
                apply_service_errors(form, error, {"held_on": "held_on_day"})
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
                "errors": error_summary(form),
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
            apply_service_errors(form, error, {"held_on": "held_on_day"})
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
                "errors": error_summary(form, {"route_reason": "id_route_reason_0"}),
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


@dataclass(frozen=True)
class Closed:
    """What closing cancelled on the way, for the confirmation message."""

    triage_cancelled: bool = False
    panel_slot_cancelled: bool = False


def _close_with_bookings(
    request: HttpRequest,
    referral: Referral,
    *,
    closure_reason: str,
    closure_destination: str,
    note: str,
) -> Closed:
    """Close the referral after cancelling what is live, in ONE transaction: a booked triage
    (triage_cancel: CANCEL to every attendee, the referral back to received) or a booked panel
    slot (panel_case_cancel: CANCEL to everyone invited, back to awaiting panel), then the close.
    Anything refused rolls the whole thing back, invitations included (the outbox sends after
    commit).

    Why here and not in a service: referrals.services cannot call the triage or panels services
    (they depend on referrals, so the imports would go round in a circle), and putting "close a
    referral" in panels.services would give the panel app a job that is not its own. The referral
    page is the one place that closes a referral by hand, and views may call other apps' services
    (STYLE.md), so the dependencies stay one way: this view -> triage/panels services ->
    referrals services. The close is checked against the status this orchestration expects
    (referral_close's `expected_status`, under the row lock), so a triage or slot booked by
    someone else meanwhile is refused (TransitionNotAllowed), never closed over and left live.
    Raises ValidationError (closure reason or destination) or TransitionNotAllowed.
    """
    errors = rules.closure_errors(reason=closure_reason, destination=closure_destination.strip())
    if errors:
        raise ValidationError(errors)
    label = dict(ClosureReason.choices)[closure_reason]
    why = f"Referral closed ({label})"
    expected = referral.status
    closed = Closed()
    with transaction.atomic():
        meeting = booked_meeting(referral) if expected == ReferralStatus.TRIAGE_BOOKED else None
        if meeting is not None:
            triage_services.triage_cancel(
                actor=request.user, meeting=meeting, reason=why, request=request
            )
            expected, closed = ReferralStatus.RECEIVED, Closed(triage_cancelled=True)
        case = booked_case(referral) if expected == ReferralStatus.PANEL_BOOKED else None
        if case is not None:
            panel_services.panel_case_cancel(actor=request.user, case=case, reason=why)
            expected, closed = ReferralStatus.AWAITING_PANEL, Closed(panel_slot_cancelled=True)
        panel_services.follow_ups_cancel(actor=request.user, referral=referral, reason=why)
        services.referral_close(
            referral=referral,
            actor=request.user,
            closure_reason=closure_reason,
            closure_destination=closure_destination,
            reason=note,
            expected_status=expected,
        )
    return closed


def _apply_close(
    request: HttpRequest, referral: Referral, form: ReferralCloseForm
) -> Closed | None:
    """Close the referral (and what it has booked); what was cancelled on the way when closed,
    otherwise None and the form carries the reason why not."""
    if not form.is_valid():
        return None
    if _stale(referral, form):
        form.add_error(None, _moved_on_message(referral.status))
        return None
    try:
        return _close_with_bookings(
            request,
            referral,
            closure_reason=form.cleaned_data["closure_reason"],
            closure_destination=form.cleaned_data["closure_destination"],
            note=form.cleaned_data["reason"].strip(),
        )
    except services.TransitionNotAllowed:
        # The referral, its triage or its panel slot moved since the page was read: say where
        # the referral is now (the refused move may be the meeting's or the slot's, not its own).
        referral.refresh_from_db(fields=["status"])
        form.add_error(None, _moved_on_message(referral.status))
    except ValidationError as error:
        apply_service_errors(form, error, {"held_on": "held_on_day"})
    return None


def _closed_message(closed: Closed) -> str:
    if closed.triage_cancelled:
        return (
            "Referral closed. Its triage was cancelled and everyone invited has been sent a "
            "cancellation."
        )
    if closed.panel_slot_cancelled:
        return (
            "Referral closed. Its panel slot was cancelled and everyone invited has been sent a "
            "cancellation."
        )
    return "Referral closed"


def _closing_cancels(referral: Referral, triage: dict[str, Any], panel: dict[str, Any]) -> str:
    """What closing would cancel, for the warning by the close form (as _close_with_bookings
    decides it): "triage", "panel slot" or ""."""
    if referral.status == ReferralStatus.TRIAGE_BOOKED and triage["booked"] is not None:
        return "triage"
    booked = any(case.status == CaseStatus.BOOKED for case in panel["cases"])
    if referral.status == ReferralStatus.PANEL_BOOKED and booked:
        return "panel slot"
    return ""


MOVE_REFUSED = (
    "A referral is not moved on from this page. Book or change its triage or panel from those "
    "sections, or close the referral."
)


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
    """The referral, its timeline, its triage and panel sections (with the links to book them,
    the next steps: states.FLOW_FOR_MOVE) and, for the Complex Cases team of its region, the form
    that closes it, cancelling a booked triage or panel slot first (_close_with_bookings). A POST
    closes and redirects back (POST-redirect-GET); a POST asking for any other move is refused
    (400, nothing changes); anyone who may not close it gets the 404 they would get for a
    referral out of scope."""
    user = request.user
    referral = selectors.referral_get_for(user, referral_id, request=request)
    person: Any = referral.person
    may_manage = selectors.may_manage_referral(user, referral)
    close_form = ReferralCloseForm(prefix="close", initial={"from_status": referral.status})
    errors: list[dict[str, str]] = []
    status = 200
    if request.method == "POST":
        if not may_manage:
            _refuse_management(request, referral)
        action = request.POST.get("action")
        if action == "close" and referral.status != ReferralStatus.CLOSED:
            close_form = ReferralCloseForm(request.POST, prefix="close")
            closed = _apply_close(request, referral, close_form)
            if closed is not None:
                messages.success(request, _closed_message(closed))
                return redirect("referrals:referral", referral_id=referral.pk)
            errors = _form_errors(close_form, {"closure_reason"})
            status = 409 if any(e["href"] == "" for e in errors) else 400
        elif action == "close":
            errors = [{"text": _moved_on_message(referral.status), "href": ""}]
            status = 409
        else:
            errors = [{"text": MOVE_REFUSED, "href": ""}]
            status = 400
        # Show the page as the referral is now: another member of the team may have moved it.
        referral.refresh_from_db(
            fields=["status", "closure_reason", "closure_destination", "closed_at"]
        )
    with audited_read(
        actor=user,
        object_type="referral",
        object_id=referral.pk,
        person_crn=person.crn,
        request=request,
    ):
        timeline = selectors.referral_timeline(referral)
        triage = triage_for_referral(referral, user=user)
        panel = panel_for_referral(referral, user=user)
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
                "close_form": close_form,
                "closure_reasons": ClosureReason.choices,
                "errors": errors,
                "triage": triage,
                "panel": panel,
                "closing_cancels": _closing_cancels(referral, triage, panel),
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
