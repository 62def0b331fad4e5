"""The organisation of a synthetic extract: PDUs of the chosen regions, teams, staff and name pools."""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from faker import Faker

from complexcases.people.reference import RegionReference

EMAIL_DOMAIN = "justice.example"  # reserved for documentation (RFC 2606): never a real mailbox
_NON_LETTERS = re.compile(r"[^a-z]")


def _ascii_lower(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_LETTERS.sub("", folded.lower())


class NamePools:
    """Forenames and surnames drawn once from Faker's en_GB locale, seeded; rows draw from these."""

    def __init__(self, seed: int) -> None:
        fake = Faker("en_GB")
        fake.seed_instance(seed)
        self.male = self._pool(fake.first_name_male)
        self.female = self._pool(fake.first_name_female)
        self.surnames = self._pool(fake.last_name, draws=4000)

    @staticmethod
    def _pool(draw: Callable[[], str], draws: int = 2000) -> tuple[str, ...]:
        return tuple(dict.fromkeys(draw() for _ in range(draws)))


@dataclass
class Staff:
    staff_code: str
    forename: str
    surname: str
    grade: str
    team_code: str
    username: str

    def row(self) -> tuple[str, ...]:
        email = f"{self.username}@{EMAIL_DOMAIN}"
        return (
            self.staff_code, self.forename, self.surname, email, self.grade, self.team_code,
            self.username,
        )  # fmt: skip


@dataclass
class Team:
    code: str
    name: str
    pdu_code: str
    weight: float = 0.0
    officers: list[Staff] = field(default_factory=list)  # PO
    services_officers: list[Staff] = field(default_factory=list)  # PSO
    seniors: list[Staff] = field(default_factory=list)  # SPO


@dataclass
class Region:
    reference: RegionReference
    crn_offset: int
    crn_step: int
    issued: int = 0
    poms: list[Staff] = field(default_factory=list)

    def next_crn(self) -> str:
        # An affine map modulo 10**6 with a step coprime to 10 is a permutation: unique CRNs
        # that do not run in order, without remembering the ones already issued.
        if self.issued >= 1_000_000:
            raise ValueError(f"More than 1,000,000 people in region {self.reference.code}")
        number = (self.crn_offset + self.issued * self.crn_step) % 1_000_000
        self.issued += 1
        return f"{self.reference.crn_letter}{number:06d}"


@dataclass
class Pdu:
    code: str
    name: str
    region: Region
    weight: float
    teams: list[Team] = field(default_factory=list)  # teams that hold cases
    staff: list[Staff] = field(default_factory=list)
    team_cumulative: list[float] = field(default_factory=list)


class Organisation:
    def __init__(self) -> None:
        self.regions: list[Region] = []
        self.pdus: list[Pdu] = []
        self.teams: list[Team] = []
        self.staff: list[Staff] = []
        self.pdu_cumulative: list[float] = []
        self._usernames: set[str] = set()
        self._staff_numbers: dict[str, int] = {}

    @classmethod
    def build(
        cls, rng: random.Random, names: NamePools, chosen: list[RegionReference], people: int
    ) -> Organisation:
        org = cls()
        for reference in chosen:
            step = rng.randrange(100_001, 999_999, 2)
            while step % 5 == 0:
                step += 2
            region = Region(reference, rng.randrange(1_000_000), step)
            org.regions.append(region)
            for pdu_ref in reference.pdus:
                pdu = Pdu(pdu_ref.code, pdu_ref.name, region, rng.uniform(0.6, 1.6))
                for number in range(1, rng.randint(4, 8) + 1):
                    team = Team(
                        f"{pdu.code}_T{number:02d}",
                        f"{pdu.name} Probation Team {number}",
                        pdu.code,
                        rng.uniform(0.7, 1.3),
                    )
                    pdu.teams.append(team)
                    total = pdu.team_cumulative[-1] if pdu.team_cumulative else 0.0
                    pdu.team_cumulative.append(total + team.weight)
                org.pdus.append(pdu)
                org.teams.extend(pdu.teams)
        total_weight = 0.0
        for pdu in org.pdus:
            total_weight += pdu.weight
            org.pdu_cumulative.append(total_weight)
        for region in org.regions:
            org._staff_region(rng, names, region, people, total_weight)
        return org

    def _staff_region(
        self,
        rng: random.Random,
        names: NamePools,
        region: Region,
        people: int,
        total_weight: float,
    ) -> None:
        pdus = [pdu for pdu in self.pdus if pdu.region is region]
        region_people = 0.0
        for pdu in pdus:
            pdu_people = people * pdu.weight / total_weight
            region_people += pdu_people
            for index, team in enumerate(pdu.teams):
                expected = pdu_people * team.weight / pdu.team_cumulative[-1]
                practitioners = max(3, round(expected / 38))
                officers = max(2, math.ceil(practitioners * 0.6))
                for _ in range(officers):
                    team.officers.append(self._hire(rng, names, region, pdu, team, "PO"))
                for _ in range(max(1, practitioners - officers)):
                    team.services_officers.append(self._hire(rng, names, region, pdu, team, "PSO"))
                for _ in range(rng.randint(1, 2)):
                    team.seniors.append(self._hire(rng, names, region, pdu, team, "SPO"))
                if index == 0:
                    self._hire(rng, names, region, pdu, team, "HOPDU")
                for _ in range(rng.randint(1, 2)):
                    self._hire(rng, names, region, pdu, team, "ADMIN")
                if rng.random() < 0.5:
                    self._hire(rng, names, region, pdu, team, "OTHER")
            manager_team = pdu.teams[rng.randrange(len(pdu.teams))]
            self._hire(rng, names, region, pdu, manager_team, "MANAGER")
        # Regional teams, attached to the region's first PDU as nDelius attaches them to a provider.
        home = pdus[0]
        code = region.reference.code
        name = region.reference.name
        quality = Team(f"{code}_QDT", f"{name} Quality Development Team", home.code)
        psychology = Team(f"{code}_PSY", f"{name} Psychology Services", home.code)
        custody = Team(f"{code}_POM", f"{name} Prison Offender Managers", home.code)
        self.teams.extend([quality, psychology, custody])
        for _ in range(rng.randint(3, 6)):
            self._hire(rng, names, region, home, quality, "QDO")
        self._hire(rng, names, region, home, quality, "MANAGER")
        self._hire(rng, names, region, home, quality, "ADMIN")
        for _ in range(rng.randint(2, 4)):
            self._hire(rng, names, region, home, psychology, "PSYCH")
        # About one in eleven people is in custody and held by a POM.
        poms = max(rng.randint(3, 6), round(region_people * 0.09 / 70))
        for _ in range(poms):
            region.poms.append(self._hire(rng, names, region, home, custody, "POM"))

    def _hire(
        self,
        rng: random.Random,
        names: NamePools,
        region: Region,
        pdu: Pdu,
        team: Team,
        grade: str,
    ) -> Staff:
        code = region.reference.code
        number = self._staff_numbers.get(code, 0) + 1
        self._staff_numbers[code] = number
        pool = names.female if rng.random() < 0.6 else names.male  # probation staff: mostly women
        forename = pool[rng.randrange(len(pool))]
        surname = names.surnames[rng.randrange(len(names.surnames))]
        base = f"{_ascii_lower(forename)}.{_ascii_lower(surname)}"
        username = f"{base}{rng.randint(1, 99)}"
        while username in self._usernames:
            username = f"{base}{rng.randint(1, 9999)}"
        self._usernames.add(username)
        staff = Staff(f"{code}{number:05d}", forename, surname, grade, team.code, username)
        self.staff.append(staff)
        pdu.staff.append(staff)
        return staff

    def pdu_rows(self) -> list[tuple[str, ...]]:
        return [
            (pdu.region.reference.code, pdu.region.reference.name, pdu.code, pdu.name)
            for pdu in self.pdus
        ]

    def team_rows(self) -> list[tuple[str, ...]]:
        return [(team.code, team.name, team.pdu_code) for team in self.teams]

    def staff_rows(self) -> list[tuple[str, ...]]:
        return [staff.row() for staff in self.staff]
