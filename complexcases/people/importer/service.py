"""import_extract: make the stored case data equal to a schema-1 extract, all or nothing.

How it stays fast and small at national volume (250,000 people, ~2 million rows):
- each file is read row by row; cells are checked as they stream past and good rows go straight
  into a temporary staging table (COPY on PostgreSQL, executemany on SQLite);
- only sets of keys are held in Python (CRN -> line, later CRN -> person id; staff, team, PDU codes;
  assessment ids; CRN + event number), for references and duplicates;
- once a file is staged and nothing is wrong so far, set-based SQL makes the stored table equal to it
  (insert where absent, update where different, delete or flag where absent from the snapshot);
- everything runs in one transaction: any problem anywhere rolls back every write, and the problems
  are raised together as ExtractRefused.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from complexcases.accounts.models import Pdu, Region, Staff, Team
from complexcases.accounts.services import ProvisionReport, accounts_provision_from_staff
from complexcases.core import clock
from complexcases.core.audit import audit_record
from complexcases.people.importer import apply
from complexcases.people.importer.problems import NOT_APPLICABLE, ProblemList
from complexcases.people.importer.reader import BAD, NOT_UTF8, CsvFile, Progress
from complexcases.people.importer.schema import (
    ASSESSMENTS,
    LIMITED_ACCESS,
    PDUS,
    PEOPLE,
    REGISTRATIONS,
    SCHEMA_VERSION,
    SENTENCES,
    STAFF,
    TEAMS,
    Bad,
    Column,
    FileSpec,
    check_crn,
    valid_date,
)
from complexcases.people.importer.source import ExtractSource, open_source
from complexcases.people.importer.staging import Columns, Staging
from complexcases.people.models import (
    Assessment,
    ExtractImport,
    LimitedAccess,
    Person,
    Registration,
    Sentence,
)

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
_MANIFEST_MAX_BYTES = 64 * 1024

_PDU_STAGE: Columns = [
    ("region_code", "text"),
    ("region_name", "text"),
    ("pdu_code", "text"),
    ("pdu_name", "text"),
]
_TEAM_STAGE: Columns = [("team_code", "text"), ("team_name", "text"), ("pdu_code", "text")]
_STAFF_STAGE: Columns = [
    ("staff_code", "text"),
    ("forename", "text"),
    ("surname", "text"),
    ("email", "text"),
    ("grade", "text"),
    ("team_code", "text"),
    ("username", "text"),
]
_PERSON_STAGE: Columns = [
    ("crn", "text"),
    ("forename", "text"),
    ("surname", "text"),
    ("date_of_birth", "date"),
    ("gender", "text"),
    ("gender_identity_differs", "bool"),
    ("pdu_id", "bigint"),
    ("team_id", "bigint"),
    ("offender_manager_id", "bigint"),
    ("in_custody", "bool"),
    ("expected_release_date", "date"),
]
_REGISTRATION_STAGE: Columns = [
    ("person_id", "bigint"),
    ("register_type_code", "text"),
    ("register_level_code", "text"),
    ("register_category_code", "text"),
    ("registration_date", "date"),
    ("deregistration_date", "date"),
    ("line", "int"),
]
_ASSESSMENT_STAGE: Columns = [
    ("person_id", "bigint"),
    ("assessment_id", "text"),
    ("assessment_type", "text"),
    ("status", "text"),
    ("completed_date", "date"),
    ("rosh_overall", "text"),
    ("q4_8", "int"),
    ("q10_2", "int"),
    ("q10_5", "text"),
    ("q10_6", "int"),
    ("r3_1", "text"),
    ("r3_2", "text"),
    ("drug_score", "int"),
    ("alcohol_score", "int"),
    ("opd_result", "text"),
    ("opd_override", "bool"),
]
_SENTENCE_STAGE: Columns = [
    ("person_id", "bigint"),
    ("event_number", "text"),
    ("sentence_type", "text"),
    ("sentence_date", "date"),
    ("active", "bool"),
]
_LIMITED_ACCESS_STAGE: Columns = [
    ("person_id", "bigint"),
    ("username", "text"),
    ("kind", "text"),
    ("start_date", "date"),
    ("end_date", "date"),
    ("line", "int"),
]


@dataclass(frozen=True)
class ImportResult:
    record: ExtractImport
    changed: bool
    changes: dict[str, dict[str, int]]
    warnings: list[str]
    row_counts: dict[str, int] = field(default_factory=dict)
    provisioning: ProvisionReport | None = None


def import_extract(path: Path, *, actor: str, progress: Progress | None = None) -> ImportResult:
    """Import the extract at PATH (a directory, or a .zip of one) so that the stored case data
    equals it, and record the import.

    All or nothing: on any problem nothing is written (no ExtractImport row either) and
    ExtractRefused is raised with the problems. Re-importing the same extract changes nothing and
    is recorded with outcome no_changes. `progress(file, rows_read)` is called every 50,000 rows.
    For operators (the import_extract command) and the demo set-up; not for web requests.
    """
    started_at = clock.now()
    path = Path(path)
    problems = ProblemList()
    warnings: list[str] = []
    source = open_source(path, problems, warnings)
    if source is None:
        raise problems.refusal()
    with source, ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract-checksum") as pool:
        # The checksum reads the files a second time, alongside the import, on the other core.
        checksum: Future[str] | None = pool.submit(source.checksum) if source.complete else None
        with transaction.atomic():
            run = _Run(source, problems, warnings, progress)
            run.execute()
            if problems:
                if checksum is not None:
                    checksum.cancel()
                raise problems.refusal()
            assert checksum is not None  # every file is there, or there would be problems
            changed = any(count for table in run.changes.values() for count in table.values())
            record = ExtractImport.objects.create(
                started_at=started_at,
                finished_at=clock.now(),
                source_name=source.name[:255],
                extract_date=dt.date.fromisoformat(run.extract_date or ""),
                schema_version=SCHEMA_VERSION,
                checksum=checksum.result(),
                run_by=actor[:150],
                outcome=ExtractImport.Outcome.APPLIED
                if changed
                else ExtractImport.Outcome.NO_CHANGES,
                row_counts=run.row_counts,
                changes=run.changes,
                warnings=warnings,
            )
            # Accounts follow staff.csv; in the same transaction, so a failure leaves nothing.
            provisioning = accounts_provision_from_staff(actor=actor)
            audit_record(
                actor=actor,
                action="import",
                object_type="extract",
                object_id=str(record.pk),
                details={
                    "outcome": record.outcome,
                    "checksum": record.checksum,
                    "row_counts": record.row_counts,
                    "accounts": provisioning.summary(),
                },
            )
    # Counts only: no identifiers or other personal data in the log.
    logger.info(
        "extract import %s: %s, %s rows read, changes %s",
        record.pk,
        record.outcome,
        sum(record.row_counts.values()),
        {table: counts for table, counts in record.changes.items() if any(counts.values())},
    )
    return ImportResult(
        record=record,
        changed=changed,
        changes=run.changes,
        warnings=warnings,
        row_counts=run.row_counts,
        provisioning=provisioning,
    )


class _Run:
    """One import: reads the files in order, staging and applying each while nothing is wrong."""

    def __init__(
        self,
        source: ExtractSource,
        problems: ProblemList,
        warnings: list[str],
        progress: Progress | None,
    ) -> None:
        self.source = source
        self.problems = problems
        self.warnings = warnings
        self.progress = progress
        self.extract_date: str | None = None
        self.row_counts: dict[str, int] = {}
        self.readable: dict[str, bool] = {}
        self.changes: dict[str, dict[str, int]] = {}
        self.staging = Staging(connection)
        # Keys seen so far, for duplicates and references. Values are the line a key was first
        # seen on (for the message), except `people`, which maps CRN -> person id once applied.
        self.pdus: dict[str, int] = {}
        self.regions: dict[str, tuple[str, int]] = {}
        self.teams: dict[str, tuple[str, int]] = {}  # team code -> (PDU code, line)
        self.staff: dict[str, int] = {}
        self.people: dict[str, int] = {}
        self.ids: dict[str, dict[str, int]] = {}
        self.staged: dict[str, str] = {}  # staging table of each file, by short name

    @property
    def applying(self) -> bool:
        """Whether to keep writing: once anything is wrong, the rest is only checked."""
        return not self.problems

    def problem(self, file: str, line: int, column: str, value: str, reason: str) -> None:
        self.problems.add(file, line, column, value, reason)

    def execute(self) -> None:
        self.staging.begin()
        try:
            self.read_all()
        finally:
            self.staging.end()

    def read_all(self) -> None:
        tables = _tables()
        # Before any write: PostgreSQL cannot alter a table with checks still pending.
        self.staging.suspend_foreign_keys([tables[name] for name in ("person", *_CHILD_TABLES)])
        self.read_manifest()
        self.stage(PDUS, "pdu", _PDU_STAGE, self.check_pdus)
        self.stage(TEAMS, "team", _TEAM_STAGE, self.check_teams)
        self.stage(STAFF, "staff", _STAFF_STAGE, self.check_staff)
        if self.applying:
            self.apply_organisation()
        self.stage(PEOPLE, "person", _PERSON_STAGE, self.check_people)
        if self.applying:
            self.apply_people()
        for spec, name, columns in (
            (REGISTRATIONS, "registration", _REGISTRATION_STAGE),
            (ASSESSMENTS, "assessment", _ASSESSMENT_STAGE),
            (SENTENCES, "sentence", _SENTENCE_STAGE),
            (LIMITED_ACCESS, "limited_access", _LIMITED_ACCESS_STAGE),
        ):
            self.stage(spec, name, columns, self.check_children, self.person_column())
            if self.applying:
                self.apply_child(name)
        if self.applying:
            self.staging.restore_foreign_keys()
            self.staging.drop_all()

    # -- the manifest ------------------------------------------------------------------------

    def read_manifest(self) -> None:
        if not self.source.has(MANIFEST):
            return
        with self.source.open(MANIFEST) as stream:
            raw = stream.read(_MANIFEST_MAX_BYTES + 1)
        if len(raw) > _MANIFEST_MAX_BYTES:
            self.problem(MANIFEST, 1, NOT_APPLICABLE, NOT_APPLICABLE, "too large for a manifest")
            return
        try:
            manifest = json.loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            self.problem(MANIFEST, 1, NOT_APPLICABLE, NOT_APPLICABLE, NOT_UTF8)
            return
        except ValueError as error:
            self.problem(MANIFEST, 1, NOT_APPLICABLE, NOT_APPLICABLE, f"not valid JSON ({error})")
            return
        if not isinstance(manifest, dict):
            self.problem(MANIFEST, 1, NOT_APPLICABLE, NOT_APPLICABLE, "not a JSON object")
            return
        if "schema_version" not in manifest:
            self.problem(MANIFEST, 1, "schema_version", NOT_APPLICABLE, "required value is missing")
        else:
            version = manifest["schema_version"]
            if type(version) is not int or version != SCHEMA_VERSION:
                self.problem(
                    MANIFEST,
                    1,
                    "schema_version",
                    json.dumps(version),
                    f"unsupported schema version: this service reads schema {SCHEMA_VERSION}",
                )
        extract_date = manifest.get("extract_date")
        if extract_date is None:
            self.problem(MANIFEST, 1, "extract_date", NOT_APPLICABLE, "required value is missing")
        elif not isinstance(extract_date, str) or not valid_date(extract_date):
            self.problem(
                MANIFEST,
                1,
                "extract_date",
                str(extract_date),
                "not a real date in the form YYYY-MM-DD",
            )
        else:
            self.extract_date = extract_date
            self.warn_if_older(extract_date)

    def warn_if_older(self, extract_date: str) -> None:
        latest = (
            ExtractImport.objects.exclude(extract_date=None)
            .order_by("-extract_date")
            .values_list("extract_date", flat=True)
            .first()
        )
        if latest is not None and extract_date < latest.isoformat():
            self.warnings.append(
                f"{MANIFEST}: extract_date {extract_date} is older than the latest imported"
                f" extract ({latest.isoformat()})"
            )

    # -- reading and staging -------------------------------------------------------------------

    def stage(
        self,
        spec: FileSpec,
        name: str,
        columns: Columns,
        check: Any,
        replace: Column | None = None,
    ) -> None:
        """Read one file, checking every row; stage the good rows while nothing is wrong."""
        table = self.staged[name] = self.staging.create(name, columns)
        file = CsvFile(self.source, spec, self.problems, self.warnings, self.progress, replace)
        rows = check(file)
        if self.applying:
            self.staging.load(table, columns, rows)
        for _ in rows:  # anything left once a problem stopped the staging: still check it
            pass
        self.row_counts[spec.name] = file.row_count
        self.readable[spec.name] = file.readable

    def known(self, file: str) -> bool:
        """Whether references into FILE can be checked (it was there and read to the end)."""
        return self.readable.get(file, False)

    def duplicate(self, file: str, line: int, column: str, value: str, first: int) -> None:
        self.problem(file, line, column, value, f"duplicate {column}: first on line {first}")

    def check_pdus(self, file: CsvFile) -> Iterator[list[Any]]:
        name = file.name
        for line, values, ok in file.rows():
            region_code, region_name, pdu_code, _ = values
            if pdu_code is not BAD:
                first = self.pdus.setdefault(pdu_code, line)
                if first != line:
                    self.duplicate(name, line, "pdu_code", pdu_code, first)
                    ok = False
            if region_code is not BAD and region_name is not BAD:
                named, named_line = self.regions.setdefault(region_code, (region_name, line))
                if named != region_name:
                    self.problem(
                        name,
                        line,
                        "region_name",
                        region_name,
                        f"region {region_code} has another name on line {named_line}",
                    )
                    ok = False
            if ok:
                yield values

    def check_teams(self, file: CsvFile) -> Iterator[list[Any]]:
        name, check_pdu = file.name, self.known(PDUS.name)
        for line, values, ok in file.rows():
            team_code, _, pdu_code = values
            if pdu_code is not BAD and check_pdu and pdu_code not in self.pdus:
                self.problem(name, line, "pdu_code", pdu_code, "unknown PDU: not in pdus.csv")
                ok = False
            if team_code is not BAD:
                first = self.teams.setdefault(team_code, (pdu_code, line))[1]
                if first != line:
                    self.duplicate(name, line, "team_code", team_code, first)
                    ok = False
            if ok:
                yield values

    def check_staff(self, file: CsvFile) -> Iterator[list[Any]]:
        name, check_team = file.name, self.known(TEAMS.name)
        for line, values, ok in file.rows():
            staff_code, team_code = values[0], values[5]
            if team_code is not BAD and check_team and team_code not in self.teams:
                self.problem(name, line, "team_code", team_code, "unknown team: not in teams.csv")
                ok = False
            if staff_code is not BAD:
                first = self.staff.setdefault(staff_code, line)
                if first != line:
                    self.duplicate(name, line, "staff_code", staff_code, first)
                    ok = False
            if ok:
                yield values

    def check_people(self, file: CsvFile) -> Iterator[list[Any]]:
        name = file.name
        check_pdu, check_team, check_staff = (
            self.known(PDUS.name),
            self.known(TEAMS.name),
            self.known(STAFF.name),
        )
        pdus, teams, staff, people = self.pdus, self.teams, self.staff, self.people
        pdu_ids, team_ids, staff_ids = (self.ids.get(kind, {}) for kind in ("pdu", "team", "staff"))
        applying = self.applying  # the ids above exist only if the organisation was applied
        for line, values, ok in file.rows():
            crn, pdu_code, team_code, staff_code = values[0], values[6], values[7], values[8]
            if crn is not BAD:
                first = people.setdefault(crn, line)
                if first != line:
                    self.duplicate(name, line, "crn", crn, first)
                    ok = False
            if pdu_code is not BAD and check_pdu and pdu_code not in pdus:
                self.problem(name, line, "pdu_code", pdu_code, "unknown PDU: not in pdus.csv")
                ok = False
                pdu_code = BAD
            if team_code is not BAD and check_team:
                team = teams.get(team_code)
                if team is None:
                    self.problem(
                        name, line, "team_code", team_code, "unknown team: not in teams.csv"
                    )
                    ok = False
                elif pdu_code is not BAD and team[0] is not BAD and team[0] != pdu_code:
                    self.problem(
                        name,
                        line,
                        "team_code",
                        team_code,
                        f"team belongs to PDU {team[0]}, not the person's PDU {pdu_code}",
                    )
                    ok = False
            if staff_code is not BAD and check_staff and staff_code not in staff:
                self.problem(
                    name,
                    line,
                    "offender_manager_staff_code",
                    staff_code,
                    "unknown staff: not in staff.csv",
                )
                ok = False
            if ok and applying:
                values[6] = pdu_ids[pdu_code]
                values[7] = team_ids[team_code]
                values[8] = staff_ids[staff_code]
                yield values

    def person_column(self) -> Column | None:
        """The crn column of the files about people: a known CRN becomes the person's id (or, when
        nothing is being written, the line the person is on) in one dict lookup."""
        if not self.known(PEOPLE.name):
            return None  # people.csv is unusable (reported): only check the CRNs' form
        people = self.people

        def check(value: str) -> int:
            check_crn(value)
            try:
                return people[value]
            except KeyError:
                raise Bad("unknown CRN: not in people.csv") from None

        return Column("crn", check, people.__getitem__)

    def check_children(self, file: CsvFile) -> Iterator[list[Any]]:
        """Registrations, assessments, sentences, limited access. The reader has already turned
        each CRN into a person (see person_column); here assessment ids and (person, event
        number) must be unique."""
        name = file.name
        assessments, sentences = name == ASSESSMENTS.name, name == SENTENCES.name
        numbered = name in (REGISTRATIONS.name, LIMITED_ACCESS.name)
        keys: dict[Any, int] = {}
        for line, values, ok in file.rows():
            key: Any = None
            if assessments and values[1] is not BAD:
                key, column = values[1], "assessment_id"
            elif sentences and values[1] is not BAD and values[0] is not BAD:
                key, column = (values[0], values[1]), "event_number"
            if key is not None:
                first = keys.setdefault(key, line)
                if first != line:
                    self.duplicate(name, line, column, values[1], first)
                    ok = False
            if ok:
                if numbered:
                    values.append(line)  # orders identical rows (see apply.sync_rows)
                yield values

    # -- applying ------------------------------------------------------------------------------

    def apply_organisation(self) -> None:
        staging, tables = self.staging, _tables()
        pdu_stage = self.staged["pdu"]
        region_stage = staging.create_as(
            "region_wanted",
            f"SELECT region_code AS code, MIN(region_name) AS name FROM {pdu_stage} GROUP BY region_code",
        )
        self.changes["regions"] = _without_removed(
            apply.sync_keyed(
                staging,
                apply.Keyed(tables["region"], region_stage, ("code",), apply.columns("name")),
                absent="keep",
            )
        )
        wanted = staging.create_as(
            "pdu_wanted",
            f"SELECT s.pdu_code AS code, s.pdu_name AS name, r.id AS region_id FROM {pdu_stage} AS s "
            f"JOIN {tables['region']} AS r ON r.code = s.region_code",
        )
        self.changes["pdus"] = _without_removed(
            apply.sync_keyed(
                staging,
                apply.Keyed(tables["pdu"], wanted, ("code",), apply.columns("name", "region_id")),
                absent="keep",
            )
        )
        wanted = staging.create_as(
            "team_wanted",
            f"SELECT s.team_code AS code, s.team_name AS name, p.id AS pdu_id "
            f"FROM {self.staged['team']} AS s JOIN {tables['pdu']} AS p ON p.code = s.pdu_code",
        )
        self.changes["teams"] = _without_removed(
            apply.sync_keyed(
                staging,
                apply.Keyed(tables["team"], wanted, ("code",), apply.columns("name", "pdu_id")),
                absent="keep",
            )
        )
        wanted = staging.create_as(
            "staff_wanted",
            "SELECT s.staff_code, s.forename, s.surname, s.email, s.grade, t.id AS team_id, "
            f"s.username FROM {self.staged['staff']} AS s "
            f"JOIN {tables['team']} AS t ON t.code = s.team_code",
        )
        counts = apply.sync_keyed(
            staging,
            apply.Keyed(
                tables["staff"],
                wanted,
                ("staff_code",),
                (
                    *apply.columns("forename", "surname", "email", "grade", "team_id", "username"),
                    ("in_extract", "TRUE"),
                ),
            ),
            absent="in_extract",
        )
        self.changes["staff"] = _renamed(counts, "not_in_extract")
        with connection.cursor() as cursor:
            for kind, sql in (
                ("pdu", f"SELECT code, id FROM {tables['pdu']}"),
                ("team", f"SELECT code, id FROM {tables['team']}"),
                ("staff", f"SELECT staff_code, id FROM {tables['staff']}"),
            ):
                cursor.execute(sql)
                self.ids[kind] = dict(cursor.fetchall())

    def apply_people(self) -> None:
        staging, tables = self.staging, _tables()
        stage = self.staged["person"]
        counts = apply.sync_keyed(
            staging,
            apply.Keyed(
                tables["person"],
                stage,
                ("crn",),
                (
                    *apply.columns(*(column for column, _ in _PERSON_STAGE[1:])),
                    ("on_caseload", "TRUE"),
                ),
            ),
            absent="on_caseload",
        )
        self.changes["people"] = _renamed(counts, "off_caseload")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT p.crn, p.id FROM {tables['person']} AS p JOIN {stage} AS s ON s.crn = p.crn"
            )
            self.people = dict(cursor.fetchall())

    def apply_child(self, name: str) -> None:
        staging, tables = self.staging, _tables()
        stage = self.staged[name]
        if name == "registration":
            self.changes["registrations"] = _without_updated(
                apply.sync_rows(
                    staging,
                    name=name,
                    table=tables[name],
                    stage=stage,
                    required=(  # the order of Registration's index
                        "person_id",
                        "register_type_code",
                        "registration_date",
                        "register_level_code",
                        "register_category_code",
                    ),
                    optional=("deregistration_date",),
                )
            )
        elif name == "limited_access":
            self.changes["limited_access"] = _without_updated(
                apply.sync_rows(
                    staging,
                    name=name,
                    table=tables[name],
                    stage=stage,
                    required=("person_id", "kind", "username"),
                    optional=("start_date", "end_date"),
                )
            )
        elif name == "assessment":
            self.changes["assessments"] = apply.sync_keyed(
                staging,
                apply.Keyed(
                    tables[name],
                    stage,
                    ("assessment_id",),
                    apply.columns("person_id", *(column for column, _ in _ASSESSMENT_STAGE[2:])),
                ),
                absent="delete",
            )
        else:
            self.changes["sentences"] = apply.sync_keyed(
                staging,
                apply.Keyed(
                    tables[name],
                    stage,
                    ("person_id", "event_number"),
                    apply.columns("sentence_type", "sentence_date", "active"),
                ),
                absent="delete",
            )


_CHILD_TABLES = ("registration", "assessment", "sentence", "limited_access")


def _tables() -> dict[str, str]:
    return {
        "region": Region._meta.db_table,
        "pdu": Pdu._meta.db_table,
        "team": Team._meta.db_table,
        "staff": Staff._meta.db_table,
        "person": Person._meta.db_table,
        "registration": Registration._meta.db_table,
        "assessment": Assessment._meta.db_table,
        "sentence": Sentence._meta.db_table,
        "limited_access": LimitedAccess._meta.db_table,
    }


def _without_removed(counts: dict[str, int]) -> dict[str, int]:
    """Regions, PDUs and teams absent from a snapshot are kept as they are: nothing is removed."""
    return {"added": counts["added"], "updated": counts["updated"]}


def _without_updated(counts: dict[str, int]) -> dict[str, int]:
    """Rows without a natural key are only ever added or removed."""
    return {"added": counts["added"], "removed": counts["removed"]}


def _renamed(counts: dict[str, int], removed_as: str) -> dict[str, int]:
    return {"added": counts["added"], "updated": counts["updated"], removed_as: counts["removed"]}


__all__ = ["ImportResult", "import_extract"]
