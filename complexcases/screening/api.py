"""The HTTP API for people and monthly screening results (DESIGN.md section 6), under /api/v1/.

Thin, like the pages: parse the input, ask accounts.access, read, record the read, answer. The same
need-to-know rules as the pages apply, from the same module:

| endpoint                                    | policy        | who gets what                                     |
|---------------------------------------------|---------------|---------------------------------------------------|
| GET people/{crn}                            | person        | access.get_person_for: 404 out of scope or absent; |
|                                             |               | 403 limited access (message and CRN only)          |
| GET screening-runs/{month}/results          | scoped_list   | rows of people_visible_to; limited-access rows     |
|                                             |               | reduced to the CRN; 404 for users who may not see  |
|                                             |               | identifiers (analysts, admins) and unknown PDUs    |
| GET screening-runs/{month}                  | aggregate     | counts only; by PDU for pdus_visible_to            |

Authentication is by token or session (config.settings REST_FRAMEWORK); none gives 401. Every
read of a person is audited ("view", object_type "person") and every page of results once
("list"); if the audit trail cannot be written the read does not happen (503).
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from complexcases.accounts import access
from complexcases.accounts.models import ApiToken
from complexcases.accounts.policy import access_policy
from complexcases.core.audit import audit_record, audited_read
from complexcases.core.models import AuditAction
from complexcases.people.models import Person
from complexcases.screening import export
from complexcases.screening.criteria import mask_to_ids
from complexcases.screening.models import ScreeningResult, ScreeningRun
from complexcases.screening.serializers import (
    ErrorSerializer,
    LimitedAccessRowSerializer,
    LimitedAccessSerializer,
    PersonSerializer,
    ResultRowSerializer,
    ResultsQuerySerializer,
    RunSummarySerializer,
    ValidationErrorSerializer,
)

CRN_REGEX = r"[A-Z][0-9]{6}"
MONTH_REGEX = r"[0-9]{4}-[0-9]{2}"
_VALID_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
# PDU codes are short and plain; anything else cannot be one (and must not reach the database:
# PostgreSQL refuses NUL characters in text).
_PDU_CODE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")

MAX_PAGE_SIZE = 500
SUMMARY_COUNTS = ("screened", "eligible", "near_miss", "new", "continuing", "left")

# Columns a results row is read from: one query for the page, no evidence, no per-row reads.
RESULT_ROW_FIELDS = (
    "person_id",
    "person__crn",
    "person__forename",
    "person__surname",
    "pdu__code",
    "team__code",
    "criteria_count",
    "criteria_mask",
    "eligible",
    "near_miss",
    "change",
    "months_on_list",
)

UNAUTHENTICATED = OpenApiResponse(
    ErrorSerializer, description="No credentials, or an invalid, expired or revoked token."
)
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Not there, or not yours to see.")
THROTTLED = OpenApiResponse(
    ErrorSerializer, description="Too many requests: wait the seconds in Retry-After."
)
MONTH_PARAMETER = OpenApiParameter(
    "month",
    str,
    OpenApiParameter.PATH,
    pattern=f"^{MONTH_REGEX}$",
    description="The month, YYYY-MM. Its latest finished screening run is read.",
)


def _not_found() -> exceptions.NotFound:
    return exceptions.NotFound()  # {"detail": "Not found."}, whatever the reason


def _http_request(request: Request) -> Any:
    return request._request


def _audit_details(request: Request, **extra: Any) -> dict[str, Any]:
    """The channel of an API read, for the audit record: the token's id when a token was used."""
    details: dict[str, Any] = {"channel": "api", **extra}
    if isinstance(request.auth, ApiToken):
        details["api_token_id"] = request.auth.pk
    return details


def run_for_month(month: str) -> ScreeningRun:
    """The month's latest finished run (as the export reads it); 404 for a bad or empty month."""
    if not _VALID_MONTH.match(month):
        raise _not_found()
    run = export.latest_run_for_month(month)
    if run is None:
        raise _not_found()
    return run


# --- GET /api/v1/people/{crn} -------------------------------------------------------------------


def _latest_result(person: Person) -> ScreeningResult | None:
    return (
        ScreeningResult.objects.filter(person=person, run__finished_at__isnull=False)
        .select_related("run__criteria_set")
        .order_by("-run__month", "-run__started_at", "-run_id")
        .first()
    )


def _latest_result_data(result: ScreeningResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    run = result.run
    evidence = result.evidence if isinstance(result.evidence, dict) else {}
    return {
        "month": run.month,
        "as_of": run.as_of,
        "criteria_set": run.criteria_set.code,
        "criteria_version": run.criteria_set.version,
        "criteria_count": result.criteria_count,
        "criteria_met": mask_to_ids(result.criteria_mask),
        "eligible": result.eligible,
        "near_miss": result.near_miss,
        "change": result.change,
        "months_on_list": result.months_on_list,
        "no_current_oasys": result.no_current_oasys,
        "on_caseload": result.on_caseload,
        "evidence": evidence,
    }


def person_data(person: Person, latest: ScreeningResult | None) -> dict[str, Any]:
    manager = person.offender_manager
    return {
        "crn": person.crn,
        "name": person.name,
        "date_of_birth": person.date_of_birth,
        "pdu": {"code": person.pdu.code, "name": person.pdu.name},
        "team": {"code": person.team.code, "name": person.team.name},
        "offender_manager": f"{manager.forename} {manager.surname}",
        "in_custody": person.in_custody,
        "expected_release_date": person.expected_release_date,
        "on_caseload": person.on_caseload,
        "latest_result": _latest_result_data(latest),
    }


@access_policy("person")
class PersonView(APIView):
    @extend_schema(
        operation_id="person_retrieve",
        summary="A person and their latest screening result, with its evidence",
        parameters=[
            OpenApiParameter(
                "crn", str, OpenApiParameter.PATH, pattern=f"^{CRN_REGEX}$", description="CRN"
            )
        ],
        responses={
            200: PersonSerializer,
            401: UNAUTHENTICATED,
            429: THROTTLED,
            403: OpenApiResponse(
                LimitedAccessSerializer,
                description="A limited-access case: the message and the CRN, nothing else.",
            ),
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, crn: str) -> Response:
        user = request.user
        try:
            person = access.get_person_for(
                user,
                crn,
                request=_http_request(request),
                queryset=Person.objects.select_related("pdu", "team", "offender_manager"),
            )
        except access.LimitedAccessDenied as refused:
            return Response(
                {"detail": access.LIMITED_ACCESS_MESSAGE, "crn": refused.crn}, status=403
            )
        except access.NotFound:
            raise _not_found() from None
        with audited_read(
            actor=user,
            object_type="person",
            object_id=person.crn,
            person_crn=person.crn,
            request=_http_request(request),
            details=_audit_details(request),
        ):
            data = PersonSerializer(person_data(person, _latest_result(person))).data
        return Response(data)


# --- GET /api/v1/screening-runs/{month}/results -------------------------------------------------


class ResultsPagination(PageNumberPagination):
    """100 rows a page by default; `page_size` up to 500. A bad page_size is a 400, not ignored.
    Shared by the API's lists (`items` names what a page holds, in the schema)."""

    items = "Rows"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
            raise exceptions.ValidationError(
                {"page_size": [f"A whole number from 1 to {MAX_PAGE_SIZE}."]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number (from 1). A page past the end is a 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"{self.items} per page, 1 to {MAX_PAGE_SIZE} (default 100).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]


def _result_row(row: dict[str, Any], refused: bool) -> dict[str, Any]:
    if refused:
        return {"crn": row["person__crn"], "limited_access": True}
    return {
        "crn": row["person__crn"],
        "limited_access": False,
        "name": f"{row['person__forename']} {row['person__surname']}",
        "pdu_code": row["pdu__code"],
        "team_code": row["team__code"],
        "criteria_count": row["criteria_count"],
        "criteria_met": mask_to_ids(row["criteria_mask"]),
        "eligible": bool(row["eligible"]),
        "near_miss": bool(row["near_miss"]),
        "change": row["change"],
        "months_on_list": row["months_on_list"],
    }


def visible_results(
    user: Any, run: ScreeningRun, *, pdu_code: str | None, eligible: bool | None
) -> QuerySet[ScreeningResult, dict[str, Any]]:
    """The run's rows for people the user may see, as plain values, ordered by PDU then CRN.

    404 when the user may not see identifiers at all, or names a PDU that is not there or not
    one they may open (accounts.access.pdus_visible_to). Limited access is applied per page.
    """
    if not access.can_see_identifiers(user):
        raise _not_found()
    results = ScreeningResult.objects.filter(
        run=run, person_id__in=access.people_visible_to(user).values("pk")
    )
    if pdu_code is not None:
        if not _PDU_CODE.match(pdu_code):
            raise _not_found()
        pdu = access.pdus_visible_to(user).filter(code=pdu_code).values("pk").first()
        if pdu is None:
            raise _not_found()
        results = results.filter(pdu_id=pdu["pk"])
    if eligible is not None:
        results = results.filter(eligible=eligible)
    return results.order_by("pdu__code", "person__crn").values(*RESULT_ROW_FIELDS)


ResultRowOrLimited = PolymorphicProxySerializer(
    component_name="ResultRowOrLimitedAccess",
    serializers=[ResultRowSerializer, LimitedAccessRowSerializer],
    resource_type_field_name=None,
    many=True,
)


@access_policy("scoped_list")
class MonthResultsView(GenericAPIView):
    pagination_class = ResultsPagination

    @extend_schema(
        operation_id="screening_run_results_list",
        summary="A month's screening results for the people you may see",
        parameters=[MONTH_PARAMETER, ResultsQuerySerializer],
        responses={
            200: ResultRowOrLimited,
            400: OpenApiResponse(ValidationErrorSerializer, description="A bad query parameter."),
            401: UNAUTHENTICATED,
            429: THROTTLED,
            404: OpenApiResponse(
                ErrorSerializer,
                description=(
                    "No such month or run, a PDU that is not there or not yours, a page past "
                    "the end, or a user who may not see identifiers (analysts: use the summary)."
                ),
            ),
        },
    )
    def get(self, request: Request, month: str) -> Response:
        query = ResultsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        eligible_text = query.validated_data.get("eligible")
        eligible = None if eligible_text is None else eligible_text == "true"
        pdu_code = query.validated_data.get("pdu")
        user = request.user
        run = run_for_month(month)
        rows = visible_results(user, run, pdu_code=pdu_code, eligible=eligible)
        page = self.paginate_queryset(rows)
        assert page is not None  # the view always paginates
        refusals = access.limited_access_refusals(user, [row["person_id"] for row in page])
        audit_record(
            actor=user,
            action=AuditAction.LIST,
            object_type="screening_results",
            object_id=month,
            request=_http_request(request),
            details=_audit_details(
                request,
                month=month,
                run=run.pk,
                pdu=pdu_code,
                eligible=eligible_text,
                page=request.query_params.get("page", "1"),
                rows=len(page),
                limited_access_rows=len(refusals),
            ),
        )
        data = [_result_row(row, row["person_id"] in refusals) for row in page]
        return self.get_paginated_response(data)


# --- GET /api/v1/screening-runs/{month} ---------------------------------------------------------


def _count(counts: Any, key: str) -> int:
    value = counts.get(key, 0) if isinstance(counts, dict) else 0
    return value if isinstance(value, int) and value >= 0 else 0


def run_summary(user: Any, run: ScreeningRun) -> dict[str, Any]:
    """A run's counts: the totals, and per PDU for the PDUs the user may see aggregates of."""
    stored = run.counts_by_pdu if isinstance(run.counts_by_pdu, dict) else {}
    pdus = access.pdus_visible_to(user).select_related("region").order_by("code")
    return {
        "month": run.month,
        "as_of": run.as_of,
        "criteria_set": run.criteria_set.code,
        "criteria_version": run.criteria_set.version,
        "finished_at": run.finished_at,
        "people_screened": run.people_screened,
        "eligible": run.eligible_count,
        "near_miss": run.near_miss_count,
        "new": run.new_count,
        "continuing": run.continuing_count,
        "left": run.left_count,
        "no_current_oasys": run.no_current_oasys_count,
        "counts_by_pdu": [
            {
                "pdu_code": pdu.code,
                "pdu_name": pdu.name,
                "region_code": pdu.region.code,
                **{key: _count(stored.get(pdu.code), key) for key in SUMMARY_COUNTS},
            }
            for pdu in pdus
        ],
    }


@access_policy("aggregate")
class MonthSummaryView(APIView):
    @extend_schema(
        operation_id="screening_run_summary",
        summary="A month's screening counts (aggregates only, no identifiers)",
        parameters=[MONTH_PARAMETER],
        responses={
            200: RunSummarySerializer,
            401: UNAUTHENTICATED,
            429: THROTTLED,
            404: OpenApiResponse(ErrorSerializer, description="No such month, or no run in it."),
        },
    )
    def get(self, request: Request, month: str) -> Response:
        run = run_for_month(month)
        return Response(RunSummarySerializer(run_summary(request.user, run)).data)
