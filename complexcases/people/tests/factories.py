"""factory_boy factories for the organisation, case data and screening results. Synthetic only."""

from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory
from faker import Faker

from complexcases.accounts.models import Pdu, Region, Staff, Team, User
from complexcases.people.models import Assessment, LimitedAccess, Person, Registration, Sentence
from complexcases.screening.criteria import CURRENT
from complexcases.screening.models import CriteriaSet, ScreeningResult, ScreeningRun

_FAKER = Faker("en_GB")


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "EOE"
    name = "East of England"


class PduFactory(DjangoModelFactory):
    class Meta:
        model = Pdu
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"PDU{n:03d}")
    name = factory.Sequence(lambda n: f"Test PDU {n}")
    region = factory.SubFactory(RegionFactory)


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"TM{n:04d}")
    name = factory.Sequence(lambda n: f"Test team {n}")
    pdu = factory.SubFactory(PduFactory)


class StaffFactory(DjangoModelFactory):
    class Meta:
        model = Staff

    staff_code = factory.Sequence(lambda n: f"S{n:05d}")
    forename = factory.Faker("first_name", locale="en_GB")
    surname = factory.Faker("last_name", locale="en_GB")
    email = factory.LazyAttribute(lambda o: f"{o.staff_code.lower()}@example.justice.invalid")
    grade = "PO"
    team = factory.SubFactory(TeamFactory)
    username = factory.LazyAttribute(lambda o: o.staff_code.lower())


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.justice.invalid")
    password = factory.django.Password("correct horse battery staple")


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = Person

    crn = factory.Sequence(lambda n: f"X{n:06d}")
    forename = factory.Faker("first_name", locale="en_GB")
    # A real surname made distinctive, so "the name is not on this page" can never be satisfied or
    # broken by page text that happens to spell it ("Page", "Case", "Service" are surnames too).
    surname = factory.LazyFunction(lambda: f"{_FAKER.last_name()}-Testfamily")
    date_of_birth = dt.date(1985, 6, 1)
    gender = "M"
    gender_identity_differs = None
    team = factory.SubFactory(TeamFactory)
    pdu = factory.LazyAttribute(lambda o: o.team.pdu)
    offender_manager = factory.SubFactory(StaffFactory, team=factory.SelfAttribute("..team"))
    in_custody = False
    expected_release_date = None


class RegistrationFactory(DjangoModelFactory):
    class Meta:
        model = Registration

    person = factory.SubFactory(PersonFactory)
    register_type_code = "RHRH"
    register_level_code = ""
    register_category_code = ""
    registration_date = dt.date(2024, 1, 1)
    deregistration_date = None


class AssessmentFactory(DjangoModelFactory):
    class Meta:
        model = Assessment

    assessment_id = factory.Sequence(lambda n: f"{n + 100000}")
    person = factory.SubFactory(PersonFactory)
    assessment_type = "LAYER3"
    status = "COMPLETE"
    completed_date = dt.date(2025, 1, 1)
    rosh_overall = "MEDIUM"


class SentenceFactory(DjangoModelFactory):
    class Meta:
        model = Sentence

    person = factory.SubFactory(PersonFactory)
    event_number = factory.Sequence(lambda n: str(n + 1))
    sentence_type = "SDS"
    sentence_date = dt.date(2020, 1, 1)
    active = True


class LimitedAccessFactory(DjangoModelFactory):
    class Meta:
        model = LimitedAccess

    person = factory.SubFactory(PersonFactory)
    username = "someone"
    kind = "EXCLUSION"


class CriteriaSetFactory(DjangoModelFactory):
    class Meta:
        model = CriteriaSet
        django_get_or_create = ("code", "version")

    code = "cc-2021"
    version = 1
    parameters = factory.LazyFunction(lambda: dict(CURRENT))


class ScreeningRunFactory(DjangoModelFactory):
    class Meta:
        model = ScreeningRun

    as_of = dt.date(2026, 11, 1)
    month = factory.LazyAttribute(lambda o: o.as_of.strftime("%Y-%m"))
    criteria_set = factory.SubFactory(CriteriaSetFactory)
    parameters = factory.LazyFunction(lambda: {})
    started_at = factory.LazyFunction(lambda: dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC))
    run_by = "test"


class ScreeningResultFactory(DjangoModelFactory):
    class Meta:
        model = ScreeningResult

    run = factory.SubFactory(ScreeningRunFactory)
    person = factory.SubFactory(PersonFactory)
    pdu = factory.LazyAttribute(lambda o: o.person.pdu)
    team = factory.LazyAttribute(lambda o: o.person.team)
    criteria_count = 6
    criteria_mask = 0b00111111
    eligible = True
    near_miss = False
    no_current_oasys = False
    change = "new"
    months_on_list = 1
    evidence = factory.LazyFunction(lambda: {"criteria": [], "latest_oasys": None})
