"""Settings for the test suite. DATABASE_URL selects PostgreSQL; otherwise SQLite."""

from config.settings.base import *  # noqa: F403
from config.settings.base import VAR_DIR

VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "staticfiles").mkdir(exist_ok=True)
# A fast hasher for the suite only (Argon2 is deliberately slow); base.py puts Argon2 first.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# django-axes needs the request in authenticate(), which the test client's login() does not pass;
# the lockout tests (core/tests/test_security.py) switch it on with override_settings.
AXES_ENABLED = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
