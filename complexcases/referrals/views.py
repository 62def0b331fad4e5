"""Pages for reflective conversations and referrals. Thin: parse input, call a selector or a
service, render.

Every page declares its access policy ("person": need-to-know on the person through
accounts.access.get_person_for, 404 or the limited-access 403), is sent with no-store, and records
the view in the audit trail before showing anything. Recording a conversation also needs the
practitioner or SPO role, referring the practitioner, SPO or Complex Cases team role; without it
the answer is the same 404 as for a person out of scope.
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

from complexcases.accounts.policy import access_policy
from complexcases.core.audit import audited_read
from complexcases.referrals import rules, selectors, services
from complexcases.referrals.forms import ConversationForm, ReferralForm
from complexcases.referrals.states import (
    ClosureReason,
    ConversationOutcome,
    ReferralStatus,
    Route,
    RouteReason,
)
from complexcases.screening.criteria import CRITERIA_LABELS


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


@access_policy("person")
@never_cache
@login_required
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    user = request.user
    referral = selectors.referral_get_for(user, referral_id, request=request)
    person: Any = referral.person
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
            },
        )
