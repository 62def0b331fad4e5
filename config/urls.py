from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from complexcases.accounts.policy import access_policy
from complexcases.core import views as core_views

urlpatterns = [
    path(
        "sign-in/",
        access_policy("public")(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    # Sign-out is a POST (Django 5 refuses GET), sent by the form in the service navigation.
    path("sign-out/", access_policy("public")(auth_views.LogoutView.as_view()), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("assets/<path:path>", core_views.frontend_asset, name="frontend_asset"),
    path("", core_views.home, name="home"),
    path("", include("complexcases.screening.urls")),
    path("", include("complexcases.referrals.urls")),
    path("", include("complexcases.intake.urls")),
    path("", include("complexcases.triage.urls")),
    path("", include("complexcases.mywork.urls")),
    path("", include("complexcases.panels.urls")),
    path("", include("complexcases.actions.urls")),
    path("", include("complexcases.core.urls")),
]
