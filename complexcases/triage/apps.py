from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "complexcases.triage"
    label = "triage"
    verbose_name = "Triage meetings"
