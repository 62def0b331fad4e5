"""The screening rules of DESIGN.md section 4, as pure functions: plain facts in, a result with reasons out.

No Django here. Every code, level, answer, threshold and the OASys window come from the criteria set's
parameters (criteria.CC_2021_V1 and its successors); the only things fixed in this module are the
*shapes* of the eight conditions of criteria set cc-2021 (which part is "or", which is "and").

Callers: screening.services (a run over the whole caseload) and the tests. Guarantees: the same facts,
date and parameters always give the same result, whatever order the facts arrive in; the result says,
for each criterion, whether it is met and which facts decided it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from complexcases.screening.criteria import (
    CRITERIA_IDS,
    CRITERIA_LABELS,
    ITEM_SHORT_NAMES,
    OASYS_ITEMS,
    item_label,
)

Parameters = Mapping[str, Any]

UNANSWERED = "(unanswered)"
_ANSWER_WORDS = {"YES": "Yes", "NO": "No", "DK": "Don't know"}


# --- facts in ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegistrationFact:
    """An nDelius registration. An empty level or category is ""."""

    register_type_code: str
    registration_date: dt.date
    deregistration_date: dt.date | None = None
    register_level_code: str = ""
    register_category_code: str = ""


@dataclass(frozen=True, slots=True)
class AssessmentFact:
    """An OASys assessment. Unanswered questions are None (numbers, override) or "" (text answers)."""

    assessment_id: str
    completed_date: dt.date | None
    status: str = "COMPLETE"
    assessment_type: str = "LAYER3"
    rosh_overall: str = ""
    q4_8: int | None = None
    q10_2: int | None = None
    q10_5: str = ""
    q10_6: int | None = None
    r3_1: str = ""
    r3_2: str = ""
    drug_score: int | None = None
    alcohol_score: int | None = None
    opd_result: str = ""
    opd_override: bool | None = None


@dataclass(frozen=True, slots=True)
class SentenceFact:
    sentence_type: str
    active: bool
    sentence_date: dt.date | None = None
    event_number: str = ""


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """Everything the rules look at for one person."""

    registrations: tuple[RegistrationFact, ...] = ()
    assessments: tuple[AssessmentFact, ...] = ()
    sentences: tuple[SentenceFact, ...] = ()


# --- result out -------------------------------------------------------------------------------------


# The results are NamedTuples rather than dataclasses only because a national run makes millions of
# them: they are as immutable, and several times cheaper to create.


class EvidenceFact(NamedTuple):
    """One fact behind a criterion: where it came from, what it says, and whether it counts."""

    source: str  # "registration" | "oasys" | "sentence"
    item: str  # register type code, OASys item name or sentence type
    label: str
    value: str
    date: dt.date | None
    met: bool


class CriterionResult(NamedTuple):
    """One criterion's verdict, a plain-English summary of why, and the facts behind it."""

    id: str
    label: str
    met: bool
    summary: str
    facts: tuple[EvidenceFact, ...]


@dataclass(frozen=True, slots=True)
class ScreeningOutcome:
    """A person's screening result: the eight criteria in table order, with their evidence."""

    criteria: tuple[CriterionResult, ...]
    latest_oasys: AssessmentFact | None
    no_current_oasys: bool
    criteria_count: int
    criteria_mask: int
    eligible: bool
    near_miss: bool
    summary: str
    met_ids: tuple[str, ...] = ()
    # The cached JSON pieces of the evidence (criteria fragments, summary), for Screener.evidence_text.
    _json_parts: tuple[tuple[str, ...], str] | None = field(default=None, repr=False, compare=False)


# --- the two time rules -----------------------------------------------------------------------------


def registration_is_current(registration: RegistrationFact, as_of: dt.date) -> bool:
    """Current at D: registered on or before D and not deregistered on or before D."""
    ended = registration.deregistration_date
    return registration.registration_date <= as_of and (ended is None or ended > as_of)


def oasys_window_start(as_of: dt.date, parameters: Parameters) -> dt.date:
    """Assessments completed on or before this date are too old (the window is open at this end)."""
    return as_of - dt.timedelta(weeks=parameters["oasys_window_weeks"])


def _is_number(value: str) -> bool:
    return value.isascii() and value.isdigit()


def assessment_id_greater(a: str, b: str) -> bool:
    """Ties on completed_date go to the greater assessment id: numerically when both are numbers."""
    if _is_number(a) and _is_number(b):
        return int(a) > int(b)
    return a > b


# --- evidence helpers -------------------------------------------------------------------------------


def display_value(value: object) -> str:
    """How an answer is shown: "(unanswered)" for empty, Yes/No/Don't know for flags, else as is."""
    if value is None or value == "":
        return UNANSWERED
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if isinstance(value, str):
        return _ANSWER_WORDS.get(value, value)
    return str(value)


def _either(values: Sequence[object]) -> str:
    words = [str(v) for v in values]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _short(item: str) -> str:
    return ITEM_SHORT_NAMES.get(item, item)


def _registration_value(registration: RegistrationFact, as_of: dt.date, current: bool) -> str:
    parts = []
    if registration.register_level_code:
        parts.append(f"level {registration.register_level_code}")
    if registration.register_category_code:
        parts.append(f"category {registration.register_category_code}")
    if current:
        parts.append("current")
    elif registration.registration_date > as_of:
        parts.append(f"not started (starts {registration.registration_date.isoformat()})")
    else:
        parts.append(f"ended {registration.deregistration_date.isoformat()}")  # type: ignore[union-attr]
    return ", ".join(parts)


def _registration_order(r: RegistrationFact) -> tuple:
    return (
        r.registration_date,
        r.register_type_code,
        r.register_level_code,
        r.register_category_code,
        r.deregistration_date or dt.date.max,
    )


def _sentence_order(s: SentenceFact) -> tuple:
    return (s.sentence_date or dt.date.min, s.event_number, s.sentence_type, s.active)


def _at_least(threshold: int) -> Callable[[Any], bool]:
    return lambda value: value is not None and value >= threshold


def _equals(expected: object) -> Callable[[Any], bool]:
    return lambda value: value == expected


def _one_of(allowed: Sequence[object]) -> Callable[[Any], bool]:
    return lambda value: value in allowed


_ENCODER = json.JSONEncoder(separators=(",", ":"))


def _dumps(value: object) -> str:
    """Compact JSON, as json.dumps(value, separators=(",", ":"))."""
    return _ENCODER.encode(value)


# The evidence is written for every person of a national caseload, so its JSON is assembled from
# strings encoded exactly as json.dumps encodes them (same escaping, same separators).
_string: Callable[[str], str] = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _fact_json(f: EvidenceFact) -> str:
    """_dumps(_fact_dict(f)), faster."""
    date = f'"{f.date.isoformat()}"' if f.date is not None else "null"
    return (
        f'{{"source":{_string(f.source)},"item":{_string(f.item)},"label":{_string(f.label)},'
        f'"value":{_string(f.value)},"date":{date},"met":{_bool(f.met)}}}'
    )


def _date_text(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- the conditions, compiled from the parameters ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Condition:
    """One criterion's condition as data: up to three parts (registration, OASys, sentence).

    A part is present when its codes or tests are not empty. `all_needed`: every present part must be
    met (mental health, self-harm); otherwise any one is enough (RoSH). Within the OASys part any one
    answer is enough.
    """

    id: str
    all_needed: bool = False
    register_codes: tuple[str, ...] = ()
    register_levels: tuple[str, ...] | None = None
    oasys_tests: tuple[tuple[str, Callable[[Any], bool]], ...] = ()
    oasys_needs: str = ""
    sentence_types: tuple[str, ...] = ()


def _in_item_order(mapping: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """A mapping's items in the extract's OASys column order (stored JSON may reorder keys)."""

    def position(item: str) -> tuple[int, str]:
        return (OASYS_ITEMS.index(item) if item in OASYS_ITEMS else len(OASYS_ITEMS), item)

    return sorted(mapping.items(), key=lambda pair: position(pair[0]))


def _min_condition(cid: str, p: Parameters, **kwargs: Any) -> _Condition:
    minimums = dict(_in_item_order(p["oasys_min"]))
    return _Condition(
        cid,
        oasys_tests=tuple((item, _at_least(t)) for item, t in minimums.items()),
        oasys_needs=_either([f"{_short(item)} at {t} or more" for item, t in minimums.items()]),
        **kwargs,
    )


def _compile(parameters: Parameters) -> tuple[_Condition, ...]:
    """The eight conditions of cc-2021, with every code and threshold read from the parameters."""
    rosh = parameters["rosh"]
    mental = parameters["mental_health"]
    self_harm = parameters["self_harm"]
    expected = _in_item_order(self_harm["oasys_yes"])
    mappa = parameters["mappa"]
    opd = parameters["opd"]
    opd_tests: list[tuple[str, Callable[[Any], bool]]] = [("opd_result", _equals(opd["screen_in"]))]
    opd_needs = f"OPD screening {opd['screen_in']}"
    if opd.get("override"):
        opd_tests.append(("opd_override", _equals(True)))
        opd_needs += " or OPD override"
    conditions = (
        _Condition(
            "rosh",
            register_codes=tuple(rosh["register_codes"]),
            oasys_tests=(("rosh_overall", _one_of(tuple(rosh["oasys_levels"]))),),
            oasys_needs=f"overall RoSH {_either(rosh['oasys_levels'])}",
        ),
        _min_condition(
            "mental_health",
            mental,
            all_needed=True,
            register_codes=tuple(mental["register_codes"]),
        ),
        _Condition(
            "self_harm",
            all_needed=True,
            register_codes=tuple(self_harm["register_codes"]),
            oasys_tests=tuple((i, _equals(v)) for i, v in expected),
            oasys_needs=_either([f"{_short(i)} {display_value(v)}" for i, v in expected]),
        ),
        _min_condition("learning_difficulties", parameters["learning_difficulties"]),
        _Condition(
            "mappa",
            register_codes=tuple(mappa["register_codes"]),
            register_levels=tuple(mappa["levels"]),
        ),
        _Condition("opd", oasys_tests=tuple(opd_tests), oasys_needs=opd_needs),
        _min_condition("substance_misuse", parameters["substance_misuse"]),
        _Condition("ipp", sentence_types=tuple(parameters["ipp"]["sentence_types"])),
    )
    assert tuple(c.id for c in conditions) == CRITERIA_IDS  # noqa: S101 - mask bit order
    return conditions


# --- screening ----------------------------------------------------------------------------------------


class Screener:
    """Screens people as of one date D against one criteria set's parameters.

    Many people share pieces of evidence (no registration of a kind, the same OASys answers on the
    same day), so each part of a condition, and each combination of parts, is evaluated and turned
    into JSON once per distinct input and then reused. Results are immutable, so sharing them is
    safe; the caches are bounded.
    """

    CACHE_LIMIT = 100_000

    def __init__(self, parameters: Parameters, as_of: dt.date) -> None:
        self.parameters = parameters
        self.as_of = as_of
        self.conditions = _compile(parameters)
        self.window_start = oasys_window_start(as_of, parameters)
        self.usable_statuses = frozenset(parameters["oasys_usable_statuses"])
        self.eligible_threshold: int = parameters["eligible_threshold"]
        self.near_miss_count: int = parameters["near_miss_count"]
        self._serials = itertools.count()
        self._parts: dict[tuple, _Part] = {}  # OASys parts by criterion, date and answers
        self._empty_parts: dict[tuple, _Part] = {}
        self._oasys_facts: dict[tuple, tuple[EvidenceFact, str]] = {}
        self._criteria: dict[tuple, tuple[CriterionResult, str]] = {}
        self._summaries: dict[tuple[int, bool], tuple[str, str]] = {}

    def latest_oasys(self, assessments: Sequence[AssessmentFact]) -> AssessmentFact | None:
        """As the module's latest_oasys(), with the window computed once."""
        start, as_of, statuses = self.window_start, self.as_of, self.usable_statuses
        candidates = [
            a
            for a in assessments
            if a.status in statuses
            and a.completed_date is not None
            and start < a.completed_date <= as_of
        ]
        if len(candidates) > 1:
            return _greatest(candidates)
        return candidates[0] if candidates else None

    def screen(self, facts: PersonFacts) -> ScreeningOutcome:
        """Screen one person. The same facts, in any order, always give the same outcome."""
        if len(self._parts) + len(self._criteria) + len(self._oasys_facts) > self.CACHE_LIMIT:
            self._parts.clear()
            self._criteria.clear()
            self._oasys_facts.clear()
        latest = self.latest_oasys(facts.assessments)
        registrations = facts.registrations
        if len(registrations) > 1:
            registrations = tuple(sorted(registrations, key=_registration_order))
        sentences = facts.sentences
        if len(sentences) > 1:
            sentences = tuple(sorted(sentences, key=_sentence_order))
        criteria = []
        fragments = []
        mask = 0
        met_ids = []
        for bit, condition in enumerate(self.conditions):
            result, fragment = self._criterion(condition, registrations, latest, sentences)
            criteria.append(result)
            fragments.append(fragment)
            if result.met:
                mask |= 1 << bit
                met_ids.append(result.id)
        count = len(met_ids)
        no_current_oasys = latest is None
        summary, summary_json = self._summary(mask, no_current_oasys, criteria)
        return ScreeningOutcome(
            criteria=tuple(criteria),
            latest_oasys=latest,
            no_current_oasys=no_current_oasys,
            criteria_count=count,
            criteria_mask=mask,
            eligible=count >= self.eligible_threshold,
            near_miss=count == self.near_miss_count,
            summary=summary,
            met_ids=tuple(met_ids),
            _json_parts=(tuple(fragments), summary_json),
        )

    def evidence_text(self, outcome: ScreeningOutcome) -> str:
        """Compact JSON text equal to json.dumps(evidence_json(outcome), separators=(",", ":"))."""
        parts = outcome._json_parts
        if parts is None:
            return _dumps(evidence_json(outcome))
        fragments, summary_json = parts
        latest = outcome.latest_oasys
        latest_json = "null" if latest is None else _dumps(_latest_json(latest))
        return (
            '{"criteria":['
            + ",".join(fragments)
            + '],"latest_oasys":'
            + latest_json
            + ',"no_current_oasys":'
            + ("true" if outcome.no_current_oasys else "false")
            + ',"summary":'
            + summary_json
            + "}"
        )

    # -- internals --

    def _criterion(
        self,
        condition: _Condition,
        registrations: Sequence[RegistrationFact],
        latest: AssessmentFact | None,
        sentences: Sequence[SentenceFact],
    ) -> tuple[CriterionResult, str]:
        # Parts that many people share (nothing relevant registered, no current OASys, the same
        # answers on the same day) are cached; a person's own registrations or sentences are not,
        # since they are nearly unique (dates) and would only fill the cache.
        cid = condition.id
        parts: list[_Part] = []
        shared = True
        if condition.register_codes:
            codes = condition.register_codes
            relevant = [r for r in registrations if r.register_type_code in codes]
            if relevant:
                parts.append(self._registration_part(condition, relevant))
                shared = False
            else:
                parts.append(self._shared_part(cid, "registration", condition, ()))
        if condition.oasys_tests:
            if latest is None:
                parts.append(self._shared_part(cid, "oasys", condition, None))
            else:
                answers = tuple([getattr(latest, item) for item, _ in condition.oasys_tests])
                key = (cid, latest.completed_date, answers)
                part = self._parts.get(key)
                if part is None:
                    part = self._parts[key] = self._oasys_part(condition, latest)
                parts.append(part)
        if condition.sentence_types:
            types = condition.sentence_types
            relevant_sentences = [s for s in sentences if s.sentence_type in types]
            if relevant_sentences:
                parts.append(self._sentence_part(condition, relevant_sentences))
                shared = False
            else:
                parts.append(self._shared_part(cid, "sentence", condition, ()))
        if not shared:
            return self._combine(condition, parts)
        serials = (cid, *[p.serial for p in parts])
        cached = self._criteria.get(serials)
        if cached is None:
            cached = self._criteria[serials] = self._combine(condition, parts)
        return cached

    def _shared_part(self, cid: str, kind: str, condition: _Condition, value: object) -> _Part:
        """The part for "nothing relevant" (no registration, no sentence, no current OASys)."""
        key = (cid, kind, value)
        part = self._empty_parts.get(key)
        if part is None:
            if kind == "registration":
                part = self._registration_part(condition, ())
            elif kind == "sentence":
                part = self._sentence_part(condition, ())
            else:
                part = self._oasys_part(condition, None)
            self._empty_parts[key] = part
        return part

    def _combine(
        self, condition: _Condition, parts: Sequence[_Part]
    ) -> tuple[CriterionResult, str]:
        """The criterion from its parts: met when any part is met, or every part with all_needed."""
        met = all(p.met for p in parts) if condition.all_needed else any(p.met for p in parts)
        if met:
            summary = "Met: " + " and ".join(p.found for p in parts if p.met) + "."
        elif condition.all_needed and len(parts) > 1:
            summary = "Not met, needs both: " + "; ".join(p.found for p in parts) + "."
        else:
            summary = "Not met: " + ", and ".join(p.found for p in parts) + "."
        label = CRITERIA_LABELS[condition.id]
        result = CriterionResult(
            condition.id, label, met, summary, tuple(f for p in parts for f in p.facts)
        )
        facts_json = ",".join([p.facts_json for p in parts if p.facts_json])
        fragment = (
            f'{{"id":{_string(condition.id)},"label":{_string(label)},'
            f'"met":{_bool(met)},"summary":{_string(summary)},"facts":[{facts_json}]}}'
        )
        return result, fragment

    def _part(self, met: bool, facts: Sequence[EvidenceFact], found: str) -> _Part:
        facts_json = ",".join([_fact_json(f) for f in facts])
        return _Part(next(self._serials), met, tuple(facts), facts_json, found)

    def _registration_part(
        self, condition: _Condition, registrations: Sequence[RegistrationFact]
    ) -> _Part:
        levels = condition.register_levels
        facts: list[EvidenceFact] = []
        first_met: RegistrationFact | None = None
        for registration in registrations:
            current = registration_is_current(registration, self.as_of)
            met = current and (levels is None or registration.register_level_code in levels)
            facts.append(
                EvidenceFact(
                    "registration",
                    registration.register_type_code,
                    item_label(registration.register_type_code),
                    _registration_value(registration, self.as_of, current),
                    registration.registration_date,
                    met,
                )
            )
            if met and first_met is None:
                first_met = registration
        if first_met is not None:
            level = f" at level {first_met.register_level_code}" if levels is not None else ""
            found = (
                f"current {first_met.register_type_code} registration{level}"
                f" since {first_met.registration_date}"
            )
        else:
            level = f" at level {_either(levels)}" if levels is not None else ""
            found = f"no current {_either(condition.register_codes)} registration{level}"
        return self._part(first_met is not None, facts, found)

    def _oasys_part(self, condition: _Condition, latest: AssessmentFact | None) -> _Part:
        if latest is None:
            # One fact, not one per question: there are no answers to show.
            weeks = self.parameters["oasys_window_weeks"]
            fact = EvidenceFact(
                "oasys",
                "latest_oasys",
                item_label("latest_oasys"),
                f"none completed in the {weeks} weeks to {self.as_of}",
                None,
                False,
            )
            return self._part(False, [fact], "no current OASys")
        facts = []
        jsons = []
        completed = latest.completed_date
        for item, test in condition.oasys_tests:
            value = getattr(latest, item)
            # The same answer on the same day recurs across people with other answers elsewhere.
            key = (condition.id, item, value, completed)
            cached = self._oasys_facts.get(key)
            if cached is None:
                fact = EvidenceFact(
                    "oasys",
                    item,
                    item_label(item),
                    display_value(value),
                    completed,
                    bool(test(value)),
                )
                cached = self._oasys_facts[key] = (fact, _fact_json(fact))
            facts.append(cached[0])
            jsons.append(cached[1])
        met = any(f.met for f in facts)
        if met:
            answers = " and ".join([f"{_short(f.item)} is {f.value}" for f in facts if f.met])
            found = f"OASys ({completed}) {answers}"
        else:
            found = f"OASys ({completed}) shows no {condition.oasys_needs}"
        return _Part(next(self._serials), met, tuple(facts), ",".join(jsons), found)

    def _sentence_part(self, condition: _Condition, sentences: Sequence[SentenceFact]) -> _Part:
        facts: list[EvidenceFact] = []
        first_met: SentenceFact | None = None
        for sentence in sentences:
            facts.append(
                EvidenceFact(
                    "sentence",
                    sentence.sentence_type,
                    item_label(sentence.sentence_type),
                    "active" if sentence.active else "inactive",
                    sentence.sentence_date,
                    sentence.active,
                )
            )
            if sentence.active and first_met is None:
                first_met = sentence
        if first_met is not None:
            since = f" since {first_met.sentence_date}" if first_met.sentence_date else ""
            found = f"active {first_met.sentence_type} sentence{since}"
        else:
            found = f"no active {_either(condition.sentence_types)} sentence"
        return self._part(first_met is not None, facts, found)

    def _summary(
        self, mask: int, no_current_oasys: bool, criteria: Sequence[CriterionResult]
    ) -> tuple[str, str]:
        key = (mask, no_current_oasys)
        cached = self._summaries.get(key)
        if cached is None:
            text = _overall_summary(criteria, mask, no_current_oasys, self.parameters)
            cached = self._summaries[key] = (text, _dumps(text))
        return cached


@dataclass(frozen=True, slots=True)
class _Part:
    """One part of a condition (registrations, OASys answers or sentences) with its verdict."""

    serial: int  # identifies the part in the combination cache
    met: bool
    facts: tuple[EvidenceFact, ...]
    facts_json: str  # the facts as JSON objects joined by ","
    found: str  # what was found, as a phrase for the summary


def _greatest(candidates: Sequence[AssessmentFact]) -> AssessmentFact:
    """The greatest completed_date; ties go to the greatest assessment id."""
    top = max(a.completed_date for a in candidates)  # type: ignore[type-var]
    # A fixed order first, so that the pairwise id comparison cannot depend on the input order.
    tied = sorted((a for a in candidates if a.completed_date == top), key=lambda a: a.assessment_id)
    best = tied[0]
    for candidate in tied[1:]:
        if assessment_id_greater(candidate.assessment_id, best.assessment_id):
            best = candidate
    return best


def latest_oasys(
    assessments: Iterable[AssessmentFact], as_of: dt.date, parameters: Parameters
) -> AssessmentFact | None:
    """The latest usable OASys at D, or None when there is no current OASys.

    Usable: status in the criteria set's usable statuses (never OPEN), completed on or before D and
    after D minus the window. Greatest completed_date wins; ties go to the greatest assessment id.
    """
    statuses = parameters["oasys_usable_statuses"]
    start = oasys_window_start(as_of, parameters)
    candidates = [
        a
        for a in assessments
        if a.status in statuses
        and a.completed_date is not None
        and start < a.completed_date <= as_of
    ]
    return _greatest(candidates) if candidates else None


def screen_person(
    facts: PersonFacts, *, as_of: dt.date, parameters: Parameters
) -> ScreeningOutcome:
    """Screen one person as of D against a criteria set's parameters (see Screener for many)."""
    return Screener(parameters, as_of).screen(facts)


def _overall_summary(
    criteria: Sequence[CriterionResult], mask: int, no_current_oasys: bool, parameters: Parameters
) -> str:
    count = bin(mask).count("1")
    text = f"{count} of {len(criteria)} criteria met: "
    if count >= parameters["eligible_threshold"]:
        text += "eligible for the monthly list."
    elif count == parameters["near_miss_count"]:
        text += "a near miss."
    else:
        text += "not eligible."
    if no_current_oasys:
        text += " No current OASys."
    return text


def _criterion_dict(c: CriterionResult) -> dict[str, Any]:
    return {
        "id": c.id,
        "label": c.label,
        "met": c.met,
        "summary": c.summary,
        "facts": [_fact_dict(f) for f in c.facts],
    }


def _fact_dict(f: EvidenceFact) -> dict[str, Any]:
    return {
        "source": f.source,
        "item": f.item,
        "label": f.label,
        "value": f.value,
        "date": _date_text(f.date),
        "met": f.met,
    }


def _latest_json(latest: AssessmentFact) -> dict[str, Any]:
    return {
        "assessment_id": latest.assessment_id,
        "assessment_type": latest.assessment_type,
        "status": latest.status,
        "completed_date": _date_text(latest.completed_date),
    }


# --- the stored evidence (common interface item 4) --------------------------------------------------


def evidence_json(outcome: ScreeningOutcome) -> dict[str, Any]:
    """The agreed evidence JSON of ScreeningResult.evidence: eight criteria, latest OASys, the flag."""
    latest = outcome.latest_oasys
    return {
        "criteria": [_criterion_dict(c) for c in outcome.criteria],
        "latest_oasys": None if latest is None else _latest_json(latest),
        "no_current_oasys": outcome.no_current_oasys,
        "summary": outcome.summary,
    }


def off_caseload_evidence(summary: str) -> dict[str, Any]:
    """Evidence for a person listed last month who has since left the caseload: nothing was screened."""
    return {
        "criteria": [
            {
                "id": cid,
                "label": CRITERIA_LABELS[cid],
                "met": False,
                "summary": summary,
                "facts": [],
            }
            for cid in CRITERIA_IDS
        ],
        "latest_oasys": None,
        "no_current_oasys": False,
        "on_caseload": False,
        "summary": summary,
    }
