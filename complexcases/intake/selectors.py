"""Reads of the emails from the Complex Cases mailbox, scoped by accounts.access.

Who sees the needs-attention queue and its emails: the Complex Cases team (cc_team role) of the
region that owns the mailbox (CC_IMAP_REGION; each email records that region when it is read).
Nobody else, not the team of another region, not even an admin (no case data by virtue of that role): "not there" and "not yours" are the same
NotFound, and the refusal is audited.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest

from complexcases.accounts import access
from complexcases.accounts.models import Region
from complexcases.accounts.roles import Role
from complexcases.core.audit import audit_record
from complexcases.intake.models import InboundEmail, InboundEmailTransition
from complexcases.intake.states import InboundStatus
from complexcases.referrals.models import Referral

_CACHE_ATTR = "_cc_intake_queue_regions"


def mailbox_region_id() -> int | None:
    """The region that owns the Complex Cases mailbox (CC_IMAP_REGION). One query."""
    code = str(getattr(settings, "CC_IMAP_REGION", ""))
    return Region.objects.filter(code=code).values_list("pk", flat=True).first()


def queue_region_ids(user: Any) -> frozenset[int]:
    """The regions whose mailbox queue the user works: the mailbox's region, when they are in its
    Complex Cases team. The roles query, and one query for the region only for cc_team users."""
    grants = access.grants_for(user)
    if Role.CC_TEAM not in grants.roles or not grants.listed_region_ids:
        return frozenset()
    cached = user.__dict__.get(_CACHE_ATTR)  # like access.grants_for: once per user object
    if cached is None:
        region_id = mailbox_region_id()
        cached = frozenset({region_id}) if region_id in grants.listed_region_ids else frozenset()
        user.__dict__[_CACHE_ATTR] = cached
    return cached


def may_work_queue(user: Any) -> bool:
    return bool(queue_region_ids(user))


def needs_attention_for(user: Any) -> QuerySet[InboundEmail]:
    """The emails waiting for the user's team, oldest first; empty for users without access.

    The raw message and text are deferred: a list needs neither. One query (plus the roles).
    """
    regions = queue_region_ids(user)
    if not regions:
        return InboundEmail.objects.none()
    return (
        InboundEmail.objects.filter(
            status=InboundStatus.NEEDS_ATTENTION, region_id__in=sorted(regions)
        )
        .select_related("sender_user")
        .defer("raw", "body_text")
        .order_by("received_at", "id")
    )


def refuse(user: Any, object_id: Any, request: HttpRequest | None) -> access.NotFound:
    """Audit a refusal and return the NotFound to raise."""
    audit_record(
        actor=user if getattr(user, "is_authenticated", False) else None,
        action="refused",
        object_type="inbound_email",
        object_id=str(object_id),
        outcome="refused",
        reason="not found or not in scope",
        request=request,
    )
    return access.NotFound()


def inbound_email_get_for(
    user: Any, inbound_email_id: int, *, request: HttpRequest | None = None
) -> InboundEmail:
    """One email, for a Complex Cases team member of its region (any status); otherwise NotFound
    (audited). The caller records the view. Two queries at most (roles, the email)."""
    regions = queue_region_ids(user)
    email = None
    if regions and 0 < inbound_email_id < 2**63:
        email = (
            InboundEmail.objects.select_related("sender_user", "resolved_by", "referral")
            .filter(pk=inbound_email_id, region_id__in=sorted(regions))
            .first()
        )
    if email is None:
        raise refuse(user, inbound_email_id, request)
    return email


def email_for_referral(referral: Referral) -> InboundEmail | None:
    """The email a referral was made from, if any. Access is the caller's: whoever may see the
    referral may see the email it was made from. One query."""
    return InboundEmail.objects.filter(referral_id=referral.pk).first()


def history(inbound_email: InboundEmail) -> list[InboundEmailTransition]:
    """The email's history, oldest first, with who moved it. One query."""
    return list(
        InboundEmailTransition.objects.filter(inbound_email=inbound_email).select_related("actor")
    )
