"""The API's response shapes (output only) and its query parameters.

They describe plain dicts built by screening.api, so the OpenAPI schema (drf-spectacular) states
exactly what is sent. No serializer here reads the database.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from complexcases.screening.criteria import CRITERIA_IDS
from complexcases.screening.models import Change

CHANGES = [choice.value for choice in Change]


# --- errors ------------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """401, 404 and the like: `{"detail": "..."}`."""

    detail = serializers.CharField()


class LimitedAccessSerializer(serializers.Serializer):
    """403 for a limited-access case: the message and the CRN, nothing else."""

    detail = serializers.CharField()
    crn = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer):
    """400: the query parameter(s) in error, each with a list of messages."""

    pdu = serializers.ListField(child=serializers.CharField(), required=False)
    eligible = serializers.ListField(child=serializers.CharField(), required=False)
    page_size = serializers.ListField(child=serializers.CharField(), required=False)


# --- shared parts ------------------------------------------------------------------------------


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class CriterionIdField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=list(CRITERIA_IDS), **kwargs)


def criteria_met_field() -> serializers.ListField:
    return serializers.ListField(
        child=CriterionIdField(), help_text="Met criterion ids, in the criteria table's order."
    )


def change_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=CHANGES,
        allow_blank=True,
        help_text='"new", "continuing", "left" (left the list since last month) or "".',
    )


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": (
            "The evidence as stored by the screening: `criteria` (each with id, label, met, "
            "summary and facts), `latest_oasys` and `no_current_oasys`."
        ),
    }
)
class EvidenceField(serializers.JSONField):
    pass


# --- a person ----------------------------------------------------------------------------------


class LatestResultSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    as_of = serializers.DateField()
    criteria_set = serializers.CharField()
    criteria_version = serializers.IntegerField()
    criteria_count = serializers.IntegerField(min_value=0, max_value=len(CRITERIA_IDS))
    criteria_met = criteria_met_field()
    eligible = serializers.BooleanField()
    near_miss = serializers.BooleanField()
    change = change_field()
    months_on_list = serializers.IntegerField(min_value=0)
    no_current_oasys = serializers.BooleanField()
    on_caseload = serializers.BooleanField()
    evidence = EvidenceField()


class PersonSerializer(serializers.Serializer):
    crn = serializers.CharField()
    name = serializers.CharField()
    date_of_birth = serializers.DateField()
    pdu = CodeNameSerializer()
    team = CodeNameSerializer()
    offender_manager = serializers.CharField(help_text="The offender manager's name.")
    in_custody = serializers.BooleanField()
    expected_release_date = serializers.DateField(allow_null=True)
    on_caseload = serializers.BooleanField()
    latest_result = LatestResultSerializer(
        allow_null=True, help_text="The result in the latest finished screening run, or null."
    )


# --- a month's results -------------------------------------------------------------------------


@extend_schema_field({"type": "boolean", "enum": [True]})
class TrueField(serializers.BooleanField):
    pass


@extend_schema_field({"type": "boolean", "enum": [False]})
class FalseField(serializers.BooleanField):
    pass


class ResultRowSerializer(serializers.Serializer):
    """A row the user may see in full."""

    crn = serializers.CharField()
    limited_access = FalseField()
    name = serializers.CharField()
    pdu_code = serializers.CharField()
    team_code = serializers.CharField()
    criteria_count = serializers.IntegerField(min_value=0, max_value=len(CRITERIA_IDS))
    criteria_met = criteria_met_field()
    eligible = serializers.BooleanField()
    near_miss = serializers.BooleanField()
    change = change_field()
    months_on_list = serializers.IntegerField(min_value=0)


class LimitedAccessRowSerializer(serializers.Serializer):
    """A row the user may not see in detail (limited access): the CRN only."""

    crn = serializers.CharField()
    limited_access = TrueField()


class ResultsQuerySerializer(serializers.Serializer):
    pdu = serializers.CharField(
        required=False, allow_blank=True, help_text="A PDU code: only that PDU's rows."
    )
    eligible = serializers.ChoiceField(
        choices=["true", "false"],
        required=False,
        help_text="true: only people on the list; false: only people not on it.",
    )


# --- a month's summary -------------------------------------------------------------------------


class PduCountsSerializer(serializers.Serializer):
    pdu_code = serializers.CharField()
    pdu_name = serializers.CharField()
    region_code = serializers.CharField()
    screened = serializers.IntegerField(min_value=0)
    eligible = serializers.IntegerField(min_value=0)
    near_miss = serializers.IntegerField(min_value=0)
    new = serializers.IntegerField(min_value=0)
    continuing = serializers.IntegerField(min_value=0)
    left = serializers.IntegerField(min_value=0)


class RunSummarySerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    as_of = serializers.DateField()
    criteria_set = serializers.CharField()
    criteria_version = serializers.IntegerField()
    finished_at = serializers.DateTimeField()
    people_screened = serializers.IntegerField(min_value=0)
    eligible = serializers.IntegerField(min_value=0)
    near_miss = serializers.IntegerField(min_value=0)
    new = serializers.IntegerField(min_value=0)
    continuing = serializers.IntegerField(min_value=0)
    left = serializers.IntegerField(min_value=0)
    no_current_oasys = serializers.IntegerField(min_value=0)
    counts_by_pdu = PduCountsSerializer(
        many=True, help_text="Counts for the PDUs whose aggregates the user may see."
    )
