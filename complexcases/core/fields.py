"""Model fields shared by the apps (no domain logic)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models


class JsonTextField(models.TextField):
    """JSON kept as text: written and read whole, never queried inside the database.

    Django's JSONField is `jsonb` on PostgreSQL, which the server parses on every write. For a value
    written at national volume and only ever read back whole (a screening result's evidence: about
    2 KB for each of 250,000 people per run) that parsing is pure cost: a COPY of 100,000 such rows
    took 2.7 s into jsonb and 0.9 s into text on this project's machine. SQLite stores JSONField as
    text anyway. Python sees the same values as with JSONField (dicts and lists), and a caller may
    hand over JSON text it has already encoded (the screening run does). See
    docs/decisions/0005-evidence-stored-as-json-text.md.
    """

    description = "JSON stored as text"

    if TYPE_CHECKING:
        # For django-stubs: the field holds JSON values (dicts, lists), not strings.
        _pyi_private_set_type: Any
        _pyi_private_get_type: Any

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return json.loads(value)

    def to_python(self, value: Any) -> Any:
        if value is None or not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise ValidationError("Enter valid JSON.", code="invalid") from error

    def get_prep_value(self, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, separators=(",", ":"))

    def value_to_string(self, obj: models.Model) -> str:
        return self.get_prep_value(self.value_from_object(obj)) or ""
