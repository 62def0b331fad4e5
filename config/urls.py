from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from complexcases.core import views as core_views

urlpatterns = [
    path("sign-in/", auth_views.LoginView.as_view(), name="login"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", core_views.home, name="home"),
    path("", include("complexcases.screening.urls")),
]
