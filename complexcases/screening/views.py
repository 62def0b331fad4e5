"""Pages for the monthly lists. Thin: parse input, call a selector, render.

Pages showing personal data are sent with `Cache-Control: no-store` (never_cache) so that no
browser or proxy keeps a copy. Each view declares its access policy (accounts.policy); the
need-to-know itself is in accounts.access, applied by the selectors. Views of people, lists and
downloads are audited before the data is read (core.audit: fail closed).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from complexcases.accounts import access
from complexcases.accounts.models import Pdu, Team
from complexcases.accounts.policy import access_policy
from complexcases.core.audit import audit_record, audited_read
from complexcases.referrals import selectors as referral_selectors
from complexcases.screening import export, selectors
from complexcases.screening.criteria import CRITERIA_IDS, CRITERIA_LABELS, mask_to_ids
from complexcases.screening.models import Change, ScreeningResult, ScreeningRun

LIST_PAGE_SIZE = 100
RUNS_PAGE_SIZE = 10

# Short names of the criteria for the list tables, where the full labels would not fit.
CRITERIA_SHORT_LABELS = {
    "rosh": "RoSH high",
    "mental_health": "Mental health",
    "self_harm": "Self-harm",
    "learning_difficulties": "Learning difficulties",
    "mappa": "MAPPA 2 or 3",
    "opd": "OPD",
    "substance_misuse": "Substance misuse",
    "ipp": "IPP",
}

SOURCE_LABELS = {
    "registration": "nDelius registration",
    "oasys": "OASys assessment",
    "sentence": "nDelius sentence",
}


def month_label(month: str) -> str:
    """'2026-11' → 'November 2026'."""
    first = selectors.parse_month(month)
    return first.strftime("%B %Y") if first else month


def _iso_date(value: object) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def run_thresholds(run: ScreeningRun) -> tuple[int, int]:
    """The run's eligible threshold and near-miss count, from the parameters it recorded."""
    parameters = run.parameters if isinstance(run.parameters, dict) else {}
    return (
        int(parameters.get("eligible_threshold", 6)),
        int(parameters.get("near_miss_count", 5)),
    )


# Pagination -------------------------------------------------------------------------------


def _page_href(request: HttpRequest, param: str, number: int) -> str:
    query = request.GET.copy()
    query[param] = str(number)
    return f"?{query.urlencode()}"


def paginate(
    request: HttpRequest,
    items: QuerySet[Any],
    *,
    per_page: int = LIST_PAGE_SIZE,
    param: str = "page",
    label: str = "Pagination",
) -> tuple[Page, dict[str, Any] | None]:
    """A page of `items` and the context of a GOV.UK pagination component (None for one page).

    Other query parameters (filters, the other table's page) are kept in the links.
    """
    paginator = Paginator(items, per_page)
    page = paginator.get_page(request.GET.get(param))
    if paginator.num_pages <= 1:
        return page, None
    links: list[dict[str, Any]] = []
    for number in paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1):
        if number == Paginator.ELLIPSIS:
            links.append({"ellipsis": True})
        else:
            links.append(
                {
                    "number": number,
                    "href": _page_href(request, param, int(number)),
                    "current": number == page.number,
                }
            )
    return page, {
        "label": label,
        "items": links,
        "previous": _page_href(request, param, page.previous_page_number())
        if page.has_previous()
        else None,
        "next": _page_href(request, param, page.next_page_number()) if page.has_next() else None,
    }


# The PDU monthly list ------------------------------------------------------------------------


@dataclass
class ListRow:
    crn: str
    name: str
    team: str
    manager: str
    criteria_count: int
    criteria: list[str]
    change: str
    months_on_list: int
    limited_access: bool = False
    awaiting_conversation: bool = False

    @property
    def change_text(self) -> str:
        if self.change == Change.CONTINUING:
            months = self.months_on_list
            return f"Continuing ({months} month{'s' if months != 1 else ''})"
        return ""


def _list_rows(results: Page) -> list[ListRow]:
    rows = []
    result: ScreeningResult
    for result in results.object_list:
        person = result.person
        if getattr(result, "limited_access_refusal", None):
            # Limited access: the row shows the CRN and "limited access", nothing else.
            rows.append(
                ListRow(
                    crn=person.crn,
                    name="",
                    team="",
                    manager="",
                    criteria_count=0,
                    criteria=[],
                    change="",
                    months_on_list=0,
                    limited_access=True,
                )
            )
            continue
        manager = person.offender_manager
        rows.append(
            ListRow(
                crn=person.crn,
                name=person.name,
                team=result.team.name,
                manager=f"{manager.forename} {manager.surname}",
                criteria_count=result.criteria_count,
                criteria=[CRITERIA_SHORT_LABELS[cid] for cid in mask_to_ids(result.criteria_mask)],
                change=result.change,
                months_on_list=result.months_on_list,
                awaiting_conversation=bool(getattr(result, "awaiting_conversation", False)),
            )
        )
    return rows


def _list_run_and_pdu(user: Any, month: str, pdu_code: str) -> tuple[ScreeningRun, Pdu]:
    """The month's run and the PDU, if the user may open the PDU's list; otherwise 404."""
    if selectors.parse_month(month) is None:
        raise Http404("No such month")
    pdu = access.pdus_visible_to(user).select_related("region").filter(code=pdu_code).first()
    if pdu is None:
        raise Http404("No such PDU")
    run = selectors.latest_run_for_month(month)
    if run is None:
        raise Http404("No screening run that month")
    return run, pdu


def _month_navigation(month: str, pdu: Pdu) -> dict[str, Any] | None:
    months = selectors.months_with_runs()
    if month not in months or len(months) < 2:
        return None
    index = months.index(month)

    def link(other: str) -> dict[str, str]:
        return {
            "href": reverse("screening:pdu_list", args=[other, pdu.code]),
            "label": month_label(other),
        }

    return {
        "older": link(months[index + 1]) if index + 1 < len(months) else None,
        "newer": link(months[index - 1]) if index > 0 else None,
    }


def _aggregate_counts(run: ScreeningRun, pdu: Pdu) -> dict[str, int]:
    counts = run.counts_by_pdu.get(pdu.code, {}) if isinstance(run.counts_by_pdu, dict) else {}
    return {
        key: _count(counts, key, f"{key}es" if key == "near_miss" else key)
        for key in ("screened", "eligible", "new", "continuing", "left", "near_miss")
    }


@access_policy("scoped_list")
@never_cache
@login_required
def pdu_list(request: HttpRequest, month: str, pdu_code: str) -> HttpResponse:
    user = request.user
    run, pdu = _list_run_and_pdu(user, month, pdu_code)
    if not access.can_see_identifiers(user):
        # Analysts: the PDU's counts, never names or CRNs.
        return render(
            request,
            "screening/pdu_counts.html",
            {
                "nav": "lists",
                "run": run,
                "pdu": pdu,
                "month_label": month_label(month),
                "counts": _aggregate_counts(run, pdu),
            },
        )
    with audited_read(
        actor=user,
        action="list",
        object_type="pdu_list",
        object_id=f"{month}/{pdu.code}",
        request=request,
        details={"month": month, "pdu": pdu.code, "team": request.GET.get("team", "")},
    ):
        return _render_pdu_list(request, run, pdu, month)


def _render_pdu_list(request: HttpRequest, run: ScreeningRun, pdu: Pdu, month: str) -> HttpResponse:
    user = request.user
    teams = selectors.pdu_teams(pdu)
    team: Team | None = next((t for t in teams if t.code == request.GET.get("team")), None)
    show_near_misses = request.GET.get("near_misses") == "yes"
    threshold, near_miss_count = run_thresholds(run)

    eligible_page, eligible_pagination = paginate(
        request,
        selectors.eligible_results(run, pdu, user, team),
        param="page",
        label="Pages of the list",
    )
    near_miss_page = near_miss_pagination = None
    if show_near_misses:
        near_miss_page, near_miss_pagination = paginate(
            request,
            selectors.near_miss_results(run, pdu, user, team),
            param="near_misses_page",
            label="Pages of near misses",
        )

    toggle = request.GET.copy()
    toggle.pop("near_misses_page", None)
    if show_near_misses:
        toggle.pop("near_misses", None)
    else:
        toggle["near_misses"] = "yes"

    return render(
        request,
        "screening/pdu_list.html",
        {
            "nav": "lists",
            "run": run,
            "pdu": pdu,
            "month": month,
            "month_label": month_label(month),
            "month_navigation": _month_navigation(month, pdu),
            "teams": teams,
            "team": team,
            "threshold": threshold,
            "near_miss_count": near_miss_count,
            "criteria_total": len(CRITERIA_IDS),
            "eligible_page": eligible_page,
            "eligible_rows": _list_rows(eligible_page),
            "eligible_pagination": eligible_pagination,
            "show_near_misses": show_near_misses,
            "near_miss_page": near_miss_page,
            "near_miss_rows": _list_rows(near_miss_page) if near_miss_page else [],
            "near_miss_pagination": near_miss_pagination,
            "near_miss_toggle_query": toggle.urlencode(),
            "left": selectors.left_people(run, pdu, user, team),
            "may_export": access.may_export(user, pdu),
            "may_record_conversation": referral_selectors.may_record_conversation(user),
        },
    )


class DownloadReasonForm(forms.Form):
    reason = forms.CharField(
        label="Why do you need to download this list?",
        help_text="For example: to plan this month's reflective conversations with SPOs.",
        max_length=500,
        strip=True,
        error_messages={"required": "Enter why you need to download this list"},
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@access_policy("scoped_export")
@never_cache
@login_required
def pdu_list_csv(request: HttpRequest, month: str, pdu_code: str) -> HttpResponse:
    """The PDU's list in the section-6 CSV format, as `export_screening --month --pdu` writes it.

    Only for those who may export the PDU's list (access.may_export); a reason is asked first and
    the download is audited with it. Rows are the people the user may see; a limited-access row
    keeps only its CRN.
    """
    user = request.user
    run, pdu = _list_run_and_pdu(user, month, pdu_code)
    if not access.may_export(user, pdu):
        raise Http404("No such download")
    form = DownloadReasonForm(request.POST if request.method == "POST" else None)
    if request.method != "POST" or not form.is_valid():
        return render(
            request,
            "screening/download_reason.html",
            {
                "nav": "lists",
                "form": form,
                "pdu": pdu,
                "month": month,
                "month_label": month_label(month),
            },
            status=400 if request.method == "POST" else 200,
        )
    visible = selectors.export_visibility(run, pdu, user)
    rows = [
        row if visible[row["crn"]] else selectors.withheld_export_row(row)
        for row in export.export_rows(run, pdu_code=pdu.code)
        if row["crn"] in visible
    ]
    audit_record(
        actor=user,
        action="download",
        object_type="pdu_list",
        object_id=f"{month}/{pdu.code}",
        reason=form.cleaned_data["reason"],
        request=request,
        details={"month": month, "pdu": pdu.code, "rows": len(rows), "format": "csv"},
    )
    content = io.StringIO()
    export.write_csv(rows, content)
    response = HttpResponse(content.getvalue(), content_type="text/csv; charset=utf-8")
    # The file name carries the month and PDU code only: never personal data.
    response["Content-Disposition"] = (
        f'attachment; filename="complex-cases-{month}-{pdu_code.lower()}.csv"'
    )
    return response


# The person page ----------------------------------------------------------------------------


@dataclass
class Fact:
    source: str
    item: str
    label: str
    value: str
    date: dt.date | None
    met: bool


@dataclass
class CriterionView:
    id: str
    label: str
    met: bool
    summary: str
    facts: list[Fact] = field(default_factory=list)


def _criteria_views(result: ScreeningResult, evidence: dict[str, Any]) -> list[CriterionView]:
    """The eight criteria with met / not met and the facts behind each.

    Met or not comes from the result's mask, the same bits its count is made from; the evidence
    adds the facts and the one-line summary.
    """
    met_ids = set(mask_to_ids(result.criteria_mask))
    entries = {
        entry.get("id"): entry for entry in evidence.get("criteria", []) if isinstance(entry, dict)
    }
    views = []
    for cid in CRITERIA_IDS:
        entry = entries.get(cid, {})
        facts = [
            Fact(
                source=SOURCE_LABELS.get(str(fact.get("source")), str(fact.get("source", ""))),
                item=str(fact.get("item") or ""),
                label=str(fact.get("label") or fact.get("item") or ""),
                value=str(fact.get("value") if fact.get("value") is not None else ""),
                date=_iso_date(fact.get("date")),
                met=bool(fact.get("met")),
            )
            for fact in entry.get("facts", [])
            if isinstance(fact, dict)
        ]
        views.append(
            CriterionView(
                id=cid,
                label=str(entry.get("label") or CRITERIA_LABELS[cid]),
                met=cid in met_ids,
                summary=str(entry.get("summary") or ""),
                facts=facts,
            )
        )
    return views


def _result_status(result: ScreeningResult, threshold: int, latest_month: str | None) -> str:
    """'6 of 8 criteria met — on this month's list', and the like."""
    count = f"{result.criteria_count} of {len(CRITERIA_IDS)} criteria met"
    which = (
        "this month's list"
        if result.run.month == latest_month
        else f"the {month_label(result.run.month)} list"
    )
    if not result.on_caseload:
        return f"Not screened: no longer on the caseload — not on {which}"
    if result.eligible:
        return f"{count} — on {which}"
    if result.near_miss:
        return f"{count} — a near miss, not on {which} ({threshold} needed)"
    return f"{count} — not on {which} ({threshold} needed)"


@access_policy("person")
@never_cache
@login_required
def person(request: HttpRequest, crn: str) -> HttpResponse:
    # 404 when not there or not the user's to see; 403 (limited access) with no details.
    found = selectors.person_for(request.user, crn, request=request)
    with audited_read(
        actor=request.user,
        object_type="person",
        object_id=found.crn,
        person_crn=found.crn,
        request=request,
    ):
        return _render_person(request, found)


def _render_person(request: HttpRequest, found: Any) -> HttpResponse:
    history = selectors.person_results(found)
    latest = history[0] if history else None
    case_work = referral_selectors.person_case_work(found)
    context: dict[str, Any] = {
        "nav": "lists",
        "person": found,
        "history": history,
        "latest": latest,
        "criteria_total": len(CRITERIA_IDS),
        "timeline": case_work.timeline,
        "open_referral": case_work.open_referral,
        "may_record_conversation": referral_selectors.may_record_conversation(request.user),
        "may_refer": referral_selectors.may_refer(request.user),
    }
    if latest is not None:
        evidence = selectors.result_evidence(latest)
        threshold, _near_miss_count = run_thresholds(latest.run)
        latest_oasys = evidence.get("latest_oasys")
        context.update(
            {
                "month_label": month_label(latest.run.month),
                "status": _result_status(latest, threshold, getattr(latest, "latest_month", None)),
                "criteria": _criteria_views(latest, evidence),
                "no_current_oasys": bool(evidence.get("no_current_oasys", latest.no_current_oasys)),
                "latest_oasys": latest_oasys if isinstance(latest_oasys, dict) else None,
                "latest_oasys_date": _iso_date(
                    latest_oasys.get("completed_date") if isinstance(latest_oasys, dict) else None
                ),
                "back_href": reverse(
                    "screening:pdu_list", args=[latest.run.month, latest.pdu.code]
                ),
            }
        )
    return render(request, "screening/person.html", context)


# Runs ---------------------------------------------------------------------------------------


@dataclass
class PduRunCounts:
    code: str
    name: str
    screened: int
    eligible: int
    new: int
    continuing: int
    left: int
    near_misses: int


def _count(values: dict[str, Any], *keys: str) -> int:
    for key in keys:
        if isinstance(values.get(key), int):
            return int(values[key])
    return 0


def _pdu_run_counts(run: ScreeningRun, pdus: dict[str, Pdu]) -> list[PduRunCounts]:
    counts = run.counts_by_pdu if isinstance(run.counts_by_pdu, dict) else {}
    rows = [
        PduRunCounts(
            code=code,
            name=pdus[code].name if code in pdus else code,
            screened=_count(values, "screened"),
            eligible=_count(values, "eligible"),
            new=_count(values, "new"),
            continuing=_count(values, "continuing"),
            left=_count(values, "left"),
            near_misses=_count(values, "near_miss", "near_misses"),
        )
        for code, values in counts.items()
        if isinstance(values, dict)
    ]
    return sorted(rows, key=lambda row: row.name)


@access_policy("aggregate")
@login_required
def runs(request: HttpRequest) -> HttpResponse:
    page, pagination = paginate(
        request, selectors.runs(), per_page=RUNS_PAGE_SIZE, label="Pages of screening runs"
    )
    page_runs: list[ScreeningRun] = list(page.object_list)
    codes = {
        code
        for run in page_runs
        if isinstance(run.counts_by_pdu, dict)
        for code in run.counts_by_pdu
    }
    pdus = selectors.pdus_by_code(codes) if codes else {}
    return render(
        request,
        "screening/runs.html",
        {
            "nav": "runs",
            "page": page,
            "pagination": pagination,
            "runs": [
                {
                    "run": run,
                    "month_label": month_label(run.month),
                    "pdus": _pdu_run_counts(run, pdus),
                }
                for run in page_runs
            ],
        },
    )
