"""Writing the audit trail, and the rule for who may search it.

Every view of a person, paper or note, every export and download, every change and every refusal
is written with `audit_record`. If the record cannot be written, `AuditUnavailable` is raised and
the caller must not go on with the read or change (fail closed): `audited_read` does that for
reads, and the security middleware turns an uncaught `AuditUnavailable` into a 503 page.

Sign-in, failed sign-in and sign-out are recorded here from Django's auth signals.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import DatabaseError, transaction
from django.dispatch import receiver
from django.http import HttpRequest

from complexcases.core import clock
from complexcases.core.models import AuditAction, AuditEvent, AuditOutcome

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

USER_AGENT_MAX = 255
CRN_PATTERN = re.compile(r"[A-Z][0-9]{6}")


class AuditUnavailable(Exception):
    """The audit record could not be written, so the audited read or change must not happen."""


def _actor_fields(actor: Any) -> tuple[int | None, str]:
    """(user id, username) for a user object, a plain username (commands), or None (anonymous)."""
    if actor is None:
        return None, ""
    if isinstance(actor, str):
        return None, actor[:150]
    if not getattr(actor, "is_authenticated", False):
        return None, ""
    return actor.pk, actor.get_username()[:150]


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies that each append
    to X-Forwarded-For, the address the outermost trusted proxy saw. None if not an address."""
    candidate = request.META.get("REMOTE_ADDR", "")
    hops = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if hops > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate)) if candidate else None
    except ValueError:
        return None


def _request_fields(request: HttpRequest | None) -> dict[str, Any]:
    if request is None:
        return {}
    return {
        "ip_address": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
        "request_id": str(getattr(request, "request_id", ""))[:64],
    }


def _event(
    *,
    actor: Any,
    action: str,
    object_type: str = "",
    object_id: str | int = "",
    person_crn: str = "",
    outcome: str = AuditOutcome.OK,
    before: Any = None,
    after: Any = None,
    recipients: list[str] | None = None,
    reason: str = "",
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}")
    if outcome not in AuditOutcome.values:
        raise ValueError(f"Unknown audit outcome {outcome!r}")
    actor_user_id, actor_username = _actor_fields(actor)
    return AuditEvent(
        occurred_at=clock.now(),
        actor_user_id=actor_user_id,
        actor_username=actor_username,
        action=action,
        outcome=outcome,
        object_type=object_type[:64],
        object_id=str(object_id)[:150],
        person_crn=person_crn[:7],
        before=before,
        after=after,
        recipients=list(recipients) if recipients is not None else None,
        reason=reason,
        details=details,
        **_request_fields(request),
    )


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str = "",
    object_id: str | int = "",
    person_crn: str = "",
    outcome: str = AuditOutcome.OK,
    before: Any = None,
    after: Any = None,
    recipients: list[str] | None = None,
    reason: str = "",
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit trail and return it.

    `actor` is a user, a username (management commands and tasks) or None (anonymous).
    Call it *before* returning data (reads) and inside the change's transaction (writes), so that
    a change and its record commit or roll back together.

    Raises AuditUnavailable when the record cannot be written (the caller refuses the action),
    and ValueError for an unknown action or outcome (a programming error, also refusing).
    """
    event = _event(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        person_crn=person_crn,
        outcome=outcome,
        before=before,
        after=after,
        recipients=recipients,
        reason=reason,
        request=request,
        details=details,
    )
    _write([event], action)
    return event


def audit_record_many(entries: list[dict[str, Any]]) -> int:
    """Append many events at once (each entry takes audit_record's keyword arguments).

    For bulk changes made in one transaction (account provisioning from an extract of thousands
    of staff): the same guarantees as audit_record, in batched inserts. Returns the count.
    """
    events = [_event(**entry) for entry in entries]
    if events:
        _write(events, events[0].action)
    return len(events)


def _write(events: list[AuditEvent], action: str) -> None:
    try:
        # A savepoint, so a failed insert leaves an enclosing transaction usable for the
        # caller's clean-up; the caller still refuses because we raise.
        with transaction.atomic():
            if len(events) == 1:
                events[0].save()
            else:
                AuditEvent.objects.bulk_create(events, batch_size=500)
    except (DatabaseError, TypeError, ValueError) as exc:
        # TypeError/ValueError: values the JSON encoder refuses. Logged without the values.
        logger.error(
            "Audit record could not be written (action=%s): %s", action, type(exc).__name__
        )
        raise AuditUnavailable("The audit trail is unavailable") from exc


@contextmanager
def audited_read(
    *,
    actor: Any,
    object_type: str,
    object_id: str | int = "",
    person_crn: str = "",
    action: str = AuditAction.VIEW,
    request: HttpRequest | None = None,
    reason: str = "",
    recipients: list[str] | None = None,
    details: dict[str, Any] | None = None,
) -> Iterator[AuditEvent]:
    """Record a consultation first, then let the read happen; refuse the read if the record fails.

        with audited_read(actor=request.user, object_type="person", object_id=crn,
                          person_crn=crn, request=request):
            person = Person.objects.get(crn=crn)

    The record is of the consultation *attempt*: it is written before the data is read, so a
    read that then fails still shows in the trail. Raises AuditUnavailable before the body runs.
    """
    event = audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        person_crn=person_crn,
        request=request,
        reason=reason,
        recipients=recipients,
        details=details,
    )
    yield event


def audits_read(
    *,
    object_type: str,
    action: str = AuditAction.VIEW,
    actor_arg: str = "user",
    crn_arg: str | None = "crn",
    object_id_arg: str | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator form of `audited_read` for selectors called with keyword arguments.

        @audits_read(object_type="person")
        def person_get(*, user, crn, request=None): ...

    The event is written before the selector runs; if it cannot be, AuditUnavailable is raised
    and the selector is not called.
    """

    def decorator(func: Callable[P, R]) -> Callable[P, R]:
        @wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            crn = str(kwargs.get(crn_arg, "")) if crn_arg else ""
            object_id = kwargs.get(object_id_arg, "") if object_id_arg else crn
            request = kwargs.get("request")
            with audited_read(
                actor=kwargs.get(actor_arg),
                object_type=object_type,
                object_id=object_id,  # type: ignore[arg-type]
                person_crn=crn,
                action=action,
                request=request if isinstance(request, HttpRequest) else None,
            ):
                return func(*args, **kwargs)

        return wrapper

    return decorator


def can_search_audit(user: Any) -> bool:
    """May this user search and export the audit trail?

    Service administrators only: users holding the admin role (accounts.access.is_service_admin).
    """
    from complexcases.accounts.access import is_service_admin  # accounts depends on core

    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and is_service_admin(user)
    )


# --- Sign-in, failed sign-in and sign-out, from Django's auth signals ------------------------


@receiver(user_logged_in, dispatch_uid="core.audit.sign_in")
def _record_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    try:
        audit_record(
            actor=user,
            action=AuditAction.SIGN_IN,
            object_type="user",
            object_id=user.pk,
            request=request,
        )
    except AuditUnavailable:
        # Fail closed: without a record of the sign-in, the session must not stay signed in.
        if request is not None and hasattr(request, "session"):
            request.session.flush()
        raise


@receiver(user_login_failed, dispatch_uid="core.audit.sign_in_failed")
def _record_sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # The attempted username is kept as text: it is a staff account name (or a typing slip),
    # never data about a person on probation. The password is never recorded.
    attempted = str(credentials.get("username", ""))[:150]
    locked_out = bool(getattr(request, "axes_locked_out", False))
    audit_record(
        actor=None,
        action=AuditAction.SIGN_IN_FAILED,
        outcome=AuditOutcome.REFUSED if locked_out else AuditOutcome.FAILED,
        object_type="user",
        object_id=attempted,
        request=request,
        details={"attempted_username": attempted, "locked_out": locked_out},
    )


@receiver(user_logged_out, dispatch_uid="core.audit.sign_out")
def _record_sign_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    reason = getattr(request, "sign_out_reason", "") if request is not None else ""
    if request is not None:
        # The security middleware sends Clear-Site-Data on the response.
        request.signed_out = True  # type: ignore[attr-defined]
    if user is None:
        return
    try:
        audit_record(
            actor=user,
            action=AuditAction.SIGN_OUT,
            object_type="user",
            object_id=user.pk,
            request=request,
            details={"reason": reason} if reason else None,
        )
    except AuditUnavailable:
        # Signing out always goes ahead: it removes access rather than granting it.
        logger.error("Sign-out went ahead without an audit record")
