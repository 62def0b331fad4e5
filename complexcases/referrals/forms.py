"""Forms for the conversation and referral pages. Thin: field parsing only; the rules are in
rules.py and applied by the services, whose ValidationError is put back on the form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from complexcases.referrals.states import ClosureReason, ConversationOutcome, RouteReason

TEXT_MAX = 5000


class ConversationForm(forms.Form):
    outcome = forms.ChoiceField(
        label="What was the outcome of the conversation?",
        choices=ConversationOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the outcome of the conversation"},
    )
    supported_elsewhere = forms.CharField(
        label="If already supported elsewhere: where?",
        help_text="For example, MAPPA or a mental health service.",
        max_length=200,
        required=False,
    )
    held_on_day = forms.IntegerField(required=False, min_value=1, max_value=31)
    held_on_month = forms.IntegerField(required=False, min_value=1, max_value=12)
    held_on_year = forms.IntegerField(required=False, min_value=2000, max_value=2100)
    note = forms.CharField(
        label="Note (optional)",
        help_text="Kept on this case only. Do not repeat what is already in nDelius.",
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        parts = [data.get(f"held_on_{p}") for p in ("day", "month", "year")]
        day, month, year = parts
        held_on = None
        if day is not None and month is not None and year is not None:
            try:
                held_on = dt.date(year, month, day)
            except ValueError:
                held_on = None
        if held_on is None:
            for name in ("held_on_month", "held_on_year"):
                self.errors.pop(name, None)
            self.errors.pop("held_on_day", None)
            self.add_error("held_on_day", "Enter the date of the conversation as a real date")
        data["held_on"] = held_on
        return data


class ReferralForm(forms.Form):
    challenges = forms.CharField(
        label="What is challenging about this case?",
        help_text="In your own words: what is blocking progress.",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Enter what is challenging about this case"},
    )
    support_sought = forms.CharField(
        label="What support are you looking for?",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Enter what support you are looking for"},
    )
    route_reason = forms.ChoiceField(
        label="Why are you referring this person?",
        choices=RouteReason.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    route_reason_other = forms.CharField(
        label="If other: describe the reason", max_length=200, required=False
    )


REASON_MAX = 2000


class ReferralCloseForm(forms.Form):
    """Close a referral: why (states.ClosureReason) and, when signposted, where to. The service
    (rules.closure_errors) decides whether the destination is needed. `from_status` is the status
    the page showed, so a close made from a stale page is refused rather than applied. (The other
    moves have their own flows: states.FLOW_FOR_MOVE.)"""

    closure_reason = forms.ChoiceField(
        label="Why is the referral closed?",
        choices=ClosureReason.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select why the referral is closed",
            "invalid_choice": "Select why the referral is closed",
        },
    )
    closure_destination = forms.CharField(
        label="If signposted: where to?", max_length=200, required=False
    )
    reason = forms.CharField(
        label="Note (optional)",
        help_text="Shown on the referral's timeline.",
        max_length=REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    from_status = forms.CharField(widget=forms.HiddenInput, required=False)
