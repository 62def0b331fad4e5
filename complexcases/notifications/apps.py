from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "complexcases.notifications"
    label = "notifications"
    verbose_name = "Notifications and nDelius contacts"
