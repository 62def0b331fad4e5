from django.conf import settings
from django.http import HttpRequest

from complexcases.core.audit import can_search_audit


def service(request: HttpRequest) -> dict[str, object]:
    """Values every page needs: the service name, and whether to offer the audit trail search.

    The latter is a callable, so the template asks only when it renders the navigation (the
    user's roles are then usually already read by the view).
    """
    user = getattr(request, "user", None)
    return {
        "service_name": settings.SERVICE_NAME,
        "may_search_audit": lambda: user is not None and can_search_audit(user),
        "may_run_triage": lambda: _holds(user, {"cc_team"}),
        "may_see_panels": lambda: _holds(user, {"cc_team", "panel_member"}),
    }


def _holds(user: object, roles: set[str]) -> bool:
    """Does the signed-in user hold any of `roles`? Read from the roles accounts.access caches."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    from complexcases.accounts.access import grants_for  # accounts depends on core

    return bool(grants_for(user).roles & roles)
