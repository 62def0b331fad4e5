"""My work: the page each signed-in user starts from. Thin: it asks mywork.selectors for the
sections the user's roles call for and renders them.

Sections by role (a user holding several roles sees each of theirs):
- practitioner (and SPO): their referrals, with status; "Your actions" (filled by the actions app);
- spo: listed cases in their teams awaiting a reflective conversation, with links to record one;
- cc_team: the region's new (received) referrals and the way into the referrals page; emails that
  need attention and the triage calendar (filled by the intake and triage apps);
- head_of_service: their PDU's listed people and open referrals;
- analyst, admin: what they can do (no case data).

A section from another app is a list in the context, rendered only when it is not empty, so an app
fills its section by adding to `_placeholders` and the template's block for it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from complexcases.accounts import access
from complexcases.accounts.policy import access_policy
from complexcases.accounts.roles import Role
from complexcases.actions.selectors import my_actions_summary
from complexcases.core import clock
from complexcases.core.audit import audited_read
from complexcases.intake.selectors import needs_attention_for
from complexcases.mywork import selectors
from complexcases.panels.selectors import follow_ups_due_for, invited_cases_for
from complexcases.triage.selectors import upcoming_triage_for


def _other_sections(user: Any) -> dict[str, Any]:
    """Sections read from the other apps' selectors: each is shown only when it has rows."""
    today = clock.today()
    summary = my_actions_summary(user, today=today)
    return {
        "actions": [summary] if summary["open"] else [],
        "emails_needing_attention": list(needs_attention_for(user)[:10]),
        "triage_calendar": upcoming_triage_for(user, today=today)[:10],
        "panel_cases": invited_cases_for(user)[:10],
        "follow_ups": list(follow_ups_due_for(user)[:10]),
    }


def _case_sections(user: Any, roles: frozenset[str]) -> dict[str, Any]:
    """The sections with case data, each read by its selector (one query each)."""
    run = selectors.latest_run() if roles & {Role.SPO, Role.HEAD_OF_SERVICE} else None
    return {
        "run": run,
        "your_referrals": selectors.your_referrals(user),
        "awaiting": selectors.conversations_awaited(user, run),
        "new_referrals": selectors.new_referrals(user),
        "pdu_overviews": selectors.pdu_overviews(user, run),
        "pdu_referrals": selectors.pdu_referrals(user),
    }


@access_policy("scoped_list")
@never_cache
@login_required
def my_work(request: HttpRequest) -> HttpResponse:
    user = request.user
    roles = access.grants_for(user).roles
    context: dict[str, Any] = {
        "nav": "mywork",
        "roles": roles,
        "is_practitioner": Role.PRACTITIONER in roles,
        "is_spo": Role.SPO in roles,
        "is_cc_team": Role.CC_TEAM in roles,
        "is_head_of_service": Role.HEAD_OF_SERVICE in roles,
        "is_analyst": Role.ANALYST in roles,
        "is_admin": Role.ADMIN in roles,
    }
    if not access.can_see_identifiers(user):
        # Analysts, admins and users without a role: pointers only, no case data, nothing to audit.
        return render(request, "mywork/my_work.html", context)
    # Lists of people: recorded before they are read (core.audit, fail closed).
    with audited_read(
        actor=user,
        action="list",
        object_type="my_work",
        object_id=user.get_username(),
        request=request,
        details={"roles": sorted(roles)},
    ):
        context.update(_case_sections(user, roles))
        context.update(_other_sections(user))
        return render(request, "mywork/my_work.html", context)
