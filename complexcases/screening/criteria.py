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


def mask_to_ids(mask: int) -> list[str]:
    """The met criterion ids of a bit mask, in the table's order."""
    return [cid for i, cid in enumerate(CRITERIA_IDS) if mask & (1 << i)]


def ids_to_mask(ids: list[str] | tuple[str, ...]) -> int:
    return sum(1 << CRITERIA_IDS.index(cid) for cid in ids)
