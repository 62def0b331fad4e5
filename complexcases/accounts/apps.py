from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "complexcases.accounts"
    label = "accounts"
