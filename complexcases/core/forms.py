"""Form helpers shared by the apps' pages: the GOV.UK error summary and services' field errors."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.forms import Form


def error_summary(form: Form, anchors: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """The GOV.UK error summary's entries for a form, each linking to its field (`id_<name>`, or
    the anchor given for it; form-level errors link nowhere)."""
    anchors = anchors or {}
    entries = []
    for name, errors in form.errors.items():
        target = anchors.get(name, f"id_{name}" if name != "__all__" else "")
        for error in errors:
            entries.append({"text": str(error), "href": f"#{target}" if target else ""})
    return entries


def apply_service_errors(
    form: Form, error: ValidationError, renames: Mapping[str, str] | None = None
) -> None:
    """Put a service's field messages on the form: a service field named differently on the form
    is renamed (`renames`); one the form does not have becomes a form-level error."""
    renames = renames or {}
    for name, messages in error.message_dict.items():
        target = renames.get(name, name)
        field = target if target in form.fields else None
        for message in messages:
            form.add_error(field, message)
