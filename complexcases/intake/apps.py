from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "complexcases.intake"
    label = "intake"
    verbose_name = "Referrals by email"
