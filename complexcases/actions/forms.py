"""The action page's form. Thin: field parsing only; the rules (a reason to cancel, only with a
cancellation) are in rules.py and applied by the services, whose ValidationError is put back on
the form (views._apply_errors)."""

from __future__ import annotations

from typing import Any

from django import forms

from complexcases.actions.states import ActionStatus

NOTE_MAX = 5000
KEEP = ""  # the status choice that adds a note without a move


class ActionUpdateForm(forms.Form):
    status = forms.ChoiceField(label="Status", required=False, widget=forms.RadioSelect)
    note = forms.CharField(
        label="Note",
        help_text="What has been done, or what is in the way. Everyone who can see the action "
        "sees the note.",
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    cancellation_reason = forms.CharField(
        label="If cancelled: why?", required=False, max_length=1000
    )

    def __init__(self, *args: Any, current: str, moves: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        keep = f"No change: it stays {ActionStatus(current).label.lower()}"
        self.fields["status"].choices = [(KEEP, keep), *moves]  # type: ignore[attr-defined]
        self.current = current

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") == self.current:
            data["status"] = KEEP
        if data.get("status") != "cancelled":
            # The reason box is only shown under "Cancelled"; text left in it otherwise is ignored.
            data["cancellation_reason"] = ""
        nothing = not data.get("status") and not (data.get("note") or "").strip()
        if nothing and "note" not in self.errors:
            self.add_error("note", "Enter a note, or choose a new status")
        return data
