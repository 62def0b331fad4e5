from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "complexcases.screening"
    label = "screening"
