"""Settings for the test suite. DATABASE_URL selects PostgreSQL; otherwise SQLite."""

from config.settings.base import *  # noqa: F403
from config.settings.base import VAR_DIR

VAR_DIR.mkdir(parents=True, exist_ok=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
