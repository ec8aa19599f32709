"""Location signals for TIME-1: NANP area code -> IANA zone, and US ZIP 3-digit prefix -> IANA zone.

Both are weak signals (people keep their numbers when they move; a ZIP prefix can straddle a zone line), so
contact_window.candidate_zones() combines them with the portfolio's zone and sends only in the overlap.

Choices:
- Only codes we are sure of are listed. Unknown, non-geographic (800, 833, 5XX...) and doubtful codes map to
  nothing, so the other signals decide. Overlays from 2024 on were left out where the code is not in wide use.
- A code or prefix that spans two zones maps to the zone most of its people live in; the comment names the
  minority zone. SPLIT_AREA_CODES lists the minority zones for callers that want the stricter reading.
- Zones are the canonical IANA names. Michigan, Indiana and Idaho use their own zone names (same rules today).
"""

from __future__ import annotations

import re

ET = "America/New_York"
CT = "America/Chicago"
MT = "America/Denver"
AZ = "America/Phoenix"  # Arizona: Mountain Standard Time all year (no DST)
PT = "America/Los_Angeles"
AK = "America/Anchorage"
HI = "Pacific/Honolulu"
MI = "America/Detroit"
IN = "America/Indiana/Indianapolis"
ID = "America/Boise"


def _codes(zone: str, *codes: int) -> dict[str, str]:
    return {str(code): zone for code in codes}


AREA_CODE_ZONES: dict[str, str] = {
    # --- United States ---
    # Alabama (Phenix City, in 334, unofficially keeps Eastern time)
    **_codes(CT, 205, 251, 256, 334, 659, 938),
    # Alaska (the western Aleutians keep America/Adak)
    **_codes(AK, 907),
    # Arizona (the Navajo Nation, in 928, observes DST)
    **_codes(AZ, 480, 520, 602, 623, 928),
    # Arkansas
    **_codes(CT, 327, 479, 501, 870),
    # California
    **_codes(PT, 209, 213, 279, 310, 323, 341, 350, 408, 415, 424, 442, 510, 530, 559, 562, 619, 626, 628,
             650, 657, 661, 669, 707, 714, 747, 760, 805, 818, 820, 831, 840, 858, 909, 916, 925, 949, 951),
    # Colorado
    **_codes(MT, 303, 719, 720, 970),
    # Connecticut
    **_codes(ET, 203, 475, 860, 959),
    # Delaware, District of Columbia
    **_codes(ET, 302, 202, 771),
    # Florida: all Eastern except the western panhandle (850 and its overlay 448; see below)
    **_codes(ET, 239, 305, 321, 352, 386, 407, 561, 656, 689, 727, 754, 772, 786, 813, 863, 904, 941, 954),
    # 850/448: Pensacola, Fort Walton and Panama City are Central (majority); Tallahassee is Eastern.
    **_codes(CT, 850, 448),
    # Georgia
    **_codes(ET, 229, 404, 470, 478, 678, 706, 762, 770, 912),
    # Hawaii
    **_codes(HI, 808),
    # Idaho: the south (Boise) is Mountain (majority); the panhandle north of the Salmon River is Pacific.
    **_codes(ID, 208, 986),
    # Illinois
    **_codes(CT, 217, 224, 309, 312, 331, 447, 464, 618, 630, 708, 730, 773, 779, 815, 847, 872),
    # Indiana: Eastern except the northwest (219, Central) and the Evansville corner of 812/930 (Central, minority).
    **_codes(IN, 260, 317, 463, 574, 765, 812, 930),
    **_codes(CT, 219),
    # Iowa
    **_codes(CT, 319, 515, 563, 641, 712),
    # Kansas (four western counties in 620/785 are Mountain)
    **_codes(CT, 316, 620, 785, 913),
    # Kentucky: 270 (Bowling Green, Owensboro, Paducah) is Central (majority; Elizabethtown is Eastern).
    # 606 is Eastern (majority; a few Lake Cumberland counties are Central).
    **_codes(ET, 502, 606, 859),
    **_codes(CT, 270),
    # Louisiana
    **_codes(CT, 225, 318, 337, 504, 985),
    # Maine
    **_codes(ET, 207),
    # Maryland
    **_codes(ET, 240, 301, 410, 443, 667),
    # Massachusetts
    **_codes(ET, 339, 351, 413, 508, 617, 774, 781, 857, 978),
    # Michigan (four Upper Peninsula counties on the Wisconsin line, in 906, are Central)
    **_codes(MI, 231, 248, 269, 313, 517, 586, 616, 679, 734, 810, 906, 947, 989),
    # Minnesota
    **_codes(CT, 218, 320, 507, 612, 651, 763, 952),
    # Mississippi
    **_codes(CT, 228, 601, 662, 769),
    # Missouri
    **_codes(CT, 314, 417, 557, 573, 636, 660, 816),
    # Montana
    **_codes(MT, 406),
    # Nebraska: 308 is Central (majority; the panhandle around Scottsbluff is Mountain).
    **_codes(CT, 308, 402, 531),
    # Nevada (West Wendover, in 775, keeps Mountain time)
    **_codes(PT, 702, 725, 775),
    # New Hampshire
    **_codes(ET, 603),
    # New Jersey
    **_codes(ET, 201, 551, 609, 640, 732, 848, 856, 862, 908, 973),
    # New Mexico
    **_codes(MT, 505, 575),
    # New York
    **_codes(ET, 212, 315, 332, 347, 516, 518, 585, 607, 631, 646, 680, 716, 718, 838, 845, 914, 917, 929, 934),
    # North Carolina
    **_codes(ET, 252, 336, 704, 743, 828, 910, 919, 980, 984),
    # North Dakota: Central (majority; the southwest around Dickinson is Mountain).
    **_codes(CT, 701),
    # Ohio
    **_codes(ET, 216, 220, 234, 330, 380, 419, 440, 513, 567, 614, 740, 937, 326),
    # Oklahoma
    **_codes(CT, 405, 539, 572, 580, 918),
    # Oregon (Malheur County, in 541, is Mountain)
    **_codes(PT, 458, 503, 541, 971),
    # Pennsylvania
    **_codes(ET, 215, 223, 267, 272, 412, 445, 484, 570, 610, 717, 724, 814, 878),
    # Rhode Island
    **_codes(ET, 401),
    # South Carolina
    **_codes(ET, 803, 839, 843, 854, 864),
    # South Dakota: Central (majority, Sioux Falls); the west (Rapid City) is Mountain.
    **_codes(CT, 605),
    # Tennessee: East Tennessee (423, 865) is Eastern; 423 includes a few Central counties near Chattanooga.
    **_codes(ET, 423, 865),
    **_codes(CT, 615, 629, 731, 901, 931),
    # Texas: Central, except El Paso (915) which is Mountain. 432 (Midland) is Central; Culberson is Mountain.
    **_codes(CT, 210, 214, 254, 281, 325, 346, 361, 409, 430, 432, 469, 512, 682, 713, 726, 737, 806, 817,
             830, 832, 903, 936, 940, 945, 956, 972, 979),
    **_codes(MT, 915),
    # Utah
    **_codes(MT, 385, 435, 801),
    # Vermont
    **_codes(ET, 802),
    # Virginia
    **_codes(ET, 276, 434, 540, 571, 703, 757, 804, 826, 948),
    # Washington
    **_codes(PT, 206, 253, 360, 425, 509, 564),
    # West Virginia
    **_codes(ET, 304, 681),
    # Wisconsin
    **_codes(CT, 262, 274, 414, 534, 608, 715, 920),
    # Wyoming
    **_codes(MT, 307),
    # --- US territories ---
    **_codes("America/Puerto_Rico", 787, 939),
    **_codes("America/St_Thomas", 340),
    **_codes("Pacific/Guam", 671),
    **_codes("Pacific/Saipan", 670),
    **_codes("Pacific/Pago_Pago", 684),
    # --- Canada --- (867, the three territories, spans three zones with no clear majority: left out)
    # British Columbia: Pacific (majority); the Peace River region keeps MST and the East Kootenays are Mountain.
    **_codes("America/Vancouver", 236, 250, 604, 672, 778),
    # Alberta
    **_codes("America/Edmonton", 403, 587, 780, 825),
    # Saskatchewan: CST all year
    **_codes("America/Regina", 306, 639),
    # Manitoba
    **_codes("America/Winnipeg", 204, 431),
    # Ontario: Eastern; 807 is Eastern (majority, Thunder Bay) but Kenora and the far west are Central.
    **_codes("America/Toronto", 226, 249, 289, 343, 365, 416, 437, 519, 548, 613, 647, 705, 807, 905),
    # Quebec: Eastern (majority); the Magdalen Islands and the Lower North Shore, in 418/581, are Atlantic.
    **_codes("America/Toronto", 367, 418, 438, 450, 514, 579, 581, 819, 873),
    # New Brunswick; Nova Scotia and Prince Edward Island
    **_codes("America/Moncton", 428, 506),
    **_codes("America/Halifax", 782, 902),
    # Newfoundland and Labrador: Newfoundland time (majority); most of Labrador is Atlantic.
    **_codes("America/St_Johns", 709),
}

# Codes that span two zones: the minority zone, for callers who want every zone a number could be in.
SPLIT_AREA_CODES: dict[str, str] = {
    "850": ET, "448": ET,
    "208": PT, "986": PT,
    "812": CT, "930": CT,
    "620": MT, "785": MT,
    "270": ET, "606": CT,
    "906": CT,
    "308": MT,
    "775": MT,
    "701": MT,
    "541": ID,
    "605": MT,
    "423": CT,
    "432": MT,
    "928": MT,
    "250": "America/Edmonton",
    "807": "America/Winnipeg",
    "418": "America/Halifax", "581": "America/Halifax",
    "709": "America/Halifax",
}


def area_code_of(phone: str | None) -> str | None:
    """The 3-digit NANP area code of a phone number in any common format, or None."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01":
        return None
    return digits[:3]


def zone_for_phone(phone: str | None) -> str | None:
    code = area_code_of(phone)
    return AREA_CODE_ZONES.get(code) if code else None


# --- ZIP codes ---
# US ZIP 3-digit prefixes by state (the USPS sectional centres). Prefixes in states on one zone are safe.
# In split states each prefix maps to the zone of most of its people; prefixes we could not place reliably
# are left out (see _ZIP_LEFT_OUT). Military (APO/FPO: 090-098, 340, 962-966) and the Pacific freely associated
# states (969) are left out: they do not tell us where the person is.
_ZIP_RANGES: tuple[tuple[int, int, str], ...] = (
    (5, 5, ET),  # Holtsville NY (IRS)
    (6, 7, "America/Puerto_Rico"), (8, 8, "America/St_Thomas"), (9, 9, "America/Puerto_Rico"),
    (10, 89, ET),  # New England, New Jersey
    (100, 149, ET),  # New York
    (150, 199, ET),  # Pennsylvania, Delaware
    (200, 219, ET),  # DC, Northern Virginia (201), Maryland
    (220, 289, ET),  # Virginia, West Virginia, North Carolina
    (290, 299, ET),  # South Carolina
    (300, 319, ET), (398, 399, ET),  # Georgia
    (320, 323, ET),  # Florida (323 Tallahassee; Liberty County there is Central, a small minority)
    (324, 325, CT),  # Florida panhandle: Panama City, Pensacola, Fort Walton
    (326, 339, ET), (341, 349, ET),  # rest of Florida (340 is military)
    (350, 369, CT),  # Alabama
    (370, 372, CT),  # Tennessee: Nashville
    (374, 374, ET),  # Chattanooga
    (380, 385, CT),  # Memphis, Jackson, Columbia, Cookeville
    (376, 379, ET),  # Johnson City, Knoxville
    (386, 397, CT),  # Mississippi
    (400, 418, ET),  # Kentucky: Louisville, Lexington, the east
    (420, 424, CT),  # Kentucky: Paducah, Bowling Green, Owensboro, Henderson
    (430, 459, ET),  # Ohio
    (460, 462, IN), (465, 474, IN), (478, 479, IN),  # Indiana, Eastern part (Starke, Newton, Jasper: Central)
    (463, 464, CT),  # Gary and the northwest corner
    (476, 477, CT),  # Evansville
    (480, 497, MI),  # Michigan
    (500, 528, CT),  # Iowa
    (530, 549, CT),  # Wisconsin
    (550, 567, CT),  # Minnesota
    (569, 569, ET),  # DC
    (570, 575, CT),  # South Dakota east of the river (575 Pierre: Stanley, Haakon, Jackson are Mountain)
    (577, 577, MT),  # Rapid City
    (580, 585, CT), (587, 588, CT),  # North Dakota
    (586, 586, MT),  # Dickinson
    (590, 599, MT),  # Montana
    (600, 629, CT),  # Illinois
    (630, 658, CT),  # Missouri
    (660, 679, CT),  # Kansas (Sherman, Wallace, Greeley, Hamilton, in 677/678, are Mountain)
    (680, 692, CT),  # Nebraska (Keith, Deuel, Garden, Perkins, Chase, Dundy in 690/691 are Mountain)
    (693, 693, MT),  # Nebraska panhandle: Scottsbluff, Alliance, Chadron
    (700, 714, CT),  # Louisiana
    (716, 729, CT),  # Arkansas
    (730, 731, CT), (734, 749, CT),  # Oklahoma
    (733, 733, CT), (750, 797, CT),  # Texas
    (798, 799, MT), (885, 885, MT),  # El Paso and far west Texas
    (800, 816, MT),  # Colorado
    (820, 831, MT),  # Wyoming
    (832, 834, ID), (836, 837, ID),  # southern Idaho
    (835, 835, PT), (838, 838, PT),  # Lewiston, Coeur d'Alene: northern Idaho
    (840, 847, MT),  # Utah
    (850, 864, AZ),  # Arizona (865, the Navajo Nation area, keeps DST: left out; 860 has Tuba City, Kayenta)
    (870, 884, MT),  # New Mexico
    (889, 898, PT),  # Nevada
    (900, 961, PT),  # California
    (967, 968, HI),  # Hawaii
    (970, 978, PT),  # Oregon
    (979, 979, ID),  # Ontario OR, Malheur County: Mountain
    (980, 994, PT),  # Washington
    (995, 999, AK),  # Alaska
)

# Not placed: mixed zones with no clear majority, or uncertain. Documented so the gap is not silent.
_ZIP_LEFT_OUT = frozenset({
    "373",  # Chattanooga outskirts: Cleveland (Eastern) vs Tullahoma, Winchester, Jasper (Central)
    "425", "426", "427",  # Kentucky: Somerset, Elizabethtown areas straddle the line
    "475",  # Indiana: Jasper, Vincennes (Eastern) vs Tell City (Central)
    "498", "499",  # Michigan Upper Peninsula: Iron Mountain, Ironwood, Menominee are Central
    "576",  # Mobridge SD: straddles the line
    "865",  # Navajo Nation (DST) vs the rest of Arizona (no DST)
})

ZIP3_ZONES: dict[str, str] = {
    f"{prefix:03d}": zone
    for low, high, zone in _ZIP_RANGES
    for prefix in range(low, high + 1)
    if f"{prefix:03d}" not in _ZIP_LEFT_OUT
}


def zone_for_zip(zip_code: str | None) -> str | None:
    """The zone for a US ZIP or ZIP+4 ("94105", "94105-1234"), or None if unknown or not a ZIP."""
    if not zip_code:
        return None
    match = re.fullmatch(r"\s*(\d{5})(?:-?\d{4})?\s*", zip_code)
    return ZIP3_ZONES.get(match.group(1)[:3]) if match else None
