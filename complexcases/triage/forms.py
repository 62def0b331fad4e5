"""Forms for the triage pages. Thin: field parsing only; the rules are in rules.py and applied by
the services, whose ValidationError is put back on the form (views._apply_errors)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from complexcases.triage import rules
from complexcases.triage.states import BlockerTheme

TEXT_MAX = 5000
BLOCKER_ROWS = 5
ACTION_ROWS = 5


def _date(data: dict[str, Any], prefix: str) -> dt.date | None:
    parts = [data.get(f"{prefix}_{p}") for p in ("day", "month", "year")]
    if any(p is None for p in parts):
        return None
    day, month, year = parts
    try:
        return dt.date(int(year), int(month), int(day))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _blank_date(data: dict[str, Any], prefix: str) -> bool:
    return all(data.get(f"{prefix}_{p}") in (None, "") for p in ("day", "month", "year"))


class BookingForm(forms.Form):
    start_day = forms.IntegerField(required=False, min_value=1, max_value=31)
    start_month = forms.IntegerField(required=False, min_value=1, max_value=12)
    start_year = forms.IntegerField(required=False, min_value=2000, max_value=2100)
    start_time = forms.CharField(required=False, max_length=10)
    attendees = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    add_attendees = forms.CharField(
        label="Add people by username or email",
        help_text="Separate several with commas. The Complex Cases team of the region and staff "
        "of the person's PDU can be added.",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attendees"].choices = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day = _date(data, "start")
        for name in ("start_month", "start_year"):
            self.errors.pop(name, None)
        if day is None:
            self.errors.pop("start_day", None)
            self.add_error("start_day", "Enter the date of the triage as a real date")
        time = rules.parse_time(data.get("start_time") or "")
        if time is None:
            self.add_error("start_time", "Enter the time of the triage, for example 10:00")
        data["start"] = rules.london(day, time) if day is not None and time is not None else None
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is the triage cancelled?",
        max_length=1000,
        error_messages={"required": "Enter why the triage is cancelled"},
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RecordForm(forms.Form):
    """The triage record: outcome (with its question or destination), guidance, sensitive notes,
    and up to BLOCKER_ROWS blockers and ACTION_ROWS actions (empty rows are ignored)."""

    # Plain text fields rather than choice fields, so that the service's rules report every
    # problem at once (an unknown choice would stop the form before the rules run).
    outcome = forms.CharField(label="What was the outcome of the triage?", required=False)
    panel_question = forms.CharField(
        label="If for panel: what is the question for the panel?",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    signpost_destination = forms.CharField(
        label="If signposted: where to?", max_length=1000, required=False
    )
    guidance = forms.CharField(
        label="Guidance given",
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    sensitive_notes = forms.CharField(
        label="Sensitive notes (optional)",
        help_text="Kept in this service only: not sent to nDelius or by email.",
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, owners: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        theme_choices = [("", "Select a theme"), *BlockerTheme.choices]
        owner_choices = [("", "Select an owner"), *owners]
        for i in range(BLOCKER_ROWS):
            self.fields[f"blocker-{i}-theme"] = forms.CharField(
                label="Theme", widget=forms.Select(choices=theme_choices), required=False
            )
            self.fields[f"blocker-{i}-description"] = forms.CharField(
                label="What specifically is in the way?",
                max_length=TEXT_MAX,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        for i in range(ACTION_ROWS):
            self.fields[f"action-{i}-description"] = forms.CharField(
                label="Action", max_length=1000, required=False
            )
            self.fields[f"action-{i}-owner"] = forms.TypedChoiceField(
                label="Owner", choices=owner_choices, coerce=int, required=False, empty_value=None
            )
            for part, top in (("day", 31), ("month", 12), ("year", 2100)):
                self.fields[f"action-{i}-due_{part}"] = forms.IntegerField(
                    required=False, min_value=1, max_value=top
                )

    def blocker_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "i": i,
                "theme": self[f"blocker-{i}-theme"],
                "description": self[f"blocker-{i}-description"],
            }
            for i in range(BLOCKER_ROWS)
        ]

    def action_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "i": i,
                "description": self[f"action-{i}-description"],
                "owner": self[f"action-{i}-owner"],
                "due_day": self[f"action-{i}-due_day"],
                "due_month": self[f"action-{i}-due_month"],
                "due_year": self[f"action-{i}-due_year"],
                "errors": [
                    e
                    for name in ("description", "owner", "due_date", "due_day")
                    for e in self.errors.get(f"action-{i}-{name}", [])
                ],
            }
            for i in range(ACTION_ROWS)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        blockers = []
        for i in range(BLOCKER_ROWS):
            theme = data.get(f"blocker-{i}-theme") or ""
            description = data.get(f"blocker-{i}-description") or ""
            if theme or description.strip():
                blockers.append((i, theme, description))
        actions = []
        for i in range(ACTION_ROWS):
            prefix = f"action-{i}-due"
            description = data.get(f"action-{i}-description") or ""
            owner = data.get(f"action-{i}-owner")
            for part in ("day", "month", "year"):
                self.errors.pop(f"{prefix}_{part}", None)
            if description.strip() or owner is not None or not _blank_date(data, prefix):
                actions.append((i, description, owner, _date(data, prefix)))
        data["blockers"] = blockers
        data["actions"] = actions
        return data
