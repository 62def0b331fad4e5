from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "complexcases.referrals"
    label = "referrals"
    verbose_name = "Reflective conversations and referrals"
