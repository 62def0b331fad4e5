"""The caseload of a synthetic extract: people, registrations, OASys assessments, sentences, limited access.

See the package docstring for the latent complexity model that makes the criteria correlate.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from pathlib import Path

from complexcases.people.generator.files import open_csv
from complexcases.people.generator.organisation import (
    NamePools,
    Organisation,
    Pdu,
    Region,
    Staff,
    Team,
)

# The latent model: for each part, (probability at average complexity, slope per standard deviation).
_LATENT: dict[str, tuple[float, float]] = {
    "custody": (0.20, 0.45),
    "rosh": (0.14, 1.5),
    "mappa": (0.009, 1.7),
    "mappa1": (0.05, 0.7),
    "mh_reg": (0.12, 1.45),
    "mh_oasys": (0.35, 1.2),
    "sh_reg": (0.07, 1.45),
    "sh_oasys": (0.23, 1.2),
    "ld": (0.13, 1.3),
    "opd": (0.08, 1.55),
    "substance": (0.42, 1.1),
    "ipp": (0.002, 1.7),
}
_LOGITS = {key: (math.log(p / (1.0 - p)), slope) for key, (p, slope) in _LATENT.items()}

_ROSH_REGISTERS = ("RLRH", "RMRH", "RHRH", "RVHR")
_ROSH_LEVELS = ("LOW", "MEDIUM", "HIGH", "VERY_HIGH")
# Registers kept and shown but not screened: (code, share of people, share of those still current).
_OTHER_REGISTERS = (
    ("DASO", 0.12, 0.75),
    ("CHSC", 0.07, 0.7),
    ("WEAP", 0.04, 0.6),
    ("STRG", 0.02, 0.7),
    ("RCCO", 0.03, 0.5),
)
_MAPPA_CATEGORIES = (("M1", 0.55), ("M2", 0.97), ("M3", 0.995), ("M4", 1.0))  # cumulative
_WINDOW_DAYS = 55 * 7
_IPP_FIRST = dt.date(2005, 4, 4).toordinal()
_IPP_LAST = dt.date(2012, 12, 2).toordinal()


class Caseload:
    """Generates people one at a time, writing each person's rows to the five case files."""

    def __init__(
        self,
        rng: random.Random,
        names: NamePools,
        organisation: Organisation,
        extract_date: dt.date,
        people: int,
    ) -> None:
        self.rng = rng
        self.names = names
        self.org = organisation
        self.today = extract_date.toordinal()
        self.people = people
        self.next_assessment = 10_000_000 + rng.randrange(1_000_000)
        self._dates: dict[int, str] = {}
        # About 0.1% of people have limited access, at least one of each kind.
        chosen = rng.sample(range(people), min(people, max(2, round(people * 0.001))))
        self.limited: dict[int, str] = {}
        for position, index in enumerate(chosen):
            kinds = ("EXCLUSION", "RESTRICTION")
            kind = kinds[position] if position < 2 else kinds[rng.random() < 0.3]
            self.limited[index] = kind
        self.counts = dict.fromkeys(
            ("people", "registrations", "oasys_assessments", "sentences", "limited_access"), 0
        )

    def write(self, out_dir: Path) -> dict[str, int]:
        handles = []
        writers = {}
        for name in (
            "people.csv", "registrations.csv", "oasys_assessments.csv", "sentences.csv",
            "limited_access.csv",
        ):  # fmt: skip
            handle, writer = open_csv(out_dir / name)
            handles.append(handle)
            writers[name] = writer
        try:
            self.w_person = writers["people.csv"].writerow
            self.w_registration = writers["registrations.csv"].writerow
            self.w_assessment = writers["oasys_assessments.csv"].writerow
            self.w_sentence = writers["sentences.csv"].writerow
            self.w_limited = writers["limited_access.csv"].writerow
            for index in range(self.people):
                self._person(index)
        finally:
            for handle in handles:
                handle.close()
        return self.counts

    # helpers

    def _date(self, ordinal: int) -> str:
        text = self._dates.get(ordinal)
        if text is None:
            text = dt.date.fromordinal(ordinal).isoformat()
            self._dates[ordinal] = text
        return text

    def _chance(self, key: str, complexity: float) -> bool:
        base, slope = _LOGITS[key]
        return self.rng.random() * (1.0 + math.exp(-(base + slope * complexity))) < 1.0

    def _days_ago(self, mean: float, at_least: int = 0) -> int:
        """An ordinal some days before the extract date, exponentially distributed: recent is likely."""
        return self.today - at_least - int(self.rng.expovariate(1.0 / mean))

    # one person

    def _person(self, index: int) -> None:
        rng = self.rng
        chance = self._chance
        org = self.org
        pdu = org.pdus[bisect.bisect(org.pdu_cumulative, rng.random() * org.pdu_cumulative[-1])]
        team = pdu.teams[bisect.bisect(pdu.team_cumulative, rng.random() * pdu.team_cumulative[-1])]
        region = pdu.region
        crn = region.next_crn()
        complexity = rng.gauss(0.0, 1.0)

        # IPP and DPP sentences were passed from April 2005 until their abolition in December 2012.
        ipp_last = min(_IPP_LAST, self.today - 30)
        ipp = chance("ipp", complexity) and ipp_last > _IPP_FIRST
        in_custody = rng.random() < 0.45 if ipp else chance("custody", complexity)
        rosh = chance("rosh", complexity)
        # The RoSH level as registered and as last assessed: usually the same, but either source
        # alone may say high while the other has not caught up.
        registered_level = assessed_level = (
            (3 if rng.random() < 0.12 else 2) if rosh else (0 if rng.random() < 0.4 else 1)
        )
        if rosh:
            draw = rng.random()
            if draw < 0.08:
                assessed_level = 1
            elif draw < 0.16:
                registered_level = 1
        mappa = chance("mappa", complexity)
        parts = {
            "mh_reg": chance("mh_reg", complexity),
            "mh_oasys": chance("mh_oasys", complexity),
            "sh_reg": chance("sh_reg", complexity),
            "sh_oasys": chance("sh_oasys", complexity),
            "ld": chance("ld", complexity),
            "opd": chance("opd", complexity),
            "substance": chance("substance", complexity),
        }

        draw = rng.random()
        gender = "X" if draw > 0.998 else ("F" if draw < 0.12 else "M")
        draw = rng.random()
        identity = "Y" if draw < 0.003 else ("N" if draw < 0.75 else "")
        names = self.names
        pool = (
            names.female if gender == "F" or (gender == "X" and rng.random() < 0.5) else names.male
        )
        forename = pool[rng.randrange(len(pool))]
        surname = names.surnames[rng.randrange(len(names.surnames))]

        ipp_date = 0
        if ipp:
            ipp_date = rng.randint(_IPP_FIRST, ipp_last)
            detention = rng.random() < 0.12  # DPP: the under-18 form of the sentence
            age_then = rng.uniform(15.2, 17.9) if detention else 18.0 + rng.gammavariate(2.0, 6.0)
            born = ipp_date - int(age_then * 365.25)
        else:
            detention = False
            born = self.today - int((18.0 + min(rng.gammavariate(2.0, 8.5), 62.0)) * 365.25)
        adult = born + 6575  # 18 years

        release = ""
        release_days = 0
        if in_custody:
            if (ipp or rng.random() < 0.05) and rng.random() < 0.6:
                release_days = 0  # indeterminate: no expected release date yet
            else:
                release_days = 7 + min(int(rng.expovariate(1.0 / 320)), 2500)
                release = self._date(self.today + release_days)

        manager = self._manager(team, region, in_custody, release_days, rosh or mappa or ipp)
        self.w_person(
            (
                crn, forename, surname, self._date(born), gender, identity, pdu.code, team.code,
                manager.staff_code, "Y" if in_custody else "N", release,
            )
        )  # fmt: skip
        self.counts["people"] += 1

        self._registrations(crn, complexity, rosh, registered_level, mappa, parts, adult)
        self._assessments(crn, complexity, rosh, assessed_level, parts)
        self._sentences(crn, complexity, in_custody, ipp, ipp_date, detention, adult)
        kind = self.limited.get(index)
        if kind is not None:
            self._limited_access(crn, kind, pdu, team, manager)

    def _manager(
        self, team: Team, region: Region, in_custody: bool, release_days: int, serious: bool
    ) -> Staff:
        rng = self.rng
        if in_custody and region.poms:
            # POMs hold custody cases until handover to the community, months before release.
            far = release_days == 0 or release_days > 300
            if rng.random() < (0.6 if far else 0.15):
                return region.poms[rng.randrange(len(region.poms))]
        if serious or rng.random() < 0.5:
            return team.officers[rng.randrange(len(team.officers))]
        return team.services_officers[rng.randrange(len(team.services_officers))]

    def _register(
        self, crn: str, code: str, start: int, end: int = 0, level: str = "", category: str = ""
    ) -> None:
        self.w_registration(
            (crn, code, level, category, self._date(start), self._date(end) if end else "")
        )
        self.counts["registrations"] += 1

    def _ended(self, adult: int, mean: float = 420.0) -> tuple[int, int]:
        """Start and end of a registration that ended: ends are recent-weighted, so some ended
        within the last month and still counted then."""
        end = self._days_ago(mean, at_least=1)
        start = max(adult, end - 30 - int(self.rng.expovariate(1.0 / 500)))
        return (start, end) if start < end else (end - 1, end)

    def _ended_this_month(self, adult: int) -> tuple[int, int]:
        end = self.today - self.rng.randrange(30)
        start = max(adult, end - 30 - int(self.rng.expovariate(1.0 / 400)))
        return (start, end) if start < end else (end - 1, end)

    def _lost_this_month(self, key: str, complexity: float, mean: float) -> bool:
        """Whether a registration part not held now was held until some day in the last month.

        On a steady caseload as many people lose a registration in a month as gain one, and the
        share gaining one is the share of current ones that began within 30 days. Without this the
        list would only ever grow from one month to the next.
        """
        base, slope = _LOGITS[key]
        odds = math.exp(base + slope * complexity)
        return self.rng.random() < min(0.5, (1.0 - math.exp(-30.0 / mean)) * odds)

    def _registrations(
        self,
        crn: str,
        complexity: float,
        rosh: bool,
        level: int,
        mappa: bool,
        parts: dict[str, bool],
        adult: int,
    ) -> None:
        rng = self.rng
        # The most complex cases are reviewed more often, so their registrations start and end
        # more recently: these are the people who move on to and off the monthly list.
        pace = 0.7 if complexity > 1.0 else 1.0
        # RoSH: the current level, and sometimes the level before it, ended when this one began.
        if rosh or rng.random() < 0.85:
            registered = max(adult, self._days_ago(520 * pace))
            before = -1
            if not rosh and self._lost_this_month("rosh", complexity, 520 * pace):
                registered = max(adult, self.today - rng.randrange(30))  # stepped down from high
                before = 2
            elif rng.random() < 0.45:
                before = max(0, min(3, level + (1 if rng.random() < 0.5 else -1)))
                if before == level:
                    before = 1 if level != 1 else 2
            self._register(crn, _ROSH_REGISTERS[level], registered)
            if before >= 0 and registered - 30 > adult:
                start = max(adult, registered - 30 - int(rng.expovariate(1.0 / 500)))
                self._register(crn, _ROSH_REGISTERS[before], start, registered)
        # MAPPA: level 2 or 3 counts; level 1 is common and does not; levels change over time.
        if mappa:
            registered = max(adult, self._days_ago(420 * pace))
            mappa_level = "M3" if rng.random() < 0.22 else "M2"
            category = self._mappa_category()
            self._register(crn, "MAPP", registered, 0, mappa_level, category)
            if rng.random() < 0.35 and registered - 30 > adult:
                start = max(adult, registered - 30 - int(rng.expovariate(1.0 / 400)))
                self._register(crn, "MAPP", start, registered, "M1", category)
        elif self._lost_this_month("mappa", complexity, 420 * pace):
            category = self._mappa_category()
            start, end = self._ended_this_month(adult)
            self._register(crn, "MAPP", start, end, "M2", category)
            if rng.random() < 0.6:
                self._register(crn, "MAPP", end, 0, "M1", category)  # stepped down to level 1
        elif self._chance("mappa1", complexity):
            category = self._mappa_category()
            registered = max(adult, self._days_ago(600))
            self._register(crn, "MAPP", registered, 0, "M1", category)
            if rng.random() < 0.1 and registered - 30 > adult:
                start = max(adult, registered - 30 - int(rng.expovariate(1.0 / 300)))
                self._register(crn, "MAPP", start, registered, "M2", category)
        elif rng.random() < 0.01:
            start, end = self._ended(adult)
            self._register(crn, "MAPP", start, end, "M2", self._mappa_category())
        # Mental health: AMHL (mental health issues) and/or RMDO (mentally disordered offender).
        if parts["mh_reg"]:
            draw = rng.random()
            if draw < 0.9:
                self._register(crn, "AMHL", max(adult, self._days_ago(600 * pace)))
            if draw > 0.85:
                self._register(crn, "RMDO", max(adult, self._days_ago(800)))
        elif self._lost_this_month("mh_reg", complexity, 600 * pace):
            start, end = self._ended_this_month(adult)
            self._register(crn, "AMHL", start, end)
        elif rng.random() < 0.05 + 0.08 * max(complexity, 0.0):
            start, end = self._ended(adult)
            self._register(crn, "AMHL", start, end)
        # Suicide and self-harm: often registered and deregistered again after review.
        if parts["sh_reg"]:
            self._register(crn, "ALSH", max(adult, self._days_ago(360 * pace)))
        elif self._lost_this_month("sh_reg", complexity, 360 * pace):
            start, end = self._ended_this_month(adult)
            self._register(crn, "ALSH", start, end)
        elif rng.random() < 0.06 + 0.1 * max(complexity, 0.0):
            start, end = self._ended(adult, mean=300.0)
            self._register(crn, "ALSH", start, end)
        for code, share, current in _OTHER_REGISTERS:
            if rng.random() < share:
                if rng.random() < current:
                    self._register(crn, code, max(adult, self._days_ago(700)))
                else:
                    start, end = self._ended(adult)
                    self._register(crn, code, start, end)

    def _mappa_category(self) -> str:
        draw = self.rng.random()
        for code, cumulative in _MAPPA_CATEGORIES:
            if draw < cumulative:
                return code
        return "M2"

    def _assessments(
        self, crn: str, complexity: float, rosh: bool, level: int, parts: dict[str, bool]
    ) -> None:
        rng = self.rng
        if rng.random() < 0.03:
            return  # new to the caseload: no OASys yet
        # The latest completed assessment: usually within the year (annual reviews); sometimes
        # older than the 55-week window, so screening finds no current OASys.
        if rng.random() < 0.08:
            age = rng.randint(_WINDOW_DAYS + 1, _WINDOW_DAYS + 420)
        else:
            # Reviews come round yearly, sooner for the most complex cases.
            age = rng.randrange(200 if complexity > 1.0 else 365)
        layer1 = not rosh and complexity < -0.3 and rng.random() < 0.55
        flags = {
            "mh": parts["mh_oasys"],
            "sh": parts["sh_oasys"],
            "ld": parts["ld"],
            "opd": parts["opd"],
            "substance": parts["substance"],
        }
        # Earlier assessments, oldest first, each with some answers different.
        history: list[tuple[int, bool, int, dict[str, bool], str]] = []
        when = self.today - age
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            when -= rng.randint(120, 420)
            before = {key: value != (rng.random() < 0.15) for key, value in flags.items()}
            before_level = level
            if rng.random() < 0.2:
                before_level = max(0, min(3, level + (1 if rng.random() < 0.5 else -1)))
            status = "LOCKED_INCOMPLETE" if rng.random() < 0.05 else "COMPLETE"
            history.append((when, layer1, before_level, before, status))
        history.reverse()
        current_status = "LOCKED_INCOMPLETE" if rng.random() < 0.06 else "COMPLETE"
        history.append((self.today - age, layer1, level, flags, current_status))
        for completed, is_layer1, rosh_level, answers, status in history:
            self._assessment(crn, completed, is_layer1, status, rosh_level, answers)
        # A review in progress: OPEN, never used by screening, its answers not yet settled.
        if rng.random() < 0.12:
            draft = {key: value != (rng.random() < 0.25) for key, value in flags.items()}
            started = 0
            if age > 14 and rng.random() < 0.3:
                started = self.today - rng.randrange(min(age - 1, 60))
            self._assessment(crn, started, layer1, "OPEN", level, draft)

    def _assessment(
        self,
        crn: str,
        completed: int,
        layer1: bool,
        status: str,
        rosh_level: int,
        flags: dict[str, bool],
    ) -> None:
        rng = self.rng
        r = rng.random
        blank = 0.5 if layer1 else 0.04  # Layer 1 leaves much of sections 4 and 10 unanswered
        q4_8 = ("2" if r() < 0.35 else "1") if flags["ld"] else ("" if r() < blank else "0")
        if flags["mh"]:
            draw = r()
            significant = "2" if r() < 0.4 else "1"
            if draw < 0.55:
                q10_2, q10_6 = significant, ("0", "1", "2")[rng.randrange(3)]
            elif draw < 0.85:
                q10_2, q10_6 = significant, "0"
            else:
                q10_2, q10_6 = "0", significant
        else:
            q10_2 = "" if r() < blank else "0"
            q10_6 = "" if r() < blank else "0"
        if flags["sh"]:
            answers = ["YES" if r() < 0.5 else "NO", "YES" if r() < 0.5 else "NO", "DK"]
            answers[2] = "YES" if r() < 0.3 else ("DK" if r() < 0.3 else "NO")
            if "YES" not in answers:
                answers[rng.randrange(3)] = "YES"
            q10_5, r3_1, r3_2 = answers
        else:
            q10_5 = "" if r() < blank else "NO"
            r3_1 = "" if r() < blank else ("DK" if r() < 0.08 else "NO")
            r3_2 = "" if r() < blank else ("DK" if r() < 0.08 else "NO")
        if flags["substance"]:
            draw = r()
            drugs = rng.randint(2, 8) if draw < 0.75 else rng.randint(0, 1)
            alcohol = rng.randint(4, 10) if draw > 0.55 else rng.randint(0, 3)
        else:
            drugs = rng.randint(0, 1)
            alcohol = rng.randint(0, 3)
        if flags["opd"]:
            opd_result, opd_override = ("SCREEN_OUT", "Y") if r() < 0.1 else ("SCREEN_IN", "N")
        else:
            opd_result, opd_override = ("", "") if r() < blank else ("SCREEN_OUT", "N")
        if opd_override == "N" and r() < 0.2:
            opd_override = ""
        self.next_assessment += 1 + rng.randrange(40)
        self.w_assessment(
            (
                crn, str(self.next_assessment), "LAYER1" if layer1 else "LAYER3", status,
                self._date(completed) if completed else "", _ROSH_LEVELS[rosh_level],
                q4_8, q10_2, q10_5, q10_6, r3_1, r3_2, str(drugs), str(alcohol), opd_result,
                opd_override,
            )
        )  # fmt: skip
        self.counts["oasys_assessments"] += 1

    def _sentences(
        self,
        crn: str,
        complexity: float,
        in_custody: bool,
        ipp: bool,
        ipp_date: int,
        detention: bool,
        adult: int,
    ) -> None:
        rng = self.rng
        r = rng.random
        if ipp:
            current_type, current_date = ("DPP" if detention else "IPP"), ipp_date
        else:
            draw = r()
            if in_custody:
                current_type = "SDS" if draw < 0.78 else ("EDS" if draw < 0.93 else "LIFE")
            elif draw < 0.5:
                current_type = "CO"
            elif draw < 0.62:
                current_type = "SSO"
            elif draw < 0.92:
                current_type = "SDS"
            else:
                current_type = "EDS" if draw < 0.975 else "LIFE"
            if current_type == "LIFE" and complexity < 0.5 and r() < 0.5:
                current_type = "SDS"  # life sentences sit mostly among the most complex
            mean = {"CO": 300, "SSO": 250, "SDS": 700, "EDS": 1400, "LIFE": 4000}[current_type]
            current_date = max(adult, self._days_ago(mean, at_least=7))
        events: list[tuple[str, int, str]] = []
        when = current_date
        for _ in range(rng.choice((0, 0, 1, 1, 1, 2, 2, 3))):
            when -= 60 + int(rng.expovariate(1.0 / 700))
            if when < adult:
                break
            draw = r()
            earlier = "CO" if draw < 0.5 else ("SSO" if draw < 0.7 else "SDS")
            if draw > 0.9993:
                earlier = "IPP"  # an IPP whose licence was terminated: inactive, not screened
            events.append((earlier, when, "N"))
        events.reverse()
        events.append((current_type, current_date, "Y"))
        if not in_custody and current_type in ("CO", "SSO") and r() < 0.05:
            events.append(("CO", min(self.today, current_date + rng.randint(30, 200)), "Y"))
        for number, (sentence_type, date, active) in enumerate(events, start=1):
            self.w_sentence((crn, str(number), sentence_type, self._date(date), active))
        self.counts["sentences"] += len(events)

    def _limited_access(self, crn: str, kind: str, pdu: Pdu, team: Team, manager: Staff) -> None:
        rng = self.rng
        if kind == "EXCLUSION":
            # Someone who must not see the case: typically a colleague who knows the person.
            others = [staff for staff in pdu.staff if staff is not manager]
            named = rng.sample(others, min(len(others), rng.randint(1, 2)))
        else:
            # Only the manager, the team's senior(s) and perhaps one more may see it.
            named = [manager, *team.seniors]
            if rng.random() < 0.3:
                extra = pdu.staff[rng.randrange(len(pdu.staff))]
                if extra not in named:
                    named.append(extra)
        start = ""
        end = ""
        if rng.random() < 0.55:
            began = self.today - rng.randint(30, 2000)
            start = self._date(began)
            if rng.random() < 0.15:
                end = self._date(self.today + rng.randint(30, 700))
        for staff in named:
            self.w_limited((crn, staff.username, kind, start, end))
        self.counts["limited_access"] += len(named)
