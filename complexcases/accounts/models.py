"""Users, and the organisation they work in: regions, Probation Delivery Units (PDUs), teams, staff."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person who signs in. Linked to a staff record when provisioned from the extract."""

    class Meta:
        db_table = "accounts_user"


class Region(models.Model):
    code = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Pdu(models.Model):
    """A Probation Delivery Unit."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="pdus")

    class Meta:
        ordering = ["name"]
        verbose_name = "PDU"

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    pdu = models.ForeignKey(Pdu, on_delete=models.PROTECT, related_name="teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Grade(models.TextChoices):
    PSO = "PSO", "Probation Services Officer"
    PO = "PO", "Probation Officer"
    SPO = "SPO", "Senior Probation Officer"
    HOPDU = "HOPDU", "Head of PDU"
    QDO = "QDO", "Quality Development Officer"
    POM = "POM", "Prison Offender Manager"
    PSYCH = "PSYCH", "Psychologist"
    MANAGER = "MANAGER", "Manager"
    ADMIN = "ADMIN", "Administrator"
    OTHER = "OTHER", "Other"


class Staff(models.Model):
    """A member of staff as the case data extract describes them (staff.csv)."""

    staff_code = models.CharField(max_length=20, unique=True)
    forename = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    email = models.CharField(max_length=254, blank=True)
    grade = models.CharField(max_length=10, choices=Grade.choices)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="staff")
    username = models.CharField(max_length=150, blank=True, db_index=True)
    in_extract = models.BooleanField(default=True)

    class Meta:
        ordering = ["surname", "forename"]
        verbose_name_plural = "staff"

    def __str__(self) -> str:
        return f"{self.forename} {self.surname}"
