from django.urls import path

from complexcases.intake import views

app_name = "intake"

urlpatterns = [
    path("referrals/needs-attention/", views.queue, name="queue"),
    path("referrals/needs-attention/<int:inbound_email_id>/", views.detail, name="detail"),
]
