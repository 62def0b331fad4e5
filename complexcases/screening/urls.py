from django.urls import path

from complexcases.screening import views

app_name = "screening"

urlpatterns = [
    path("runs/", views.runs, name="runs"),
]
