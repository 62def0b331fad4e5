"""The needs-attention queue of the Complex Cases mailbox, and one email with its two actions:
complete (make the referral) or dismiss (with a reason). Thin: parse input, call a selector or a
service, render.

Only the Complex Cases team of the mailbox's region reaches these pages (selectors); everyone else
gets the same audited 404. Pages are sent with no-store and each view is recorded in the audit
trail before anything is shown.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from complexcases.accounts.policy import access_policy
from complexcases.core.audit import audited_read
from complexcases.core.forms import apply_service_errors, error_summary
from complexcases.intake import selectors, services
from complexcases.intake.forms import CompleteForm, DismissForm
from complexcases.intake.rules import split_body
from complexcases.intake.states import AttentionReason, InboundStatus
from complexcases.referrals.states import RouteReason

PAGE_SIZE = 50


@access_policy("cc_team")
@never_cache
@login_required
def queue(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not selectors.may_work_queue(user):
        raise selectors.refuse(user, "needs_attention_queue", request)
    paginator = Paginator(selectors.needs_attention_for(user), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    emails = list(page.object_list)
    refused = selectors.limited_access_refused(user, emails)
    for email in emails:
        email.limited_access = email.pk in refused  # type: ignore[attr-defined]
    with audited_read(
        actor=user,
        action="list",
        object_type="inbound_email",
        object_id="needs_attention_queue",
        request=request,
        details={"page": page.number, "count": paginator.count},
    ):
        return render(
            request,
            "intake/queue.html",
            {
                "nav": "needs_attention",
                "page": page,
                "emails": emails,
            },
        )


@access_policy("cc_team")
@never_cache
@login_required
def detail(request: HttpRequest, inbound_email_id: int) -> HttpResponse:
    user = request.user
    email = selectors.inbound_email_get_for(user, inbound_email_id, request=request)
    complete_form = CompleteForm(initial=_initial(email))
    dismiss_form = DismissForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "complete":
            complete_form = CompleteForm(request.POST)
            done = _complete(request, email, complete_form)
            if done is not None:
                return done
        elif action == "dismiss":
            dismiss_form = DismissForm(request.POST)
            done = _dismiss(request, email, dismiss_form)
            if done is not None:
                return done
        status = 400
    person_crn = email.crns_named[0] if len(email.crns_named) == 1 else ""
    with audited_read(
        actor=user,
        object_type="inbound_email",
        object_id=email.pk,
        person_crn=person_crn,
        request=request,
    ):
        return render(
            request,
            "intake/detail.html",
            {
                "nav": "needs_attention",
                "inbound_email": email,
                "history": selectors.history(email),
                "status_label": dict(InboundStatus.choices).get(email.status, email.status),
                "reason_label": dict(AttentionReason.choices).get(email.reason, ""),
                "actionable": email.status == InboundStatus.NEEDS_ATTENTION,
                "complete_form": complete_form,
                "dismiss_form": dismiss_form,
                "complete_errors": error_summary(
                    complete_form, {"route_reason": "id_route_reason_0"}
                ),
                "dismiss_errors": error_summary(dismiss_form),
                "route_reasons": RouteReason.choices,
            },
            status=status,
        )


def _initial(email: Any) -> dict[str, str]:
    challenges, support_sought = split_body(email.body_text)
    return {
        "crn": email.crns_named[0] if len(email.crns_named) == 1 else "",
        "challenges": challenges,
        "support_sought": support_sought,
    }


def _complete(request: HttpRequest, email: Any, form: CompleteForm) -> HttpResponse | None:
    if not form.is_valid():
        return None
    try:
        referral = services.inbound_email_complete(
            actor=request.user,
            inbound_email=email,
            crn=form.cleaned_data["crn"],
            challenges=form.cleaned_data["challenges"],
            support_sought=form.cleaned_data["support_sought"],
            route_reason=form.cleaned_data["route_reason"],
            route_reason_other=form.cleaned_data["route_reason_other"],
            request=request,
        )
    except ValidationError as error:
        apply_service_errors(form, error)
        return None
    except services.TransitionNotAllowed:
        messages.info(request, "This email has already been dealt with")
        return redirect("intake:detail", inbound_email_id=email.pk)
    messages.success(request, "Referral made from the email")
    return redirect("referrals:referral", referral_id=referral.pk)


def _dismiss(request: HttpRequest, email: Any, form: DismissForm) -> HttpResponse | None:
    if not form.is_valid():
        return None
    try:
        services.inbound_email_dismiss(
            actor=request.user,
            inbound_email=email,
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except ValidationError as error:
        apply_service_errors(form, error)
        return None
    except services.TransitionNotAllowed:
        messages.info(request, "This email has already been dealt with")
        return redirect("intake:detail", inbound_email_id=email.pk)
    messages.success(request, "Email dismissed")
    return redirect("intake:queue")
