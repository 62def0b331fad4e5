"""Forms for the needs-attention page. Thin: field parsing only; the services validate and their
ValidationError is put back on the form."""

from __future__ import annotations

from django import forms

from complexcases.referrals.states import RouteReason

TEXT_MAX = 5000


class CompleteForm(forms.Form):
    crn = forms.CharField(
        label="CRN",
        help_text="The person's case reference number, for example A123456.",
        max_length=7,
        error_messages={"required": "Enter the person's CRN"},
    )
    challenges = forms.CharField(
        label="What is challenging about this case?",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Enter what is challenging about this case"},
    )
    support_sought = forms.CharField(
        label="What support is sought?",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter what support is sought"},
    )
    route_reason = forms.ChoiceField(
        label="If the person is not on the latest monthly list, why are they referred?",
        choices=RouteReason.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    route_reason_other = forms.CharField(
        label="Describe the reason", max_length=200, required=False
    )


class DismissForm(forms.Form):
    reason = forms.CharField(
        label="Why are you dismissing this email?",
        help_text="For example: not a referral, sent in error, a duplicate of another email.",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why you are dismissing this email"},
    )
