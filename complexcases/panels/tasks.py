"""Scheduled panel work (Celery beat, daily). Thin: call the services; safe to retry."""

from __future__ import annotations

from celery import shared_task

from complexcases.core import clock
from complexcases.panels import rules, services


@shared_task(name="panels.daily")
def panels_daily() -> dict[str, int]:
    """Keep a year of meetings scheduled, issue papers that are due, remind QDOs of follow-ups
    due, and prompt members to reflect after a meeting."""
    now = clock.now()
    return {
        "meetings_scheduled": services.meetings_schedule_all(
            today=now.astimezone(rules.LONDON).date()
        ),
        "papers_issued": services.papers_issue_due(now=now),
        "follow_up_reminders": services.follow_up_reminders_send(now=now),
        "reflection_prompts": services.reflection_prompts_send(now=now),
    }
