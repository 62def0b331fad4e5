from django.urls import path, register_converter

from complexcases.screening import views


class MonthConverter:
    """A `YYYY-MM` month in a URL. Impossible months (2026-13) reach the view, which gives 404."""

    regex = r"[0-9]{4}-[0-9]{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(MonthConverter, "month")

app_name = "screening"

urlpatterns = [
    path("lists/<month:month>/<str:pdu_code>/", views.pdu_list, name="pdu_list"),
    path(
        "lists/<month:month>/<str:pdu_code>/download.csv", views.pdu_list_csv, name="pdu_list_csv"
    ),
    path("people/<str:crn>/", views.person, name="person"),
    path("runs/", views.runs, name="runs"),
]
