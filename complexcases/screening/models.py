"""Criteria sets, screening runs and each person's result with its evidence."""

from __future__ import annotations

from django.db import models

from complexcases.accounts.models import Pdu, Team
from complexcases.core.fields import JsonTextField
from complexcases.people.models import Person


class CriteriaSet(models.Model):
    """A versioned criteria set. Its parameters are data; a change makes a new version."""

    code = models.CharField(max_length=30)
    version = models.PositiveIntegerField()
    parameters = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="uniq_criteria_version")
        ]

    def __str__(self) -> str:
        return f"{self.code} version {self.version}"


class ScreeningRun(models.Model):
    """One screening of the stored caseload as of a date. Runs are never rewritten."""

    as_of = models.DateField()
    month = models.CharField(max_length=7, db_index=True)  # YYYY-MM of as_of
    criteria_set = models.ForeignKey(CriteriaSet, on_delete=models.PROTECT)
    parameters = models.JSONField()
    previous_run = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    run_by = models.CharField(max_length=150)
    people_screened = models.PositiveIntegerField(default=0)
    eligible_count = models.PositiveIntegerField(default=0)
    near_miss_count = models.PositiveIntegerField(default=0)
    new_count = models.PositiveIntegerField(default=0)
    continuing_count = models.PositiveIntegerField(default=0)
    left_count = models.PositiveIntegerField(default=0)
    no_current_oasys_count = models.PositiveIntegerField(default=0)
    counts_by_pdu = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at", "-id"]


class Change(models.TextChoices):
    NEW = "new", "New"
    CONTINUING = "continuing", "Continuing"
    LEFT = "left", "Left the list"
    NONE = "", "—"


class ScreeningResult(models.Model):
    """A person's result in a run: criteria met, with the evidence behind each one."""

    # A run writes a row per person on a national caseload, so every index costs: run, PDU and team
    # have no index of their own (run leads the composite indexes below; PDUs and teams are not
    # deleted in practice, and the list pages always filter by run first).
    run = models.ForeignKey(
        ScreeningRun, on_delete=models.CASCADE, related_name="results", db_index=False
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="screening_results")
    pdu = models.ForeignKey(Pdu, on_delete=models.PROTECT, related_name="+", db_index=False)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+", db_index=False)
    on_caseload = models.BooleanField(default=True)
    criteria_count = models.PositiveSmallIntegerField()
    # Met criteria as a bit mask in the criteria set's order (bit 0 = first criterion).
    criteria_mask = models.PositiveIntegerField()
    eligible = models.BooleanField()
    near_miss = models.BooleanField()
    no_current_oasys = models.BooleanField()
    change = models.CharField(max_length=10, choices=Change.choices, blank=True)
    months_on_list = models.PositiveSmallIntegerField(default=0)
    # Text, not jsonb: written for every person of every run, read only whole (core/fields.py).
    evidence = JsonTextField()

    class Meta:
        ordering = ["-criteria_count", "person__crn"]
        constraints = [models.UniqueConstraint(fields=["run", "person"], name="uniq_result_person")]
        indexes = [
            models.Index(fields=["run", "pdu", "criteria_count"]),
            models.Index(fields=["run", "eligible"]),
        ]
