"""JsonTextField: JSON kept as text, read back as the values written."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from complexcases.core.fields import JsonTextField
from complexcases.people.tests.factories import ScreeningResultFactory
from complexcases.screening.models import ScreeningResult

pytestmark = pytest.mark.django_db

EVIDENCE = {"criteria": [{"id": "rosh", "met": True, "facts": []}], "no_current_oasys": False}


def test_a_dict_is_stored_as_compact_json_text_and_read_back_as_a_dict() -> None:
    result: Any = ScreeningResultFactory(evidence=EVIDENCE)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT evidence FROM {ScreeningResult._meta.db_table} WHERE id = %s", [result.pk]
        )
        stored = cursor.fetchone()[0]
    assert isinstance(stored, str)
    assert stored == '{"criteria":[{"id":"rosh","met":true,"facts":[]}],"no_current_oasys":false}'
    assert ScreeningResult.objects.get(pk=result.pk).evidence == EVIDENCE
    assert ScreeningResult.objects.values_list("evidence", flat=True).get(pk=result.pk) == EVIDENCE


def test_text_already_encoded_is_stored_as_given() -> None:
    text = '{"criteria":[],"no_current_oasys":true}'
    result: Any = ScreeningResultFactory(evidence=text)
    assert ScreeningResult.objects.get(pk=result.pk).evidence == {
        "criteria": [],
        "no_current_oasys": True,
    }


def test_invalid_json_text_fails_validation() -> None:
    with pytest.raises(ValidationError):
        JsonTextField().to_python("{not json")
