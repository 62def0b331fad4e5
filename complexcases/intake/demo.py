"""Demo data for the needs-attention queue: a synthetic email fed through the same ingestion
service as the mailbox poll (no IMAP). Synthetic only: no real names, addresses or CRNs."""

from __future__ import annotations

from typing import Any

from complexcases.accounts.models import Region
from complexcases.intake import services

# A fixed Message-ID makes the seed idempotent: the dedupe key absorbs a second run.
DEMO_UNKNOWN_SENDER = b"""\
From: Duty Officer <duty.officer@partner-agency.example.invalid>
To: Complex Cases <complex.cases@justice.example>
Subject: Help with a case
Date: Mon, 02 Nov 2026 09:15:00 +0000
Message-ID: <demo-needs-attention-1@partner-agency.example.invalid>
Content-Type: text/plain; charset=utf-8

Hello,

We are working with a man on probation in Essex who keeps missing appointments with our
service and has become hostile to staff. Could the Complex Cases team advise?

What support is sought:
Advice on engaging him, and a contact in the probation team.

Thanks
"""


def demo_seed(
    *, region_code: str, cc_team_user: Any, known_sender_user: Any, crn_referable: str
) -> None:
    """One email needing attention (an unknown sender naming no CRN) in the region's queue.

    The other arguments are accepted for the demo builder's single call and kept for a second
    example; the seed is idempotent.
    """
    del cc_team_user, known_sender_user, crn_referable  # not needed for this example
    region = Region.objects.get(code=region_code)
    services.ingest_message(raw=DEMO_UNKNOWN_SENDER, region=region)
