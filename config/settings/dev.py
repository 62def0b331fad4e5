"""The embedded default: SQLite, eager tasks, console email. Used by `make run`."""

from config.settings.base import *  # noqa: F403
from config.settings.base import VAR_DIR

DEBUG = True
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "staticfiles").mkdir(exist_ok=True)
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
