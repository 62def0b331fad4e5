"""API shapes for referrals (DESIGN.md section 6, a contract: id, crn, status, route at least)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from complexcases.referrals.forms import TEXT_MAX
from complexcases.referrals.states import ReferralStatus, Route, RouteReason
from complexcases.screening.serializers import FalseField, TrueField


class ReferralCreateSerializer(serializers.Serializer):
    crn = serializers.RegexField(r"^[A-Z][0-9]{6}$", help_text="The person's CRN")
    challenges = serializers.CharField(max_length=TEXT_MAX, help_text="What is challenging")
    support_sought = serializers.CharField(max_length=TEXT_MAX, help_text="What support is sought")
    route = serializers.ChoiceField(choices=Route.choices)
    route_reason = serializers.ChoiceField(
        choices=RouteReason.choices,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Only for professional_judgement (required there)",
    )
    route_reason_other = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="The reason in words, when route_reason is other",
    )


class ReferralEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    from_status = serializers.CharField(allow_blank=True)
    to_status = serializers.CharField(help_text="The status moved to")
    by = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)


class ReferralSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    crn = serializers.CharField()
    status = serializers.ChoiceField(choices=ReferralStatus.choices)
    route = serializers.ChoiceField(choices=Route.choices)
    route_reason = serializers.CharField(allow_blank=True)
    route_reason_other = serializers.CharField(allow_blank=True)
    challenges = serializers.CharField()
    support_sought = serializers.CharField()
    referred_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    pdu_code = serializers.CharField()
    team_code = serializers.CharField()
    screening_month = serializers.CharField(allow_blank=True)
    criteria_count = serializers.IntegerField(allow_null=True)
    criteria_met = serializers.ListField(child=serializers.CharField())
    closure_reason = serializers.CharField(allow_blank=True)
    closure_destination = serializers.CharField(allow_blank=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    history = ReferralEventSerializer(many=True)


class OpenReferralConflictSerializer(serializers.Serializer):
    """409: the person already has an open referral; its id."""

    detail = serializers.CharField()
    id = serializers.IntegerField()


class ReferralValidationErrorSerializer(serializers.Serializer):
    """400: each field in error with its messages."""

    crn = serializers.ListField(child=serializers.CharField(), required=False)
    challenges = serializers.ListField(child=serializers.CharField(), required=False)
    support_sought = serializers.ListField(child=serializers.CharField(), required=False)
    route = serializers.ListField(child=serializers.CharField(), required=False)
    route_reason = serializers.ListField(child=serializers.CharField(), required=False)
    route_reason_other = serializers.ListField(child=serializers.CharField(), required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)
    detail = serializers.CharField(required=False)


STATUS_VALUES = [status.value for status in ReferralStatus]


class _StatusField(serializers.ChoiceField):
    """`?status=` (empty) is an unknown status, a 400, not the parameter left off (DRF's default
    for an optional field in a query string)."""

    def get_value(self, dictionary: Any) -> Any:
        if dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)


class ReferralListQuerySerializer(serializers.Serializer):
    """GET /api/v1/referrals query: one status, or every open status when left off."""

    status = _StatusField(
        choices=STATUS_VALUES,
        required=False,
        help_text="One status. Left off: every status but closed.",
        error_messages={
            "invalid_choice": (
                '"{input}" is not a referral status. Use one of: ' + ", ".join(STATUS_VALUES) + "."
            )
        },
    )


class ReferralListRowSerializer(serializers.Serializer):
    """A referral in a list: what the service knew, without the sensitive text (see the referral)."""

    id = serializers.IntegerField()
    crn = serializers.CharField()
    limited_access = FalseField()
    status = serializers.ChoiceField(choices=ReferralStatus.choices)
    route = serializers.ChoiceField(choices=Route.choices)
    route_reason = serializers.CharField(allow_blank=True)
    pdu_code = serializers.CharField()
    team_code = serializers.CharField()
    created_at = serializers.DateTimeField()
    closure_reason = serializers.CharField(allow_blank=True)
    closed_at = serializers.DateTimeField(allow_null=True)


class ReferralLimitedRowSerializer(serializers.Serializer):
    """A limited-access case: its id and CRN, nothing else (GET referrals/{id} answers 403)."""

    id = serializers.IntegerField()
    crn = serializers.CharField()
    limited_access = TrueField()


class ReferralListErrorSerializer(serializers.Serializer):
    """400: the query parameter(s) in error, each with a list of messages."""

    status = serializers.ListField(child=serializers.CharField(), required=False)
    page_size = serializers.ListField(child=serializers.CharField(), required=False)
