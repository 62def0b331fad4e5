from django.urls import path

from complexcases.panels import views

app_name = "panels"

urlpatterns = [
    path("panels/", views.panels_home, name="home"),
    path("panels/book/<int:referral_id>/", views.panel_book, name="book"),
    path("panels/meetings/<int:meeting_id>/", views.meeting_detail, name="meeting"),
    path(
        "panels/meetings/<int:meeting_id>/minutes.pdf",
        views.meeting_minutes_pdf,
        name="minutes_pdf",
    ),
    path("panels/cases/<int:case_id>/", views.case_detail, name="case"),
    path("panels/cases/<int:case_id>/papers/", views.case_papers, name="papers"),
    path("panels/cases/<int:case_id>/papers.pdf", views.case_papers_pdf, name="papers_pdf"),
    path("panels/follow-ups/<int:follow_up_id>/", views.follow_up_detail, name="follow_up"),
]
