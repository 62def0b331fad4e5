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
    }
