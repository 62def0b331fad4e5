from django.urls import path

from complexcases.referrals import views

app_name = "referrals"

urlpatterns = [
    path("people/<str:crn>/conversation/", views.conversation_record, name="conversation_record"),
    path("people/<str:crn>/refer/", views.referral_create, name="referral_create"),
    path("referrals/", views.referral_queue, name="queue"),
    path("referrals/<int:referral_id>/", views.referral_detail, name="referral"),
]
