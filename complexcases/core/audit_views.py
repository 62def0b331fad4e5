"""Searching and exporting the audit trail: "who looked at this case?" and "what did this user do?".

Only users for whom `core.audit.can_search_audit` is true; anyone else gets a 404 (and the refusal
is audited). Each search is itself audited (action audit_search), results are paginated (at most
MAX_PAGE_SIZE a page), and an export asks for a reason and is audited before it is produced.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from complexcases.accounts.policy import access_policy
from complexcases.core import clock
from complexcases.core.audit import CRN_PATTERN, audit_record, can_search_audit
from complexcases.core.models import AuditAction, AuditEvent, AuditOutcome

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_EXPORT_ROWS = 50_000


class AuditSearchForm(forms.Form):
    crn = forms.CharField(label="Person's CRN", required=False, max_length=7)
    username = forms.CharField(label="Username", required=False, max_length=150)

    def clean_crn(self) -> str:
        crn = self.cleaned_data["crn"].strip().upper()
        if crn and not CRN_PATTERN.fullmatch(crn):
            raise forms.ValidationError(
                "Enter a CRN as a letter followed by 6 digits, like X123456"
            )
        return crn

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not cleaned.get("crn") and not cleaned.get("username"):
            raise forms.ValidationError("Enter a person's CRN or a username")
        return cleaned


class AuditExportForm(AuditSearchForm):
    reason = forms.CharField(
        label="Why do you need this export?",
        max_length=1000,
        widget=forms.Textarea,
        error_messages={
            "required": "Enter why you need this export",
            "max_length": "Reason must be 1000 characters or fewer",
        },
    )


def _guard(request: HttpRequest, what: str) -> None:
    """Refuse (as not found) anyone who may not search the audit trail; the refusal is audited."""
    if not can_search_audit(request.user):
        audit_record(
            actor=request.user,
            action=AuditAction.REFUSED,
            outcome=AuditOutcome.REFUSED,
            object_type="audit_trail",
            request=request,
            details={"attempted": what},
        )
        raise Http404


def search_queryset(*, crn: str, username: str) -> QuerySet[AuditEvent]:
    """Events about a person (by CRN) and/or by or about a user account (by username)."""
    events = AuditEvent.objects.all()
    if crn:
        events = events.filter(person_crn=crn)
    if username:
        events = events.filter(
            Q(actor_username=username) | Q(object_type="user", object_id=username)
        )
    return events.order_by("-occurred_at", "-id")


def _page_size(raw: str | None) -> int:
    try:
        size = int(raw or DEFAULT_PAGE_SIZE)
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    return max(1, min(size, MAX_PAGE_SIZE))


@access_policy("audit_admin")
@require_http_methods(["GET", "POST"])
@login_required
def audit_search(request: HttpRequest) -> HttpResponse:
    """GET shows the empty search; the search itself is a POST (pages too), so a CRN never
    travels in a URL (browser history, proxies, access logs)."""
    _guard(request, "audit_search")
    form = AuditSearchForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"form": form, "export_form": None, "page": None}
    if form.is_bound and form.is_valid():
        crn, username = form.cleaned_data["crn"], form.cleaned_data["username"]
        page_size = _page_size(request.POST.get("per_page"))
        paginator = Paginator(search_queryset(crn=crn, username=username), page_size)
        page = paginator.get_page(request.POST.get("page"))
        # Fetched now, so the results are the trail as it stood before this search; audited
        # before anything is shown, and if the record cannot be written nothing is shown.
        page.object_list = list(page.object_list)
        audit_record(
            actor=request.user,
            action=AuditAction.AUDIT_SEARCH,
            object_type="audit_trail",
            person_crn=crn,
            request=request,
            details={
                "crn": crn,
                "username": username,
                "page": page.number,
                "per_page": page_size,
                "results": paginator.count,
            },
        )
        context.update(
            page=page,
            crn=crn,
            username=username,
            per_page=page_size,
            export_form=AuditExportForm(initial={"crn": crn, "username": username}),
        )
    context["nav"] = "audit"
    return render(request, "core/audit_search.html", context)


CSV_COLUMNS = [
    "occurred_at",
    "actor_username",
    "actor_user_id",
    "action",
    "outcome",
    "object_type",
    "object_id",
    "person_crn",
    "reason",
    "recipients",
    "before",
    "after",
    "details",
    "ip_address",
    "user_agent",
    "request_id",
]


def _cell(value: Any) -> str:
    """A CSV cell safe to open in a spreadsheet (attempted usernames and user agents are
    attacker-controlled: a leading = + - @ would make a formula)."""
    if value is None:
        text = ""
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, sort_keys=True)
    elif hasattr(value, "isoformat"):
        text = timezone.localtime(value).isoformat()
    else:
        text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events[:MAX_EXPORT_ROWS].iterator(chunk_size=2000):
        yield writer.writerow([_cell(getattr(event, column)) for column in CSV_COLUMNS])


@access_policy("audit_admin")
@require_POST
@login_required
def audit_export(request: HttpRequest) -> HttpResponseBase:
    _guard(request, "audit_export")
    form = AuditExportForm(request.POST)
    if not form.is_valid():
        search = AuditSearchForm(
            {"crn": request.POST.get("crn", ""), "username": request.POST.get("username", "")}
        )
        return render(
            request,
            "core/audit_search.html",
            {
                "form": search,
                "export_form": form,
                "page": None,
                "export_errors": True,
                "nav": "audit",
            },
            status=400,
        )
    crn, username = form.cleaned_data["crn"], form.cleaned_data["username"]
    events = search_queryset(crn=crn, username=username)
    total = events.count()
    # The export is a disclosure: audited, with its reason, before a byte is produced.
    export = audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        object_type="audit_trail",
        person_crn=crn,
        reason=form.cleaned_data["reason"],
        recipients=[request.user.get_username()],
        request=request,
        details={
            "crn": crn,
            "username": username,
            "rows": min(total, MAX_EXPORT_ROWS),
            "truncated": total > MAX_EXPORT_ROWS,
        },
    )
    stamp = clock.local_now().strftime("%Y%m%d-%H%M%S")
    # The trail as it stood before this export (the export's own record is not part of it).
    events = events.filter(pk__lt=export.pk)
    response = StreamingHttpResponse(_csv_rows(events), content_type="text/csv; charset=utf-8")
    # A generic file name: no CRN or username in it.
    response["Content-Disposition"] = f'attachment; filename="audit-export-{stamp}.csv"'
    return response
