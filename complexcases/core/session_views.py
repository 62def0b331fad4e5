"""The session timeout warning's endpoints: extend the session, and read the time left."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from complexcases.accounts.policy import access_policy
from complexcases.core import clock
from complexcases.core.middleware import seconds_remaining, session_passive


def _timeout_json(request: HttpRequest) -> JsonResponse:
    left = seconds_remaining(request.session)
    expires_at = clock.now() + dt.timedelta(seconds=left["seconds_remaining"])
    return JsonResponse({**left, "expires_at": expires_at.isoformat()})


@access_policy("signed_in")
@require_POST
@login_required
def session_extend(request: HttpRequest) -> JsonResponse:
    """Extend the session (WCAG 2.2.1). The request itself is the activity that resets the idle
    clock (SessionTimeoutMiddleware); this returns the new time left. CSRF-protected."""
    return _timeout_json(request)


@access_policy("signed_in")
@require_GET
@login_required
@session_passive
def session_status(request: HttpRequest) -> JsonResponse:
    """The time left, without counting as activity: lets an open tab see another tab's extension."""
    return _timeout_json(request)
