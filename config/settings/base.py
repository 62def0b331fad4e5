"""Settings shared by every environment. Everything that varies comes from the environment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("CC_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-embedded-demo-key-not-for-production")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "complexcases.core",
    "complexcases.accounts",
    "complexcases.people",
    "complexcases.screening",
    "complexcases.notifications",
    "complexcases.referrals",
    "complexcases.intake",
    "complexcases.triage",
    "complexcases.actions",
    "complexcases.panels",
    "complexcases.mywork",
    "complexcases.demo",
    "rest_framework",
    "drf_spectacular",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, so static files are not touched; above the rest, so every page, API
    # response, redirect and error gets no-store, an id and (on sign-out) Clear-Site-Data.
    "complexcases.core.middleware.RequestIdMiddleware",
    "complexcases.core.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After auth and messages: it signs out expired sessions and leaves a message saying why.
    "complexcases.core.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "complexcases" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "complexcases.core.context_processors.service",
            ],
        },
    },
]


def _database_config() -> dict[str, Any]:
    url = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'complexcases.sqlite3'}")
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers carry on while an import writes; IMMEDIATE avoids the
        # "database is locked" upgrade race between two writers; temporary tables (the import's
        # staging tables) in memory rather than a temporary file: a national import ~15% faster.
        config["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; PRAGMA temp_store=MEMORY;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
        config["TEST"] = {"NAME": env_str("CC_SQLITE_TEST_NAME", "") or None}
    return config


DATABASES = {"default": _database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "mywork:my_work"
LOGOUT_REDIRECT_URL = "login"

# --- Sign-in security (OWASP ASVS level 2) ---------------------------------------------------
# django-axes first: it refuses a locked-out username before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Argon2id for new and upgraded hashes; the others remain to verify (and then upgrade) old ones.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Lockout after 5 failed sign-ins for a username, from any address (many staff share a few
# proxy addresses, and a distributed guesser changes address), for an hour.
AXES_ENABLED = True
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(hours=1)
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for the IP address in the lockout parameters. Not here: staff reach the service
# through a few shared HMPPS egress addresses, so an address lockout would lock out whole offices
# after anyone's five typing slips. Rotating user agents or cookies cannot get round a username
# lockout, which is the bypass that warning is about.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_VERBOSE = False
# The client's address (for axes and the audit trail): REMOTE_ADDR, or behind N trusted proxies
# that each append to X-Forwarded-For, the Nth address from the right (never a client's own claim).
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "complexcases.core.audit.client_ip"

# Sessions: 30 minutes idle and 12 hours in all, enforced by core.middleware.SessionTimeoutMiddleware;
# a warning with "Extend my session" shows 2 minutes before the idle timeout (WCAG 2.2.1).
SESSION_IDLE_TIMEOUT_SECONDS = 30 * 60
SESSION_ABSOLUTE_TIMEOUT_SECONDS = 12 * 60 * 60
SESSION_TIMEOUT_WARNING_SECONDS = 2 * 60
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
# GOV.UK Frontend and MoJ Frontend assets, copied from node_modules by `make assets`.
STATICFILES_DIRS = [BASE_DIR / "static_build"]
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content security policy (django-csp 4): files from this origin only, no inline script (the
# templates give their <script> tags request.csp_nonce), no plugins, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

SERVICE_NAME = "Complex Cases"

# --- HTTP API under /api/v1/ (DESIGN.md section 6; config/api_urls.py) -------------------------
# Token authentication first: an unauthenticated request gets 401 with `WWW-Authenticate: Token`.
# Session authentication second, for a signed-in browser; it enforces CSRF on unsafe methods
# (a session request without the CSRF token gets 403). JSON only: the browsable API needs inline
# script, which the content security policy forbids. A person the user may not see reads as
# 404; limited access as 403 with the message and the CRN only.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "complexcases.accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    # Modest limits: enough for a report pulling a national month, not for scraping or guessing.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/minute"),
        "user": env_str("API_THROTTLE_USER", "1000/minute"),
    },
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Complex Cases API",
    "DESCRIPTION": (
        "People and monthly screening lists, under the same need-to-know rules as the pages. "
        "Authenticate with `Authorization: Token KEY` (`python manage.py issue_api_token "
        "USERNAME`) or a signed-in session. A person or list outside your scope reads as 404; "
        "a limited-access case as 403 with the limited-access message and the CRN only."
    ),
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema holds no data: anyone may read it, without credentials.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # Rows say whether they are reduced to the CRN: `limited_access` is the enum [false] on full
    # rows and [true] on reduced ones, across the screening and referral lists. One name each.
    "ENUM_NAME_OVERRIDES": {
        "FullRowEnum": [(False, False)],
        "LimitedAccessRowEnum": [(True, True)],
    },
}

# Background work. The embedded default runs tasks eagerly; production sets CELERY_BROKER_URL.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "memory://")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
# Periodic work under beat (the outbox sweep is added by config/celery.py when absent here).
CELERY_BEAT_SCHEDULE = {
    "referrals: remind SPOs of listed cases awaiting a reflective conversation": {
        "task": "referrals.send_conversation_reminders",
        "schedule": 6 * 60 * 60,  # every six hours: each SPO is reminded once a month at most
    },
    "panels: schedule meetings, issue papers, remind follow-ups, prompt reflection": {
        "task": "panels.daily",
        "schedule": 6 * 60 * 60,  # every six hours; each piece of work is done once
    },
    "actions: reminders before due and when overdue, escalation to the Programme Manager": {
        "task": "actions.send_reminders",
        "schedule": crontab(hour=7, minute=0),  # daily, 07:00 Europe/London (CELERY_TIMEZONE)
    },
    "intake: read the Complex Cases mailbox": {
        "task": "intake.poll_mailbox",
        "schedule": env_int("CC_IMAP_POLL_SECONDS", 120),
    },
}

# No personal data in logs: every handler carries the redaction filter (core/logging.py).
# Django's own loggers are routed to the same handlers (replacing Django's defaults, whose
# handlers would lack the filter, and mail_admins, which would email tracebacks), and the SQL
# logger never goes below INFO because SQL parameters hold personal data.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_personal_data": {"()": "complexcases.core.logging.RedactPersonalDataFilter"}
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

# Notifications: the outbox, email and nDelius contacts (complexcases.notifications).
CC_SERVICE_URL = env_str("CC_SERVICE_URL", "http://127.0.0.1:8000")
CC_MAIL_FROM = env_str("CC_MAIL_FROM", "Complex Cases <complex.cases@justice.example>")
DEFAULT_FROM_EMAIL = CC_MAIL_FROM
CC_DELIUS_CONTACT_TYPES = {
    "reflective_conversation": env_str("CC_CONTACT_TYPE_REFLECTIVE", "CCRC"),
    "triage_booked": env_str("CC_CONTACT_TYPE_TRIAGE_BOOKED", "CCTB"),
    "triage_outcome": env_str("CC_CONTACT_TYPE_TRIAGE_OUTCOME", "CCTO"),
    "panel_outcome": env_str("CC_CONTACT_TYPE_PANEL_OUTCOME", "CCPO"),
}
CC_OUTBOX_MAX_ATTEMPTS = env_int("CC_OUTBOX_MAX_ATTEMPTS", 20)
CC_OUTBOX_RETRY_BASE_SECONDS = env_int("CC_OUTBOX_RETRY_BASE_SECONDS", 60)
CC_OUTBOX_RETRY_CAP_SECONDS = env_int("CC_OUTBOX_RETRY_CAP_SECONDS", 3600)
CC_OUTBOX_STALE_MINUTES = env_int("CC_OUTBOX_STALE_MINUTES", 10)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)

# Referral by email (complexcases.intake): the Complex Cases mailbox, read over IMAP. No host means
# no mailbox is configured: the poll task does nothing and says so in the log.
CC_IMAP_HOST = env_str("CC_IMAP_HOST", "")
CC_IMAP_PORT = env_int("CC_IMAP_PORT", 993)
CC_IMAP_SSL = env_bool("CC_IMAP_SSL", True)
CC_IMAP_USER = env_str("CC_IMAP_USER", "")
CC_IMAP_PASSWORD = env_str("CC_IMAP_PASSWORD", "")
CC_IMAP_FOLDER = env_str("CC_IMAP_FOLDER", "INBOX")
# The region whose Complex Cases team owns the mailbox (its needs-attention queue).
CC_IMAP_REGION = env_str("CC_IMAP_REGION", "EOE")

# Panel papers as a PDF attached to the papers' invitation: only for a mail system accredited for
# their content. Off by default: the invitation links to the papers in the service instead.
CC_PANEL_PAPERS_ATTACH = env_bool("CC_PANEL_PAPERS_ATTACH", False)

# Actions: reminder and escalation windows, in working days (England and Wales).
CC_ACTION_REMINDER_WORKING_DAYS = env_int("CC_ACTION_REMINDER_WORKING_DAYS", 2)
CC_ACTION_ESCALATION_WORKING_DAYS = env_int("CC_ACTION_ESCALATION_WORKING_DAYS", 5)

# Triage meetings (complexcases.triage).
CC_TRIAGE_SLOT_MINUTES = env_int("CC_TRIAGE_SLOT_MINUTES", 45)
