from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "complexcases.actions"
    label = "actions"
    verbose_name = "Actions"
