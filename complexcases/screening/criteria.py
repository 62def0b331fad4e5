"""Criteria sets as versioned configuration (DESIGN.md section 4).

A criteria set is data: its conditions' codes, thresholds and window live here, are stored with
every run, and a change makes a new version. The rules in rules.py read these parameters; nothing
else in the code base hard-codes a code or a threshold.
"""

from __future__ import annotations

from typing import Any, Final

# The eight criteria, in the table's order. Bit i of ScreeningResult.criteria_mask is CRITERIA_IDS[i].
CRITERIA_IDS: Final = (
    "rosh",
    "mental_health",
    "self_harm",
    "learning_difficulties",
    "mappa",
    "opd",
    "substance_misuse",
    "ipp",
)

CRITERIA_LABELS: Final = {
    "rosh": "Risk of serious harm high or very high",
    "mental_health": "Mental health concerns",
    "self_harm": "Risk of self-harm / suicide",
    "learning_difficulties": "Learning difficulties",
    "mappa": "Current MAPPA level 2 or 3",
    "opd": "OPD screened in",
    "substance_misuse": "Alcohol and/or drugs a need",
    "ipp": "Sentence is IPP",
}

CC_2021_V1: Final[dict[str, Any]] = {
    "code": "cc-2021",
    "version": 1,
    "eligible_threshold": 6,
    "near_miss_count": 5,
    "oasys_window_weeks": 55,
    "oasys_usable_statuses": ["COMPLETE", "LOCKED_INCOMPLETE"],
    "rosh": {"register_codes": ["RHRH", "RVHR"], "oasys_levels": ["HIGH", "VERY_HIGH"]},
    "mental_health": {
        "register_codes": ["AMHL", "RMDO"],
        "oasys_min": {"q10_2": 1, "q10_6": 1},
    },
    "self_harm": {
        "register_codes": ["ALSH"],
        "oasys_yes": {"q10_5": "YES", "r3_1": "YES", "r3_2": "YES"},
    },
    "learning_difficulties": {"oasys_min": {"q4_8": 1}},
    "mappa": {"register_codes": ["MAPP"], "levels": ["M2", "M3"]},
    "opd": {"screen_in": "SCREEN_IN", "override": True},
    "substance_misuse": {"oasys_min": {"drug_score": 2, "alcohol_score": 4}},
    "ipp": {"sentence_types": ["IPP", "DPP"]},
}

CURRENT: Final = CC_2021_V1

# The OASys items in the extract's column order (DESIGN.md section 3). Evidence lists a criterion's
# answers in this order, whatever order a stored (JSON) parameters object gives its keys in:
# PostgreSQL's jsonb does not keep key order.
OASYS_ITEMS: Final = (
    "rosh_overall",
    "q4_8",
    "q10_2",
    "q10_5",
    "q10_6",
    "r3_1",
    "r3_2",
    "drug_score",
    "alcohol_score",
    "opd_result",
    "opd_override",
)


def mask_to_ids(mask: int) -> list[str]:
    """The met criterion ids of a bit mask, in the table's order."""
    return [cid for i, cid in enumerate(CRITERIA_IDS) if mask & (1 << i)]


def ids_to_mask(ids: list[str] | tuple[str, ...]) -> int:
    return sum(1 << CRITERIA_IDS.index(cid) for cid in ids)


# Plain-English names of the items a criterion looks at, shown with the evidence. These are
# presentation, not parameters: a code that is not listed here is shown as itself.
ITEM_LABELS: Final[dict[str, str]] = {
    # nDelius register types
    "RLRH": "RoSH low registration",
    "RMRH": "RoSH medium registration",
    "RHRH": "RoSH high registration",
    "RVHR": "RoSH very high registration",
    "AMHL": "Mental health issues registration",
    "RMDO": "Mentally disordered offender registration",
    "ALSH": "Suicide / self-harm registration",
    "MAPP": "MAPPA registration",
    # OASys answers (kept short: they are stored with every result's evidence)
    "rosh_overall": "OASys overall RoSH",
    "q4_8": "OASys 4.8 learning difficulties",
    "q10_2": "OASys 10.2 psychological problems",
    "q10_5": "OASys 10.5 self-harm or suicide",
    "q10_6": "OASys 10.6 psychiatric problems",
    "r3_1": "OASys R3.1 suicide concerns",
    "r3_2": "OASys R3.2 self-harm concerns",
    "drug_score": "OASys drug misuse score",
    "alcohol_score": "OASys alcohol misuse score",
    "opd_result": "OASys OPD screening",
    "opd_override": "OPD override",
    "latest_oasys": "Current OASys assessment",
    # sentence types
    "IPP": "IPP sentence (imprisonment for public protection)",
    "DPP": "DPP sentence (detention for public protection)",
    "LIFE": "Life sentence",
}

# Short names used inside the one-sentence summaries ("10.2 is 1").
ITEM_SHORT_NAMES: Final[dict[str, str]] = {
    "rosh_overall": "overall RoSH",
    "q4_8": "4.8",
    "q10_2": "10.2",
    "q10_5": "10.5",
    "q10_6": "10.6",
    "r3_1": "R3.1",
    "r3_2": "R3.2",
    "drug_score": "drug score",
    "alcohol_score": "alcohol score",
    "opd_result": "OPD screening",
    "opd_override": "OPD override",
}


def item_label(item: str) -> str:
    """The plain-English name of an evidence item (a register code, OASys answer or sentence type)."""
    return ITEM_LABELS.get(item, item)


def screened_register_codes(parameters: dict[str, Any]) -> list[str]:
    """Every register type code a criteria set looks at, in a stable order."""
    codes: list[str] = []
    for cid in CRITERIA_IDS:
        for code in parameters.get(cid, {}).get("register_codes", []):
            if code not in codes:
                codes.append(code)
    return codes


def screened_sentence_types(parameters: dict[str, Any]) -> list[str]:
    """Every sentence type a criteria set looks at."""
    types: list[str] = []
    for cid in CRITERIA_IDS:
        for code in parameters.get(cid, {}).get("sentence_types", []):
            if code not in types:
                types.append(code)
    return types
