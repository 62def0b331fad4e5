"""The audit trail: what is recorded, that it cannot be altered, that it fails closed, and the
search and export pages ("who looked at this case?")."""

from __future__ import annotations

import csv
import io
from typing import Any
from unittest import mock

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.management import call_command
from django.db import DatabaseError, OperationalError, connection, transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from complexcases.accounts.models import User, UserRole
from complexcases.core.audit import (
    AuditUnavailable,
    audit_record,
    audited_read,
    audits_read,
    can_search_audit,
)
from complexcases.core.models import AuditEvent, AuditTrailIsAppendOnly
from complexcases.people.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("complexcases.core.tests.urls")]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def practitioner():
    return UserFactory(username="pp.tester")


@pytest.fixture
def auditor():
    user: Any = UserFactory(username="audit.admin")
    UserRole.objects.create(
        user=user, role="admin", granted_by="test", granted_at=timezone.now(), source="manual"
    )
    return user


def _request(user=None, *, ip="10.1.2.3", agent="TestBrowser/1.0"):
    request = RequestFactory().get("/people/X100001/", REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    request.request_id = "req-0001"  # type: ignore[attr-defined]
    if user is not None:
        request.user = user
    return request


# --- What is recorded ------------------------------------------------------------------------


def test_a_view_records_who_what_when_and_from_where(practitioner):
    request = _request(practitioner)

    event = audit_record(
        actor=practitioner,
        action="view",
        object_type="person",
        object_id="X100001",
        person_crn="X100001",
        request=request,
    )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.action == "view"
    assert stored.outcome == "ok"
    assert stored.actor_user_id == practitioner.pk
    assert stored.actor_username == "pp.tester"
    assert stored.person_crn == "X100001"
    assert (stored.object_type, stored.object_id) == ("person", "X100001")
    assert stored.ip_address == "10.1.2.3"
    assert stored.user_agent == "TestBrowser/1.0"
    assert stored.request_id == "req-0001"
    assert stored.occurred_at.tzinfo is not None


def test_the_who_survives_the_account_being_renamed_and_removed(practitioner):
    event = audit_record(actor=practitioner, action="view", object_type="person")
    practitioner.username = "renamed"
    practitioner.save()
    practitioner.delete()

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_username == "pp.tester"


def test_an_export_records_its_reason_and_recipients(practitioner):
    event = audit_record(
        actor=practitioner,
        action="export",
        object_type="screening_list",
        object_id="2025-03",
        reason="Monthly list for the PDU meeting",
        recipients=["spo.tester", "hos.tester"],
    )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.reason == "Monthly list for the PDU meeting"
    assert stored.recipients == ["spo.tester", "hos.tester"]


def test_a_change_records_before_and_after(practitioner):
    event = audit_record(
        actor=practitioner,
        action="update",
        object_type="referral",
        object_id=42,
        person_crn="X100002",
        before={"status": "received"},
        after={"status": "triage_booked"},
    )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.object_id == "42"
    assert stored.before == {"status": "received"}
    assert stored.after == {"status": "triage_booked"}


def test_a_refusal_is_recorded_with_its_outcome(practitioner):
    event = audit_record(
        actor=practitioner,
        action="refused",
        outcome="refused",
        object_type="person",
        person_crn="X100003",
        details={"reason": "exclusion"},
    )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.outcome) == ("refused", "refused")
    assert stored.details == {"reason": "exclusion"}


def test_a_command_records_its_actor_by_name():
    event = audit_record(actor="import-runner", action="import", object_type="extract")

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_username == "import-runner"
    assert stored.actor_user_id is None


def test_an_unknown_action_is_refused(practitioner):
    with pytest.raises(ValueError):
        audit_record(actor=practitioner, action="peeked")
    assert not AuditEvent.objects.exists()


def test_a_bad_forwarded_address_does_not_stop_the_record(practitioner, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="not-an-address")
    event = audit_record(actor=practitioner, action="view", request=request)
    assert AuditEvent.objects.get(pk=event.pk).ip_address is None


def test_behind_a_trusted_proxy_the_address_the_proxy_saw_is_recorded(practitioner, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.10"
    )
    event = audit_record(actor=practitioner, action="view", request=request)
    assert AuditEvent.objects.get(pk=event.pk).ip_address == "192.0.2.10"


# --- Sign-in, failed sign-in, sign-out (auth signals) -----------------------------------------


def test_a_sign_in_is_recorded_with_the_request_it_came_from(practitioner):
    client = Client(HTTP_USER_AGENT="SignInBrowser/2.0", REMOTE_ADDR="192.0.2.7")

    response = client.post(reverse("login"), {"username": "pp.tester", "password": PASSWORD})

    assert response.status_code == 302
    event = AuditEvent.objects.get(action="sign_in")
    assert event.actor_username == "pp.tester"
    assert event.actor_user_id == practitioner.pk
    assert event.outcome == "ok"
    assert event.ip_address == "192.0.2.7"
    assert event.user_agent == "SignInBrowser/2.0"
    assert event.request_id == response["X-Request-ID"]


def test_a_failed_sign_in_records_the_attempted_username_but_no_password(practitioner):
    client = Client()

    response = client.post(
        reverse("login"), {"username": "pp.tester", "password": "wrong password 123"}
    )

    assert response.status_code == 200  # the form again, with its error
    event = AuditEvent.objects.get(action="sign_in_failed")
    assert event.outcome == "failed"
    assert event.actor_user_id is None
    assert event.actor_username == ""
    assert event.object_id == "pp.tester"
    assert (event.details or {})["attempted_username"] == "pp.tester"
    assert "wrong password 123" not in str(
        AuditEvent.objects.values_list("details", "object_id", "reason", "user_agent")
    )


def test_a_sign_out_is_recorded(practitioner):
    client = Client()
    client.force_login(practitioner)

    client.post(reverse("logout"))

    event = AuditEvent.objects.get(action="sign_out")
    assert event.actor_username == "pp.tester"


def test_a_sign_in_that_cannot_be_audited_does_not_leave_a_session(practitioner):
    client = Client(raise_request_exception=False)
    with mock.patch.object(AuditEvent, "_do_insert", side_effect=OperationalError("down")):
        response = client.post(reverse("login"), {"username": "pp.tester", "password": PASSWORD})

    assert response.status_code == 503
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302  # not signed in


# --- Append-only ------------------------------------------------------------------------------


@pytest.fixture
def event(practitioner):
    return audit_record(
        actor=practitioner, action="view", object_type="person", person_crn="X100009"
    )


def test_an_event_cannot_be_saved_again(event):
    event.action = "delete"
    with pytest.raises(AuditTrailIsAppendOnly):
        event.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.get(pk=event.pk).save(update_fields=["action"])
    assert AuditEvent.objects.get(pk=event.pk).action == "view"


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(AuditTrailIsAppendOnly):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_queryset_refuses_update_and_delete(event):
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="delete")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.bulk_update([event], ["action"])
    assert AuditEvent.objects.get(pk=event.pk).action == "view"


def test_the_database_refuses_a_raw_update(event):
    # Round the application entirely: the trigger (PostgreSQL and SQLite) refuses.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET action = 'delete' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "view"


def test_the_database_refuses_a_raw_delete(event):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_database_still_accepts_new_events(event):
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM core_auditevent")
        (before,) = cursor.fetchone()
    audit_record(actor="someone", action="view")
    assert AuditEvent.objects.count() == before + 1


def test_the_admin_is_read_only(auditor):
    model_admin = admin_site._registry[AuditEvent]
    request = RequestFactory().get("/admin/")
    request.user = User.objects.create_superuser("root", password=PASSWORD)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_an_admin_search_of_the_trail_is_itself_audited(event):
    superuser = User.objects.create_superuser("root", password=PASSWORD)
    client = Client()
    client.force_login(superuser)

    response = client.get(reverse("admin:core_auditevent_changelist"), {"q": "X100009"})

    assert response.status_code == 200
    search = AuditEvent.objects.get(action="audit_search")
    assert search.actor_username == "root"
    assert search.person_crn == "X100009"


# --- Fail closed --------------------------------------------------------------------------------


def _database_down():
    return mock.patch.object(AuditEvent, "_do_insert", side_effect=OperationalError("down"))


def test_audit_record_raises_when_the_record_cannot_be_written(practitioner):
    with _database_down(), pytest.raises(AuditUnavailable):
        audit_record(actor=practitioner, action="view", person_crn="X100004")


def test_an_audited_read_does_not_happen_without_its_record(practitioner):
    reads = []

    with (
        _database_down(),
        pytest.raises(AuditUnavailable),
        audited_read(actor=practitioner, object_type="person", person_crn="X100004"),
    ):
        reads.append("the person's record")

    assert reads == []


def test_an_audited_read_happens_after_its_record(practitioner):
    with audited_read(
        actor=practitioner, object_type="person", object_id="X100004", person_crn="X100004"
    ) as recorded:
        assert AuditEvent.objects.filter(pk=recorded.pk).exists()
        data = "the person's record"
    assert data


def test_a_decorated_selector_returns_no_data_when_the_record_cannot_be_written(practitioner):
    calls = []

    @audits_read(object_type="person")
    def person_get(*, user, crn):
        calls.append(crn)
        return {"crn": crn, "name": "Synthetic Person"}

    with _database_down(), pytest.raises(AuditUnavailable):
        person_get(user=practitioner, crn="X100005")
    assert calls == []

    assert person_get(user=practitioner, crn="X100005")["crn"] == "X100005"
    recorded = AuditEvent.objects.get(person_crn="X100005")
    assert (recorded.action, recorded.actor_username) == ("view", "pp.tester")


def test_a_page_whose_audit_fails_is_refused_with_503_and_shows_no_results(auditor, event):
    client = Client(raise_request_exception=False)
    client.force_login(auditor)

    with _database_down():
        response = client.post(reverse("core:audit_search"), {"crn": "X100009"})

    assert response.status_code == 503
    assert b"X100009" not in response.content


# --- The search page ---------------------------------------------------------------------------


def test_can_search_audit_is_for_active_service_admins_only(practitioner, auditor):
    assert can_search_audit(auditor)
    assert not can_search_audit(practitioner)
    django_staff = UserFactory(username="django.staff", is_staff=True, is_superuser=True)
    assert not can_search_audit(django_staff)  # Django's flags grant nothing here
    auditor.is_active = False
    assert not can_search_audit(auditor)


def test_who_looked_at_this_case(auditor, practitioner):
    audit_record(actor=practitioner, action="view", object_type="person", person_crn="X200001")
    audit_record(actor="colleague", action="view", object_type="person", person_crn="X200001")
    audit_record(actor=practitioner, action="view", object_type="person", person_crn="X200002")
    client = Client()
    client.force_login(auditor)

    response = client.post(reverse("core:audit_search"), {"crn": "x200001"})

    assert response.status_code == 200
    shown = list(response.context["page"].object_list)
    assert {e.person_crn for e in shown} == {"X200001"}
    assert {e.actor_username for e in shown} == {"pp.tester", "colleague"}
    assert b"colleague" in response.content


def test_what_did_this_user_do(auditor, practitioner):
    audit_record(actor=practitioner, action="view", person_crn="X200003")
    audit_record(actor="someone.else", action="view", person_crn="X200003")
    Client().post(reverse("login"), {"username": "pp.tester", "password": "nope nope nope"})
    client = Client()
    client.force_login(auditor)

    response = client.post(reverse("core:audit_search"), {"username": "pp.tester"})

    shown = list(response.context["page"].object_list)
    assert {e.action for e in shown} == {"view", "sign_in_failed"}
    assert all(e.actor_username == "pp.tester" or e.object_id == "pp.tester" for e in shown)


def test_each_search_is_itself_audited(auditor, practitioner):
    audit_record(actor=practitioner, action="view", person_crn="X200004")
    client = Client()
    client.force_login(auditor)

    client.post(reverse("core:audit_search"), {"crn": "X200004"})

    search = AuditEvent.objects.get(action="audit_search")
    assert search.actor_username == "audit.admin"
    assert search.person_crn == "X200004"
    assert (search.details or {})["results"] == 1


def test_the_search_is_bounded_to_200_a_page(auditor, django_assert_max_num_queries):
    AuditEvent.objects.bulk_create(
        [AuditEvent(actor_username="bulk", action="view", person_crn="X200005") for _ in range(230)]
    )
    client = Client()
    client.force_login(auditor)

    with django_assert_max_num_queries(12):
        response = client.post(
            reverse("core:audit_search"), {"crn": "X200005", "per_page": "100000"}
        )

    page = response.context["page"]
    assert len(page.object_list) == 200
    assert page.paginator.count == 230
    # The first search is now in the trail about this CRN too.
    second = client.post(
        reverse("core:audit_search"), {"crn": "X200005", "per_page": "200", "page": "2"}
    )
    assert second.context["page"].paginator.count == 231
    assert len(second.context["page"].object_list) == 31


def test_a_badly_formed_crn_is_an_error_and_not_a_search(auditor):
    client = Client()
    client.force_login(auditor)

    response = client.post(reverse("core:audit_search"), {"crn": "12345"})

    assert b"govuk-error-summary" in response.content
    assert not AuditEvent.objects.filter(action="audit_search").exists()


def test_a_user_who_may_not_search_gets_not_found_and_the_refusal_is_recorded(practitioner):
    client = Client()
    client.force_login(practitioner)

    response = client.post(reverse("core:audit_search"), {"crn": "X200001"})

    assert response.status_code == 404
    refusal = AuditEvent.objects.get(action="refused")
    assert (refusal.actor_username, refusal.outcome) == ("pp.tester", "refused")
    assert not AuditEvent.objects.filter(action="audit_search").exists()


def test_signed_out_users_are_sent_to_sign_in():
    response = Client().get(reverse("core:audit_search"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Export ------------------------------------------------------------------------------------


def test_an_export_needs_a_reason(auditor):
    audit_record(actor="someone", action="view", person_crn="X300001")
    client = Client()
    client.force_login(auditor)

    response = client.post(reverse("core:audit_export"), {"crn": "X300001", "reason": "  "})

    assert response.status_code == 400
    assert b"Enter why you need this export" in response.content
    assert not AuditEvent.objects.filter(action="export").exists()


def test_an_export_is_audited_with_its_reason_and_gives_the_rows(auditor):
    audit_record(actor="someone", action="view", person_crn="X300002", object_type="person")
    audit_record(actor="someone", action="view", person_crn="X300003", object_type="person")
    client = Client()
    client.force_login(auditor)

    response = client.post(
        reverse("core:audit_export"),
        {"crn": "X300002", "reason": "Subject access request 17"},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "X300002" not in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert [row["person_crn"] for row in rows] == ["X300002"]
    export = AuditEvent.objects.get(action="export")
    assert export.reason == "Subject access request 17"
    assert export.person_crn == "X300002"
    assert export.recipients == ["audit.admin"]
    assert (export.details or {})["rows"] == 1


def test_the_export_defuses_spreadsheet_formulas(auditor):
    Client().post(reverse("login"), {"username": "=HYPERLINK(1)", "password": "x"})
    client = Client()
    client.force_login(auditor)

    response = client.post(
        reverse("core:audit_export"), {"username": "=HYPERLINK(1)", "reason": "Check attempts"}
    )

    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert rows and all(not row["object_id"].startswith("=") for row in rows)
    assert rows[0]["object_id"] == "'=HYPERLINK(1)"


def test_an_export_by_someone_who_may_not_search_is_refused(practitioner):
    client = Client()
    client.force_login(practitioner)

    response = client.post(reverse("core:audit_export"), {"crn": "X300002", "reason": "Because"})

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="export").exists()


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_trail_and_leaves_the_database_refusal_in_place():
    # The suite flushes after every transactional test; on SQLite that needs core's flush.
    audit_record(actor="someone", action="view")

    call_command("flush", interactive=False, verbosity=0)

    assert not AuditEvent.objects.exists()
    kept = audit_record(actor="someone", action="view")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [kept.pk])
    assert AuditEvent.objects.filter(pk=kept.pk).exists()
