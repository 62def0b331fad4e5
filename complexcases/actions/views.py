"""Action pages. Thin: parse input, call a selector or a service, render.

- /my-actions/          the user's own actions: overdue, due soon, later (done/cancelled on request)
- /actions/<id>/        one action and its history; its owner and the region's Complex Cases team
                        change its status or add a note (POST)

Every page declares its access policy, is sent with no-store, and records the view in the audit
trail before showing anything. Refusals are the same 404 as "not there", or the limited-access 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from complexcases.accounts import access
from complexcases.accounts.policy import access_policy
from complexcases.actions import selectors, services
from complexcases.actions.forms import ActionUpdateForm
from complexcases.actions.states import MOVES, ActionStatus, ReminderKind
from complexcases.core import clock
from complexcases.core.audit import audit_record, audited_read

ERROR_ANCHORS = {"status": "id_status_0", "note": "id_note"}


@access_policy("scoped_list")
@never_cache
@login_required
def my_actions(request: HttpRequest) -> HttpResponse:
    user = request.user
    show_finished = request.GET.get("show") == "all"
    with audited_read(
        actor=user,
        action="list",
        object_type="my_actions",
        request=request,
        details={"finished": show_finished},
    ):
        mine = selectors.my_actions(user, today=clock.today(), include_finished=show_finished)
        groups = [
            ("overdue", "Overdue", mine.overdue),
            ("due-soon", "Due soon", mine.due_soon),
            ("later", "Later", mine.later),
        ]
        if show_finished:
            groups.append(("finished", "Done or cancelled", mine.finished))
        return render(
            request,
            "actions/my_actions.html",
            {
                "nav": "actions",
                "groups": groups,
                "mine": mine,
                "show_finished": show_finished,
            },
        )


def _moves(status: str) -> list[tuple[str, str]]:
    return [(s.value, str(s.label)) for s in ActionStatus if s.value in MOVES[status]]


def _apply_errors(form: ActionUpdateForm, error: ValidationError) -> None:
    for name, texts in error.message_dict.items():
        field = name if name in form.fields else None
        for text in texts:
            form.add_error(field, text)


def _error_list(form: ActionUpdateForm) -> list[dict[str, str]]:
    entries = []
    for name, errors in form.errors.items():
        target = ERROR_ANCHORS.get(name, f"id_{name}" if name != "__all__" else "")
        for error in errors:
            entries.append({"text": str(error), "href": f"#{target}" if target else ""})
    return entries


def _history_label(update: Any) -> str:
    reminder = (update.details or {}).get("reminder")
    if reminder:
        return f"Reminder emailed: {ReminderKind(reminder).label}"
    if not update.from_status:
        return "Action agreed"
    if update.from_status == update.to_status:
        return "Note added"
    return f"{ActionStatus(update.from_status).label} to {ActionStatus(update.to_status).label}"


def _render(
    request: HttpRequest,
    page: selectors.ActionPage,
    form: ActionUpdateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    action = page.action
    person: Any = action.person
    if page.may_update and form is None:
        form = ActionUpdateForm(current=action.status, moves=_moves(action.status))
    with audited_read(
        actor=request.user,
        object_type="action",
        object_id=action.pk,
        person_crn=person.crn,
        request=request,
        details={"person_shown": page.sees_person},
    ):
        history = selectors.action_history(action)
        return render(
            request,
            "actions/action.html",
            {
                "nav": "actions",
                "page": page,
                "action": action,
                "person": person if page.sees_person else None,
                "status_label": ActionStatus(action.status).label,
                "status_tag": selectors.STATUS_TAGS[ActionStatus(action.status)],
                "history": [(update, _history_label(update)) for update in history],
                "form": form if page.may_update else None,
                "errors": _error_list(form) if form is not None and form.is_bound else [],
            },
            status=status,
        )


@access_policy("person")
@never_cache
@login_required
def action_detail(request: HttpRequest, action_id: int) -> HttpResponse:
    page = selectors.action_get_for(request.user, action_id, request=request)
    if request.method != "POST":
        return _render(request, page)
    if not page.may_update:
        # Those who may see the person may look; only the owner and the region's team update.
        audit_record(
            actor=request.user,
            action="refused",
            object_type="action",
            object_id=page.action.pk,
            outcome="refused",
            reason="update: not the owner or the region's team",
            request=request,
        )
        raise access.NotFound()
    action = page.action
    form = ActionUpdateForm(request.POST, current=action.status, moves=_moves(action.status))
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["status"]:
                moved = services.action_transition(
                    action=action,
                    to=data["status"],
                    actor=request.user,
                    note=data["note"],
                    cancellation_reason=data["cancellation_reason"],
                )
                messages.success(
                    request, f"Action updated: it is now {ActionStatus(moved.status).label.lower()}"
                )
            else:
                services.action_note_add(action=action, actor=request.user, note=data["note"])
                messages.success(request, "Note added")
        except services.TransitionNotAllowed:
            messages.info(
                request, "This action changed while you were updating it: check it again."
            )
            return redirect("actions:action", action_id=action.pk)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            return redirect("actions:action", action_id=action.pk)
    return _render(request, page, form=form, status=400)
