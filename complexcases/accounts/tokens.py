"""API tokens: issue, revoke and check the keys behind `Authorization: Token KEY`.

A key is 32 random bytes (secrets.token_urlsafe), shown once when issued and never stored: the
database keeps its SHA-256 hash, and a short prefix so a person can tell their keys apart. The
key carries 256 bits of entropy, so a fast hash is enough (there is nothing to guess from a
dictionary), and a lookup by the hash's unique index reveals nothing usable by timing: an attacker
would need a SHA-256 preimage to steer it.

Issuing and revoking are audited ("issue_token" / "revoke_token", object_type "api_token"), with
the token's id and prefix, never the key. A failed authentication is audited by the DRF
authentication class (accounts.authentication).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q

from complexcases.accounts.models import ApiToken, User
from complexcases.core import clock
from complexcases.core.audit import audit_record
from complexcases.core.models import AuditAction

DEFAULT_DAYS = 90
MAX_DAYS = 365
PREFIX_LENGTH = 8
# last_used_at is written at most this often per token, so that using a token is not a write
# per request (and a busy client does not contend on one row).
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class TokenError(ValueError):
    """A token cannot be issued or revoked as asked; the message is fit to show the operator."""


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown once to the person it is issued to; never stored or logged


def hash_key(key: str) -> str:
    """The SHA-256 (hex) of a key, as stored in ApiToken.key_hash."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def token_snapshot(token: ApiToken) -> dict[str, Any]:
    """What the audit trail records about a token: never the key or its hash."""
    return {
        "id": token.pk,
        "username": token.user.username,
        "name": token.name,
        "prefix": token.prefix,
        "expires_at": token.expires_at.isoformat(),
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


def api_token_issue(
    *, actor: str, user: User, days: int = DEFAULT_DAYS, name: str = ""
) -> IssuedToken:
    """Issue a new key for an active user, valid for `days` days. Audited ("issue_token").

    Callers: the issue_api_token command. Returns the key once; only its hash is stored.
    Raises TokenError for an inactive user or a lifetime outside 1..MAX_DAYS days.
    """
    if not user.is_active:
        raise TokenError("The user is not active, so no token can be issued to them.")
    if not 1 <= days <= MAX_DAYS:
        raise TokenError(f"A token lasts between 1 and {MAX_DAYS} days.")
    key = secrets.token_urlsafe(32)
    now = clock.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:100],
            prefix=key[:PREFIX_LENGTH],
            key_hash=hash_key(key),
            created_at=now,
            created_by=actor[:150],
            expires_at=now + dt.timedelta(days=days),
        )
        audit_record(
            actor=actor,
            action=AuditAction.ISSUE_TOKEN,
            object_type="api_token",
            object_id=token.pk,
            after=token_snapshot(token),
            details={"for_user": user.username, "days": days},
        )
    return IssuedToken(token=token, key=key)


def api_tokens_revoke(*, actor: str, user: User, prefix: str | None = None) -> int:
    """Revoke the user's unrevoked tokens (only those whose prefix is `prefix`, when given).

    Callers: the revoke_api_token command. Each revocation is audited ("revoke_token") in the
    same transaction. Returns how many were revoked; revoking an already revoked token changes
    nothing. Works for inactive users too: revoking only ever removes access.
    """
    now = clock.now()
    revoked = 0
    with transaction.atomic():
        tokens = ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
        if prefix is not None:
            tokens = tokens.filter(prefix=prefix)
        for token in tokens.select_related("user"):
            before = token_snapshot(token)
            token.revoked_at = now
            token.revoked_by = actor[:150]
            token.save(update_fields=["revoked_at", "revoked_by"])
            audit_record(
                actor=actor,
                action=AuditAction.REVOKE_TOKEN,
                object_type="api_token",
                object_id=token.pk,
                before=before,
                after=token_snapshot(token),
                details={"for_user": user.username},
            )
            revoked += 1
    return revoked


@dataclass(frozen=True)
class TokenCheck:
    """The outcome of checking a presented key: the token when it may be used, else why not."""

    token: ApiToken | None
    reason: str = ""  # "unknown", "revoked", "expired", "inactive_user"; "" when accepted

    @property
    def accepted(self) -> bool:
        return self.token is not None and not self.reason


def api_token_check(key: str, *, now: dt.datetime | None = None) -> TokenCheck:
    """Find the token for a presented key and say whether it may be used now.

    Who may call: the API authentication class. One query (the token with its user) and, at most
    once a minute per token, one UPDATE of last_used_at for an accepted key. The token of a
    refused key is returned (for the audit record) with the reason; the caller must not use it.
    """
    now = now or clock.now()
    presented = hash_key(key)
    token = ApiToken.objects.select_related("user").filter(key_hash=presented).first()
    # The index lookup already matched; compare again in constant time all the same, so the
    # decision never rests on a comparison whose timing depends on the stored value.
    if token is None or not hmac.compare_digest(token.key_hash, presented):
        return TokenCheck(token=None, reason="unknown")
    if token.revoked_at is not None:
        return TokenCheck(token=token, reason="revoked")
    if token.expires_at <= now:
        return TokenCheck(token=token, reason="expired")
    if not token.user.is_active:
        return TokenCheck(token=token, reason="inactive_user")
    _touch(token, now)
    return TokenCheck(token=token)


def _touch(token: ApiToken, now: dt.datetime) -> None:
    """Record that the token was used, at most once per LAST_USED_RESOLUTION.

    A conditional UPDATE (not save()): concurrent requests with one token write at most once.
    """
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
    if ApiToken.objects.filter(pk=token.pk).filter(stale).update(last_used_at=now):
        token.last_used_at = now
