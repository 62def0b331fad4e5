# mypy: disable-error-code="index,operator"
"""Need-to-know: every role and scope of the standard cast against every kind of limited access."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from complexcases.accounts import access
from complexcases.accounts.access import LimitedAccessDenied, NotFound
from complexcases.accounts.tests.cast import CAST_SCOPE, TODAY, build_cast, build_org, fresh, give
from complexcases.core.audit import AuditUnavailable
from complexcases.core.models import AuditEvent
from complexcases.people.models import LimitedAccess, Person
from complexcases.people.tests.factories import (
    PersonFactory,
    ScreeningResultFactory,
    ScreeningRunFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def _module_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Any]:
    """The organisation and cast, built once for this module inside a transaction rolled back at
    the end; each test runs in its own savepoint within it (pytest-django's `db`)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_cast(build_org())
        transaction.set_rollback(True)


@pytest.fixture
def world(_module_world: Any, db: Any) -> Any:
    return _module_world


def _run(month_day: dt.date, hour: int = 9) -> Any:
    return ScreeningRunFactory(
        as_of=month_day,
        started_at=dt.datetime(month_day.year, month_day.month, month_day.day, hour, tzinfo=dt.UTC),
    )


def _result(run: Any, person: Any, *, eligible: bool = False, near_miss: bool = False) -> None:
    ScreeningResultFactory(run=run, person=person, eligible=eligible, near_miss=near_miss)


# How the person stands in the screening runs, and whether that makes them "listed".
def _listed_eligible(person: Person) -> None:
    _result(_run(dt.date(2026, 10, 1)), person)
    _result(_run(dt.date(2026, 11, 1)), person, eligible=True)


def _listed_near_miss(person: Person) -> None:
    _result(_run(dt.date(2026, 11, 1)), person, near_miss=True)


def _not_listed(person: Person) -> None:
    _result(_run(dt.date(2026, 11, 1)), person)


def _listed_last_month_only(person: Person) -> None:
    _result(_run(dt.date(2026, 10, 1)), person, eligible=True)
    _result(_run(dt.date(2026, 11, 1)), person)


def _listed_in_earlier_run_of_same_month(person: Person) -> None:
    _result(_run(dt.date(2026, 11, 1), hour=9), person, eligible=True)
    _result(_run(dt.date(2026, 11, 2), hour=9), person)


def _listed_in_later_run_of_same_month(person: Person) -> None:
    _result(_run(dt.date(2026, 11, 1), hour=9), person)
    _result(_run(dt.date(2026, 11, 2), hour=9), person, eligible=True)


def _never_screened(person: Person) -> None:
    pass


LISTINGS = {
    "listed_eligible": (_listed_eligible, True),
    "listed_near_miss": (_listed_near_miss, True),
    "not_listed": (_not_listed, False),
    "listed_last_month_only": (_listed_last_month_only, False),
    "listed_earlier_run_same_month": (_listed_in_earlier_run_of_same_month, False),
    "listed_later_run_same_month": (_listed_in_later_run_of_same_month, True),
    "never_screened": (_never_screened, False),
}

# Limited access entries as (kind, who, start, end); who is "viewer", "VIEWER" (the viewer's
# username in capitals) or another username. Expected: does it refuse the viewer?
E, R = "EXCLUSION", "RESTRICTION"
LIMITED: dict[str, tuple[list[tuple[str, str, Any, Any]], str | None]] = {
    "none": ([], None),
    "excluded": ([(E, "viewer", None, None)], "excluded"),
    "excluded_other_case": ([(E, "VIEWER", None, None)], "excluded"),
    "other_excluded": ([(E, "someone_else", None, None)], None),
    "restricted_allowed": ([(R, "viewer", None, None)], None),
    "restricted_allowed_among_others": (
        [(R, "someone_else", None, None), (R, "viewer", None, None)],
        None,
    ),
    "restricted_other": ([(R, "someone_else", None, None)], "restricted"),
    "restricted_other_case": ([(R, "VIEWER", None, None)], "restricted"),
    "excluded_not_yet_started": ([(E, "viewer", TODAY + DAY, None)], None),
    "excluded_starting_today": ([(E, "viewer", TODAY, None)], "excluded"),
    "excluded_ending_tomorrow": ([(E, "viewer", TODAY - DAY, TODAY + DAY)], "excluded"),
    "excluded_ended_today": ([(E, "viewer", None, TODAY)], None),
    "excluded_ended": ([(E, "viewer", TODAY - 10 * DAY, TODAY - DAY)], None),
    "restricted_other_not_yet_started": ([(R, "someone_else", TODAY + DAY, None)], None),
    "restricted_other_ended": ([(R, "someone_else", None, TODAY)], None),
    "restricted_allowed_ended_other_current": (
        [(R, "viewer", None, TODAY), (R, "someone_else", None, None)],
        "restricted",
    ),
    "excluded_and_restricted_to_viewer": (
        [(E, "viewer", None, None), (R, "viewer", None, None)],
        "excluded",
    ),
}


def _limit(person: Person, username: str, entries: list[tuple[str, str, Any, Any]]) -> None:
    for kind, who, start, end in entries:
        name = {"viewer": username, "VIEWER": username.upper()}.get(who, who)
        LimitedAccess.objects.create(
            person=person, username=name, kind=kind, start_date=start, end_date=end
        )


def _outcome(user: Any, crn: str) -> str:
    try:
        access.get_person_for(user, crn, today=TODAY)
    except NotFound:
        return "not_found"
    except LimitedAccessDenied:
        return "limited"
    return "ok"


@pytest.mark.parametrize("listing", LISTINGS)
@pytest.mark.parametrize("username", CAST_SCOPE)
def test_scope_of_each_role_by_listing(world: Any, username: str, listing: str) -> None:
    arrange, listed = LISTINGS[listing]
    arrange(world.person)
    in_scope = CAST_SCOPE[username][0 if listed else 1]
    user = fresh(world.users[username])
    visible = access.people_visible_to(user)
    assert (world.person in visible) is in_scope
    assert _outcome(fresh(user), world.person.crn) == ("ok" if in_scope else "not_found")


@pytest.mark.parametrize("limited", LIMITED)
@pytest.mark.parametrize("username", CAST_SCOPE)
def test_limited_access_against_each_role(world: Any, username: str, limited: str) -> None:
    _listed_eligible(world.person)
    entries, refusal = LIMITED[limited]
    _limit(world.person, username, entries)
    in_scope = CAST_SCOPE[username][0]
    user = fresh(world.users[username])
    refusals_before = AuditEvent.objects.filter(action="refused").count()

    outcome = _outcome(user, world.person.crn)

    # Out of scope reads as not found, whatever the limited access.
    expected = "limited" if refusal else "ok"
    if not in_scope:
        expected = "not_found"
    assert outcome == expected
    assert access.limited_access_decision(user, world.person, TODAY) == refusal
    # Lists: the row is there when in scope, marked with the same decision, in the same query.
    rows = access.annotate_limited_access(access.people_visible_to(user), user, TODAY)
    marked = {p.pk: p.limited_access_refusal for p in rows}
    assert (world.person.pk in marked) is in_scope
    if in_scope:
        assert marked[world.person.pk] == refusal
    page = access.limited_access_refusals(user, [world.person.pk], TODAY)
    assert page.get(world.person.pk) == refusal
    assert access.can_view_person(user, world.person, TODAY) is (expected == "ok")
    refused = AuditEvent.objects.filter(action="refused").count() - refusals_before
    assert refused == (0 if expected == "ok" else 1)


def test_limited_access_refuses_admin_and_superuser_on_own_caseload(world: Any) -> None:
    """A superuser who is also the practitioner managing the case is still excluded."""
    manager = fresh(world.users["manager"])
    manager.is_superuser = True
    manager.is_staff = True
    manager.save(update_fields=["is_superuser", "is_staff"])
    give(manager, "admin")
    LimitedAccess.objects.create(person=world.person, username="manager", kind=E)
    with pytest.raises(LimitedAccessDenied):
        access.get_person_for(fresh(manager), world.person.crn, today=TODAY)


def test_not_there_and_out_of_scope_are_the_same_error(world: Any) -> None:
    user = fresh(world.users["colleague"])
    with pytest.raises(NotFound) as out_of_scope:
        access.get_person_for(user, world.person.crn, today=TODAY)
    with pytest.raises(NotFound) as not_there:
        access.get_person_for(user, "Z999999", today=TODAY)
    assert type(out_of_scope.value) is type(not_there.value)
    assert str(out_of_scope.value) == str(not_there.value)
    events = AuditEvent.objects.filter(action="refused", actor_username="colleague")
    assert sorted(events.values_list("person_crn", flat=True)) == sorted(
        [world.person.crn, "Z999999"]
    )
    assert set(events.values_list("outcome", flat=True)) == {"refused"}


def test_limited_access_refusal_carries_only_the_crn(world: Any) -> None:
    LimitedAccess.objects.create(person=world.person, username="manager", kind=E)
    with pytest.raises(LimitedAccessDenied) as refused:
        access.get_person_for(fresh(world.users["manager"]), world.person.crn, today=TODAY)
    assert refused.value.crn == world.person.crn
    message = str(refused.value)
    assert world.person.surname not in message and world.person.forename not in message
    event = AuditEvent.objects.get(action="refused")
    assert (event.person_crn, event.actor_username) == (world.person.crn, "manager")
    assert "excluded" in event.reason


def test_anonymous_user_sees_nobody(world: Any) -> None:
    _listed_eligible(world.person)
    anonymous = AnonymousUser()
    assert not access.people_visible_to(anonymous).exists()
    assert _outcome(anonymous, world.person.crn) == "not_found"
    assert access.pdus_visible_to(anonymous).count() == 0
    assert access.can_see_identifiers(anonymous) is False


def test_refusal_is_not_given_when_the_audit_cannot_be_written(
    world: Any, monkeypatch: Any
) -> None:
    def unavailable(**kwargs: Any) -> None:
        raise AuditUnavailable("down")

    monkeypatch.setattr(access, "audit_record", unavailable)
    with pytest.raises(AuditUnavailable):
        access.get_person_for(fresh(world.users["colleague"]), world.person.crn, today=TODAY)


def test_get_person_for_honours_a_callers_queryset(world: Any) -> None:
    other: Any = PersonFactory(
        team=world.teams["A1"], offender_manager=world.users["manager"].staff
    )
    narrowed = Person.objects.exclude(pk=other.pk).select_related("team")
    manager = fresh(world.users["manager"])
    assert (
        access.get_person_for(manager, world.person.crn, today=TODAY, queryset=narrowed)
        == world.person
    )
    with pytest.raises(NotFound):
        access.get_person_for(manager, other.crn, today=TODAY, queryset=narrowed)


def test_practitioner_without_a_staff_link_manages_nobody(world: Any) -> None:
    unlinked: Any = UserFactory(username="unlinked")
    give(unlinked, "practitioner")
    assert not access.people_visible_to(fresh(unlinked)).exists()


def test_cc_team_sees_listed_people_across_their_region_only(world: Any) -> None:
    run = _run(dt.date(2026, 11, 1))
    people: dict[str, Any] = {
        code: PersonFactory(
            team=world.teams[code], offender_manager=StaffFactory(team=world.teams[code])
        )
        for code in ("A2", "B1", "C1")
    }
    for person in people.values():
        _result(run, person, eligible=True)
    unlisted: Any = PersonFactory(
        team=world.teams["B1"], offender_manager=StaffFactory(team=world.teams["B1"])
    )
    _result(run, unlisted)
    assert set(access.people_visible_to(fresh(world.users["cc_eoe"]))) == {
        people["A2"],
        people["B1"],
    }
    assert set(access.people_visible_to(fresh(world.users["cc_ldn"]))) == {people["C1"]}
    assert set(access.people_visible_to(fresh(world.users["hos_b"]))) == {people["B1"]}


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("manager", True),
        ("cover_a1", True),
        ("spo_a1", True),
        ("hos_a", True),
        ("cc_eoe", True),
        ("panel_eoe", True),
        ("analyst_eoe", False),
        ("analyst_national", False),
        ("admin", False),
        ("no_roles", False),
        ("inactive_spo", False),
    ],
)
def test_who_may_see_identifiers(world: Any, username: str, expected: bool) -> None:
    assert access.can_see_identifiers(fresh(world.users[username])) is expected


@pytest.mark.parametrize("username", CAST_SCOPE)
def test_only_admins_are_service_admins(world: Any, username: str) -> None:
    assert access.is_service_admin(fresh(world.users[username])) is (username == "admin")


def test_analyst_who_is_also_a_practitioner_may_see_identifiers(world: Any) -> None:
    analyst = fresh(world.users["analyst_eoe"])
    give(analyst, "practitioner")
    assert access.can_see_identifiers(fresh(analyst)) is True


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("manager", {"A"}),
        ("cover_a1", {"A"}),
        ("other_region_pp", {"C"}),
        ("spo_a1", {"A"}),
        ("hos_b", {"B"}),
        ("cc_eoe", {"A", "B"}),
        ("cc_ldn", {"C"}),
        ("analyst_eoe", {"A", "B"}),
        ("analyst_national", {"A", "B", "C"}),
        ("panel_eoe", set()),
        ("admin", set()),
        ("no_roles", set()),
        ("inactive_spo", set()),
    ],
)
def test_pdus_visible_to(world: Any, username: str, expected: set[str]) -> None:
    pdus = access.pdus_visible_to(fresh(world.users[username]))
    assert {pdu.code.removeprefix("PDU") for pdu in pdus} == expected


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("hos_a", {"A"}),
        ("hos_b", {"B"}),
        ("cc_eoe", {"A", "B"}),
        ("cc_ldn", {"C"}),
        ("manager", set()),
        ("spo_a1", set()),
        ("analyst_eoe", set()),
        ("analyst_national", set()),
        ("admin", set()),
        ("inactive_spo", set()),
    ],
)
def test_may_export(world: Any, username: str, expected: set[str]) -> None:
    user = fresh(world.users[username])
    allowed = {code for code, pdu in world.pdus.items() if access.may_export(user, pdu)}
    assert allowed == expected


@pytest.mark.parametrize("username", ["manager", "spo_a1", "hos_a", "cc_eoe", "cover_a1"])
def test_a_page_of_people_costs_the_same_queries_whatever_its_size(
    world: Any, username: str
) -> None:
    def page_queries(size: int) -> tuple[int, int]:
        user = fresh(world.users[username])
        with CaptureQueriesContext(connection) as captured:
            rows = list(
                access.annotate_limited_access(access.people_visible_to(user), user, TODAY)
                .select_related("team", "offender_manager")
                .order_by("crn")[:size]
            )
            for row in rows:
                _ = (row.team.name, row.offender_manager.surname, row.limited_access_refusal)
            access.limited_access_refusals(user, [row.pk for row in rows], TODAY)
        return len(rows), len(captured)

    run = _run(dt.date(2026, 11, 1))
    manager_staff = world.users["manager"].staff
    people = [
        PersonFactory(team=world.teams["A1"], offender_manager=manager_staff) for _ in range(30)
    ]
    for index, person in enumerate([world.person, *people]):
        _result(run, person, eligible=True)
        if index % 3 == 0:
            LimitedAccess.objects.create(person=person, username="someone_else", kind=R)
    small_rows, small = page_queries(3)
    large_rows, large = page_queries(25)
    assert (small_rows, large_rows) == (3, 25)
    assert small == large == 3  # the user's roles, the page, the page's limited access


def test_roles_are_read_once_per_user_object(world: Any) -> None:
    user = fresh(world.users["spo_a1"])
    access.people_visible_to(user)
    with CaptureQueriesContext(connection) as captured:
        access.people_visible_to(user)
        access.can_see_identifiers(user)
        access.pdus_visible_to(user)
    assert len(captured) == 0
    access.forget_grants(user)
    with CaptureQueriesContext(connection) as captured:
        access.can_see_identifiers(user)
    assert len(captured) == 1


def test_limited_access_expression_works_on_screening_results(world: Any) -> None:
    run = _run(dt.date(2026, 11, 1))
    _result(run, world.person, eligible=True)
    LimitedAccess.objects.create(person=world.person, username="spo_a1", kind=E)
    from complexcases.screening.models import ScreeningResult

    spo = fresh(world.users["spo_a1"])
    rows = ScreeningResult.objects.filter(person__in=access.people_visible_to(spo)).annotate(
        limited_access_refusal=access.limited_access_expression(spo, TODAY, person_ref="person_id")
    )
    assert [row.limited_access_refusal for row in rows] == ["excluded"]


@pytest.mark.parametrize(
    ("username", "entries", "expected"),
    [
        ("ann", [], None),
        ("ann", [(E, "ann")], "excluded"),
        ("ann", [(E, "ANN")], "excluded"),
        ("ann", [(E, "bob")], None),
        ("ann", [(R, "ann")], None),
        ("ann", [(R, "Ann")], "restricted"),
        ("ann", [(R, "bob")], "restricted"),
        ("ann", [(R, "bob"), (R, "ann")], None),
        ("ann", [(R, "ann"), (E, "ann")], "excluded"),
        ("", [(E, "")], None),
        ("", [(R, "bob")], "restricted"),
    ],
)
def test_limited_access_rule(username: str, entries: list[tuple[str, str]], expected: Any) -> None:
    assert access.limited_access_rule(username, entries) == expected
