"""The HTTP API under /api/v1/ (DESIGN.md section 6). Included from config/urls.py.

Every route declares its access policy (accounts.policy); the views apply need-to-know through
accounts.access. Paths take no trailing slash. Anything else under /api/v1/ is a JSON 404.
No documentation UI is served: Swagger UI and Redoc need script from a CDN or inline, which the
content security policy forbids; the schema itself is at /api/v1/schema (JSON; YAML with
`?format=yaml`).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView

from complexcases.accounts import authentication  # noqa: F401  (registers the token scheme)
from complexcases.accounts.policy import access_policy
from complexcases.referrals import api as referrals_api
from complexcases.screening import api as screening_api

app_name = "api"


@access_policy("public")
class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema. Public: it describes the API and holds no data."""

    renderer_classes = [OpenApiJsonRenderer, OpenApiYamlRenderer]


@access_policy("public")
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other path under /api/v1/: the API's 404, as JSON."""
    return JsonResponse({"detail": "Not found."}, status=404)


CRN = rf"(?P<crn>{screening_api.CRN_REGEX})"
MONTH = rf"(?P<month>{screening_api.MONTH_REGEX})"

urlpatterns = [
    path("schema", SchemaView.as_view(), name="schema"),
    re_path(rf"^people/{CRN}$", screening_api.PersonView.as_view(), name="person"),
    re_path(
        rf"^screening-runs/{MONTH}$",
        screening_api.MonthSummaryView.as_view(),
        name="screening_run",
    ),
    re_path(
        rf"^screening-runs/{MONTH}/results$",
        screening_api.MonthResultsView.as_view(),
        name="screening_run_results",
    ),
    path("referrals", referrals_api.ReferralListView.as_view(), name="referrals"),
    re_path(
        r"^referrals/(?P<referral_id>[0-9]{1,18})$",
        referrals_api.ReferralDetailView.as_view(),
        name="referral",
    ),
    re_path(r"^(?P<rest>.*)$", not_found, name="not_found"),
]
