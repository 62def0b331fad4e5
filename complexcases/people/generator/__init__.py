"""Synthetic case data extracts in schema 1 (DESIGN.md sections 3 and 6). Never real data.

`generate_extract` writes the nine files of an extract for the chosen regions. The output is a pure
function of (people, seed, regions, extract date): one `random.Random(seed)` drives every choice, and
names come from pools drawn once from Faker's en_GB locale seeded with the same seed. Rows are written
as they are generated, so a national extract of 250,000 people needs little memory.

Realism comes from one latent "complexity" per person (a standard normal). Each part of each
screening criterion (a RoSH level, a mental health registration, an OASys answer, an IPP sentence...)
is drawn with a probability that rises with it, so the criteria are correlated the way they are on a
real caseload: a few people meet six or more, more meet five. Around that sit the things screening
must get right: registrations that ended (some recently, some of a kind that would have counted),
registers that are kept but not screened, OPEN and LOCKED_INCOMPLETE assessments, assessments older
than the 55-week window, earlier assessments with different answers, inactive sentences. Dates are
spread so that some people change between consecutive months (a registration starting or ending,
an assessment completed, an assessment leaving the window).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from complexcases.core import clock
from complexcases.people.generator.caseload import Caseload
from complexcases.people.generator.files import (
    COLUMNS,
    EXTRACT_FILE_NAMES,
    SCHEMA_VERSION,
    ExtractDirectoryError,
    prepare_directory,
    write_rows,
)
from complexcases.people.generator.organisation import EMAIL_DOMAIN, NamePools, Organisation
from complexcases.people.reference import resolve_regions

__all__ = [
    "COLUMNS",
    "EMAIL_DOMAIN",
    "EXTRACT_FILE_NAMES",
    "SCHEMA_VERSION",
    "ExtractDirectoryError",
    "generate_extract",
]


def generate_extract(
    out_dir: Path,
    *,
    people: int,
    seed: int,
    regions: list[str] | None = None,
    extract_date: dt.date | None = None,
) -> dict[str, int]:
    """Write a synthetic schema-1 extract of `people` people into `out_dir`; return rows per file.

    Deterministic: the same arguments give byte-identical files. `regions` are region codes
    (default all 12; unknown codes raise reference.UnknownRegionError); `extract_date` defaults to
    today in Europe/London. Creates `out_dir` if absent; overwrites a previous extract there but
    refuses (ExtractDirectoryError) a directory holding anything else.
    """
    if people < 0:
        raise ValueError("people must not be negative")
    chosen = resolve_regions(regions)
    if extract_date is None:
        extract_date = clock.today()
    out_dir = Path(out_dir)
    prepare_directory(out_dir)

    rng = random.Random(seed)
    names = NamePools(seed)
    organisation = Organisation.build(rng, names, chosen, people)
    counts = {
        "pdus": write_rows(out_dir / "pdus.csv", organisation.pdu_rows()),
        "teams": write_rows(out_dir / "teams.csv", organisation.team_rows()),
        "staff": write_rows(out_dir / "staff.csv", organisation.staff_rows()),
    }
    counts.update(Caseload(rng, names, organisation, extract_date, people).write(out_dir))
    manifest = {"schema_version": SCHEMA_VERSION, "extract_date": extract_date.isoformat()}
    (out_dir / "manifest.json").write_text(json.dumps(manifest) + "\n", encoding="utf-8")
    return counts
