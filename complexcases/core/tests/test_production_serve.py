"""The production configuration serves pages: `collectstatic` with the manifest storage (hashed
names), then gunicorn with `config.settings.production`, a sign-in and pages through it.

Found by the probe (issue 10, F2): the minified GOV.UK and MoJ Frontend files name .map files that
`make assets` did not copy, so `collectstatic` aborted and every page returned 500 under production
settings, while `check --deploy` stayed clean. This test fails if either happens again.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
GUNICORN = Path(sys.executable).with_name("gunicorn")
USERNAME = "smoke.production"
PASSWORD = secrets.token_urlsafe(18)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(var_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "PYTEST", "CC_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{var_dir / 'production.sqlite3'}",
        CC_VAR_DIR=str(var_dir),
    )
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


@dataclass
class Browser:
    """A minimal HTTPS-behind-a-proxy client: the proxy's X-Forwarded-Proto header, and cookies
    kept by hand (the production cookies are Secure, which an HTTP cookie jar would not send)."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        headers = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = "https://127.0.0.1"
            headers["Referer"] = "https://127.0.0.1/sign-in/"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for value in response.headers.get_all("Set-Cookie") or []:
                cookie: SimpleCookie = SimpleCookie()
                cookie.load(value)
                for name, morsel in cookie.items():
                    self.cookies[name] = morsel.value
            return response.status, dict(response.headers.items()), text
        finally:
            connection.close()


@pytest.fixture(scope="module")
def production_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if not GUNICORN.exists():
        pytest.fail(f"gunicorn is not installed beside {sys.executable} (make install)")
    var_dir = tmp_path_factory.mktemp("production")
    env = _env(var_dir)
    _manage(env, "collectstatic", "--noinput")
    assert (var_dir / "staticfiles" / "staticfiles.json").exists(), "no manifest written"
    _manage(env, "migrate", "--noinput")
    _manage(
        env,
        "shell",
        "-c",
        "from complexcases.accounts.models import User; "
        f"User.objects.create_user({USERNAME!r}, password={PASSWORD!r}, first_name='Smoke')",
    )
    port = _free_port()
    server = subprocess.Popen(
        [str(GUNICORN), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"gunicorn exited: {server.stderr.read() if server.stderr else ''}")
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start listening within 60 s")
        yield Browser(port)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_production_serves_the_sign_in_page_with_hashed_assets(production_server: Browser) -> None:
    status, headers, html = production_server.request("GET", "/sign-in/")
    assert status == 200, html[:500]
    assert "Strict-Transport-Security" in headers
    stylesheets = re.findall(r'href="(/static/govuk/govuk-frontend\.min\.[0-9a-f]{12}\.css)"', html)
    assert stylesheets, "the page does not link the hashed GOV.UK Frontend stylesheet"
    status, headers, css = production_server.request("GET", stylesheets[0])
    assert status == 200
    assert "max-age=315360000" in headers.get("Cache-Control", "")
    assert ".govuk-" in css


def test_production_signs_in_and_serves_pages(production_server: Browser) -> None:
    production_server.cookies.clear()
    status, _, html = production_server.request("GET", "/sign-in/")
    assert status == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token, "no CSRF token on the sign-in page"
    status, headers, _ = production_server.request(
        "POST",
        "/sign-in/",
        {"csrfmiddlewaretoken": token.group(1), "username": USERNAME, "password": PASSWORD},
    )
    assert status == 302, "sign-in did not redirect"
    assert "__Host-session" in production_server.cookies
    status, _, html = production_server.request("GET", headers["Location"])
    assert status == 200, html[:500]
    assert "Sign out" in html
    status, _, html = production_server.request("GET", "/no-such-page/")
    assert status == 404
    assert "Page not found" in html
