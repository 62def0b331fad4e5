"""Reads for the monthly list pages: runs, a PDU's list, a person's results.

Every function issues a fixed number of queries whatever the number of rows, so the pages stay
fast with national volumes. Every read of people is scoped by accounts.access: rows come only from
people_visible_to(user), and each row carries `limited_access_refusal` so a list can reduce a
refused person's row to the CRN.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Subquery

from complexcases.accounts import access
from complexcases.accounts.models import Pdu, Region, Team
from complexcases.people.models import Person
from complexcases.referrals.selectors import awaiting_conversation_expression
from complexcases.screening import export
from complexcases.screening.models import Change, ScreeningResult, ScreeningRun

MONTH_RE = re.compile(r"^(?P<year>[0-9]{4})-(?P<month>0[1-9]|1[0-2])$")

# Columns a list row needs. The evidence JSON is large and is read only on the person page.
LIST_ROW_FIELDS = (
    "id",
    "criteria_count",
    "criteria_mask",
    "change",
    "months_on_list",
    "on_caseload",
    "person__crn",
    "person__forename",
    "person__surname",
    "person__offender_manager__forename",
    "person__offender_manager__surname",
    "team__code",
    "team__name",
)


def parse_month(month: str) -> dt.date | None:
    """The first day of a `YYYY-MM` month, or None when the text is not a valid month."""
    match = MONTH_RE.match(month)
    if match is None:
        return None
    return dt.date(int(match["year"]), int(match["month"]), 1)


def _finished_runs() -> QuerySet[ScreeningRun]:
    # A run is written in one transaction, so an unfinished run is one that failed: never a list.
    return ScreeningRun.objects.filter(finished_at__isnull=False)


def months_with_runs() -> list[str]:
    """Every month that has at least one finished screening run, newest first."""
    return list(_finished_runs().order_by("-month").values_list("month", flat=True).distinct())


def latest_month() -> str | None:
    """The newest month that has a finished run."""
    return _finished_runs().order_by("-month").values_list("month", flat=True).first()


def latest_run_for_month(month: str) -> ScreeningRun | None:
    """The month's latest finished run, or None: the export's choice, so page and CSV agree."""
    return export.latest_run_for_month(month)


def latest_run() -> ScreeningRun | None:
    """The latest run of the latest month that has a run, or None when nothing has been screened."""
    return (
        _finished_runs()
        .select_related("criteria_set")
        .order_by("-month", "-started_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class PduCounts:
    pdu: Pdu
    eligible: int
    new: int
    near_misses: int


@dataclass(frozen=True)
class RegionCounts:
    region: Region
    pdus: list[PduCounts]


def counts_by_region(run: ScreeningRun, user: Any) -> list[RegionCounts]:
    """The regions and PDUs the user may open, with the run's eligible, new and near-miss counts.

    Counts only, no identifiers. Three queries (the user's roles, the counts, the PDUs).
    """
    visible_pdus = access.pdus_visible_to(user)
    totals: dict[int, Any] = {
        row["pdu_id"]: row
        for row in ScreeningResult.objects.filter(run=run)
        .values("pdu_id")
        .order_by()
        .annotate(
            # Named apart from the model's fields, which the filters refer to.
            eligible_total=Count("id", filter=Q(eligible=True)),
            new_total=Count("id", filter=Q(eligible=True, change=Change.NEW)),
            near_miss_total=Count("id", filter=Q(near_miss=True)),
        )
    }
    regions: dict[int, RegionCounts] = {}
    for pdu in visible_pdus.select_related("region").order_by("region__name", "name"):
        row = totals.get(pdu.pk, {})
        entry = regions.setdefault(pdu.region_id, RegionCounts(region=pdu.region, pdus=[]))
        entry.pdus.append(
            PduCounts(
                pdu=pdu,
                eligible=row.get("eligible_total", 0),
                new=row.get("new_total", 0),
                near_misses=row.get("near_miss_total", 0),
            )
        )
    return list(regions.values())


def pdu_teams(pdu: Pdu) -> list[Team]:
    return list(Team.objects.filter(pdu=pdu).order_by("name"))


def _pdu_results(
    run: ScreeningRun, pdu: Pdu, team: Team | None, user: Any
) -> QuerySet[ScreeningResult]:
    results = ScreeningResult.objects.filter(
        run=run, pdu=pdu, person__in=access.people_visible_to(user).values("pk")
    )
    if team is not None:
        results = results.filter(team=team)
    results = results.select_related("person__offender_manager", "team").only(*LIST_ROW_FIELDS)
    return access.annotate_limited_access(results, user, person_ref="person_id")


def eligible_results(
    run: ScreeningRun, pdu: Pdu, user: Any, team: Team | None = None
) -> QuerySet[ScreeningResult]:
    """The PDU's list for the run, as far as the user may see it: most criteria first.

    Each row carries `awaiting_conversation` (no reflective conversation yet for the run's month),
    from a subquery in the same query.
    """
    return (
        _pdu_results(run, pdu, team, user)
        .filter(eligible=True)
        .annotate(awaiting_conversation=awaiting_conversation_expression(run.month))
        .order_by("-criteria_count", "person__surname", "person__forename", "person__crn")
    )


def near_miss_results(
    run: ScreeningRun, pdu: Pdu, user: Any, team: Team | None = None
) -> QuerySet[ScreeningResult]:
    """People one criterion short of the list, as far as the user may see them."""
    return (
        _pdu_results(run, pdu, team, user)
        .filter(near_miss=True)
        .order_by("person__surname", "person__forename", "person__crn")
    )


@dataclass(frozen=True)
class LeftPerson:
    crn: str
    forename: str
    surname: str
    on_caseload: bool
    limited_access: bool = False

    @property
    def name(self) -> str:
        return f"{self.forename} {self.surname}"


def left_people(
    run: ScreeningRun, pdu: Pdu, user: Any, team: Team | None = None
) -> list[LeftPerson]:
    """People on the PDU's list last month who are not on it now, and why.

    The run marks them with change "left" when it screened them. Someone on last month's list who
    has no result at all in this run was not screened because they left the caseload: they are
    found from the previous run, so the list is right whichever way the run recorded them.
    """
    left: dict[str, LeftPerson] = {}
    visible = access.people_visible_to(user).values("pk")
    marked = ScreeningResult.objects.filter(
        run=run, pdu=pdu, change=Change.LEFT, person__in=visible
    )
    if team is not None:
        marked = marked.filter(team=team)
    marked = access.annotate_limited_access(marked, user, person_ref="person_id")
    fields = ("person__crn", "person__forename", "person__surname", "on_caseload")
    rows = marked.values_list(*fields, "limited_access_refusal")  # type: ignore[misc]
    for crn, forename, surname, on_caseload, refusal in rows:
        left[crn] = _left(crn, forename, surname, on_caseload, refusal)
    if run.previous_run_id is not None:
        unscreened = ScreeningResult.objects.filter(
            run_id=run.previous_run_id, pdu=pdu, eligible=True, person__in=visible
        ).exclude(person_id__in=ScreeningResult.objects.filter(run=run).values("person_id"))
        if team is not None:
            unscreened = unscreened.filter(team=team)
        unscreened = access.annotate_limited_access(unscreened, user, person_ref="person_id")
        for crn, forename, surname, refusal in unscreened.values_list(  # type: ignore[misc]
            "person__crn", "person__forename", "person__surname", "limited_access_refusal"
        ):
            left.setdefault(crn, _left(crn, forename, surname, False, refusal))
    return sorted(left.values(), key=lambda p: (p.surname, p.forename, p.crn))


def _left(
    crn: str, forename: str, surname: str, on_caseload: bool, refusal: str | None
) -> LeftPerson:
    if refusal:
        # Limited access: the row keeps the CRN only.
        return LeftPerson(crn, "", "", on_caseload, limited_access=True)
    return LeftPerson(crn, forename, surname, on_caseload)


def person_for(user: Any, crn: str, request: Any = None) -> Person:
    """The person, if the user may see them in detail (access.get_person_for: 404 or 403)."""
    return access.get_person_for(
        user,
        crn,
        request=request,
        queryset=Person.objects.select_related("pdu__region", "team", "offender_manager"),
    )


def person_results(person: Person) -> list[ScreeningResult]:
    """The person's result in every run, newest first, without the evidence (read separately).

    Each row carries `latest_month` (the newest month with a finished run), read in the same query
    so that the person page keeps within its query bound with the case timeline added.
    """
    newest = _finished_runs().order_by("-month").values("month")[:1]
    return list(
        ScreeningResult.objects.filter(person=person)
        .select_related("run", "pdu")
        .defer("evidence")
        .annotate(latest_month=Subquery(newest))
        .order_by("-run__month", "-run__started_at", "-run_id")
    )


def result_evidence(result: ScreeningResult) -> dict:
    """The evidence JSON of one result."""
    evidence = (
        ScreeningResult.objects.filter(pk=result.pk).values_list("evidence", flat=True).first()
    )
    return evidence if isinstance(evidence, dict) else {}


def runs() -> QuerySet[ScreeningRun]:
    """Every run, newest first, with its criteria set."""
    return ScreeningRun.objects.select_related("criteria_set").order_by("-started_at", "-id")


def pdus_by_code(codes: set[str]) -> dict[str, Pdu]:
    return {pdu.code: pdu for pdu in Pdu.objects.filter(code__in=codes)}


def export_visibility(run: ScreeningRun, pdu: Pdu, user: Any) -> dict[str, bool]:
    """For a download: CRN -> may the row be shown in full (False: limited access, CRN only).

    People outside the user's scope are absent. Two queries whatever the number of rows.
    """
    results = ScreeningResult.objects.filter(
        run=run, pdu=pdu, person__in=access.people_visible_to(user).values("pk")
    )
    results = access.annotate_limited_access(results, user, person_ref="person_id")
    return {
        crn: not refusal
        for crn, refusal in results.values_list(  # type: ignore[misc]
            "person__crn", "limited_access_refusal"
        )
    }


def withheld_export_row(row: dict[str, Any]) -> dict[str, Any]:
    """A limited-access row of a download: the CRN and PDU, no criteria."""
    return {**row, "criteria_count": "", "criteria_met": [], "change": ""}
