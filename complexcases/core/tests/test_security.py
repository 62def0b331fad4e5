"""Sign-in security: hashing, lockout, session id, idle and absolute expiry with the warning's
endpoints, sign-out, content security policy, no-store, and `check --deploy` in production."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, override_settings
from django.urls import reverse

from complexcases.core.models import AuditEvent
from complexcases.people.tests.factories import UserFactory
from conftest import skip_or_fail

pytestmark = [pytest.mark.django_db, pytest.mark.urls("complexcases.core.tests.urls")]

PASSWORD = "correct horse battery staple"
START = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def user():
    return UserFactory(username="pp.session")


def _sign_in(client: Client, username: str = "pp.session", password: str = PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- Passwords --------------------------------------------------------------------------------


def test_argon2_hashes_passwords_outside_the_test_suite():
    from config.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS):
        hashed = make_password("a long synthetic passphrase")
        assert hashed.startswith("argon2$argon2id$")
        assert check_password("a long synthetic passphrase", hashed)


# --- Lockout (django-axes) ----------------------------------------------------------------------


@override_settings(AXES_ENABLED=True)
def test_after_five_failures_even_the_right_password_is_refused(user):
    client = Client()
    for attempt in range(1, 6):
        response = _sign_in(client, password="not the password")
        # The form again for the first four; the fifth failure locks the username.
        assert response.status_code == (200 if attempt < 5 else 429)
        assert not _signed_in(client)

    response = _sign_in(client)

    assert response.status_code == 429
    assert b"You cannot sign in at the moment" in response.content
    assert not _signed_in(client)
    assert AuditEvent.objects.filter(action="sign_in_failed").count() == 6
    assert not AuditEvent.objects.filter(action="sign_in").exists()


@override_settings(AXES_ENABLED=True)
def test_the_lockout_is_per_username_and_lifts_after_an_hour(user):
    UserFactory(username="pp.other")
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(5):
            _sign_in(client, password="not the password")
        assert _sign_in(Client(), username="pp.other").status_code == 302
        assert _sign_in(Client()).status_code == 429

        traveller.shift(dt.timedelta(minutes=61))
        fresh = Client()
        assert _sign_in(fresh).status_code == 302
        assert _signed_in(fresh)


@override_settings(AXES_ENABLED=True)
def test_four_failures_then_success_resets_the_count(user):
    client = Client()
    for _ in range(4):
        _sign_in(client, password="not the password")
    assert _sign_in(client).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        _sign_in(client, password="not the password")
    assert _sign_in(client).status_code == 302


# --- Session id, idle and absolute expiry ------------------------------------------------------


def test_signing_in_gives_a_new_session_id(user):
    client = Client()
    before = SessionStore()
    before["probe"] = "anonymous visit"
    before.create()
    assert before.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = before.session_key

    _sign_in(client)

    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after and after != before.session_key
    assert not SessionStore().exists(before.session_key)
    assert _signed_in(client)


def test_idle_for_thirty_minutes_signs_out_on_the_server(user):
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        _sign_in(client)
        session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        traveller.shift(dt.timedelta(minutes=29))
        assert client.get(reverse("home")).status_code == 200  # activity resets the clock
        traveller.shift(dt.timedelta(minutes=29))
        assert client.get(reverse("home")).status_code == 200

        traveller.shift(dt.timedelta(minutes=30, seconds=1))
        response = client.get(reverse("home"), follow=True)

    assert response.redirect_chain[0] == (reverse("login"), 302)
    assert b"had not used the service for 30 minutes" in response.content
    assert not _signed_in(client)
    assert not SessionStore().exists(session_key)
    signed_out = AuditEvent.objects.get(action="sign_out")
    assert signed_out.details == {"reason": "idle_timeout"}


def test_twelve_hours_signs_out_however_active(user):
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        _sign_in(client)
        for _ in range(35):  # every 20 minutes for 11 hours 40 minutes
            traveller.shift(dt.timedelta(minutes=20))
            assert client.get(reverse("home")).status_code == 200
        traveller.shift(dt.timedelta(minutes=21))  # 12 hours 1 minute, 21 minutes idle
        response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert not _signed_in(client)
    assert AuditEvent.objects.get(action="sign_out").details == {"reason": "absolute_timeout"}


def test_just_under_twelve_hours_is_still_signed_in(user):
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        _sign_in(client)
        for _ in range(35):
            traveller.shift(dt.timedelta(minutes=20))
            client.get(reverse("home"))
        traveller.shift(dt.timedelta(minutes=19))
        assert client.get(reverse("home")).status_code == 200


def _csrf_client(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(reverse("home"))  # the page's forms set the CSRF cookie
    return client, client.cookies[settings.CSRF_COOKIE_NAME].value


def test_extending_resets_the_idle_clock(user):
    with time_machine.travel(START, tick=False) as traveller:
        client, token = _csrf_client(user)
        traveller.shift(dt.timedelta(minutes=28, seconds=30))

        response = client.post(
            reverse("core:session_extend"), HTTP_X_CSRFTOKEN=token, HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 200
        assert response.json()["seconds_remaining"] == 30 * 60
        assert response["Cache-Control"] == "no-store"

        traveller.shift(dt.timedelta(minutes=29))
        assert client.get(reverse("home")).status_code == 200


def test_extending_needs_the_csrf_token(user):
    client, _ = _csrf_client(user)
    response = client.post(reverse("core:session_extend"))
    assert response.status_code == 403


def test_extending_cannot_go_past_twelve_hours(user):
    with time_machine.travel(START, tick=False) as traveller:
        client, token = _csrf_client(user)
        for _ in range(35):
            traveller.shift(dt.timedelta(minutes=20))
            client.get(reverse("home"))
        traveller.shift(dt.timedelta(minutes=10))  # 11h50m: ten minutes left in all
        response = client.post(reverse("core:session_extend"), HTTP_X_CSRFTOKEN=token)
        assert response.json()["seconds_remaining"] == 10 * 60
        assert response.json()["absolute_seconds_remaining"] == 10 * 60


def test_polling_the_status_does_not_count_as_activity(user):
    with time_machine.travel(START, tick=False) as traveller:
        client, _ = _csrf_client(user)
        traveller.shift(dt.timedelta(minutes=20))

        status = client.get(reverse("core:session_status"), HTTP_ACCEPT="application/json")
        assert status.json()["seconds_remaining"] == 10 * 60

        traveller.shift(dt.timedelta(minutes=10, seconds=1))
        response = client.get(reverse("core:session_status"), HTTP_ACCEPT="application/json")

    assert response.status_code == 401
    assert response.json()["signed_out"] is True
    assert not _signed_in(client)


def test_the_page_tells_the_warning_how_long_is_left(user, timeout_warning_in_base):
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        client.force_login(user)
        for _ in range(35):  # active every 20 minutes for 11 hours 40 minutes
            traveller.shift(dt.timedelta(minutes=20))
            client.get(reverse("home"))
        traveller.shift(dt.timedelta(minutes=5))
        response = client.get(reverse("home"))  # fifteen minutes left in all

    html = response.content.decode()
    assert 'data-seconds-remaining="900"' in html
    assert 'data-warning-seconds="120"' in html
    assert "Extend my session" in html
    assert 'data-extend-url="/session/extend/"' in html


def _base_with_the_timeout_warning() -> str:
    """base.html as the pages use it, with the timeout partial included (as the lead adds it)."""
    source = (REPO / "complexcases" / "templates" / "base.html").read_text()
    include = '{% include "core/_session_timeout.html" %}'
    if include not in source:
        source = source.replace("</body>", include + "\n</body>")
    return source


@pytest.fixture
def timeout_warning_in_base():
    engine: dict[str, Any] = settings.TEMPLATES[0]
    templates = [
        {
            **engine,
            "APP_DIRS": False,
            "OPTIONS": {
                **engine["OPTIONS"],
                "loaders": [
                    (
                        "django.template.loaders.locmem.Loader",
                        {"base.html": _base_with_the_timeout_warning()},
                    ),
                    "django.template.loaders.filesystem.Loader",
                    "django.template.loaders.app_directories.Loader",
                ],
            },
        }
    ]
    with override_settings(TEMPLATES=templates):
        yield


# --- Sign-out ----------------------------------------------------------------------------------


def test_sign_out_clears_the_session_on_the_server_and_the_browser(user):
    client = Client()
    _sign_in(client)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value

    response = client.post(reverse("logout"))

    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert not SessionStore().exists(session_key)
    assert client.get(reverse("home")).status_code == 302


def test_sign_out_needs_a_post(user):
    client = Client()
    client.force_login(user)
    assert client.get(reverse("logout")).status_code == 405
    assert _signed_in(client)


# --- Headers -----------------------------------------------------------------------------------


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_the_content_security_policy_allows_no_inline_script(user):
    client = Client()
    client.force_login(user)

    policy = _csp(client.get(reverse("home")))

    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["default-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert sorted(policy["img-src"]) == sorted(["'self'", "data:"])


def test_the_warning_script_carries_the_nonce_in_the_policy(user, timeout_warning_in_base):
    client = Client()
    client.force_login(user)

    response = client.get(reverse("home"))

    nonces = re.findall(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    assert len(nonces) == 1
    assert f'nonce="{nonces[0]}"'.encode() in response.content
    assert b"core/session-timeout.js" in response.content
    assert "'unsafe-inline'" not in _csp(response)["script-src"]
    assert b"<script>" not in response.content  # nothing inline


def test_every_response_is_no_store(user):
    client = Client()
    assert client.get(reverse("login"))["Cache-Control"] == "no-store"
    client.force_login(user)
    page = client.get(reverse("home"))
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    assert client.get("/no-such-page/")["Cache-Control"] == "no-store"


def test_every_response_has_a_request_id(user):
    first = Client().get(reverse("login"))["X-Request-ID"]
    second = Client().get(reverse("login"))["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_pages_refuse_framing_and_sniffing(user):
    response = Client().get(reverse("login"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


# --- Production settings -------------------------------------------------------------------------


def _production_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "PYTEST", "CC_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="cc.example",
        DATABASE_URL="postgres://complexcases@db.invalid:5432/complexcases",
    )
    return env


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_production_cookies_and_headers_are_strict():
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_NAME, "
        "s.CSRF_COOKIE_NAME, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS >= 31536000, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.DEBUG, "
        "s.CONTENT_SECURITY_POLICY['DIRECTIVES'].get('upgrade-insecure-requests'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "__Host-session",
        "__Host-csrftoken",
        "True",
        "True",
        "True",
        "False",
        "True",
    ]


# --- The warning in a real browser ---------------------------------------------------------------


@pytest.fixture
def browser_page(live_server):
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        skip_or_fail("Chromium is not installed: browser tests skipped")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop; one thread, no async
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium),
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        context = browser.new_context()
        axe = REPO / "static_build" / "vendor" / "axe.min.js"
        if axe.exists():  # through DevTools, so the page's content security policy stays on
            context.add_init_script(script=axe.read_text(encoding="utf-8"))
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.errors = errors  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_warning_appears_before_the_timeout_and_extends_the_session(
    browser_page, live_server, timeout_warning_in_base
):
    page = browser_page
    UserFactory(username="pp.browser")
    with time_machine.travel(START, tick=True) as traveller:
        page.clock.install()
        page.goto(f"{live_server.url}{reverse('login')}")
        page.fill("#id_username", "pp.browser")
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/my-work/")
        dialog = page.locator("dialog.cc-session-timeout__dialog")
        assert not dialog.is_visible()

        # 28 minutes 30 seconds later, on the server and in the page: the warning shows.
        traveller.shift(dt.timedelta(minutes=28, seconds=30))
        page.clock.fast_forward("28:30")
        dialog.wait_for(state="visible")
        assert "You’re about to be signed out" in dialog.inner_text()
        assert "1 minute" in dialog.locator("[data-cc-countdown]").first.inner_text()
        extend = page.get_by_role("button", name="Extend my session")
        assert extend.evaluate("button => document.activeElement === button")
        if page.evaluate("typeof axe !== 'undefined'"):
            results = page.evaluate(
                "() => axe.run('dialog', {runOnly: {type: 'tag', values: "
                "['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa']}})"
            )
            assert results["violations"] == [], results["violations"]

        extend.click()
        dialog.wait_for(state="hidden")

        # The server counts from the extension: 29 more minutes are still signed in.
        traveller.shift(dt.timedelta(minutes=29))
        response = page.goto(f"{live_server.url}/")
        assert response is not None and response.status == 200
        assert page.url == f"{live_server.url}/"
    assert page.errors == []  # no script errors, and no content security policy violations
