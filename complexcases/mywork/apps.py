from django.apps import AppConfig


class MyWorkConfig(AppConfig):
    name = "complexcases.mywork"
    label = "mywork"
    verbose_name = "My work"
