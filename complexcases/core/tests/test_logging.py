"""No personal data in log output: the redaction filter, its place in LOGGING, and a full
request cycle whose captured log output holds none of a person's CRN, name or date of birth."""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import path, reverse

from complexcases.core.logging import RedactPersonalDataFilter, redact
from complexcases.core.tests.urls import urlpatterns as core_test_urlpatterns
from complexcases.people.tests.factories import PersonFactory, UserFactory

PASSWORD = "correct horse battery staple"
CRN = "Q804217"
FORENAME = "Ottoline"
SURNAME = "Quarrendon-Vesey"
DATE_OF_BIRTH = dt.date(1971, 2, 3)

view_logger = logging.getLogger("complexcases.tests.careless_view")


def careless_view(request, crn):
    """A view written carelessly: it logs identifiers and fails with them in its message."""
    view_logger.warning("Opening case %s (born %s) for %s", crn, DATE_OF_BIRTH, request.GET)
    raise ValueError(f"Could not build the page for {FORENAME} {SURNAME}, {crn}, {DATE_OF_BIRTH}")


urlpatterns = [
    path("people/<str:crn>/careless/", careless_view),  # first, ahead of any /people/ route
    *core_test_urlpatterns,
]


# --- The filter --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("Opened X123456 today", "X123456"),
        ("crn=X123456;", "X123456"),
        ("born 1980-12-31", "1980-12-31"),
        ("mail pp.tester@example.justice.invalid now", "pp.tester@example.justice.invalid"),
        ("GET /people/A000001/referrals/ done", "A000001"),
        ("Not Found: /people/some-slug/notes/", "some-slug"),
    ],
)
def test_identifiers_are_redacted(text, leaked):
    redacted = redact(text)
    assert leaked not in redacted
    assert "[redacted]" in redacted


def test_ordinary_text_is_kept():
    text = "Screening run 12 finished: 8123 people in 4.2 seconds"
    assert redact(text) == text


def test_request_logs_lose_their_query_strings():
    message = '"GET /lists/?q=Ottoline+Quarrendon HTTP/1.1" 200 1234'
    redacted = redact(message, request_log=True)
    assert "Ottoline" not in redacted
    assert "/lists/?[redacted]" in redacted


def test_logged_query_dicts_and_query_strings_are_redacted():
    message = (
        "params <QueryDict: {'q': ['Ottoline Quarrendon']}> from /lists/?pdu=N07&name=Ottoline"
    )
    redacted = redact(message)
    assert "Ottoline" not in redacted
    assert "<QueryDict: [redacted]>" in redacted
    assert "/lists/?[redacted]" in redacted


def _record(name: str, msg: str, args: tuple = (), exc_info=None) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)


def test_the_filter_rewrites_the_formatted_message_and_keeps_the_record():
    record = _record("complexcases.people", "Imported %s born %s", ("X654321", "1990-01-01"))
    assert RedactPersonalDataFilter().filter(record) is True
    output = logging.Formatter("%(message)s").format(record)
    assert output == "Imported [redacted] born [redacted]"


def test_the_filter_withholds_exception_messages_but_keeps_the_stack():
    try:
        raise KeyError(f"{FORENAME} {SURNAME}")
    except KeyError:
        import sys

        record = _record("django.request", "Internal Server Error: %s", ("/x/",), sys.exc_info())
    RedactPersonalDataFilter().filter(record)
    output = logging.Formatter("%(message)s").format(record)
    assert FORENAME not in output and SURNAME not in output
    assert "Traceback (most recent call last)" in output
    assert "KeyError: [message withheld]" in output
    assert "test_the_filter_withholds_exception_messages_but_keeps_the_stack" in output


def test_the_query_string_rule_applies_to_django_server_records():
    record = _record("django.server", '"%s" %s %s', ("GET /audit/?crn=X111111 HTTP/1.1", 200, 9))
    RedactPersonalDataFilter().filter(record)
    assert record.getMessage() == '"GET /audit/?[redacted] HTTP/1.1" 200 9'


# --- Its place in the configuration ------------------------------------------------------------


def test_every_configured_handler_carries_the_filter():
    config: dict[str, Any] = settings.LOGGING
    filter_names = {
        name
        for name, spec in config["filters"].items()
        if spec.get("()") == "complexcases.core.logging.RedactPersonalDataFilter"
    }
    assert filter_names
    for name, handler in config["handlers"].items():
        assert filter_names & set(handler.get("filters", [])), name


def _live_handlers() -> list[logging.Handler]:
    names = ["", "django", "django.request", "django.server", "django.security", "django.db"]
    handlers = []
    for name in names:
        logger = logging.getLogger(name)
        handlers.extend(logger.handlers)
    return handlers


def test_every_handler_that_django_output_reaches_carries_the_filter():
    # Django's default handlers (console, django.server, mail_admins) are replaced, not kept.
    configured = [h for h in _live_handlers() if not type(h).__module__.startswith("_pytest")]
    assert configured
    for handler in configured:
        assert any(isinstance(f, RedactPersonalDataFilter) for f in handler.filters), handler
    assert logging.getLogger("django.db.backends").getEffectiveLevel() >= logging.INFO


# --- A full request cycle ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_request_cycle_logs_no_personal_data(caplog):
    PersonFactory(crn=CRN, forename=FORENAME, surname=SURNAME, date_of_birth=DATE_OF_BIRTH)
    UserFactory(username="pp.logging")
    configured = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactPersonalDataFilter) for f in h.filters)
    ]
    assert configured, "the root logger has no handler with the redaction filter"
    streams = [io.StringIO() for _ in configured]
    previous = [h.setStream(s) for h, s in zip(configured, streams, strict=True)]  # type: ignore[attr-defined]
    caplog.handler.addFilter(RedactPersonalDataFilter())
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    try:
        client = Client(raise_request_exception=False)
        client.post(reverse("login"), {"username": "pp.logging", "password": "wrong " + CRN})
        client.post(reverse("login"), {"username": "pp.logging", "password": PASSWORD})
        client.get(f"/people/{CRN}/", {"name": f"{FORENAME} {SURNAME}", "dob": str(DATE_OF_BIRTH)})
        client.get(f"/no-such-page/{CRN}/{DATE_OF_BIRTH}/")
        failed = client.get(f"/people/{CRN}/careless/", {"q": SURNAME})
        client.post(reverse("logout"))
    finally:
        for handler, stream in zip(configured, previous, strict=True):
            handler.setStream(stream)  # type: ignore[attr-defined]

    assert failed.status_code == 500
    outputs = [s.getvalue() for s in streams] + [caplog.text]
    outputs += [caplog.handler.format(record) for record in caplog.records]
    everything = "\n".join(outputs)
    # The cycle was logged (so the test can fail) ...
    assert "Not Found" in everything
    assert "Internal Server Error" in everything
    assert "Opening case" in everything
    assert "[message withheld]" in everything
    # ... and none of it names the person.
    for secret in (CRN, FORENAME, SURNAME, str(DATE_OF_BIRTH), DATE_OF_BIRTH.strftime("%d/%m/%Y")):
        assert secret not in everything, secret
