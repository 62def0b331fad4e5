"""Every write to accounts and roles: provisioning from the extract's staff, grants and revocations.

Each service takes keyword arguments and an `actor` (who is acting: a username, "command:<OS user>",
or "import:<...>"), runs in one transaction and writes an audit record for every change, with the
state before and after. If the audit trail cannot be written (core.audit.AuditUnavailable) the whole
change is rolled back: no unaudited change to who may see what.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import string
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import (
    UNUSABLE_PASSWORD_PREFIX,
    UNUSABLE_PASSWORD_SUFFIX_LENGTH,
)
from django.db import transaction
from django.http import HttpRequest

from complexcases.accounts.models import Pdu, Region, Staff, Team, User, UserRole
from complexcases.accounts.roles import (
    ROLE_SCOPES,
    Role,
    ScopeKind,
    Source,
    default_role_for_grade,
    scope_problem,
)
from complexcases.core import clock
from complexcases.core.audit import audit_record, audit_record_many

logger = logging.getLogger(__name__)

# Rows per statement for bulk writes, below SQLite's limit on bound variables.
_BATCH = 500


class RoleError(ValueError):
    """A grant or revocation that cannot be made, with a message fit to show the administrator."""


# --- roles -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleRequest:
    """A validated role and scope for a user, ready to grant or revoke."""

    user: User
    role: str
    region: Region | None = None
    pdu: Pdu | None = None
    team: Team | None = None

    @property
    def scope_kind(self) -> str:
        if self.region is not None:
            return ScopeKind.REGION
        if self.pdu is not None:
            return ScopeKind.PDU
        if self.team is not None:
            return ScopeKind.TEAM
        return ScopeKind.NONE

    def lookup(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "role": self.role,
            "region": self.region,
            "pdu": self.pdu,
            "team": self.team,
        }


def role_request_resolve(
    *,
    username: str,
    role: str,
    region: str | None = None,
    pdu: str | None = None,
    team: str | None = None,
) -> RoleRequest:
    """Turn a username, role name and at most one scope code into a RoleRequest.

    Raises RoleError with a message naming what is wrong: an unknown user, role or scope code, more
    than one scope, or a scope of the wrong kind for the role (e.g. `spo` without `--team`).
    """
    if role not in ROLE_SCOPES:
        raise RoleError(f"Unknown role '{role}'. Roles are: {', '.join(Role.values)}.")
    given = {k: v for k, v in (("region", region), ("pdu", pdu), ("team", team)) if v is not None}
    if len(given) > 1:
        raise RoleError("Give at most one of --region, --pdu or --team.")
    scope_kind = next(iter(given), ScopeKind.NONE)
    problem = scope_problem(role, scope_kind)
    if problem:
        raise RoleError(problem)
    user = User.objects.filter(username=username).select_related("staff").first()
    if user is None:
        raise RoleError(f"No user with username '{username}'.")
    units: dict[str, Any] = {}
    if region is not None:
        units["region"] = Region.objects.filter(code=region).first()
        if units["region"] is None:
            raise RoleError(f"No region with code '{region}'.")
    if pdu is not None:
        units["pdu"] = Pdu.objects.filter(code=pdu).first()
        if units["pdu"] is None:
            raise RoleError(f"No PDU with code '{pdu}'.")
    if team is not None:
        units["team"] = Team.objects.filter(code=team).first()
        if units["team"] is None:
            raise RoleError(f"No team with code '{team}'.")
    return RoleRequest(user=user, role=role, **units)


def role_snapshot(user_role: UserRole) -> dict[str, str]:
    """What the audit trail keeps about a role: whose, which, its scope and where it came from."""
    return {
        "username": user_role.user.username,
        "role": user_role.role,
        "scope_kind": user_role.scope_kind,
        "scope_code": user_role.scope_code,
        "source": user_role.source,
        "granted_by": user_role.granted_by,
    }


@dataclass(frozen=True)
class GrantResult:
    user_role: UserRole
    created: bool
    # True when an existing default (extract) role became a manual grant, so provisioning keeps it.
    made_manual: bool = False


def user_role_grant(
    *, actor: str, request: RoleRequest, http_request: HttpRequest | None = None
) -> GrantResult:
    """Grant a role (a manual grant, which provisioning never removes). Audited as "grant_role".

    Granting a role the user already holds manually changes nothing and writes nothing. Granting one
    they hold by default from the extract turns it into a manual grant (audited as an "update").
    Callers: the grant_role command and the admin pages. The request must come from
    role_request_resolve (or be built from validated objects).
    """
    problem = scope_problem(request.role, request.scope_kind)
    if problem:
        raise RoleError(problem)
    with transaction.atomic():
        existing = UserRole.objects.select_for_update().filter(**request.lookup()).first()
        if existing is not None:
            if existing.source == Source.MANUAL:
                return GrantResult(user_role=existing, created=False)
            before = role_snapshot(existing)
            existing.source = Source.MANUAL
            existing.granted_by = actor
            existing.granted_at = clock.now()
            existing.save(update_fields=["source", "granted_by", "granted_at"])
            audit_record(
                actor=actor,
                action="update",
                object_type="user_role",
                object_id=str(existing.pk),
                before=before,
                after=role_snapshot(existing),
                reason="default role kept as a manual grant",
                request=http_request,
            )
            return GrantResult(user_role=existing, created=False, made_manual=True)
        user_role = UserRole.objects.create(
            **request.lookup(),
            source=Source.MANUAL,
            granted_by=actor,
            granted_at=clock.now(),
        )
        audit_record(
            actor=actor,
            action="grant_role",
            object_type="user_role",
            object_id=str(user_role.pk),
            after=role_snapshot(user_role),
            request=http_request,
        )
    return GrantResult(user_role=user_role, created=True)


def user_role_revoke(
    *, actor: str, request: RoleRequest, http_request: HttpRequest | None = None
) -> UserRole:
    """Revoke a role the user holds with exactly that scope. Audited as "revoke_role".

    Raises RoleError when the user does not hold it. Revoking a default (extract) role works, but the
    next provisioning gives it back while the staff record's grade still calls for it; the returned
    row's `source` lets the caller say so.
    """
    with transaction.atomic():
        existing = UserRole.objects.select_for_update().filter(**request.lookup()).first()
        if existing is None:
            scope = _describe_request_scope(request)
            raise RoleError(
                f"User '{request.user.username}' does not hold the {request.role} role{scope}."
            )
        return user_role_delete(actor=actor, user_role=existing, http_request=http_request)


def user_role_delete(
    *, actor: str, user_role: UserRole, http_request: HttpRequest | None = None
) -> UserRole:
    """Delete one role row, audited as "revoke_role". For the admin pages and user_role_revoke."""
    with transaction.atomic():
        before = role_snapshot(user_role)
        pk = user_role.pk
        user_role.delete()
        audit_record(
            actor=actor,
            action="revoke_role",
            object_type="user_role",
            object_id=str(pk),
            before=before,
            request=http_request,
        )
    return user_role


def user_role_change(
    *, actor: str, user_role: UserRole, http_request: HttpRequest | None = None
) -> UserRole:
    """Save an edited role row (the admin's change form), audited as "update" with before and after.

    `user_role` carries the new values; the stored row gives the old ones. An edit made by an
    administrator makes the role a manual grant. Raises RoleError for a scope the role cannot take.
    """
    problem = scope_problem(user_role.role, user_role.scope_kind)
    if problem:
        raise RoleError(problem)
    with transaction.atomic():
        stored = UserRole.objects.select_for_update().select_related("user").get(pk=user_role.pk)
        before = role_snapshot(stored)
        user_role.source = Source.MANUAL
        user_role.granted_by = actor
        user_role.granted_at = clock.now()
        user_role.save(
            update_fields=["role", "region", "pdu", "team", "source", "granted_by", "granted_at"]
        )
        after = role_snapshot(user_role)
        if after != before:
            audit_record(
                actor=actor,
                action="update",
                object_type="user_role",
                object_id=str(user_role.pk),
                before=before,
                after=after,
                request=http_request,
            )
    return user_role


def _describe_request_scope(request: RoleRequest) -> str:
    unit = request.region or request.pdu or request.team
    return f" for {request.scope_kind} '{unit.code}'" if unit is not None else " without a scope"


# --- users (admin pages) -----------------------------------------------------------------------

USER_AUDIT_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "is_staff",
    "is_superuser",
)


def user_snapshot(user: User) -> dict[str, Any]:
    snapshot: dict[str, Any] = {name: getattr(user, name) for name in USER_AUDIT_FIELDS}
    snapshot["staff_code"] = (
        user.staff.staff_code if user.staff_id is not None and user.staff else ""
    )
    return snapshot


def user_changes_audit(
    *,
    actor: str,
    before: dict[str, Any] | None,
    user: User,
    http_request: HttpRequest | None = None,
) -> None:
    """Audit an account created or changed outside provisioning (the admin's user pages)."""
    after = user_snapshot(user)
    if before is None:
        audit_record(
            actor=actor,
            action="create",
            object_type="user",
            object_id=str(user.pk),
            after=after,
            request=http_request,
        )
        return
    changed = {k for k in after if after[k] != before.get(k)}
    if changed:
        audit_record(
            actor=actor,
            action="update",
            object_type="user",
            object_id=str(user.pk),
            before={k: before.get(k) for k in sorted(changed)},
            after={k: after[k] for k in sorted(changed)},
            request=http_request,
        )


# --- provisioning from staff.csv ---------------------------------------------------------------


@dataclass
class ProvisionReport:
    """What accounts_provision_from_staff changed. Counts only: no names in it, so it may be logged."""

    created: int = 0
    updated: int = 0
    deactivated: int = 0
    reactivated: int = 0
    roles_granted: int = 0
    roles_revoked: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.created,
                self.updated,
                self.deactivated,
                self.reactivated,
                self.roles_granted,
                self.roles_revoked,
            )
        )

    def summary(self) -> str:
        return (
            f"accounts created {self.created}, updated {self.updated}, deactivated "
            f"{self.deactivated}, reactivated {self.reactivated}; default roles granted "
            f"{self.roles_granted}, removed {self.roles_revoked}"
        )


RoleKey = tuple[str, int | None, int | None, int | None]  # role, region_id, pdu_id, team_id


def default_role_key(staff: Staff) -> RoleKey | None:
    """The (role, scope) provisioning gives this staff member, from their grade and team."""
    default = default_role_for_grade(staff.grade)
    if default is None:
        return None
    team = staff.team
    if default.scope_kind == ScopeKind.TEAM:
        return (default.role, None, None, team.pk)
    if default.scope_kind == ScopeKind.PDU:
        return (default.role, None, team.pdu_id, None)
    if default.scope_kind == ScopeKind.REGION:
        return (default.role, team.pdu.region_id, None, None)
    return (default.role, None, None, None)


def _choose_staff(rows: Iterable[Staff], report: ProvisionReport) -> dict[str, Staff]:
    """One staff record per username: the one in the extract. Ambiguous usernames are skipped."""
    by_username: dict[str, list[Staff]] = defaultdict(list)
    for staff in rows:
        by_username[staff.username].append(staff)
    chosen: dict[str, Staff] = {}
    for username, records in by_username.items():
        current = [s for s in records if s.in_extract]
        if len(current) > 1:
            codes = ", ".join(sorted(s.staff_code for s in current))
            report.warnings.append(
                f"{len(current)} staff records in the extract share one username (staff codes "
                f"{codes}); no account was linked to them."
            )
            continue
        chosen[username] = current[0] if current else max(records, key=lambda s: s.pk)
    return chosen


@transaction.atomic
def accounts_provision_from_staff(*, actor: str) -> ProvisionReport:
    """Make accounts and default roles follow the stored staff records (staff.csv).

    Called after every successful import (and by `provision_accounts`). For each staff record with a
    username: creates the account if missing (with an unusable password: staff sign in through the
    organisation's identity provider), keeps its name and email equal to the staff record and links
    it to the staff record. Accounts whose staff record has left the extract are deactivated, never
    deleted; they are reactivated when it returns, unless an administrator deactivated them.
    Default roles by grade (roles.DEFAULT_ROLE_BY_GRADE, source "extract") are added, moved and
    removed as the staff records change; manual grants are never touched. Every change is audited
    with before and after; running it twice changes nothing the second time. Queries are bounded:
    a fixed number of reads and batched writes, plus one audit record per change.
    """
    report = ProvisionReport()
    now = clock.now()
    # Every change is audited; the records are written together (audit_record_many) at the end,
    # inside this transaction, so a national extract of thousands of staff stays fast.
    audits: list[dict[str, Any]] = []
    staff_rows = Staff.objects.exclude(username="").select_related("team__pdu").order_by("pk")
    chosen = _choose_staff(staff_rows, report)
    chosen_staff_ids = {s.pk: username for username, s in chosen.items()}
    users = {u.username: u for u in User.objects.select_related("staff")}

    # 1. Unlink accounts whose staff record now belongs to another username (or has none), and
    # deactivate them: the person they were provisioned for is no longer behind that username.
    to_unlink: list[User] = []
    for user in users.values():
        if user.staff_id is not None and chosen_staff_ids.get(user.staff_id) != user.username:
            before = user_snapshot(user)
            user.staff = None
            changed_fields = ["staff"]
            if user.is_active:
                user.is_active = False
                user.left_extract_at = now
                changed_fields += ["is_active", "left_extract_at"]
                report.deactivated += 1
            else:
                report.updated += 1
            to_unlink.append(user)
            _audit_user_change(
                actor,
                user,
                before,
                reason="staff record no longer has this username",
                audits=audits,
            )
    User.objects.bulk_update(
        to_unlink, ["staff", "is_active", "left_extract_at"], batch_size=_BATCH
    )

    # 2. Create, update, deactivate or reactivate the account of each staff record.
    to_create: list[User] = []
    to_update: list[User] = []
    for username, staff in chosen.items():
        existing = users.get(username)
        if existing is None:
            if not staff.in_extract:
                continue  # never create an account for someone who has already left
            user = User(
                username=username,
                first_name=staff.forename[:150],
                last_name=staff.surname[:150],
                email=staff.email,
                staff=staff,
                is_active=True,
                password=_unusable_password(),
            )
            to_create.append(user)
            continue
        before = user_snapshot(existing)
        reason = _apply_staff(existing, staff, now, report)
        if reason is not None:
            to_update.append(existing)
            _audit_user_change(actor, existing, before, reason=reason, audits=audits)
    User.objects.bulk_update(
        to_update,
        ["first_name", "last_name", "email", "staff", "is_active", "left_extract_at"],
        batch_size=_BATCH,
    )
    created = User.objects.bulk_create(to_create, batch_size=_BATCH)
    for user in created:
        users[user.username] = user
        report.created += 1
        audits.append(
            dict(
                actor=actor,
                action="create",
                object_type="user",
                object_id=str(user.pk),
                after=user_snapshot(user),
                reason="provisioned from the extract's staff",
            )
        )

    # 3. Default roles follow the extract.
    desired: dict[int, set[RoleKey]] = defaultdict(set)
    for username, staff in chosen.items():
        holder = users.get(username)
        if holder is None or not staff.in_extract or holder.staff_id != staff.pk:
            continue
        key = default_role_key(staff)
        if key is not None:
            desired[holder.pk].add(key)
    _sync_default_roles(actor=actor, desired=desired, now=now, report=report, audits=audits)
    audit_record_many(audits)

    for warning in report.warnings:
        logger.warning("Provisioning: %s", warning)
    logger.info("Provisioning done: %s", report.summary())
    return report


_PASSWORD_ALPHABET = string.ascii_letters + string.digits  # get_random_string's
_UNBIASED_BELOW = 256 - 256 % len(_PASSWORD_ALPHABET)


def _unusable_password() -> str:
    """What make_password(None) returns: the unusable prefix and a random suffix from the same
    alphabet. One read of the system's random bytes per password rather than one per character:
    provisioning a national extract makes ~10,000 of them. Bytes at or above the largest multiple
    of the alphabet's length are skipped, so every character is equally likely."""
    chars: list[str] = []
    while len(chars) < UNUSABLE_PASSWORD_SUFFIX_LENGTH:
        chars.extend(
            _PASSWORD_ALPHABET[byte % len(_PASSWORD_ALPHABET)]
            for byte in secrets.token_bytes(UNUSABLE_PASSWORD_SUFFIX_LENGTH)
            if byte < _UNBIASED_BELOW
        )
    return UNUSABLE_PASSWORD_PREFIX + "".join(chars[:UNUSABLE_PASSWORD_SUFFIX_LENGTH])


def _apply_staff(user: User, staff: Staff, now: dt.datetime, report: ProvisionReport) -> str | None:
    """Bring one existing account in line with its staff record; the reason when anything changed."""
    changed = False
    wanted = {
        "first_name": staff.forename[:150],
        "last_name": staff.surname[:150],
        "email": staff.email,
    }
    for name, value in wanted.items():
        if getattr(user, name) != value:
            setattr(user, name, value)
            changed = True
    if user.staff_id != staff.pk:
        user.staff = staff
        changed = True
    reason = "updated from the extract's staff" if changed else None
    if not staff.in_extract and user.is_active:
        user.is_active = False
        user.left_extract_at = now
        report.deactivated += 1
        return "staff record left the extract"
    if staff.in_extract and not user.is_active and user.left_extract_at is not None:
        user.is_active = True
        user.left_extract_at = None
        report.reactivated += 1
        return "staff record returned to the extract"
    if changed:
        report.updated += 1
    return reason


def _audit_user_change(
    actor: str, user: User, before: dict[str, Any], *, reason: str, audits: list[dict[str, Any]]
) -> None:
    after = user_snapshot(user)
    changed = sorted(k for k in after if after[k] != before.get(k))
    audits.append(
        dict(
            actor=actor,
            action="update",
            object_type="user",
            object_id=str(user.pk),
            before={k: before.get(k) for k in changed},
            after={k: after[k] for k in changed},
            reason=reason,
        )
    )


def _sync_default_roles(
    *,
    actor: str,
    desired: dict[int, set[RoleKey]],
    now: dt.datetime,
    report: ProvisionReport,
    audits: list[dict[str, Any]],
) -> None:
    """Add missing default roles and remove default roles no longer called for. Manual untouched."""
    existing = list(UserRole.objects.select_related("user", "region", "pdu", "team").order_by("pk"))
    held: dict[int, set[RoleKey]] = defaultdict(set)
    to_delete: list[UserRole] = []
    for row in existing:
        key: RoleKey = (row.role, row.region_id, row.pdu_id, row.team_id)
        held[row.user_id].add(key)
        if row.source == Source.EXTRACT and key not in desired.get(row.user_id, set()):
            to_delete.append(row)
    for row in to_delete:
        held[row.user_id].discard((row.role, row.region_id, row.pdu_id, row.team_id))
        audits.append(
            dict(
                actor=actor,
                action="revoke_role",
                object_type="user_role",
                object_id=str(row.pk),
                before=role_snapshot(row),
                reason="default role no longer matches the extract's staff record",
            )
        )
    ids = [row.pk for row in to_delete]
    for start in range(0, len(ids), _BATCH):
        UserRole.objects.filter(pk__in=ids[start : start + _BATCH]).delete()
    report.roles_revoked += len(ids)

    to_create = [
        UserRole(
            user_id=user_id,
            role=role,
            region_id=region_id,
            pdu_id=pdu_id,
            team_id=team_id,
            source=Source.EXTRACT,
            granted_by=actor,
            granted_at=now,
        )
        for user_id, keys in sorted(desired.items())
        for (role, region_id, pdu_id, team_id) in sorted(keys, key=str)
        if (role, region_id, pdu_id, team_id) not in held[user_id]
    ]
    created = UserRole.objects.bulk_create(to_create, batch_size=_BATCH)
    report.roles_granted += len(created)
    if not created:
        return
    # Usernames and scope codes for the audit records, read once rather than per row.
    usernames = dict(User.objects.filter(pk__in=desired.keys()).values_list("pk", "username"))
    codes: dict[str, dict[int, str]] = {
        ScopeKind.REGION: dict(Region.objects.values_list("pk", "code")),
        ScopeKind.PDU: dict(Pdu.objects.values_list("pk", "code")),
        ScopeKind.TEAM: dict(Team.objects.values_list("pk", "code")),
    }
    for row in created:
        scope_kind = row.scope_kind
        scope_id = row.region_id or row.pdu_id or row.team_id or 0
        audits.append(
            dict(
                actor=actor,
                action="grant_role",
                object_type="user_role",
                object_id=str(row.pk),
                after={
                    "username": usernames.get(row.user_id, ""),
                    "role": row.role,
                    "scope_kind": scope_kind,
                    "scope_code": codes[scope_kind].get(scope_id, "") if scope_kind else "",
                    "source": row.source,
                    "granted_by": row.granted_by,
                },
                reason="default role for the grade in the extract",
            )
        )
