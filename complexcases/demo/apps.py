from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The embedded demo: synthetic data at every stage, for `make run`. Never used in production."""

    name = "complexcases.demo"
    label = "demo"
