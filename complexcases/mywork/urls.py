from django.urls import path

from complexcases.mywork import views

app_name = "mywork"

urlpatterns = [
    path("my-work/", views.my_work, name="my_work"),
]
