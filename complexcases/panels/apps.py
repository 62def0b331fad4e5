from django.apps import AppConfig


class PanelsConfig(AppConfig):
    name = "complexcases.panels"
    label = "panels"
    verbose_name = "Complex Cases panels"
