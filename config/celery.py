"""Celery application. Eager in the embedded default; Redis broker in production."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("complexcases")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
