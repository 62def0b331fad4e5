"""People on probation and the case data about them, as received in the monthly extract.

The service does not own this data: each import makes it equal to the latest snapshot
(see importer.py). People who leave the snapshot are marked off the caseload, never deleted.
"""

from __future__ import annotations

from django.db import models

from complexcases.accounts.models import Pdu, Staff, Team


class Gender(models.TextChoices):
    MALE = "M", "Male"
    FEMALE = "F", "Female"
    OTHER = "X", "Other"


class Person(models.Model):
    crn = models.CharField("CRN", max_length=7, unique=True)
    forename = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    gender = models.CharField(max_length=1, choices=Gender.choices)
    gender_identity_differs = models.BooleanField(null=True)
    # db_index=False where an index below already starts with the column: a redundant index
    # costs every import of 250,000 people an index insertion per row.
    pdu = models.ForeignKey(Pdu, on_delete=models.PROTECT, related_name="people", db_index=False)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="people")
    offender_manager = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="caseload")
    in_custody = models.BooleanField(default=False)
    expected_release_date = models.DateField(null=True, blank=True)
    on_caseload = models.BooleanField(default=True)

    class Meta:
        ordering = ["surname", "forename"]
        verbose_name_plural = "people"
        indexes = [models.Index(fields=["pdu", "team"])]

    def __str__(self) -> str:
        return self.crn

    @property
    def name(self) -> str:
        return f"{self.forename} {self.surname}"


class Registration(models.Model):
    """An nDelius register entry (RoSH level, mental health, self-harm, MAPPA, ...)."""

    person = models.ForeignKey(  # indexed by people_registration_row_idx
        Person, on_delete=models.CASCADE, related_name="registrations", db_index=False
    )
    register_type_code = models.CharField(max_length=10)
    register_level_code = models.CharField(max_length=10, blank=True)
    register_category_code = models.CharField(max_length=10, blank=True)
    registration_date = models.DateField()
    deregistration_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["registration_date", "id"]
        # The whole row, person first: serves lookups by person and register type, and lets the
        # import compare a snapshot's registrations (no natural key) with index probes alone.
        indexes = [
            models.Index(
                fields=[
                    "person",
                    "register_type_code",
                    "registration_date",
                    "register_level_code",
                    "register_category_code",
                    "deregistration_date",
                ],
                name="people_registration_row_idx",
            )
        ]


class AssessmentType(models.TextChoices):
    LAYER1 = "LAYER1", "Layer 1"
    LAYER3 = "LAYER3", "Layer 3"


class AssessmentStatus(models.TextChoices):
    COMPLETE = "COMPLETE", "Complete"
    LOCKED_INCOMPLETE = "LOCKED_INCOMPLETE", "Locked incomplete"
    OPEN = "OPEN", "Open"


class Assessment(models.Model):
    """An OASys assessment. Answers may be empty (unanswered), stored as null."""

    assessment_id = models.CharField(max_length=20, unique=True)
    person = models.ForeignKey(  # indexed by (person, completed_date)
        Person, on_delete=models.CASCADE, related_name="assessments", db_index=False
    )
    assessment_type = models.CharField(max_length=10, choices=AssessmentType.choices)
    status = models.CharField(max_length=20, choices=AssessmentStatus.choices)
    completed_date = models.DateField(null=True, blank=True)
    rosh_overall = models.CharField(max_length=10, blank=True)
    q4_8 = models.PositiveSmallIntegerField(null=True, blank=True)
    q10_2 = models.PositiveSmallIntegerField(null=True, blank=True)
    q10_5 = models.CharField(max_length=3, blank=True)
    q10_6 = models.PositiveSmallIntegerField(null=True, blank=True)
    r3_1 = models.CharField(max_length=3, blank=True)
    r3_2 = models.CharField(max_length=3, blank=True)
    drug_score = models.PositiveIntegerField(null=True, blank=True)
    alcohol_score = models.PositiveIntegerField(null=True, blank=True)
    opd_result = models.CharField(max_length=12, blank=True)
    opd_override = models.BooleanField(null=True)

    class Meta:
        ordering = ["completed_date", "assessment_id"]
        indexes = [models.Index(fields=["person", "completed_date"])]


class Sentence(models.Model):
    person = models.ForeignKey(  # indexed by uniq_sentence_event
        Person, on_delete=models.CASCADE, related_name="sentences", db_index=False
    )
    event_number = models.CharField(max_length=10)
    sentence_type = models.CharField(max_length=10)
    sentence_date = models.DateField(null=True, blank=True)
    active = models.BooleanField()

    class Meta:
        ordering = ["event_number"]
        constraints = [
            models.UniqueConstraint(fields=["person", "event_number"], name="uniq_sentence_event")
        ]


class LimitedAccessKind(models.TextChoices):
    EXCLUSION = "EXCLUSION", "Exclusion"
    RESTRICTION = "RESTRICTION", "Restriction"


class LimitedAccess(models.Model):
    """An nDelius limited access entry: an exclusion denies the user, a restriction allows only them."""

    person = models.ForeignKey(  # indexed by (person, kind)
        Person, on_delete=models.CASCADE, related_name="limited_access", db_index=False
    )
    username = models.CharField(max_length=150)
    kind = models.CharField(max_length=12, choices=LimitedAccessKind.choices)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "limited access entries"
        indexes = [models.Index(fields=["person", "kind"])]


class ExtractImport(models.Model):
    """A record of one applied import_extract: when, who, what it held and what it changed.

    A refused extract writes nothing, not even this record (the import is all or nothing); its
    problems go to the operator who ran the command.
    """

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied"
        NO_CHANGES = "no_changes", "No changes"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    source_name = models.CharField(max_length=255)
    extract_date = models.DateField(null=True, blank=True)
    schema_version = models.PositiveSmallIntegerField(null=True, blank=True)
    checksum = models.CharField(max_length=64)
    run_by = models.CharField(max_length=150)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    row_counts = models.JSONField(default=dict)  # data rows per file
    changes = models.JSONField(default=dict)  # per table: added / updated / removed (or flagged)
    warnings = models.JSONField(default=list)  # e.g. extra columns that were ignored

    class Meta:
        ordering = ["-started_at"]
