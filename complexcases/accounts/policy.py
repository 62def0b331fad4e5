"""Declared access policies for every URL the service serves.

Each view is decorated with `access_policy(POLICY)`, naming who may reach it; the need-to-know
decision itself stays in `accounts.access` and the selectors the view calls. A test enumerates every
URL pattern and fails when one has no declared policy, so a new page cannot ship unguarded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

POLICY_ATTRIBUTE: Final = "access_policy"

POLICIES: Final = {
    "public": "Anyone: sign-in pages and front-end assets. No personal data.",
    "signed_in": "Any signed-in user: their own session, pages without case data.",
    "aggregate": "Any signed-in user: counts only, no identifiers.",
    "person": "Need-to-know on the person (accounts.access.get_person_for); limited access → 403.",
    "scoped_list": "Signed-in; rows limited to people_visible_to, limited-access rows reduced to the CRN.",
    "scoped_export": "accounts.access.may_export on the PDU, a reason, audited; rows as scoped_list.",
    "cc_team": "The Complex Cases team of the region concerned (checked by the app's selectors); others get 404.",
    "audit_admin": "Service administrators only (core.audit.can_search_audit); others get 404.",
    "django_admin": "Django admin: active staff users; case data is not registered there.",
}


# URL namespaces whose every view has one policy, declared here rather than view by view.
NAMESPACE_POLICIES: Final = {"admin": "django_admin"}


def access_policy(name: str) -> Callable[[F], F]:
    """Declare a view's access policy (one of POLICIES). Works on functions and class-based views."""
    if name not in POLICIES:
        raise ValueError(f"Unknown access policy {name!r}")

    def decorate(view: F) -> F:
        setattr(view, POLICY_ATTRIBUTE, name)
        return view

    return decorate


def policy_of(callback: Any) -> str | None:
    """The declared policy of a resolved URL callback (function view, as_view() or DRF view)."""
    for candidate in (
        callback,
        getattr(callback, "view_class", None),
        getattr(callback, "cls", None),
        getattr(callback, "__wrapped__", None),
    ):
        if candidate is not None and getattr(candidate, POLICY_ATTRIBUTE, None):
            return str(getattr(candidate, POLICY_ATTRIBUTE))
    return None
