"""The referral endpoints of the HTTP API (DESIGN.md section 6, a contract).

| endpoint                 | policy | who gets what                                                   |
|--------------------------|--------|-----------------------------------------------------------------|
| POST referrals           | person | 201 for a person the caller may see in detail and may refer     |
|                          |        | (practitioner, SPO, Complex Cases team); 404 otherwise; 403 for |
|                          |        | limited access; 400 with field messages; 409 with the open one's id |
| GET referrals/{id}       | person | whoever may see the referral's person (selectors.referral_get_for) |
| GET referrals?status=    | scoped | the referrals GET referrals/{id} would show the caller (their     |
|                          | list   | person in access.people_visible_to), paginated; a limited-access  |
|                          |        | case as its id and CRN only (its GET is a 403); 404 for users who |
|                          |        | may not see identifiers; 400 for an unknown status               |

ReferralListView serves both POST and GET on one path, so it declares the stricter "person"
policy; its GET applies the scoped_list rules above.

Same access rules, services and audit as the pages.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from complexcases.accounts import access
from complexcases.accounts.models import ApiToken
from complexcases.accounts.policy import access_policy
from complexcases.core.audit import audit_record, audited_read
from complexcases.referrals import selectors, services
from complexcases.referrals.models import Referral
from complexcases.referrals.serializers import (
    OpenReferralConflictSerializer,
    ReferralCreateSerializer,
    ReferralLimitedRowSerializer,
    ReferralListErrorSerializer,
    ReferralListQuerySerializer,
    ReferralListRowSerializer,
    ReferralSerializer,
    ReferralValidationErrorSerializer,
)
from complexcases.screening.api import ResultsPagination
from complexcases.screening.serializers import ErrorSerializer, LimitedAccessSerializer

MAX_ID = 2**63 - 1

UNAUTHENTICATED = OpenApiResponse(
    ErrorSerializer, description="No credentials, or an invalid, expired or revoked token."
)
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Not there, or not yours to see.")
THROTTLED = OpenApiResponse(
    ErrorSerializer, description="Too many requests: wait the seconds in Retry-After."
)
LIMITED = OpenApiResponse(
    LimitedAccessSerializer,
    description="A limited-access case: the message and the CRN, nothing else.",
)


def _details(request: Request) -> dict[str, Any]:
    details: dict[str, Any] = {"channel": "api"}
    if isinstance(request.auth, ApiToken):
        details["api_token_id"] = request.auth.pk
    return details


def referral_data(referral: Referral, crn: str) -> dict[str, Any]:
    history = [
        {
            "at": row.occurred_at,
            "from_status": row.from_status,
            "to_status": row.to_status,
            "by": row.actor.username if row.actor is not None else "",
            "reason": row.reason,
        }
        for row in referral.transitions.select_related("actor").order_by("occurred_at", "id")
    ]
    return {
        "id": referral.pk,
        "crn": crn,
        "status": referral.status,
        "route": referral.route,
        "route_reason": referral.route_reason,
        "route_reason_other": referral.route_reason_other,
        "challenges": referral.challenges,
        "support_sought": referral.support_sought,
        "referred_by": referral.referred_by.username,
        "created_at": referral.created_at,
        "pdu_code": referral.pdu.code,
        "team_code": referral.team.code,
        "screening_month": referral.screening_month,
        "criteria_count": referral.criteria_count,
        "criteria_met": list(referral.criteria_met or []),
        "closure_reason": referral.closure_reason,
        "closure_destination": referral.closure_destination,
        "closed_at": referral.closed_at,
        "history": history,
    }


def _limited(crn: str) -> Response:
    return Response({"detail": access.LIMITED_ACCESS_MESSAGE, "crn": crn}, status=403)


class ReferralPagination(ResultsPagination):
    """100 referrals a page by default; `page_size` up to 500; a bad page_size is a 400."""

    items = "Referrals"


def referral_list_row(referral: Referral) -> dict[str, Any]:
    """A list row: the id and CRN only for a limited-access case, as GET referrals/{id} refuses it."""
    if getattr(referral, "limited_access_refusal", None):
        return {"id": referral.pk, "crn": referral.person.crn, "limited_access": True}
    return {
        "id": referral.pk,
        "crn": referral.person.crn,
        "limited_access": False,
        "status": referral.status,
        "route": referral.route,
        "route_reason": referral.route_reason,
        "pdu_code": referral.pdu.code,
        "team_code": referral.team.code,
        "created_at": referral.created_at,
        "closure_reason": referral.closure_reason,
        "closed_at": referral.closed_at,
    }


ReferralRowOrLimited = PolymorphicProxySerializer(
    component_name="ReferralRowOrLimitedAccess",
    serializers=[ReferralListRowSerializer, ReferralLimitedRowSerializer],
    resource_type_field_name=None,
    many=True,
)


@access_policy("person")
class ReferralListView(APIView):
    pagination_class = ReferralPagination

    @extend_schema(
        operation_id="referral_list",
        summary="The referrals you may see, oldest first: one status, or every open one",
        parameters=[ReferralListQuerySerializer],
        responses={
            200: ReferralRowOrLimited,
            400: OpenApiResponse(
                ReferralListErrorSerializer, description="An unknown status or a bad page size."
            ),
            401: UNAUTHENTICATED,
            404: OpenApiResponse(
                ErrorSerializer,
                description="A page past the end, or a user who may not see identifiers.",
            ),
            429: THROTTLED,
        },
    )
    def get(self, request: Request) -> Response:
        query = ReferralListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        status = query.validated_data.get("status")
        user = request.user
        if not access.can_see_identifiers(user):
            raise exceptions.NotFound()
        referrals = selectors.api_referrals(user, status=status)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(referrals, request, view=self)
        assert page is not None  # always paginated
        limited = sum(1 for referral in page if getattr(referral, "limited_access_refusal", None))
        # Recorded before the rows are sent: who listed which referrals (s.62), fail closed.
        audit_record(
            actor=user,
            action="list",
            object_type="referrals",
            object_id=status or "open",
            request=request._request,
            details={
                **_details(request),
                "status": status or "open",
                "page": request.query_params.get("page", "1"),
                "rows": len(page),
                "referral_ids": [referral.pk for referral in page],
                "limited_access_rows": limited,
            },
        )
        return paginator.get_paginated_response([referral_list_row(r) for r in page])

    @extend_schema(
        operation_id="referral_create",
        summary="Refer a person to Complex Cases",
        request=ReferralCreateSerializer,
        responses={
            201: ReferralSerializer,
            400: OpenApiResponse(
                ReferralValidationErrorSerializer, description="Field messages in plain English."
            ),
            401: UNAUTHENTICATED,
            403: LIMITED,
            404: OpenApiResponse(
                ErrorSerializer,
                description="No such person, not yours to see, or you may not refer.",
            ),
            409: OpenApiResponse(
                OpenReferralConflictSerializer,
                description="The person already has an open referral: its id.",
            ),
            415: OpenApiResponse(ErrorSerializer, description="The body is not JSON."),
            429: THROTTLED,
        },
    )
    def post(self, request: Request) -> Response:
        body = ReferralCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = request.user
        try:
            person = selectors.person_for_action(
                user, data["crn"], roles_ok=selectors.may_refer(user), request=request._request
            )
        except access.LimitedAccessDenied as refused:
            return _limited(refused.crn)
        except access.NotFound:
            raise exceptions.NotFound() from None
        try:
            referral = services.referral_create(
                actor=user,
                person=person,
                challenges=data["challenges"],
                support_sought=data["support_sought"],
                route=data["route"],
                route_reason=data.get("route_reason") or "",
                route_reason_other=data.get("route_reason_other") or "",
                request=request._request,
            )
        except services.OpenReferralExists as exists:
            return Response(
                {"detail": "This person already has an open referral.", "id": exists.referral.pk},
                status=409,
            )
        except ValidationError as error:
            return Response(error.message_dict, status=400)
        referral = Referral.objects.select_related("referred_by", "pdu", "team").get(pk=referral.pk)
        return Response(ReferralSerializer(referral_data(referral, person.crn)).data, status=201)


@access_policy("person")
class ReferralDetailView(APIView):
    @extend_schema(
        operation_id="referral_retrieve",
        summary="A referral, with what the service knew and its history",
        parameters=[
            OpenApiParameter(
                "referral_id",
                int,
                OpenApiParameter.PATH,
                description="The referral's id",
            )
        ],
        responses={
            200: ReferralSerializer,
            401: UNAUTHENTICATED,
            403: LIMITED,
            404: NOT_FOUND,
            429: THROTTLED,
        },
    )
    def get(self, request: Request, referral_id: str) -> Response:
        user = request.user
        number = int(referral_id)
        if not 0 < number <= MAX_ID:
            raise exceptions.NotFound()
        try:
            referral = selectors.referral_get_for(user, number, request=request._request)
        except access.LimitedAccessDenied as refused:
            return _limited(refused.crn)
        except access.NotFound:
            raise exceptions.NotFound() from None
        crn = referral.person.crn
        with audited_read(
            actor=user,
            object_type="referral",
            object_id=referral.pk,
            person_crn=crn,
            request=request._request,
            details=_details(request),
        ):
            data = ReferralSerializer(referral_data(referral, crn)).data
        return Response(data)
