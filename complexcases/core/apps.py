from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "complexcases.core"
    label = "core"
