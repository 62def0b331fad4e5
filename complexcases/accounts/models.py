"""Users, and the organisation they work in: regions, Probation Delivery Units (PDUs), teams, staff."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models

from complexcases.accounts.roles import ROLE_SCOPES, Role, ScopeKind, Source, scope_problem


class User(AbstractUser):
    """A person who signs in. Linked to a staff record when provisioned from the extract."""

    # The staff record this account was provisioned from (accounts.services). A practitioner's
    # caseload is read through it: the people whose offender manager is this staff member.
    staff = models.OneToOneField(
        "Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="user"
    )
    # Set when provisioning deactivated the account because its staff record left the extract, so
    # that a returning member of staff is reactivated automatically while an account an
    # administrator deactivated stays inactive.
    left_extract_at = models.DateTimeField(null=True, blank=True)

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


class UserRole(models.Model):
    """A role a user holds, with its scope: at most one of region, PDU or team (none for some roles).

    Which scope a role takes is in roles.ROLE_SCOPES; clean() enforces it for forms, and the
    services check it before every write. Written only through accounts.services (audited).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=Role.choices)
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pdu = models.ForeignKey(Pdu, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    granted_by = models.CharField(max_length=150)
    granted_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)

    class Meta:
        ordering = ["user_id", "role", "id"]
        constraints = [
            models.CheckConstraint(
                name="userrole_at_most_one_scope",
                condition=(
                    models.Q(region__isnull=True, pdu__isnull=True)
                    | models.Q(region__isnull=True, team__isnull=True)
                    | models.Q(pdu__isnull=True, team__isnull=True)
                ),
            ),
            # One row per (user, role, scope). NULLs are distinct in SQL unique indexes, so each
            # scope kind gets its own partial unique index (portable to SQLite and PostgreSQL).
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(region__isnull=True, pdu__isnull=True, team__isnull=True),
                name="uniq_userrole_unscoped",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region"],
                condition=models.Q(region__isnull=False),
                name="uniq_userrole_region",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "pdu"],
                condition=models.Q(pdu__isnull=False),
                name="uniq_userrole_pdu",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "team"],
                condition=models.Q(team__isnull=False),
                name="uniq_userrole_team",
            ),
        ]
        indexes = [models.Index(fields=["role", "user"])]
        verbose_name = "role"

    def __str__(self) -> str:
        scope = self.scope_code
        return f"{self.role} ({self.scope_kind} {scope})" if scope else self.role

    @property
    def scope_kind(self) -> str:
        if self.region_id is not None:
            return ScopeKind.REGION
        if self.pdu_id is not None:
            return ScopeKind.PDU
        if self.team_id is not None:
            return ScopeKind.TEAM
        return ScopeKind.NONE

    @property
    def scope_code(self) -> str:
        """The scope's code (reads the related row; select_related it in lists)."""
        unit = self.region or self.pdu or self.team
        return unit.code if unit is not None else ""

    def clean(self) -> None:
        scopes = [f for f in (self.region_id, self.pdu_id, self.team_id) if f is not None]
        if len(scopes) > 1:
            raise ValidationError("Choose at most one of region, PDU or team.")
        if self.role not in ROLE_SCOPES:
            return  # the field's own choices validation reports it
        problem = scope_problem(self.role, self.scope_kind)
        if problem:
            raise ValidationError(problem)


class ApiToken(models.Model):
    """A key for the HTTP API (`Authorization: Token KEY`), issued to one user.

    The key itself is shown once, when issued (accounts.tokens), and never stored: only its SHA-256
    hash, and a short prefix of it so a person can tell their keys apart. Written only through
    accounts.tokens (audited). A token stops working when revoked, when it expires, or when its
    user is deactivated.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    # The first characters of the key: not enough to use it, enough to recognise it.
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)  # SHA-256, hex
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=150, blank=True)
    # Updated at most once a minute (accounts.tokens), so that using a token is not a write per request.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "prefix"])]
        verbose_name = "API token"

    def __str__(self) -> str:
        return (
            f"API token {self.prefix}… ({self.name})" if self.name else f"API token {self.prefix}…"
        )
