"""API shapes for referrals (DESIGN.md section 6, a contract: id, crn, status, route at least)."""

from __future__ import annotations

from rest_framework import serializers

from complexcases.referrals.forms import TEXT_MAX
from complexcases.referrals.states import ReferralStatus, Route, RouteReason


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
