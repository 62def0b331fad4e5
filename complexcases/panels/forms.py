"""Forms of the panel pages. Validation of the work itself is in services; these parse input."""

from __future__ import annotations

from typing import Any

from django import forms

from complexcases.panels.states import FollowUpOutcome

REQUIRED = "Enter {}"


class BookForm(forms.Form):
    meeting = forms.TypedChoiceField(
        label="Panel meeting",
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select a panel meeting",
            "invalid_choice": "Select a panel meeting",
        },
    )
    slot = forms.CharField(
        label="Slot",
        required=False,
        help_text="Leave as the first free slot, or choose another.",
    )
    question = forms.CharField(
        label="The question for the panel",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        error_messages={"required": "Enter the question for the panel"},
    )
    invitees = forms.MultipleChoiceField(
        label="Who is invited", required=False, widget=forms.CheckboxSelectMultiple
    )
    extra = forms.MultipleChoiceField(
        label="Also invite", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self,
        *args: Any,
        meetings: list[tuple[int, str]],
        invitee_choices: list[tuple[str, str]],
        extra_choices: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        extra = self.fields["extra"]
        assert isinstance(extra, forms.MultipleChoiceField)
        extra.choices = extra_choices
        meeting = self.fields["meeting"]
        assert isinstance(meeting, forms.TypedChoiceField)
        meeting.choices = meetings
        invitees = self.fields["invitees"]
        assert isinstance(invitees, forms.MultipleChoiceField)
        invitees.choices = invitee_choices


class RespondForm(forms.Form):
    status = forms.ChoiceField(
        label="Will you attend?",
        choices=[
            ("invited", "I will attend"),
            ("apologies", "I send my apologies"),
            ("delegated", "A deputy will attend for me"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you will attend"},
    )
    delegate = forms.CharField(label="Deputy", required=False)
    note = forms.CharField(label="Note (optional)", required=False, max_length=300)


class NoteForm(forms.Form):
    step = forms.IntegerField(min_value=1, max_value=7)
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ActionForm(forms.Form):
    description = forms.CharField(
        label="Action", max_length=2000, error_messages={"required": "Enter the action"}
    )
    owner = forms.CharField(
        label="Owner", error_messages={"required": "Select who owns the action"}
    )
    due = forms.DateField(
        label="Due date",
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        help_text="For example, 27/3/2027",
        error_messages={
            "required": "Enter the due date",
            "invalid": "Enter a real date, for example 27/3/2027",
        },
    )


class ConcludeForm(forms.Form):
    summary = forms.CharField(
        label="Chair's summary",
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Enter the chair's summary"},
    )


class AddendumForm(forms.Form):
    text = forms.CharField(
        label="Addendum",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter the addendum"},
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is the slot cancelled?",
        max_length=500,
        error_messages={"required": "Say why the slot is cancelled"},
    )


SCALE = [(str(n), str(n)) for n in range(1, 6)]


class FollowUpForm(forms.Form):
    progress_notes = forms.CharField(
        label="Progress of each action",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    remaining_blockers = forms.CharField(
        label="Blockers that remain", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    wellbeing = forms.TypedChoiceField(
        label="The practitioner's wellbeing (1 low, 5 high)",
        choices=SCALE,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the practitioner's wellbeing from 1 to 5"},
    )
    confidence = forms.TypedChoiceField(
        label="The practitioner's confidence with the case (1 low, 5 high)",
        choices=SCALE,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the practitioner's confidence from 1 to 5"},
    )
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=FollowUpOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the outcome of the follow-up"},
    )


class ReflectionForm(forms.Form):
    wants_debrief = forms.BooleanField(label="I would like a debrief", required=False)
    note = forms.CharField(label="Note (optional)", required=False, max_length=2000)
