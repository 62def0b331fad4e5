"""Pure decisions for conversations and referrals: plain values in, errors or dates out.

No Django imports (the choices are compared as plain strings), so every edge is tested with tables
of cases in tests/test_states.py. Each validator returns {field: message} with messages in plain
English, ready for a form or the API; an empty dict means valid.
"""

from __future__ import annotations

import datetime as dt

from complexcases.notifications.rules import add_working_days

MONTHLY_LIST = "monthly_list"
PROFESSIONAL_JUDGEMENT = "professional_judgement"
ROUTE_REASONS = ("gender_identity", "practitioner_concern", "other")
CLOSURE_REASONS = ("resolved_at_triage", "signposted", "withdrawn", "completed", "left_caseload")
OUTCOMES = ("no_further_support", "refer_to_complex_cases", "supported_elsewhere")

REMINDER_WORKING_DAYS = 10


def route_errors(
    *, route: str, route_reason: str, route_reason_other: str, eligible: bool
) -> dict[str, str]:
    """Is this route right for a person who is (or is not) on the latest monthly list?

    monthly_list only for a person eligible in the latest run; professional_judgement needs a
    reason from ROUTE_REASONS, and "other" needs the reason in words. A route reason is refused on
    the monthly_list route so that what is stored always says why a referral came in.
    """
    if route == MONTHLY_LIST:
        if not eligible:
            return {
                "route": "This person is not on the latest monthly list. Refer them on "
                "professional judgement and say why"
            }
        if route_reason or route_reason_other:
            return {"route_reason": "Only give a reason for a referral on professional judgement"}
        return {}
    if route != PROFESSIONAL_JUDGEMENT:
        return {"route": "Choose how the referral comes in: monthly list or professional judgement"}
    if route_reason not in ROUTE_REASONS:
        return {"route_reason": "Select why you are referring this person"}
    if route_reason == "other" and not route_reason_other.strip():
        return {"route_reason_other": "Enter the reason for the referral"}
    if route_reason != "other" and route_reason_other.strip():
        return {"route_reason_other": "Only describe the reason when you select other"}
    return {}


def closure_errors(*, reason: str, destination: str) -> dict[str, str]:
    """A closure needs one of CLOSURE_REASONS; signposted needs where to (and nothing else does)."""
    if reason not in CLOSURE_REASONS:
        return {"closure_reason": "Select why the referral is closed"}
    if reason == "signposted" and not destination.strip():
        return {"closure_destination": "Enter where the case was signposted to"}
    if reason != "signposted" and destination.strip():
        return {"closure_destination": "Only give a destination when the case is signposted"}
    return {}


def conversation_errors(
    *, outcome: str, supported_elsewhere: str, held_on: dt.date, today: dt.date
) -> dict[str, str]:
    """A conversation's outcome is one of OUTCOMES; "supported elsewhere" says where; not future."""
    errors: dict[str, str] = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = "Select the outcome of the conversation"
    elif outcome == "supported_elsewhere" and not supported_elsewhere.strip():
        errors["supported_elsewhere"] = "Enter where the person is already supported, e.g. MAPPA"
    elif outcome != "supported_elsewhere" and supported_elsewhere.strip():
        errors["supported_elsewhere"] = "Only say where when the person is supported elsewhere"
    if held_on > today:
        errors["held_on"] = "The date of the conversation must be today or in the past"
    return errors


def reminder_due_on(as_of: dt.date) -> dt.date:
    """The day SPOs are reminded of listed cases still without a conversation: 10 working days
    (England and Wales bank holidays excluded) after the run's as-of date."""
    return add_working_days(as_of, REMINDER_WORKING_DAYS)


def reminder_due(*, as_of: dt.date, today: dt.date) -> bool:
    return today >= reminder_due_on(as_of)


def reminder_subject(count: int) -> str:
    """The reminder's subject: a count, never a name or CRN."""
    cases = "case" if count == 1 else "cases"
    verb = "awaits" if count == 1 else "await"
    return f"Complex Cases: {count} listed {cases} in your team {verb} a reflective conversation"
