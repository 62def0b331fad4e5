# mypy: disable-error-code="index,operator,union-attr"
"""The HTTP API (/api/v1/): tokens, authentication, and every endpoint against the standard cast.

The organisation and cast come from accounts/tests/cast.py. On top of it, a finished screening run
for November 2026 lists people across the cast's PDUs, two of them with limited access:

| CRN     | team | managed by       | in the November run  | limited access              |
|---------|------|------------------|----------------------|-----------------------------|
| Y000001 | A1   | manager          | eligible             |                             |
| Y000002 | A1   | manager          | not listed           |                             |
| Y000003 | A1   | manager          | eligible             | exclusion of `manager`      |
| Y000004 | A1   | manager          | eligible             | restricted to `spo_a1`      |
| Y000005 | B1   | (staff in B1)    | eligible             |                             |
| Y000006 | C1   | other_region_pp  | eligible             |                             |
| Y000007 | A2   | (staff in A2)    | near miss            |                             |

Names and dates of birth are distinctive synthetic values, so a test can search raw response
bytes for them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from complexcases.accounts import access
from complexcases.accounts.models import ApiToken, User
from complexcases.accounts.policy import POLICIES, policy_of
from complexcases.accounts.tests.cast import CAST_SCOPE, build_cast, build_org
from complexcases.accounts.tokens import (
    LAST_USED_RESOLUTION,
    api_token_issue,
    api_tokens_revoke,
    hash_key,
)
from complexcases.core import audit
from complexcases.core.audit import AuditUnavailable
from complexcases.core.models import AuditEvent
from complexcases.people.models import LimitedAccess
from complexcases.people.tests.factories import (
    CriteriaSetFactory,
    PersonFactory,
    ScreeningResultFactory,
    ScreeningRunFactory,
    StaffFactory,
)
from complexcases.screening.criteria import CRITERIA_IDS, ids_to_mask

pytestmark = pytest.mark.django_db

MONTH = "2026-11"
SIX = ["rosh", "mental_health", "self_harm", "mappa", "substance_misuse", "ipp"]
FIVE = ["rosh", "mental_health", "self_harm", "mappa", "ipp"]
THREE = ["rosh", "mappa", "ipp"]

# CRN -> (team, forename, surname, date of birth, criteria met, eligible, near miss)
PEOPLE: dict[str, tuple[str, str, str, dt.date, list[str], bool, bool]] = {
    "Y000001": ("A1", "Zephyrine", "Quillfeather", dt.date(1979, 2, 13), SIX, True, False),
    "Y000002": ("A1", "Barnabus", "Thistlewaite", dt.date(1981, 3, 14), THREE, False, False),
    "Y000003": ("A1", "Ottoline", "Marchbanks", dt.date(1983, 4, 15), SIX, True, False),
    "Y000004": ("A1", "Peregrine", "Ashcombe", dt.date(1986, 5, 16), SIX, True, False),
    "Y000005": ("B1", "Wilhelmina", "Fothergill", dt.date(1988, 6, 17), SIX, True, False),
    "Y000006": ("C1", "Cornelius", "Pettigrew", dt.date(1990, 7, 18), SIX, True, False),
    "Y000007": ("A2", "Araminta", "Blackwood", dt.date(1992, 8, 19), FIVE, False, True),
}

# The rows each member of the cast gets from the results list (None: 404), and which of them
# are reduced to the CRN by limited access.
RESULT_ROWS: dict[str, tuple[set[str], set[str]] | None] = {
    "manager": ({"Y000001", "Y000002", "Y000003", "Y000004"}, {"Y000003", "Y000004"}),
    "colleague": (set(), set()),
    "cover_a1": ({"Y000001", "Y000002", "Y000003", "Y000004"}, {"Y000004"}),
    "other_region_pp": ({"Y000006"}, set()),
    "spo_a1": ({"Y000001", "Y000002", "Y000003", "Y000004"}, set()),
    "spo_a2": ({"Y000007"}, set()),
    "hos_a": ({"Y000001", "Y000003", "Y000004", "Y000007"}, {"Y000004"}),
    "hos_b": ({"Y000005"}, set()),
    "cc_eoe": ({"Y000001", "Y000003", "Y000004", "Y000005", "Y000007"}, {"Y000004"}),
    "cc_ldn": ({"Y000006"}, set()),
    "panel_eoe": (set(), set()),
    "analyst_eoe": None,
    "analyst_national": None,
    "admin": None,
    "no_roles": None,
}

# The PDUs (letters) in each member's counts_by_pdu on the summary.
SUMMARY_PDUS: dict[str, set[str]] = {
    "manager": {"A"},
    "colleague": {"A"},
    "cover_a1": {"A"},
    "other_region_pp": {"C"},
    "spo_a1": {"A"},
    "spo_a2": {"A"},
    "hos_a": {"A"},
    "hos_b": {"B"},
    "cc_eoe": {"A", "B"},
    "cc_ldn": {"C"},
    "panel_eoe": set(),
    "analyst_eoe": {"A", "B"},
    "analyst_national": {"A", "B", "C"},
    "admin": set(),
    "no_roles": set(),
}

ACTIVE_CAST = [username for username in CAST_SCOPE if username != "inactive_spo"]
VIA = ["token", "session"]


@dataclass
class ApiWorld:
    cast: Any
    people: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    run: Any = None


def _evidence(met: list[str]) -> dict[str, Any]:
    return {
        "criteria": [
            {
                "id": cid,
                "label": cid,
                "met": cid in met,
                "summary": f"{cid} {'met' if cid in met else 'not met'}",
                "facts": [
                    {
                        "source": "registration",
                        "item": "RHRH",
                        "label": "Registered high risk",
                        "value": "Yes" if cid in met else "(none)",
                        "date": "2025-01-01",
                        "met": cid in met,
                    }
                ],
            }
            for cid in CRITERIA_IDS
        ],
        "latest_oasys": None,
        "no_current_oasys": True,
    }


def _finished_run(as_of: dt.date, **counts: Any) -> Any:
    started = dt.datetime(as_of.year, as_of.month, as_of.day, 9, tzinfo=dt.UTC)
    return ScreeningRunFactory(
        as_of=as_of,
        criteria_set=CriteriaSetFactory(),
        started_at=started,
        finished_at=started + dt.timedelta(minutes=5),
        **counts,
    )


def build_api_world() -> ApiWorld:
    cast = build_cast(build_org())
    world = ApiWorld(cast=cast)
    teams, users = cast.teams, cast.users
    managers = {
        "A1": users["manager"].staff,
        "A2": StaffFactory(team=teams["A2"]),
        "B1": StaffFactory(team=teams["B1"]),
        "C1": users["other_region_pp"].staff,
    }
    october = _finished_run(dt.date(2026, 10, 1))
    world.run = _finished_run(
        dt.date(2026, 11, 1),
        people_screened=7,
        eligible_count=5,
        near_miss_count=1,
        new_count=4,
        continuing_count=1,
        counts_by_pdu={
            "PDUA": {"screened": 5, "eligible": 3, "near_miss": 1, "new": 2, "continuing": 1},
            "PDUB": {"screened": 1, "eligible": 1, "new": 1},
            "PDUC": {"screened": 1, "eligible": 1, "new": 1},
        },
    )
    for crn, (team, forename, surname, born, met, eligible, near_miss) in PEOPLE.items():
        if crn == cast.person.crn:
            person = cast.person
            person.forename, person.surname, person.date_of_birth = forename, surname, born
            person.save(update_fields=["forename", "surname", "date_of_birth"])
        else:
            person = PersonFactory(
                crn=crn,
                forename=forename,
                surname=surname,
                date_of_birth=born,
                team=teams[team],
                offender_manager=managers[team],
            )
        world.people[crn] = person
        ScreeningResultFactory(
            run=world.run,
            person=person,
            criteria_count=len(met),
            criteria_mask=ids_to_mask(met),
            eligible=eligible,
            near_miss=near_miss,
            change="continuing" if crn == "Y000001" else ("new" if eligible else ""),
            months_on_list=2 if crn == "Y000001" else int(eligible),
            evidence=_evidence(met),
        )
    # Last month's result for Y000001: the person endpoint must show November's, not this.
    ScreeningResultFactory(
        run=october,
        person=world.people["Y000001"],
        criteria_count=6,
        criteria_mask=ids_to_mask(SIX),
        evidence=_evidence(SIX),
    )
    LimitedAccess.objects.create(
        person=world.people["Y000003"], username="manager", kind="EXCLUSION"
    )
    LimitedAccess.objects.create(
        person=world.people["Y000004"], username="spo_a1", kind="RESTRICTION"
    )
    for username in ACTIVE_CAST:
        world.keys[username] = api_token_issue(actor="test", user=users[username]).key
    return world


@pytest.fixture(scope="module")
def _module_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[ApiWorld]:
    """Built once for the module inside a transaction rolled back at the end; each test runs in
    its own savepoint within it (pytest-django's `db`)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_api_world()
        transaction.set_rollback(True)


@pytest.fixture
def world(_module_world: ApiWorld, db: Any) -> ApiWorld:
    return _module_world


@pytest.fixture(autouse=True)
def _no_throttle_history() -> None:
    # Throttle counts live in the cache, shared by the whole test session.
    cache.clear()


def client_for(world: ApiWorld, username: str, via: str = "token") -> Client:
    if via == "token":
        return Client(headers={"Authorization": f"Token {world.keys[username]}"})
    client = Client()
    client.force_login(world.cast.users[username])
    return client


def person_url(crn: str) -> str:
    return reverse("api:person", args=[crn])


def results_url(month: str = MONTH) -> str:
    return reverse("api:screening_run_results", args=[month])


def summary_url(month: str = MONTH) -> str:
    return reverse("api:screening_run", args=[month])


def _events(**filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters))


# --- tokens ------------------------------------------------------------------------------------


def test_an_issued_key_is_stored_only_as_its_hash(world: ApiWorld) -> None:
    user = world.cast.users["hos_b"]
    issued = api_token_issue(actor="test", user=user, name="MI report")
    token = ApiToken.objects.get(pk=issued.token.pk)
    assert token.key_hash == hashlib.sha256(issued.key.encode()).hexdigest()
    assert issued.key.startswith(token.prefix) and len(token.prefix) < len(issued.key) // 4
    stored = json.dumps(
        list(ApiToken.objects.filter(pk=token.pk).values()), default=str
    ) + json.dumps(list(AuditEvent.objects.values()), default=str)
    assert issued.key not in stored
    event = AuditEvent.objects.get(action="issue_token", object_id=str(token.pk))
    assert (event.object_type, event.after["prefix"], event.after["name"]) == (
        "api_token",
        token.prefix,
        "MI report",
    )
    assert token.expires_at - token.created_at == dt.timedelta(days=90)


def test_two_keys_are_never_the_same(world: ApiWorld) -> None:
    user = world.cast.users["hos_b"]
    keys = {api_token_issue(actor="test", user=user).key for _ in range(5)}
    assert len(keys) == 5 and all(len(key) >= 40 for key in keys)


def test_a_valid_token_authenticates(world: ApiWorld) -> None:
    response = client_for(world, "cc_eoe").get(summary_url())
    assert response.status_code == 200


def test_no_credentials_get_401_with_the_token_challenge(world: ApiWorld) -> None:
    response = Client().get(summary_url())
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert set(response.json()) == {"detail"}


def _refused_with_generic_message(client: Client) -> str:
    response = client.get(person_url("Y000001"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    return str(response.json()["detail"])


def test_unknown_revoked_expired_and_inactive_keys_get_the_same_401(
    world: ApiWorld, time_machine: Any
) -> None:
    messages = set()
    unknown = "x" * 43
    messages.add(
        _refused_with_generic_message(Client(headers={"Authorization": f"Token {unknown}"}))
    )

    revoked = api_token_issue(actor="test", user=world.cast.users["spo_a1"])
    api_tokens_revoke(actor="test", user=world.cast.users["spo_a1"], prefix=revoked.token.prefix)
    messages.add(
        _refused_with_generic_message(Client(headers={"Authorization": f"Token {revoked.key}"}))
    )

    inactive = User.objects.get(username="hos_a")
    inactive_key = api_token_issue(actor="test", user=inactive).key
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    messages.add(
        _refused_with_generic_message(Client(headers={"Authorization": f"Token {inactive_key}"}))
    )

    expiring = api_token_issue(actor="test", user=world.cast.users["cc_eoe"], days=1)
    client = Client(headers={"Authorization": f"Token {expiring.key}"})
    assert client.get(person_url("Y000001")).status_code == 200
    time_machine.move_to(expiring.token.expires_at + dt.timedelta(seconds=1), tick=False)
    messages.add(_refused_with_generic_message(client))

    assert len(messages) == 1
    failures = _events(action="sign_in_failed", object_type="api_token")
    assert sorted(event.details["reason"] for event in failures) == sorted(
        ["unknown", "revoked", "inactive_user", "expired"]
    )
    recorded = json.dumps([vars(event) for event in failures], default=str)
    for key in (unknown, revoked.key, inactive_key, expiring.key):
        assert key not in recorded and key[:8] not in recorded
    # A refused key reads nothing, so no person was recorded as viewed.
    assert not _events(action="view", actor_username="hos_a")


@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token " + "k" * 500, "token \u00e9t\u00e9"],
)
def test_a_malformed_token_header_gets_401(world: ApiWorld, header: str) -> None:
    response = Client(headers={"Authorization": header}).get(summary_url())
    assert response.status_code == 401
    assert _events(action="sign_in_failed", object_type="api_token")


def test_another_authorization_scheme_is_not_a_token(world: ApiWorld) -> None:
    response = Client(headers={"Authorization": "Basic dXNlcjpwYXNz"}).get(summary_url())
    assert response.status_code == 401
    assert not _events(action="sign_in_failed", object_type="api_token")


def test_last_used_is_written_at_most_once_a_minute(world: ApiWorld, time_machine: Any) -> None:
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    issued = api_token_issue(actor="test", user=world.cast.users["hos_b"])
    client = Client(headers={"Authorization": f"Token {issued.key}"})

    def last_used() -> dt.datetime | None:
        return ApiToken.objects.get(pk=issued.token.pk).last_used_at

    assert last_used() is None
    client.get(summary_url())
    assert last_used() == start
    time_machine.move_to(start + dt.timedelta(seconds=30), tick=False)
    client.get(summary_url())
    assert last_used() == start
    later = start + LAST_USED_RESOLUTION + dt.timedelta(seconds=1)
    time_machine.move_to(later, tick=False)
    client.get(summary_url())
    assert last_used() == later


def test_a_failed_audit_of_a_bad_token_refuses_with_503(world: ApiWorld, monkeypatch: Any) -> None:
    from complexcases.accounts import authentication

    def unavailable(**kwargs: Any) -> None:
        raise AuditUnavailable("down")

    monkeypatch.setattr(authentication, "audit_record", unavailable)
    response = Client(headers={"Authorization": "Token " + "y" * 43}).get(summary_url())
    assert response.status_code == 503


def test_a_user_over_the_rate_is_throttled(world: ApiWorld, monkeypatch: Any) -> None:
    monkeypatch.setattr(UserRateThrottle, "rate", "3/minute", raising=False)
    client = client_for(world, "hos_b")
    statuses = [client.get(summary_url()).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert int(client.get(summary_url())["Retry-After"]) > 0
    # Another user has their own allowance.
    assert client_for(world, "hos_a").get(summary_url()).status_code == 200


def test_anonymous_schema_reads_are_throttled(world: ApiWorld, monkeypatch: Any) -> None:
    monkeypatch.setattr(AnonRateThrottle, "rate", "2/minute", raising=False)
    statuses = [Client().get(reverse("api:schema")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


# --- the commands ------------------------------------------------------------------------------


def test_issue_command_prints_only_a_key_that_works(world: ApiWorld) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_api_token", "cc_eoe", "--name", "weekly report", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert "\n" not in key and " " not in key
    assert key not in err.getvalue()
    token = ApiToken.objects.get(key_hash=hash_key(key))
    assert (token.user.username, token.name) == ("cc_eoe", "weekly report")
    assert token.prefix in err.getvalue()
    response = Client(headers={"Authorization": f"Token {key}"}).get(person_url("Y000001"))
    assert response.status_code == 200
    assert response.json()["crn"] == "Y000001"


def test_issue_command_sets_the_lifetime(world: ApiWorld) -> None:
    out = io.StringIO()
    call_command("issue_api_token", "cc_eoe", "--days", "7", stdout=out, stderr=io.StringIO())
    token = ApiToken.objects.get(key_hash=hash_key(out.getvalue().strip()))
    assert token.expires_at - token.created_at == dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("username", "options"),
    [
        ("nobody_by_this_name", []),
        ("inactive_spo", []),
        ("cc_eoe", ["--days", "0"]),
        ("cc_eoe", ["--days", "3650"]),
    ],
)
def test_issue_command_refuses(world: ApiWorld, username: str, options: list[str]) -> None:
    before = ApiToken.objects.count()
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("issue_api_token", username, *options, stdout=out, stderr=io.StringIO())
    assert out.getvalue() == ""
    assert ApiToken.objects.count() == before


def test_revoke_command_by_prefix_and_all(world: ApiWorld) -> None:
    user = world.cast.users["hos_b"]
    first, second, third = (api_token_issue(actor="test", user=user) for _ in range(3))
    call_command("revoke_api_token", "hos_b", "--prefix", first.token.prefix, stdout=io.StringIO())

    def works(key: str) -> bool:
        return (
            Client(headers={"Authorization": f"Token {key}"}).get(summary_url()).status_code == 200
        )

    assert not works(first.key)
    assert works(second.key) and works(third.key)
    call_command("revoke_api_token", "hos_b", "--all", stdout=io.StringIO())
    assert not works(second.key) and not works(third.key)
    assert works(world.keys["hos_a"])
    revoked = _events(action="revoke_token", object_type="api_token")
    assert {event.object_id for event in revoked} >= {
        str(token.token.pk) for token in (first, second, third)
    }
    assert all(event.after["revoked_at"] for event in revoked)


def test_revoke_command_refuses_an_unknown_prefix_or_user(world: ApiWorld) -> None:
    with pytest.raises(CommandError):
        call_command("revoke_api_token", "hos_b", "--prefix", "nosuchpx", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("revoke_api_token", "nobody_by_this_name", "--all", stdout=io.StringIO())


# --- session authentication --------------------------------------------------------------------


def test_a_signed_in_session_may_use_the_api(world: ApiWorld) -> None:
    response = client_for(world, "spo_a1", via="session").get(person_url("Y000004"))
    assert response.status_code == 200
    assert response.json()["crn"] == "Y000004"


def test_a_session_request_without_csrf_is_refused_on_unsafe_methods(world: ApiWorld) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.cast.users["spo_a1"])
    response = client.post(person_url("Y000001"), data={}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_an_inactive_users_session_is_unauthenticated(world: ApiWorld) -> None:
    client = Client()
    client.force_login(world.cast.users["inactive_spo"])
    assert client.get(person_url("Y000001")).status_code == 401


# --- GET /api/v1/people/{crn}: the cast ------------------------------------------------------


def _expected_person_status(username: str, crn: str) -> int:
    listed = crn != "Y000002"
    if not CAST_SCOPE[username][0 if listed else 1]:
        return 404
    if crn == "Y000003" and username == "manager":
        return 403  # excluded
    if crn == "Y000004" and username != "spo_a1":
        return 403  # outside the restriction
    return 200


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("crn", ["Y000001", "Y000002", "Y000003", "Y000004"])
@pytest.mark.parametrize("username", ACTIVE_CAST)
def test_person_endpoint_for_the_cast(world: ApiWorld, username: str, crn: str, via: str) -> None:
    response = client_for(world, username, via).get(person_url(crn))
    expected = _expected_person_status(username, crn)
    assert response.status_code == expected
    body = response.json()
    person = world.people[crn]
    if expected == 404:
        assert body == {"detail": "Not found."}
        assert _events(action="refused", actor_username=username, person_crn=crn)
    elif expected == 403:
        assert body == {"detail": access.LIMITED_ACCESS_MESSAGE, "crn": crn}
        assert person.surname.encode() not in response.content
        assert _events(action="refused", actor_username=username, person_crn=crn)
    else:
        assert (body["crn"], body["name"], body["date_of_birth"]) == (
            crn,
            f"{person.forename} {person.surname}",
            person.date_of_birth.isoformat(),
        )
        views = _events(action="view", object_type="person", person_crn=crn)
        assert [event.actor_username for event in views] == [username]
        assert views[0].details["channel"] == "api"
    if expected != 200:
        assert not _events(action="view", actor_username=username)


def test_inactive_user_gets_401_from_every_endpoint(world: ApiWorld) -> None:
    client = Client()
    client.force_login(world.cast.users["inactive_spo"])
    for url in (person_url("Y000001"), results_url(), summary_url()):
        assert client.get(url).status_code == 401


def test_person_endpoint_content(world: ApiWorld) -> None:
    person = world.people["Y000001"]
    body = client_for(world, "manager").get(person_url("Y000001")).json()
    manager = world.cast.users["manager"].staff
    assert body["pdu"] == {"code": person.pdu.code, "name": person.pdu.name}
    assert body["team"] == {"code": person.team.code, "name": person.team.name}
    assert body["offender_manager"] == f"{manager.forename} {manager.surname}"
    assert (body["in_custody"], body["expected_release_date"], body["on_caseload"]) == (
        person.in_custody,
        None,
        True,
    )
    latest = body["latest_result"]
    assert (latest["month"], latest["as_of"]) == (MONTH, "2026-11-01")
    assert (latest["criteria_set"], latest["criteria_version"]) == ("cc-2021", 1)
    assert latest["criteria_met"] == [cid for cid in CRITERIA_IDS if cid in SIX]
    assert latest["criteria_count"] == len(SIX)
    assert (latest["eligible"], latest["near_miss"], latest["change"]) == (
        True,
        False,
        "continuing",
    )
    assert latest["months_on_list"] == 2
    assert latest["evidence"] == _evidence(SIX)


def test_a_person_never_screened_has_no_latest_result(world: ApiWorld) -> None:
    PersonFactory(
        crn="Y000099",
        team=world.cast.teams["A1"],
        offender_manager=world.cast.users["manager"].staff,
    )
    body = client_for(world, "manager").get(person_url("Y000099")).json()
    assert body["latest_result"] is None


def test_person_read_is_refused_when_the_audit_cannot_be_written(
    world: ApiWorld, monkeypatch: Any
) -> None:
    def unavailable(**kwargs: Any) -> None:
        raise AuditUnavailable("down")

    monkeypatch.setattr(audit, "audit_record", unavailable)
    response = client_for(world, "manager").get(person_url("Y000001"))
    assert response.status_code == 503
    assert b"Quillfeather" not in response.content and b"1979" not in response.content


@pytest.mark.parametrize("path", ["people/y000001", "people/Y0000011", "nothing-here", "people/"])
def test_other_api_paths_are_a_json_404(world: ApiWorld, path: str) -> None:
    response = client_for(world, "manager").get(f"/api/v1/{path}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# --- GET /api/v1/screening-runs/{month}/results: the cast ------------------------------------


def _all_rows(client: Client, url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200
        rows.extend(response.json()["results"])
        next_url = response.json()["next"]
    return rows


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("username", ACTIVE_CAST)
def test_results_for_the_cast(world: ApiWorld, username: str, via: str) -> None:
    expected = RESULT_ROWS[username]
    client = client_for(world, username, via)
    response = client.get(results_url())
    if expected is None:
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
        assert not _events(action="list", actor_username=username)
        return
    visible, limited = expected
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(visible)
    rows = body["results"]
    assert {row["crn"] for row in rows} == visible
    assert {row["crn"] for row in rows if row["limited_access"]} == limited
    for row in rows:
        person = world.people[row["crn"]]
        if row["crn"] in limited:
            assert row == {"crn": row["crn"], "limited_access": True}
            assert person.surname.encode() not in response.content
        else:
            assert row["name"] == f"{person.forename} {person.surname}"
            assert (row["pdu_code"], row["team_code"]) == (person.pdu.code, person.team.code)
    assert [row["crn"] for row in rows] == sorted(
        (row["crn"] for row in rows), key=lambda crn: (world.people[crn].pdu.code, crn)
    )
    event = AuditEvent.objects.get(action="list", actor_username=username)
    assert (event.object_type, event.object_id, event.details["rows"]) == (
        "screening_results",
        MONTH,
        len(visible),
    )


def test_a_full_results_row(world: ApiWorld) -> None:
    rows = client_for(world, "spo_a1").get(results_url()).json()["results"]
    row = next(row for row in rows if row["crn"] == "Y000002")
    assert row == {
        "crn": "Y000002",
        "limited_access": False,
        "name": "Barnabus Thistlewaite",
        "pdu_code": "PDUA",
        "team_code": "TA1",
        "criteria_count": 3,
        "criteria_met": [cid for cid in CRITERIA_IDS if cid in THREE],
        "eligible": False,
        "near_miss": False,
        "change": "",
        "months_on_list": 0,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("eligible=true", {"Y000001", "Y000003", "Y000004", "Y000005"}),
        ("eligible=false", {"Y000007"}),
        ("pdu=PDUB", {"Y000005"}),
        ("pdu=PDUA&eligible=false", {"Y000007"}),
    ],
)
def test_results_filters(world: ApiWorld, query: str, expected: set[str]) -> None:
    rows = _all_rows(client_for(world, "cc_eoe"), f"{results_url()}?{query}")
    assert {row["crn"] for row in rows} == expected


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (lambda: results_url("2026-13"), 404),
        (lambda: results_url("2026-12"), 404),
        (lambda: f"{results_url()}?pdu=PDUC", 404),  # not cc_eoe's region
        (lambda: f"{results_url()}?pdu=NOPE", 404),
        (lambda: f"{results_url()}?pdu=%00", 400),
        (lambda: f"{results_url()}?eligible=yes", 400),
        (lambda: f"{results_url()}?page=99", 404),
        (lambda: f"{results_url()}?page_size=501", 400),
        (lambda: f"{results_url()}?page_size=ten", 400),
        (lambda: summary_url("2026-00"), 404),
        (lambda: summary_url("2025-11"), 404),
    ],
)
def test_bad_requests(world: ApiWorld, url: Any, status: int) -> None:
    response = client_for(world, "cc_eoe").get(url())
    assert response.status_code == status
    assert "detail" in response.json() or status == 400


def test_results_pages(world: ApiWorld) -> None:
    client = client_for(world, "cc_eoe")
    first = client.get(f"{results_url()}?page_size=2").json()
    assert (first["count"], len(first["results"]), first["previous"]) == (5, 2, None)
    rows = _all_rows(client, f"{results_url()}?page_size=2")
    assert [row["crn"] for row in rows] == [row["crn"] for row in _all_rows(client, results_url())]
    assert len(rows) == 5


def test_results_queries_do_not_grow_with_the_page(world: ApiWorld) -> None:
    manager_b = StaffFactory(team=world.cast.teams["B1"])
    for index in range(30):
        person: Any = PersonFactory(team=world.cast.teams["B1"], offender_manager=manager_b)
        ScreeningResultFactory(run=world.run, person=person, evidence=_evidence(SIX))
        if index % 4 == 0:
            LimitedAccess.objects.create(person=person, username="someone_else", kind="RESTRICTION")
    client = client_for(world, "cc_eoe")
    client.get(summary_url())  # the token's last-used time is written now, not below

    def measured(size: int) -> tuple[int, int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{results_url()}?pdu=PDUB&page_size={size}")
        rows = response.json()["results"]
        return len(rows), sum(1 for row in rows if row["limited_access"]), len(queries)

    small_rows, _small_limited, small = measured(3)
    large_rows, large_limited, large = measured(30)
    assert (small_rows, large_rows) == (3, 30)
    assert large_limited > 0
    assert small == large


# --- GET /api/v1/screening-runs/{month}: the cast ----------------------------------------------


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("username", ACTIVE_CAST)
def test_summary_for_the_cast(world: ApiWorld, username: str, via: str) -> None:
    response = client_for(world, username, via).get(summary_url())
    assert response.status_code == 200
    body = response.json()
    run = world.run
    assert (body["month"], body["as_of"], body["people_screened"], body["eligible"]) == (
        MONTH,
        "2026-11-01",
        run.people_screened,
        run.eligible_count,
    )
    codes = {row["pdu_code"].removeprefix("PDU") for row in body["counts_by_pdu"]}
    assert codes == SUMMARY_PDUS[username]
    for row in body["counts_by_pdu"]:
        stored = run.counts_by_pdu[row["pdu_code"]]
        assert row["eligible"] == stored["eligible"]
        assert row["left"] == stored.get("left", 0)


# --- the analyst never receives identifiers ----------------------------------------------------


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("username", ["analyst_eoe", "analyst_national"])
def test_analyst_never_receives_a_name_crn_or_date_of_birth(
    world: ApiWorld, username: str, via: str
) -> None:
    client = client_for(world, username, via)
    urls = [person_url(crn) for crn in PEOPLE]
    urls += [results_url(), f"{results_url()}?pdu=PDUA", f"{results_url()}?eligible=true"]
    urls += [summary_url(), summary_url("2026-10"), reverse("api:schema")]
    received = b""
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404)
        received += response.content
    assert b"counts_by_pdu" in received  # the summary was received
    for crn, (_team, forename, surname, born, *_rest) in PEOPLE.items():
        for value in (crn, forename, surname, born.isoformat(), born.strftime("%d/%m/%Y")):
            assert value.encode() not in received, value


# --- schema and policies -----------------------------------------------------------------------


def test_schema_is_public_openapi_3(world: ApiWorld) -> None:
    response = Client().get(reverse("api:schema"))
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/people/{crn}",
        "/api/v1/screening-runs/{month}",
        "/api/v1/screening-runs/{month}/results",
        "/api/v1/referrals",
        "/api/v1/referrals/{referral_id}",
    }
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_every_api_route_declares_an_access_policy() -> None:
    from config import api_urls

    for pattern in api_urls.urlpatterns:
        assert policy_of(pattern.callback) in POLICIES, pattern
