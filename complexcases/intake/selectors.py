"""Reads of the emails from the Complex Cases mailbox, scoped by accounts.access.

Who sees the needs-attention queue and its emails: the Complex Cases team (cc_team role) of the
region that owns the mailbox (CC_IMAP_REGION; each email records that region when it is read).
Nobody else, not the team of another region, not even an admin (no case data by virtue of that role): "not there" and "not yours" are the same
NotFound, and the refusal is audited.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from complexcases.accounts import access
from complexcases.accounts.models import Region
from complexcases.accounts.roles import Role
from complexcases.core.audit import audit_record
from complexcases.intake.models import InboundEmail, InboundEmailTransition
from complexcases.intake.states import InboundStatus
from complexcases.people.models import Person
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
    refused = limited_access_refused(user, [email])
    if email.pk in refused:
        crn = refused[email.pk]
        audit_record(
            actor=user,
            action="refused",
            object_type="inbound_email",
            object_id=str(email.pk),
            person_crn=crn,
            outcome="refused",
            reason="limited access",
            request=request,
        )
        raise access.LimitedAccessDenied(crn)
    return email


def limited_access_refused(user: Any, emails: list[InboundEmail]) -> dict[int, str]:
    """Emails about a person whose limited access refuses the user (the referral's person, or any
    CRN the email names), each with that person's CRN: the team member sees the row without its
    subject and cannot open the email. Two queries at most, whatever the number of emails."""
    crns = {crn for email in emails for crn in (email.crns_named or [])}
    referral_ids = [email.referral_id for email in emails if email.referral_id]
    if not crns and not referral_ids:
        return {}
    people = dict(
        Person.objects.filter(Q(crn__in=sorted(crns)) | Q(referrals__pk__in=referral_ids))
        .values_list("crn", "pk")
        .distinct()
    )
    by_referral = (
        dict(Referral.objects.filter(pk__in=referral_ids).values_list("pk", "person__crn"))
        if referral_ids
        else {}
    )
    refusals = access.limited_access_refusals(user, people.values())
    refused_crns = {crn for crn, pk in people.items() if pk in refusals}
    result: dict[int, str] = {}
    for email in emails:
        named = set(email.crns_named or [])
        if email.referral_id:
            named.add(by_referral.get(email.referral_id, ""))
        hit = sorted(named & refused_crns)
        if hit:
            result[email.pk] = hit[0]
    return result


def email_for_referral(referral: Referral) -> InboundEmail | None:
    """The email a referral was made from, if any. Access is the caller's: whoever may see the
    referral may see the email it was made from. One query."""
    return InboundEmail.objects.filter(referral_id=referral.pk).first()


def history(inbound_email: InboundEmail) -> list[InboundEmailTransition]:
    """The email's history, oldest first, with who moved it. One query."""
    return list(
        InboundEmailTransition.objects.filter(inbound_email=inbound_email).select_related("actor")
    )
