"""nDelius contacts: queued once per source, exported exactly once, re-exported only on request."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from complexcases.core.models import AuditEvent
from complexcases.notifications import services
from complexcases.notifications.models import DeliusContact, DeliusExportBatch
from complexcases.people.tests.factories import PersonFactory

HEADER = "external_reference,crn,contact_type,contact_date,staff_code,sensitive,notes\n"


def _queue(person: Any, event: str, source_id: Any, **overrides: Any) -> DeliusContact:
    arguments: dict[str, Any] = {
        "person": person,
        "event": event,
        "contact_date": dt.date(2026, 11, 2),
        "staff_code": "S00001",
        "notes": "Reflective conversation held",
        "source_type": event,
        "source_id": source_id,
    }
    arguments.update(overrides)
    with transaction.atomic():
        return services.delius_contact_queue(**arguments)


def _export(tmp_path: Path, name: str, *arguments: str) -> str:
    path = tmp_path / name
    call_command("export_delius_contacts", "--output", str(path), *arguments, stderr=io.StringIO())
    return path.read_text(encoding="utf-8")


@pytest.mark.django_db
def test_queueing_twice_for_the_same_source_returns_the_first_contact() -> None:
    person = PersonFactory()
    first = _queue(person, "reflective_conversation", 7)
    second = _queue(person, "reflective_conversation", "7", notes="something else")
    assert second.pk == first.pk
    assert second.notes == "Reflective conversation held"
    assert DeliusContact.objects.count() == 1
    # Another event for the same source object is another contact.
    other = _queue(person, "triage_booked", 7, source_type="reflective_conversation")
    assert other.pk != first.pk


@pytest.mark.django_db
def test_contact_types_come_from_settings_with_defaults(settings: Any) -> None:
    settings.CC_DELIUS_CONTACT_TYPES = {"triage_booked": "ZZTB"}
    person = PersonFactory()
    booked = _queue(person, "triage_booked", 1)
    conversation = _queue(person, "reflective_conversation", 1)
    outcome = _queue(person, "triage_outcome", 1)
    panel = _queue(person, "panel_outcome", 1)
    assert [c.contact_type for c in (booked, conversation, outcome, panel)] == [
        "ZZTB",
        "CCRC",
        "CCTO",
        "CCPO",
    ]
    assert all(c.sensitive for c in (booked, conversation, outcome, panel))
    references = {c.external_reference for c in (booked, conversation, outcome, panel)}
    assert len(references) == 4 and all(r.startswith("CC-") for r in references)


@pytest.mark.django_db
def test_unknown_events_and_missing_sources_are_refused() -> None:
    person = PersonFactory()
    with pytest.raises(ValueError, match="unknown"):
        _queue(person, "coffee", 1)
    with pytest.raises(ValueError, match="source"):
        _queue(person, "triage_booked", "")


@pytest.mark.django_db
def test_the_database_refuses_a_contact_that_is_not_sensitive() -> None:
    contact = _queue(PersonFactory(), "triage_booked", 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliusContact.objects.filter(pk=contact.pk).update(sensitive=False)


@pytest.mark.django_db
def test_csv_export_is_exact_and_each_contact_is_exported_once(tmp_path: Path) -> None:
    first_person, second_person = PersonFactory(), PersonFactory()
    conversation = _queue(first_person, "reflective_conversation", 1)
    booked = _queue(
        second_person,
        "triage_booked",
        2,
        contact_date=dt.date(2026, 11, 3),
        staff_code="S00002",
        notes='Triage booked, "urgent"\nsecond line',
    )

    first = _export(tmp_path, "first.csv", "--format", "csv")
    assert first == (
        HEADER + f"{conversation.external_reference},{first_person.crn},CCRC,2026-11-02,S00001,Y,"
        "Reflective conversation held\n"
        + f"{booked.external_reference},{second_person.crn},CCTB,2026-11-03,S00002,Y,"
        '"Triage booked, ""urgent""\nsecond line"\n'
    )
    batch = DeliusExportBatch.objects.get()
    assert batch.contact_count == 2
    assert set(DeliusContact.objects.values_list("export_batch", flat=True)) == {batch.pk}

    # Nothing pending: nothing exported again.
    assert _export(tmp_path, "second.csv", "--format", "csv") == HEADER
    assert DeliusExportBatch.objects.count() == 1

    # A new contact goes out in the next batch, alone.
    outcome = _queue(first_person, "triage_outcome", 3, notes="For panel")
    third = _export(tmp_path, "third.csv", "--format", "csv")
    assert third.splitlines()[1:] == [
        f"{outcome.external_reference},{first_person.crn},CCTO,2026-11-02,S00001,Y,For panel"
    ]
    assert DeliusExportBatch.objects.count() == 2


@pytest.mark.django_db
def test_json_export_is_a_list_of_objects_with_the_same_keys(tmp_path: Path) -> None:
    person = PersonFactory()
    contact = _queue(person, "panel_outcome", 9, notes="Actions agreed")
    output = io.StringIO()
    call_command("export_delius_contacts", "--format", "json", stdout=output, stderr=io.StringIO())
    text = output.getvalue()
    rows = json.loads(text)
    assert rows == [
        {
            "external_reference": contact.external_reference,
            "crn": person.crn,
            "contact_type": "CCPO",
            "contact_date": "2026-11-02",
            "staff_code": "S00001",
            "sensitive": "Y",
            "notes": "Actions agreed",
        }
    ]
    assert list(rows[0]) == list(services.EXPORT_COLUMNS)
    assert text.endswith("]\n")
    contact.refresh_from_db()
    assert contact.exported_at is not None


@pytest.mark.django_db
def test_again_re_exports_a_past_batch_explicitly_and_audits_each_disclosure(
    tmp_path: Path,
) -> None:
    person = PersonFactory()
    _queue(person, "reflective_conversation", 1)
    _queue(person, "triage_booked", 1)
    first = _export(tmp_path, "first.csv", "--format", "csv", "--actor", "exporter")
    batch = DeliusExportBatch.objects.get()
    exported_at = set(DeliusContact.objects.values_list("exported_at", flat=True))

    _queue(person, "triage_outcome", 1)  # pending, must not join the old batch
    again = _export(tmp_path, "again.csv", "--format", "csv", "--again", str(batch.pk))
    assert again == first
    assert (
        set(DeliusContact.objects.filter(export_batch=batch).values_list("exported_at", flat=True))
        == exported_at
    )
    assert DeliusContact.objects.filter(exported_at__isnull=True).count() == 1

    events = list(AuditEvent.objects.filter(action="export").order_by("id"))
    assert [(e.details or {}).get("again") for e in events] == [False, True]
    for event in events:
        assert event.details is not None
        assert event.object_type == "delius_contacts"
        assert event.recipients == ["nDelius upload"]
        assert event.details["batch"] == batch.pk
        assert event.details["count"] == 2
    assert events[0].actor_username == "exporter"


@pytest.mark.django_db
def test_when_the_file_cannot_be_written_nothing_is_marked_exported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from complexcases.notifications.management.commands import export_delius_contacts

    _queue(PersonFactory(), "reflective_conversation", 1)

    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(export_delius_contacts, "write_rows", disk_full)
    with pytest.raises(OSError):
        call_command("export_delius_contacts", "--output", str(tmp_path / "x.csv"))
    assert not (tmp_path / "x.csv").exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind
    assert DeliusContact.objects.filter(exported_at__isnull=True).count() == 1
    assert not DeliusExportBatch.objects.exists()
    assert not AuditEvent.objects.filter(action="export").exists()


@pytest.mark.django_db
def test_an_existing_file_or_unknown_batch_is_refused(tmp_path: Path) -> None:
    _queue(PersonFactory(), "reflective_conversation", 1)
    existing = tmp_path / "existing.csv"
    existing.write_text("keep me", encoding="utf-8")
    with pytest.raises(CommandError, match="exists"):
        call_command("export_delius_contacts", "--output", str(existing))
    assert existing.read_text(encoding="utf-8") == "keep me"
    assert DeliusContact.objects.filter(exported_at__isnull=True).count() == 1
    with pytest.raises(CommandError, match="no export batch"):
        call_command("export_delius_contacts", "--again", "999")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_exports_never_take_the_same_contact_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        # Not a missing part: CI runs the suite on PostgreSQL too, where this runs.
        pytest.skip("PostgreSQL only (row locks); runs in the PostgreSQL pass")
    person = PersonFactory()
    for n in range(20):
        _queue(person, "reflective_conversation", n)

    exported: list[list[str]] = []
    errors: list[BaseException] = []

    def export() -> None:
        from django.db import connections

        def write(rows: list[dict[str, str]]) -> None:
            time.sleep(0.2)  # hold the rows while the other export starts
            exported.append([row["external_reference"] for row in rows])

        try:
            services.delius_contacts_export(actor="test", fmt="csv", write=write)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=export) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    everything = [reference for batch in exported for reference in batch]
    assert sorted(everything) == sorted(
        DeliusContact.objects.values_list("external_reference", flat=True)
    )
    assert len(everything) == len(set(everything)) == 20
