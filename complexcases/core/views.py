"""The home page (the latest monthly list, region by region) and the design system's assets."""

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static

from complexcases.accounts.policy import access_policy
from complexcases.screening import selectors
from complexcases.screening.criteria import CRITERIA_IDS
from complexcases.screening.views import month_label, run_thresholds


@access_policy("aggregate")
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The latest month with a run and, per PDU the user may open, its eligible, new and near-miss
    counts. Counts only, no personal data.
    """
    run = selectors.latest_run()
    context: dict[str, object] = {"nav": "lists", "run": run}
    if run is not None:
        regions = selectors.counts_by_region(run, request.user)
        context.update(
            {
                "month_label": month_label(run.month),
                "regions": regions,
                "total_eligible": sum(p.eligible for r in regions for p in r.pdus),
                "threshold": run_thresholds(run)[0],
                "criteria_total": len(CRITERIA_IDS),
            }
        )
    return render(request, "core/home.html", context)


@access_policy("public")
def frontend_asset(request: HttpRequest, path: str) -> HttpResponse:
    """Send /assets/... to the static copy of GOV.UK or MoJ Frontend's assets.

    Their precompiled CSS refers to images and fonts at /assets/; `make assets` copies them under
    static/govuk/assets and static/moj/assets. Public files, so no sign-in.
    """
    for package in ("moj", "govuk"):
        name = f"{package}/assets/{path}"
        if finders.find(name):
            return redirect(static(name), permanent=True)
    raise Http404("No such asset")
