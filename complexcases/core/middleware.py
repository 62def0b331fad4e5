"""Security middleware: request ids, no-store caching, Clear-Site-Data, session expiry.

- RequestIdMiddleware gives every request an id (in the audit trail and the X-Request-ID header).
- SecurityHeadersMiddleware sends `Cache-Control: no-store` on every response that reaches Django
  (static files are served before it by WhiteNoise), `Clear-Site-Data` on sign-out, and turns an
  uncaught AuditUnavailable into a 503 page: the audited read or change did not happen.
- SessionTimeoutMiddleware signs the user out after 30 minutes idle or 12 hours in all, on the
  server; views marked with `session_passive` (polling) do not count as activity.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render, resolve_url

from complexcases.core import clock
from complexcases.core.audit import AuditUnavailable

SIGNED_IN_AT = "cc_signed_in_at"
LAST_ACTIVITY = "cc_last_activity"

CLEAR_ALL = '"cache", "cookies", "storage"'
# After a timeout the sign-in page shows why, and that message travels in the session cookie,
# so the cookie is kept; the cache and storage are still cleared.
CLEAR_KEEPING_COOKIES = '"cache", "storage"'

F = TypeVar("F", bound=Callable[..., Any])


def session_passive(view: F) -> F:
    """Mark a view (e.g. a polling endpoint) as not counting as activity for the idle timeout."""
    view.session_passive = True  # type: ignore[attr-defined]
    return view


def idle_seconds() -> int:
    return int(settings.SESSION_IDLE_TIMEOUT_SECONDS)


def absolute_seconds() -> int:
    return int(settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS)


def seconds_remaining(session: Any, now: float | None = None) -> dict[str, int]:
    """Seconds left before the idle and the absolute timeout for a signed-in session."""
    now = clock.now().timestamp() if now is None else now
    last = float(session.get(LAST_ACTIVITY, now))
    signed_in = float(session.get(SIGNED_IN_AT, now))
    idle_left = int(last + idle_seconds() - now)
    absolute_left = int(signed_in + absolute_seconds() - now)
    return {
        "seconds_remaining": max(0, min(idle_left, absolute_left)),
        "absolute_seconds_remaining": max(0, absolute_left),
    }


@receiver(user_logged_in, dispatch_uid="core.middleware.start_session_clock")
def start_session_clock(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Start both clocks at sign-in (a fresh sign-in restarts the 12 hours too)."""
    if request is not None and hasattr(request, "session"):
        now = clock.now().timestamp()
        request.session[SIGNED_IN_AT] = now
        request.session[LAST_ACTIVITY] = now


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # Our own id, never the client's: it is written to the audit trail.
        request.request_id = uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        # Pages and API responses hold personal data: never store them in any cache, including
        # the browser's back/forward history on a shared machine.
        response["Cache-Control"] = "no-store"
        if getattr(request, "session_expired", False):
            response["Clear-Site-Data"] = CLEAR_KEEPING_COOKIES
        elif getattr(request, "signed_out", False):
            response["Clear-Site-Data"] = CLEAR_ALL
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, AuditUnavailable):
            if _wants_json(request):
                return JsonResponse(
                    {"detail": "The service cannot record this action, so it was not done."},
                    status=503,
                )
            return render(request, "core/audit_unavailable.html", status=503)
        return None


def _wants_json(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/") or not request.accepts("text/html")


class SessionTimeoutMiddleware:
    """Idle and absolute session expiry, enforced on the server. After auth and messages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponseBase | None:
        if not request.user.is_authenticated:
            return None
        session = request.session
        now = clock.now().timestamp()
        if SIGNED_IN_AT not in session or LAST_ACTIVITY not in session:
            # A session from before the clocks existed: start them now.
            session.setdefault(SIGNED_IN_AT, now)
            session.setdefault(LAST_ACTIVITY, now)
        left = seconds_remaining(session, now)
        idle_left = float(session[LAST_ACTIVITY]) + idle_seconds() - now
        if left["absolute_seconds_remaining"] <= 0:
            return self._expire(request, "absolute_timeout")
        if idle_left <= 0:
            return self._expire(request, "idle_timeout")
        if not getattr(view_func, "session_passive", False):
            session[LAST_ACTIVITY] = now
            left = seconds_remaining(session, now)
        request.session_timeout = {  # type: ignore[attr-defined]
            **left,
            "warning_seconds": int(settings.SESSION_TIMEOUT_WARNING_SECONDS),
        }
        return None

    def _expire(self, request: HttpRequest, reason: str) -> HttpResponseBase:
        request.sign_out_reason = reason  # type: ignore[attr-defined]
        logout(request)  # flushes the session on the server; the sign-out is audited
        request.session_expired = True  # type: ignore[attr-defined]
        if reason == "idle_timeout":
            minutes = idle_seconds() // 60
            text = (
                f"You were signed out because you had not used the service for {minutes} minutes."
            )
        else:
            hours = absolute_seconds() // 3600
            text = f"You were signed out because you had been signed in for {hours} hours."
        if _wants_json(request):
            return JsonResponse(
                {
                    "detail": text,
                    "signed_out": True,
                    "sign_in_url": resolve_url(settings.LOGIN_URL),
                },
                status=401,
            )
        messages.info(request, f"{text} Sign in again to carry on.")
        return redirect(settings.LOGIN_URL)
