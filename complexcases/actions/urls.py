from django.urls import path

from complexcases.actions import views

app_name = "actions"

urlpatterns = [
    path("my-actions/", views.my_actions, name="my_actions"),
    path("actions/<int:action_id>/", views.action_detail, name="action"),
]
