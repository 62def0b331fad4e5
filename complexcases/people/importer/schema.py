"""Schema 1 of the case data extract (DESIGN.md section 3): the columns of each file and how each
cell is checked and converted.

A converter takes the cell's text and returns the typed value, or raises `Bad` with the reason.
Empty cells are null: optional text becomes "" (the models store blank text, not null), other
optional values become None. Dates stay ISO text: both databases take them as they are.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models

from complexcases.accounts.models import Grade, Pdu, Region, Staff, Team
from complexcases.people.models import (
    Assessment,
    AssessmentStatus,
    AssessmentType,
    Gender,
    LimitedAccess,
    LimitedAccessKind,
    Person,
    Registration,
    Sentence,
)

SCHEMA_VERSION = 1
Converter = Callable[[str], Any]


class Bad(ValueError):
    """A cell's value is not acceptable; the message is the reason shown to the operator."""


@dataclass(frozen=True)
class Column:
    """A column of a file and how its cells are converted.

    `check` gives the reason for a bad value (raises Bad). `fast` converts good values exactly as
    `check` does but is as cheap as possible, often a dict lookup done in C; it may raise any
    KeyError or ValueError, after which the row is checked again, slowly, with `check`.
    """

    name: str
    check: Converter
    fast: Converter


EMPTY = "required value is empty"
_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CRN = re.compile(r"[A-Z][0-9]{6}")
_POSITIVE_INTEGER_MAX = 2_147_483_647


class _Dates(dict[str, str | None]):
    """Real dates in the form YYYY-MM-DD, remembered once checked: a national extract repeats
    the same few thousand dates millions of times, and a hit is a plain dict lookup."""

    def __missing__(self, value: str) -> str:
        if not _DATE_SHAPE.fullmatch(value):
            raise KeyError(value)
        dt.date.fromisoformat(value)  # ValueError for 2024-02-30
        self[value] = value
        return value


_REQUIRED_DATES = _Dates()
_OPTIONAL_DATES = _Dates({"": None})


def valid_date(value: str) -> bool:
    try:
        _REQUIRED_DATES[value]
    except (KeyError, ValueError):
        return False
    return True


def max_length(model: type[models.Model], field: str) -> int:
    length = getattr(model._meta.get_field(field), "max_length", None)
    assert isinstance(length, int), f"{model.__name__}.{field} has no max_length"
    return length


def text(name: str, limit: int, *, required: bool = True) -> Column:
    def convert(value: str) -> str:
        if not value:
            if required:
                raise Bad(EMPTY)
            return ""
        if len(value) > limit:
            raise Bad(f"longer than {limit} characters")
        return value

    return Column(name, convert, convert)


def mapped(name: str, mapping: dict[str, Any], *, required: bool = True) -> Column:
    """An enumeration whose codes may become other values (Y/N to booleans, 0/1/2 to numbers).
    An empty optional cell is "" for text codes and None for the others."""
    reason = f"not one of {', '.join(mapping)}"
    lookup = dict(mapping)
    if not required:
        lookup[""] = "" if all(isinstance(v, str) for v in mapping.values()) else None

    def convert(value: str) -> Any:
        try:
            return lookup[value]
        except KeyError:
            raise Bad(EMPTY if not value else reason) from None

    return Column(name, convert, lookup.__getitem__)


def one_of(name: str, choices: Iterable[str], *, required: bool = True) -> Column:
    return mapped(name, {choice: choice for choice in choices}, required=required)


def yes_no(name: str, *, required: bool = True) -> Column:
    return mapped(name, {"Y": True, "N": False}, required=required)


def date(name: str, *, required: bool = True) -> Column:
    dates = _REQUIRED_DATES if required else _OPTIONAL_DATES

    def convert(value: str) -> str | None:
        if not value and required:
            raise Bad(EMPTY)
        try:
            return dates[value]
        except KeyError:
            raise Bad("not a date in the form YYYY-MM-DD") from None
        except ValueError:
            raise Bad("not a real date") from None

    return Column(name, convert, dates.__getitem__)


def count(name: str) -> Column:
    """An optional non-negative whole number (OASys scores)."""

    def convert(value: str) -> int | None:
        if not value:
            return None
        if not (value.isascii() and value.isdigit()):
            raise Bad("not a non-negative whole number")
        number = int(value)
        if number > _POSITIVE_INTEGER_MAX:
            raise Bad("too large")
        return number

    # Scores are small: a lookup covers them; anything else goes to `convert`.
    common: dict[str, int | None] = {str(number): number for number in range(1000)}
    common[""] = None
    return Column(name, convert, common.__getitem__)


def check_crn(value: str) -> str:
    if _CRN.fullmatch(value):
        return value
    raise Bad(EMPTY if not value else "not a CRN (a capital letter and six digits)")


def crn(name: str = "crn") -> Column:
    return Column(name, check_crn, check_crn)


@dataclass(frozen=True)
class FileSpec:
    name: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


_ANSWER_0_2 = {"0": 0, "1": 1, "2": 2}

PDUS = FileSpec(
    "pdus.csv",
    (
        text("region_code", max_length(Region, "code")),
        text("region_name", max_length(Region, "name")),
        text("pdu_code", max_length(Pdu, "code")),
        text("pdu_name", max_length(Pdu, "name")),
    ),
)
TEAMS = FileSpec(
    "teams.csv",
    (
        text("team_code", max_length(Team, "code")),
        text("team_name", max_length(Team, "name")),
        text("pdu_code", max_length(Pdu, "code")),
    ),
)
STAFF = FileSpec(
    "staff.csv",
    (
        text("staff_code", max_length(Staff, "staff_code")),
        text("forename", max_length(Staff, "forename")),
        text("surname", max_length(Staff, "surname")),
        text("email", max_length(Staff, "email"), required=False),
        one_of("grade", Grade.values),
        text("team_code", max_length(Team, "code")),
        text("username", max_length(Staff, "username"), required=False),
    ),
)
PEOPLE = FileSpec(
    "people.csv",
    (
        crn(),
        text("forename", max_length(Person, "forename")),
        text("surname", max_length(Person, "surname")),
        date("date_of_birth"),
        one_of("gender", Gender.values),
        yes_no("gender_identity_differs", required=False),
        text("pdu_code", max_length(Pdu, "code")),
        text("team_code", max_length(Team, "code")),
        text("offender_manager_staff_code", max_length(Staff, "staff_code")),
        yes_no("in_custody"),
        date("expected_release_date", required=False),
    ),
)
REGISTRATIONS = FileSpec(
    "registrations.csv",
    (
        crn(),
        text("register_type_code", max_length(Registration, "register_type_code")),
        text(
            "register_level_code",
            max_length(Registration, "register_level_code"),
            required=False,
        ),
        text(
            "register_category_code",
            max_length(Registration, "register_category_code"),
            required=False,
        ),
        date("registration_date"),
        date("deregistration_date", required=False),
    ),
)
ASSESSMENTS = FileSpec(
    "oasys_assessments.csv",
    (
        crn(),
        text("assessment_id", max_length(Assessment, "assessment_id")),
        one_of("assessment_type", AssessmentType.values),
        one_of("status", AssessmentStatus.values),
        date("completed_date", required=False),
        one_of("rosh_overall", ("LOW", "MEDIUM", "HIGH", "VERY_HIGH"), required=False),
        mapped("q4_8", _ANSWER_0_2, required=False),
        mapped("q10_2", _ANSWER_0_2, required=False),
        one_of("q10_5", ("YES", "NO"), required=False),
        mapped("q10_6", _ANSWER_0_2, required=False),
        one_of("r3_1", ("YES", "NO", "DK"), required=False),
        one_of("r3_2", ("YES", "NO", "DK"), required=False),
        count("drug_score"),
        count("alcohol_score"),
        one_of("opd_result", ("SCREEN_IN", "SCREEN_OUT"), required=False),
        yes_no("opd_override", required=False),
    ),
)
SENTENCES = FileSpec(
    "sentences.csv",
    (
        crn(),
        text("event_number", max_length(Sentence, "event_number")),
        text("sentence_type", max_length(Sentence, "sentence_type")),
        date("sentence_date", required=False),
        yes_no("active"),
    ),
)
LIMITED_ACCESS = FileSpec(
    "limited_access.csv",
    (
        crn(),
        text("username", max_length(LimitedAccess, "username")),
        one_of("kind", LimitedAccessKind.values),
        date("start_date", required=False),
        date("end_date", required=False),
    ),
)
