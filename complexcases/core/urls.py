"""Core pages: the audit trail search and export, and the session timeout endpoints.

Included by config/urls.py with `path("", include("complexcases.core.urls"))`.
"""

from django.urls import path

from complexcases.core import audit_views, session_views

app_name = "core"

urlpatterns = [
    path("audit/", audit_views.audit_search, name="audit_search"),
    path("audit/export/", audit_views.audit_export, name="audit_export"),
    path("session/extend/", session_views.session_extend, name="session_extend"),
    path("session/status/", session_views.session_status, name="session_status"),
]
