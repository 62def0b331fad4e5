"""Reads about accounts and roles (who holds what). Reads about people go through access.py."""

from __future__ import annotations

from django.db.models import QuerySet

from complexcases.accounts.models import Pdu, Region, Team, User, UserRole


def user_roles(user: User) -> list[UserRole]:
    """The user's roles with their scopes, for display. One query."""
    return list(
        UserRole.objects.filter(user_id=user.pk)
        .select_related("region", "pdu", "team")
        .order_by("role", "id")
    )


def role_holders(
    role: str,
    *,
    region: Region | None = None,
    pdu: Pdu | None = None,
    team: Team | None = None,
) -> QuerySet[User]:
    """Active users holding `role` with exactly this scope (e.g. the SPOs of a team, the heads of
    service of a PDU), for notifications and invitations. Ordered by username."""
    return (
        User.objects.filter(
            is_active=True,
            roles__role=role,
            roles__region=region,
            roles__pdu=pdu,
            roles__team=team,
        )
        .distinct()
        .order_by("username")
    )
