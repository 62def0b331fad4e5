from django.urls import path

from complexcases.triage import views

app_name = "triage"

urlpatterns = [
    path("referrals/<int:referral_id>/triage/book/", views.triage_book, name="book"),
    path("triage/", views.triage_calendar, name="calendar"),
    path("triage/<int:meeting_id>/", views.triage_meeting, name="meeting"),
    path("triage/<int:meeting_id>/cancel/", views.triage_cancel, name="cancel"),
]
