"""The referral endpoints of the HTTP API (DESIGN.md section 6, a contract).

| endpoint                 | policy | who gets what                                                   |
|--------------------------|--------|-----------------------------------------------------------------|
| POST referrals           | person | 201 for a person the caller may see in detail and may refer     |
|                          |        | (practitioner, SPO, Complex Cases team); 404 otherwise; 403 for |
|                          |        | limited access; 400 with field messages; 409 with the open one's id |
| GET referrals/{id}       | person | whoever may see the referral's person (selectors.referral_get_for) |

Same access rules, services and audit as the pages.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from complexcases.accounts import access
from complexcases.accounts.models import ApiToken
from complexcases.accounts.policy import access_policy
from complexcases.core.audit import audited_read
from complexcases.referrals import selectors, services
from complexcases.referrals.models import Referral
from complexcases.referrals.serializers import (
    OpenReferralConflictSerializer,
    ReferralCreateSerializer,
    ReferralSerializer,
    ReferralValidationErrorSerializer,
)
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


@access_policy("person")
class ReferralListView(APIView):
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
