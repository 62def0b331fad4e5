from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "complexcases.people"
    label = "people"
