"""Reference data for synthetic extracts: the 12 probation regions of England and Wales and their PDUs.

Region codes are the service's own (shared with accounts and the generator command). PDU names are the
Probation Delivery Units of each HMPPS probation region; PDU codes are this service's short codes
(`<region>_<abbreviation>`), not nDelius provider codes. Teams are not listed here: the generator makes
a few per PDU. Each region has its own CRN letter so generated CRNs never collide across regions.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PduReference:
    code: str
    name: str


@dataclass(frozen=True)
class RegionReference:
    code: str
    name: str
    crn_letter: str
    pdus: tuple[PduReference, ...]


def _pdus(*pairs: tuple[str, str]) -> tuple[PduReference, ...]:
    return tuple(PduReference(code, name) for code, name in pairs)


REGIONS: dict[str, RegionReference] = {
    region.code: region
    for region in (
        RegionReference(
            "NE",
            "North East",
            "B",
            _pdus(
                ("NE_DURD", "County Durham and Darlington"),
                ("NE_GAST", "Gateshead and South Tyneside"),
                ("NE_NEWC", "Newcastle upon Tyne"),
                ("NE_NTNO", "North Tyneside and Northumberland"),
                ("NE_RCMI", "Redcar, Cleveland and Middlesbrough"),
                ("NE_STHA", "Stockton and Hartlepool"),
                ("NE_SUND", "Sunderland"),
            ),
        ),
        RegionReference(
            "NW",
            "North West",
            "C",
            _pdus(
                ("NW_BLAC", "Blackburn"),
                ("NW_CLAN", "Central Lancashire"),
                ("NW_CHEE", "Cheshire East"),
                ("NW_CHEW", "Cheshire West"),
                ("NW_CUMB", "Cumbria"),
                ("NW_ELAN", "East Lancashire"),
                ("NW_KNSH", "Knowsley and St Helens"),
                ("NW_LIVN", "Liverpool North"),
                ("NW_LIVS", "Liverpool South"),
                ("NW_NWLA", "North West Lancashire"),
                ("NW_SEFT", "Sefton"),
                ("NW_WAHA", "Warrington and Halton"),
                ("NW_WIRR", "Wirral"),
            ),
        ),
        RegionReference(
            "YH",
            "Yorkshire and the Humber",
            "D",
            _pdus(
                ("YH_BARO", "Barnsley and Rotherham"),
                ("YH_BRCA", "Bradford and Calderdale"),
                ("YH_DONC", "Doncaster"),
                ("YH_HUER", "Hull and East Riding"),
                ("YH_KIRK", "Kirklees"),
                ("YH_LEED", "Leeds"),
                ("YH_NNEL", "North and North East Lincolnshire"),
                ("YH_NYOR", "North Yorkshire"),
                ("YH_SHEF", "Sheffield"),
                ("YH_WAKE", "Wakefield"),
                ("YH_YORK", "York"),
            ),
        ),
        RegionReference(
            "GM",
            "Greater Manchester",
            "F",
            _pdus(
                ("GM_BOLT", "Bolton"),
                ("GM_BURO", "Bury and Rochdale"),
                ("GM_MANN", "Manchester North"),
                ("GM_MANS", "Manchester South"),
                ("GM_OLDH", "Oldham"),
                ("GM_SALF", "Salford"),
                ("GM_STTR", "Stockport and Trafford"),
                ("GM_TAME", "Tameside"),
                ("GM_WIGA", "Wigan"),
            ),
        ),
        RegionReference(
            "EM",
            "East Midlands",
            "G",
            _pdus(
                ("EM_DERC", "Derby City"),
                ("EM_DERS", "Derbyshire"),
                ("EM_LINC", "East and West Lincolnshire"),
                ("EM_LLR", "Leicester, Leicestershire and Rutland"),
                ("EM_NOTC", "Nottingham City"),
                ("EM_NOTS", "Nottinghamshire"),
            ),
        ),
        RegionReference(
            "WM",
            "West Midlands",
            "H",
            _pdus(
                ("WM_BICS", "Birmingham Central and South"),
                ("WM_BNES", "Birmingham North, East and Solihull"),
                ("WM_COVE", "Coventry"),
                ("WM_DUSA", "Dudley and Sandwell"),
                ("WM_HEST", "Herefordshire, Shropshire and Telford"),
                ("WM_STAF", "Staffordshire and Stoke"),
                ("WM_WAWO", "Walsall and Wolverhampton"),
                ("WM_WARW", "Warwickshire"),
                ("WM_WORC", "Worcestershire"),
            ),
        ),
        RegionReference(
            "EOE",
            "East of England",
            "J",
            _pdus(
                ("EOE_BEDS", "Bedfordshire"),
                ("EOE_CAMP", "Cambridgeshire and Peterborough"),
                ("EOE_ESXN", "Essex North"),
                ("EOE_ESXS", "Essex South"),
                ("EOE_HERT", "Hertfordshire"),
                ("EOE_NORF", "Norfolk"),
                ("EOE_NHAM", "Northamptonshire"),
                ("EOE_SUFF", "Suffolk"),
            ),
        ),
        RegionReference(
            "WAL",
            "Wales",
            "K",
            _pdus(
                ("WAL_CAVA", "Cardiff and the Vale"),
                ("WAL_CWTM", "Cwm Taf Morgannwg"),
                ("WAL_DYPO", "Dyfed-Powys"),
                ("WAL_GWEN", "Gwent"),
                ("WAL_NWAL", "North Wales"),
                ("WAL_SNPT", "Swansea, Neath and Port Talbot"),
            ),
        ),
        RegionReference(
            "SW",
            "South West",
            "L",
            _pdus(
                ("SW_BANS", "Bath and North Somerset"),
                ("SW_BRSG", "Bristol and South Gloucestershire"),
                ("SW_CORN", "Cornwall and Isles of Scilly"),
                ("SW_DEVT", "Devon and Torbay"),
                ("SW_DORS", "Dorset"),
                ("SW_GLOS", "Gloucestershire"),
                ("SW_PLYM", "Plymouth"),
                ("SW_SOME", "Somerset"),
                ("SW_SWWI", "Swindon and Wiltshire"),
            ),
        ),
        RegionReference(
            "SC",
            "South Central",
            "M",
            _pdus(
                ("SC_BUMK", "Buckinghamshire and Milton Keynes"),
                ("SC_EBER", "East Berkshire"),
                ("SC_HANE", "Hampshire North and East"),
                ("SC_OXON", "Oxfordshire"),
                ("SC_PIOW", "Portsmouth and Isle of Wight"),
                ("SC_SENF", "Southampton, Eastleigh and New Forest"),
                ("SC_WBER", "West Berkshire"),
            ),
        ),
        RegionReference(
            "KSS",
            "Kent, Surrey and Sussex",
            "N",
            _pdus(
                ("KSS_EKEN", "East Kent"),
                ("KSS_ESUS", "East Sussex"),
                ("KSS_NKME", "North Kent and Medway"),
                ("KSS_SURR", "Surrey"),
                ("KSS_WKEN", "West Kent"),
                ("KSS_WSUS", "West Sussex"),
            ),
        ),
        RegionReference(
            "LDN",
            "London",
            "P",
            _pdus(
                ("LDN_BDHA", "Barking, Dagenham and Havering"),
                ("LDN_BREN", "Brent"),
                ("LDN_CAIS", "Camden and Islington"),
                ("LDN_CROY", "Croydon"),
                ("LDN_EAHI", "Ealing and Hillingdon"),
                ("LDN_ENHA", "Enfield and Haringey"),
                ("LDN_GRBE", "Greenwich and Bexley"),
                ("LDN_HACI", "Hackney and City"),
                ("LDN_HFKW", "Hammersmith, Fulham, Kensington, Chelsea and Westminster"),
                ("LDN_HABA", "Harrow and Barnet"),
                ("LDN_KRHO", "Kingston, Richmond and Hounslow"),
                ("LDN_LAMB", "Lambeth"),
                ("LDN_LEBR", "Lewisham and Bromley"),
                ("LDN_NEWH", "Newham"),
                ("LDN_REWF", "Redbridge and Waltham Forest"),
                ("LDN_SOUT", "Southwark"),
                ("LDN_TOHA", "Tower Hamlets"),
                ("LDN_WAMS", "Wandsworth, Merton and Sutton"),
            ),
        ),
    )
}

REGION_CODES: tuple[str, ...] = tuple(REGIONS)


class UnknownRegionError(ValueError):
    """A region code that is not one of REGION_CODES."""

    def __init__(self, unknown: list[str]) -> None:
        self.unknown = unknown
        super().__init__(
            f"Unknown region code(s): {', '.join(unknown)}. Valid codes: {', '.join(REGION_CODES)}"
        )


def resolve_regions(codes: list[str] | tuple[str, ...] | None) -> list[RegionReference]:
    """The regions named by `codes` (case-insensitive), in the canonical order, without repeats.

    None or an empty list means all 12. Raises UnknownRegionError naming the valid codes.
    """
    wanted = [code.strip().upper() for code in codes or () if code.strip()]
    if not wanted:
        return list(REGIONS.values())
    unknown = [code for code in wanted if code not in REGIONS]
    if unknown:
        raise UnknownRegionError(unknown)
    return [region for code, region in REGIONS.items() if code in wanted]
