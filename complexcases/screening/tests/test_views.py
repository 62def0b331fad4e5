"""The monthly list pages: home, a PDU's list, its CSV, a person's page and the runs page.

Test data comes from the factories with evidence in the agreed JSON format (common interface 4),
so these tests do not depend on the screening engine.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complexcases.accounts.models import Pdu, Region, Team, UserRole
from complexcases.core.models import AuditEvent
from complexcases.people.models import Person
from complexcases.people.tests.factories import (
    CriteriaSetFactory,
    PduFactory,
    PersonFactory,
    RegionFactory,
    ScreeningResultFactory,
    ScreeningRunFactory,
    StaffFactory,
    TeamFactory,
    UserFactory,
)
from complexcases.screening.criteria import CRITERIA_IDS, CRITERIA_LABELS, CURRENT, ids_to_mask
from complexcases.screening.models import ScreeningResult, ScreeningRun

pytestmark = pytest.mark.django_db

ALL = list(CRITERIA_IDS)
SIX = ["rosh", "mental_health", "self_harm", "mappa", "substance_misuse", "ipp"]
SEVEN = [*SIX, "opd"]
FIVE = ["rosh", "mental_health", "self_harm", "learning_difficulties", "opd"]
TWO = ["rosh", "ipp"]
FOUR = ["rosh", "mental_health", "mappa", "substance_misuse"]


# --- evidence in the agreed format ------------------------------------------------------------


def _fact(
    source: str, item: str, label: str, value: str, date: str | None, met: bool
) -> dict[str, Any]:
    return {
        "source": source,
        "item": item,
        "label": label,
        "value": value,
        "date": date,
        "met": met,
    }


def _facts(cid: str, met: bool, oasys_date: str | None) -> list[dict[str, Any]]:
    """Facts as the screening engine records them: the registration, OASys answers, sentences."""
    no_oasys = oasys_date is None

    def oasys(item: str, label: str, met_value: str, unmet_value: str) -> dict[str, Any]:
        if no_oasys:
            return _fact("oasys", item, label, "(no current OASys)", None, False)
        return _fact("oasys", item, label, met_value if met else unmet_value, oasys_date, met)

    if cid == "rosh":
        return [
            _fact(
                "registration",
                "RHRH" if met else "RMRH",
                "RoSH high registration" if met else "RoSH medium registration",
                "current",
                "2024-03-14",
                met,
            ),
            oasys("rosh_overall", "OASys overall risk of serious harm", "HIGH", "MEDIUM"),
        ]
    if cid == "mental_health":
        return [
            _fact(
                "registration",
                "AMHL",
                "Mental health issues registration",
                "current" if met else "ended 2025-01-31",
                "2023-07-02",
                met,
            ),
            oasys("q10_2", "OASys 10.2 current psychological problems or depression", "2", "0"),
        ]
    if cid == "self_harm":
        return [
            _fact(
                "registration",
                "ALSH",
                "Suicide / self-harm registration",
                "current",
                "2025-02-11",
                met,
            ),
            oasys("q10_5", "OASys 10.5 self-harm, attempted suicide", "Yes", "No"),
        ]
    if cid == "learning_difficulties":
        return [oasys("q4_8", "OASys 4.8 learning difficulties", "2", "0")]
    if cid == "mappa":
        return [
            _fact(
                "registration",
                "MAPP",
                "MAPPA registration",
                "level M2, category M1, current" if met else "level M1, category M1, current",
                "2024-09-30",
                met,
            )
        ]
    if cid == "opd":
        return [oasys("opd_result", "OASys OPD screening result", "SCREEN_IN", "SCREEN_OUT")]
    if cid == "substance_misuse":
        return [
            oasys("drug_score", "OASys drug misuse score", "4", "0"),
            oasys("alcohol_score", "OASys alcohol misuse score", "5", "1"),
        ]
    return [
        _fact(
            "sentence",
            "IPP" if met else "SDS",
            "Imprisonment for public protection (IPP) sentence" if met else "SDS",
            "active",
            "2009-05-18",
            met,
        )
    ]


def evidence(met_ids: list[str], *, no_current_oasys: bool = False) -> dict[str, Any]:
    oasys_date = None if no_current_oasys else "2026-06-19"
    return {
        "criteria": [
            {
                "id": cid,
                "label": CRITERIA_LABELS[cid],
                "met": cid in met_ids,
                "summary": ("Met: " if cid in met_ids else "Not met: ")
                + f"{CRITERIA_LABELS[cid].lower()} (test summary).",
                "facts": _facts(cid, cid in met_ids, oasys_date),
            }
            for cid in CRITERIA_IDS
        ],
        "latest_oasys": None
        if no_current_oasys
        else {
            "assessment_id": "900123",
            "assessment_type": "LAYER3",
            "status": "COMPLETE",
            "completed_date": oasys_date,
        },
        "no_current_oasys": no_current_oasys,
    }


def result(
    run: ScreeningRun,
    person: Person,
    met_ids: list[str],
    *,
    change: str = "",
    months_on_list: int = 0,
    on_caseload: bool = True,
    no_current_oasys: bool = False,
) -> ScreeningResult:
    count = len(met_ids)
    threshold = CURRENT["eligible_threshold"]
    return ScreeningResultFactory.create(
        run=run,
        person=person,
        criteria_count=count,
        criteria_mask=ids_to_mask(met_ids),
        eligible=count >= threshold,
        near_miss=count == CURRENT["near_miss_count"],
        no_current_oasys=no_current_oasys,
        change=change,
        months_on_list=months_on_list,
        on_caseload=on_caseload,
        evidence=evidence(met_ids, no_current_oasys=no_current_oasys),
    )


def run_for(as_of: dt.date, previous: ScreeningRun | None = None, **counts: Any) -> ScreeningRun:
    return ScreeningRunFactory.create(
        as_of=as_of,
        criteria_set=CriteriaSetFactory.create(parameters=CURRENT),
        parameters=CURRENT,
        previous_run=previous,
        started_at=dt.datetime.combine(as_of, dt.time(6, 0), tzinfo=dt.UTC),
        finished_at=dt.datetime.combine(as_of, dt.time(6, 5), tzinfo=dt.UTC),
        **counts,
    )


# --- a realistic month: two PDUs, two runs ------------------------------------------------------


@dataclass
class Scenario:
    pdu: Pdu
    other_pdu: Pdu
    team_north: Team
    team_south: Team
    october: ScreeningRun
    november: ScreeningRun
    people: dict[str, Person] = field(default_factory=dict)

    def list_url(self, month: str = "2026-11", pdu: Pdu | None = None) -> str:
        return reverse("screening:pdu_list", args=[month, (pdu or self.pdu).code])


def person(key: str, team: Team, crn: str, **kwargs: Any) -> Person:
    manager = StaffFactory.create(team=team, forename="Morgan", surname=f"Manager{key}")
    return PersonFactory.create(
        crn=crn,
        forename=f"Test{key}",
        surname=f"Person{key}",
        team=team,
        offender_manager=manager,
        **kwargs,
    )


def build_scenario() -> Scenario:
    """Essex North (ESSN) in East of England, October and November 2026 runs.

    New (6 met), Continuing (7 met, 3 months), a near miss (5), someone screened out (2),
    someone who dropped to 4 (left: criteria), someone listed in October who has left the caseload
    (left: caseload, with no November result), and someone eligible in another PDU.
    """
    region = RegionFactory.create(code="EOE", name="East of England")
    pdu = PduFactory.create(code="ESSN", name="Essex North", region=region)
    other_pdu = PduFactory.create(code="NTHM", name="Northamptonshire", region=region)
    north = TeamFactory.create(code="ESSN01", name="Colchester Team 1", pdu=pdu)
    south = TeamFactory.create(code="ESSN02", name="Chelmsford Team 2", pdu=pdu)
    other_team = TeamFactory.create(code="NTHM01", name="Northampton Team 1", pdu=other_pdu)

    october = run_for(dt.date(2026, 10, 1))
    november = run_for(
        dt.date(2026, 11, 1),
        previous=october,
        people_screened=7,
        eligible_count=3,
        near_miss_count=1,
        new_count=2,
        continuing_count=1,
        left_count=2,
        counts_by_pdu={
            "ESSN": {
                "screened": 6,
                "eligible": 2,
                "near_miss": 1,
                "new": 1,
                "continuing": 1,
                "left": 2,
            },
            "NTHM": {
                "screened": 1,
                "eligible": 1,
                "near_miss": 0,
                "new": 1,
                "continuing": 0,
                "left": 0,
            },
        },
    )
    s = Scenario(pdu, other_pdu, north, south, october, november)
    p = s.people
    p["new"] = person("New", north, "E100001", date_of_birth=dt.date(1990, 4, 2))
    p["continuing"] = person(
        "Cont", south, "E100002", in_custody=True, expected_release_date=dt.date(2027, 3, 15)
    )
    p["near"] = person("Near", north, "E100003")
    p["out"] = person("Out", north, "E100004")
    p["dropped"] = person("Dropped", south, "E100005")
    p["gone"] = person("Gone", north, "E100006", on_caseload=False)
    p["elsewhere"] = person("Else", other_team, "E100007")

    result(october, p["continuing"], SEVEN, change="continuing", months_on_list=2)
    result(october, p["dropped"], SIX, change="new", months_on_list=1)
    result(october, p["gone"], SIX, change="new", months_on_list=1)
    result(october, p["new"], FOUR)

    result(november, p["new"], SIX, change="new", months_on_list=1)
    result(november, p["continuing"], SEVEN, change="continuing", months_on_list=3)
    result(november, p["near"], FIVE, no_current_oasys=False)
    result(november, p["out"], TWO, no_current_oasys=True)
    result(november, p["dropped"], FOUR, change="left")
    result(november, p["elsewhere"], ALL, change="new", months_on_list=1)
    return s


@pytest.fixture
def scenario() -> Scenario:
    return build_scenario()


def grant_everything(user: Any) -> None:
    """Scope the viewer over the whole test organisation: SPO of every team (all their people)
    and Complex Cases team of every region (listed people, and the CSV download)."""
    for team in Team.objects.all():
        UserRole.objects.get_or_create(
            user=user,
            role="spo",
            team=team,
            defaults={"granted_by": "test", "source": "manual", "granted_at": timezone.now()},
        )
    for region in Region.objects.all():
        UserRole.objects.get_or_create(
            user=user,
            role="cc_team",
            region=region,
            defaults={"granted_by": "test", "source": "manual", "granted_at": timezone.now()},
        )


@pytest.fixture
def signed_in(client, request):
    if "scenario" in request.fixturenames:
        request.getfixturevalue("scenario")  # build the organisation before scoping the viewer
    viewer = UserFactory.create(username="po.tester")
    grant_everything(viewer)
    client.force_login(viewer)
    client.viewer = viewer
    return client


def text(response) -> str:
    return response.content.decode()


def section(html: str, start: str, end: str | None = None) -> str:
    """The part of a page from the element with id `start` to the next `end` marker."""
    begin = html.index(f'id="{start}"')
    finish = html.index(end, begin + 1) if end and end in html[begin + 1 :] else len(html)
    return html[begin:finish]


# --- sign-in ----------------------------------------------------------------------------------


def _urls(s: Scenario) -> list[str]:
    return [
        reverse("home"),
        s.list_url(),
        reverse("screening:pdu_list_csv", args=["2026-11", "ESSN"]),
        reverse("screening:person", args=["E100001"]),
        reverse("screening:runs"),
    ]


def test_anonymous_users_are_sent_to_sign_in_from_every_page(client, scenario):
    for url in _urls(scenario):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url
        assert "E100001" not in text(response)


def test_sign_in_form_signs_in_and_sign_out_is_a_post(client):
    UserFactory.create(username="po.tester")
    page = client.get(reverse("login"))
    assert 'autocomplete="current-password"' in text(page)
    response = client.post(
        reverse("login"), {"username": "po.tester", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    # Signed-in users land on My work.
    assert response["Location"] == reverse("mywork:my_work")
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("logout")).status_code == 405
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_wrong_password_shows_an_error_summary(client):
    UserFactory.create(username="po.tester")
    response = client.post(reverse("login"), {"username": "po.tester", "password": "wrong"})
    assert response.status_code == 200
    assert "There is a problem" in text(response)
    assert "<title>Error: Sign in" in text(response)


# --- home -------------------------------------------------------------------------------------


def test_home_shows_the_latest_month_and_counts_per_pdu(signed_in, scenario):
    response = signed_in.get(reverse("home"))
    html = text(response)
    assert response.status_code == 200
    assert "November 2026" in html
    assert "East of England" in html
    assert f'href="{scenario.list_url()}"' in html
    # Essex North: 2 on the list, 1 new, 1 near miss; Northamptonshire: 1, 1, 0.
    essn = html[html.index("Essex North") :]
    essn = essn[: essn.index("</tr>")]
    assert re.findall(r">(\d+)</td>", essn) == ["2", "1", "1"]
    nthm = html[html.index("Northamptonshire") :]
    nthm = nthm[: nthm.index("</tr>")]
    assert re.findall(r">(\d+)</td>", nthm) == ["1", "1", "0"]
    assert "E100001" not in html  # counts only


def test_home_without_a_run_says_how_to_make_one(signed_in):
    response = signed_in.get(reverse("home"))
    assert response.status_code == 200
    assert "not been screened" in text(response)
    assert "run_screening" in text(response)


# --- the PDU list -----------------------------------------------------------------------------


def test_list_shows_eligible_people_of_the_pdu_only(signed_in, scenario):
    response = signed_in.get(scenario.list_url())
    html = text(response)
    assert response.status_code == 200
    on_list = section(html, "on-the-list", 'id="left"')
    assert "E100001" in on_list and "TestNew PersonNew" in on_list
    assert "E100002" in on_list
    assert "E100003" not in on_list  # near miss, not asked for
    assert "E100004" not in html  # screened out
    assert "E100007" not in html  # another PDU
    assert "Colchester Team 1" in on_list and "Morgan ManagerNew" in on_list
    assert "6 of 8" in on_list and "7 of 8" in on_list
    assert "RoSH high, Mental health, Self-harm, MAPPA 2 or 3, Substance misuse, IPP" in on_list
    assert '<strong class="govuk-tag govuk-tag--green">New</strong>' in on_list
    assert "Continuing (3 months)" in on_list
    assert f'href="{reverse("screening:person", args=["E100001"])}"' in on_list


def test_list_is_not_cached(signed_in, scenario):
    response = signed_in.get(scenario.list_url())
    assert "no-store" in response["Cache-Control"]


def test_near_misses_are_shown_only_when_asked_for(signed_in, scenario):
    html = text(signed_in.get(scenario.list_url()))
    assert "Near misses (5 of 8 criteria)</h2>" not in html
    assert "E100003" not in html
    assert "near_misses=yes" in html  # the link that shows them

    html = text(signed_in.get(scenario.list_url(), {"near_misses": "yes"}))
    near = section(html, "near-misses", 'id="left"')
    assert "Near misses (5 of 8 criteria)" in near
    assert "E100003" in near and "TestNear PersonNear" in near
    assert "E100001" not in near


def test_team_filter_shows_one_team(signed_in, scenario):
    html = text(signed_in.get(scenario.list_url(), {"team": "ESSN01"}))
    on_list = section(html, "on-the-list", 'id="left"')
    assert "E100001" in on_list
    assert "E100002" not in on_list  # Chelmsford Team 2
    assert '<option value="ESSN01" selected>' in html
    # The filter applies to the near misses and the left list too.
    html = text(signed_in.get(scenario.list_url(), {"team": "ESSN02", "near_misses": "yes"}))
    assert "E100003" not in section(html, "near-misses", 'id="left"')
    assert "E100005" in section(html, "left")  # Chelmsford
    assert "E100006" not in section(html, "left")  # Colchester


def test_unknown_team_shows_the_whole_pdu(signed_in, scenario):
    html = text(signed_in.get(scenario.list_url(), {"team": "NTHM01"}))
    on_list = section(html, "on-the-list", 'id="left"')
    assert "E100001" in on_list and "E100002" in on_list


def test_left_list_gives_the_reason(signed_in, scenario):
    html = text(signed_in.get(scenario.list_url()))
    left = section(html, "left")
    dropped = left[left.index("E100005") :]
    assert "No longer meets 6 criteria" in dropped[: dropped.index("</tr>")]
    gone = left[left.index("E100006") :]
    assert "No longer on the caseload" in gone[: gone.index("</tr>")]
    assert "E100001" not in left and "E100002" not in left


def test_left_list_reads_off_caseload_results_of_the_run(signed_in, scenario):
    """A run may record a person who left the caseload as a result with on_caseload false."""
    left_person = person("Off", scenario.team_north, "E100008", on_caseload=False)
    result(scenario.october, left_person, SIX, change="new", months_on_list=1)
    result(scenario.november, left_person, [], change="left", on_caseload=False)
    left = section(text(signed_in.get(scenario.list_url())), "left")
    row = left[left.index("E100008") :]
    assert "No longer on the caseload" in row[: row.index("</tr>")]


def test_month_navigation_links_to_other_months(signed_in, scenario):
    html = text(signed_in.get(scenario.list_url()))
    assert f'href="{scenario.list_url("2026-10")}"' in html
    assert "October 2026" in html
    october = text(signed_in.get(scenario.list_url("2026-10")))
    assert f'href="{scenario.list_url("2026-11")}"' in october
    # October's list is October's run: the continuing person at 2 months, the gone person listed.
    assert "Continuing (2 months)" in october
    assert "E100006" in section(october, "on-the-list", 'id="left"')


@pytest.mark.parametrize(
    "url",
    [
        "/lists/2026-13/ESSN/",
        "/lists/2026-00/ESSN/",
        "/lists/2026-1/ESSN/",
        "/lists/november/ESSN/",
        "/lists/2026-11/NOPE/",
        "/lists/2025-01/ESSN/",  # no run that month
        "/lists/2026-13/ESSN/download.csv",
        "/lists/2026-11/NOPE/download.csv",
        "/lists/2025-01/ESSN/download.csv",
    ],
)
def test_bad_month_or_unknown_pdu_is_not_found(signed_in, scenario, url):
    assert signed_in.get(url).status_code == 404


def _add_eligible(s: Scenario, count: int, *, first: int = 200000) -> None:
    """Many eligible people in the November run, quickly (one staff member, bulk inserts)."""
    manager = StaffFactory.create(team=s.team_north)
    people = Person.objects.bulk_create(
        Person(
            crn=f"F{first + i:06d}",
            forename="Bulk",
            surname=f"Person{i:04d}",
            date_of_birth=dt.date(1980, 1, 1),
            gender="M",
            pdu=s.pdu,
            team=s.team_north,
            offender_manager=manager,
        )
        for i in range(count)
    )
    ScreeningResult.objects.bulk_create(
        ScreeningResult(
            run=s.november,
            person=p,
            pdu=s.pdu,
            team=s.team_north,
            criteria_count=6,
            criteria_mask=ids_to_mask(SIX),
            eligible=True,
            near_miss=False,
            no_current_oasys=False,
            change="continuing",
            months_on_list=2,
            evidence=evidence(SIX),
        )
        for p in people
    )


def test_list_is_paginated_at_100_rows(signed_in, scenario):
    _add_eligible(scenario, 103)  # 105 on the list with the scenario's two
    first = text(signed_in.get(scenario.list_url(), {"team": "ESSN01"}))
    on_list = section(first, "on-the-list", 'id="left"')
    assert on_list.count('class="govuk-table__row"') == 100 + 1  # rows and the header row
    assert 'aria-label="Pages of the list"' in first
    assert "page=2" in first and "team=ESSN01" in first
    second = text(signed_in.get(scenario.list_url(), {"team": "ESSN01", "page": "2"}))
    second_list = section(second, "on-the-list", 'id="left"')
    assert second_list.count('class="govuk-table__row"') == 4 + 1
    crns = set(re.findall(r"[EF]\d{6}", on_list)) | set(re.findall(r"[EF]\d{6}", second_list))
    assert len(crns) == 104  # every Colchester person, each once


# The page's own queries plus the sign-in and session bookkeeping every page pays (session, user,
# the idle-timeout stamp), the user's roles (one query, for need-to-know) and the audit record
# written before the read (an INSERT inside a savepoint in tests: three statements). A bound, not a
# measurement: the tests below prove it does not grow with the rows.
LIST_MAX_QUERIES = 19
PERSON_MAX_QUERIES = 13


def _queries(client, url: str, params: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


def test_list_queries_do_not_grow_with_rows(signed_in, django_assert_max_num_queries):
    s = build_scenario()
    grant_everything(signed_in.viewer)
    params = {"near_misses": "yes"}
    _add_eligible(s, 1, first=300000)  # 3 on the list
    few = _queries(signed_in, s.list_url(), params)
    _add_eligible(s, 27, first=400000)  # 30 on the list
    many = _queries(signed_in, s.list_url(), params)
    assert few == many
    with django_assert_max_num_queries(LIST_MAX_QUERIES):
        signed_in.get(s.list_url(), params)


# --- CSV --------------------------------------------------------------------------------------


def test_csv_download_asks_for_a_reason_first(signed_in, scenario):
    url = reverse("screening:pdu_list_csv", args=["2026-11", "ESSN"])
    form = signed_in.get(url)
    assert form.status_code == 200
    assert "Why do you need to download this list?" in text(form)
    refused = signed_in.post(url, {"reason": "  "})
    assert refused.status_code == 400
    assert "Enter why you need to download this list" in text(refused)
    assert not AuditEvent.objects.filter(action="download").exists()


def test_csv_download_is_the_section_6_format_for_the_pdu(signed_in, scenario):
    response = signed_in.post(
        reverse("screening:pdu_list_csv", args=["2026-11", "ESSN"]),
        {"reason": "Planning reflective conversations"},
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="download")
    assert event.reason == "Planning reflective conversations"
    assert event.actor_username == "po.tester"
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"] == 'attachment; filename="complex-cases-2026-11-essn.csv"'
    )
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert rows[0] == ["crn", "pdu_code", "criteria_count", "criteria_met", "eligible", "change"]
    assert sorted(rows[1:]) == [
        ["E100001", "ESSN", "6", ";".join(c for c in CRITERIA_IDS if c in SIX), "true", "new"],
        [
            "E100002",
            "ESSN",
            "7",
            ";".join(c for c in CRITERIA_IDS if c in SEVEN),
            "true",
            "continuing",
        ],
    ]


# --- the person page --------------------------------------------------------------------------


def test_person_page_shows_details_and_each_criterion_with_its_facts(signed_in, scenario):
    response = signed_in.get(reverse("screening:person", args=["E100002"]))
    html = text(response)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "TestCont PersonCont" in html and "E100002" in html
    assert "1 June 1985" in html  # the factory's date of birth
    assert "Essex North" in html and "Chelmsford Team 2" in html and "Morgan ManagerCont" in html
    assert "15 March 2027" in html  # expected release date
    assert "7 of 8 criteria met — on this month&#x27;s list" in html
    assert "No current OASys assessment" not in html
    for cid in CRITERIA_IDS:
        card = section(html, f"criterion-{cid}", 'govuk-summary-card"')
        assert CRITERIA_LABELS[cid] in card
        if cid in SEVEN:
            assert ">Met</strong>" in card and "Not met" not in card, cid
        else:
            assert ">Not met</strong>" in card, cid
    rosh = section(html, "criterion-rosh", 'id="criterion-mental_health"')
    assert "nDelius registration" in rosh and "RoSH high registration" in rosh
    assert "14 March 2024" in rosh
    assert "OASys overall risk of serious harm" in rosh and "HIGH" in rosh
    assert "19 June 2026" in rosh
    learning = section(html, "criterion-learning_difficulties", 'id="criterion-mappa"')
    assert "OASys 4.8 learning difficulties" in learning
    ipp = section(html, "criterion-ipp", "Screening history")
    assert "Imprisonment for public protection (IPP) sentence" in ipp and "18 May 2009" in ipp


def test_person_page_warns_when_there_is_no_current_oasys(signed_in, scenario):
    html = text(signed_in.get(reverse("screening:person", args=["E100004"])))
    assert "govuk-warning-text" in html
    assert "No current OASys assessment: the OASys-based criteria cannot be met" in html
    assert "2 of 8 criteria met — not on this month&#x27;s list" in html
    assert "(no current OASys)" in section(html, "criterion-opd", 'id="criterion-substance_misuse"')


def test_person_page_shows_the_history_of_results(signed_in, scenario):
    html = text(signed_in.get(reverse("screening:person", args=["E100005"])))
    history = html[html.index("Screening history") :]
    november, october = history.index("November 2026"), history.index("October 2026")
    assert november < october  # newest first
    rows = history.split("<tr")
    assert "4 of 8" in rows[2] and "Left the list" in rows[2]
    assert "6 of 8" in rows[3] and "New" in rows[3] and ">Yes<" in rows[3]
    assert "4 of 8 criteria met — not on this month&#x27;s list" in html


def test_person_page_for_an_older_result_names_its_month(signed_in, scenario):
    html = text(signed_in.get(reverse("screening:person", args=["E100006"])))
    assert "6 of 8 criteria met — on the October 2026 list" in html


def test_person_who_left_the_caseload_is_said_to_have_left(signed_in, scenario):
    left_person = person("Off", scenario.team_north, "E100008", on_caseload=False)
    result(scenario.october, left_person, SIX, change="new", months_on_list=1)
    result(scenario.november, left_person, [], change="left", on_caseload=False)
    html = text(signed_in.get(reverse("screening:person", args=["E100008"])))
    assert "Not screened: no longer on the caseload — not on this month&#x27;s list" in html
    assert "no longer on the probation caseload" in html


def test_unknown_crn_is_not_found(signed_in, scenario):
    assert signed_in.get(reverse("screening:person", args=["Z999999"])).status_code == 404


def test_person_queries_do_not_grow_with_history(signed_in, django_assert_max_num_queries):
    s = build_scenario()
    grant_everything(signed_in.viewer)
    subject = s.people["continuing"]

    def add_runs(count: int, start: dt.date) -> None:
        for i in range(count):
            run = run_for(start + dt.timedelta(days=31 * i))
            result(run, subject, SEVEN, change="continuing", months_on_list=4 + i)

    url = reverse("screening:person", args=[subject.crn])
    add_runs(1, dt.date(2020, 1, 1))  # 3 results
    few = _queries(signed_in, url)
    add_runs(27, dt.date(2021, 1, 1))  # 30 results
    many = _queries(signed_in, url)
    assert few == many
    with django_assert_max_num_queries(PERSON_MAX_QUERIES):
        html = text(signed_in.get(url))
    assert html.count("7 of 8</td>") == 30


# --- runs -------------------------------------------------------------------------------------


def test_runs_page_lists_every_run_newest_first_with_counts_by_pdu(signed_in, scenario):
    response = signed_in.get(reverse("screening:runs"))
    html = text(response)
    assert response.status_code == 200
    assert html.index("November 2026: screened as of 1 November 2026") < html.index(
        "October 2026: screened as of 1 October 2026"
    )
    assert "cc-2021 version 1" in html
    november = html[html.index("November 2026: screened") : html.index("October 2026: screened")]
    totals = november[november.index("People screened") :]
    totals = totals[: totals.index("</tbody>")]
    assert re.findall(r">(\d+)</td>", totals) == ["7", "3", "1", "2", "1", "2"]
    assert "govuk-details" in november
    essn = november[november.index("Essex North") :]
    cells = re.findall(r">(\d+)</td>", essn[: essn.index("</tr>")])
    assert cells == ["6", "2", "1", "1", "2", "1"]
    assert "Northamptonshire" in november


def test_runs_page_is_paginated(signed_in):
    for i in range(12):
        run_for(dt.date(2025, 1, 1) + dt.timedelta(days=31 * i))
    first = text(signed_in.get(reverse("screening:runs")))
    assert first.count('class="govuk-summary-card"') == 10
    assert "page=2" in first
    second = text(signed_in.get(reverse("screening:runs"), {"page": "2"}))
    assert second.count('class="govuk-summary-card"') == 2


# --- design system assets -----------------------------------------------------------------------


def test_frontend_assets_path_leads_to_the_static_copy(client):
    """GOV.UK and MoJ Frontend's CSS asks for /assets/...; the files live under /static/."""
    response = client.get("/assets/images/icon-document.svg")  # an MoJ Frontend image
    assert response.status_code == 301
    assert response["Location"] == "/static/moj/assets/images/icon-document.svg"
    assert client.get("/assets/images/no-such-image.svg").status_code == 404
