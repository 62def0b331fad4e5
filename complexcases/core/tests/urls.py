"""The project's URLs plus core's, for core's tests until config/urls.py includes core.urls."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

_included = any(getattr(p, "namespace", None) == "core" for p in project_urlpatterns)

urlpatterns = list(project_urlpatterns)
if not _included:
    urlpatterns.append(path("", include("complexcases.core.urls")))
