"""Reference tables for Indian identifiers: state codes and PIN postal zones."""

from __future__ import annotations

import re

# Two-letter state/UT codes used on vehicle registrations and driving licences
# (Motor Vehicles Act, incl. old codes still on the road: OR, UA, DD/DN, TG/TS).
STATE_CODES = frozenset(
    "AN AP AR AS BR CG CH DD DL DN GA GJ HP HR JH JK KA KL LA LD MH ML MN MP MZ NL "
    "OD OR PB PY RJ SK TG TN TR TS UA UK UP WB".split()
)

# GST state codes: 01..38, plus 97 (other territory) and 99 (centre jurisdiction).
GST_STATE_CODES = frozenset([f"{n:02d}" for n in range(1, 39)] + ["97", "99"])

# First digit of a PIN code → the postal zone's states/UTs (India Post).
PIN_ZONES: dict[str, frozenset[str]] = {
    "1": frozenset(
        {
            "delhi",
            "haryana",
            "punjab",
            "himachal pradesh",
            "jammu and kashmir",
            "ladakh",
            "chandigarh",
        }
    ),
    "2": frozenset({"uttar pradesh", "uttarakhand"}),
    "3": frozenset({"rajasthan", "gujarat", "dadra and nagar haveli and daman and diu"}),
    "4": frozenset({"maharashtra", "goa", "madhya pradesh", "chhattisgarh"}),
    "5": frozenset({"andhra pradesh", "telangana", "karnataka"}),
    "6": frozenset({"kerala", "tamil nadu", "puducherry", "lakshadweep"}),
    "7": frozenset(
        {
            "west bengal",
            "odisha",
            "assam",
            "arunachal pradesh",
            "manipur",
            "meghalaya",
            "mizoram",
            "nagaland",
            "tripura",
            "sikkim",
            "andaman and nicobar islands",
        }
    ),
    "8": frozenset({"bihar", "jharkhand"}),
    "9": frozenset(),  # Army Postal Service: no civilian state
}
STATES = frozenset().union(*PIN_ZONES.values())
# State names as whole words in lower-case text ("bihar", not "biharsharif").
STATE_NAMES = re.compile(r"\b(" + "|".join(sorted(map(re.escape, STATES))) + r")\b")

# Fourth character of a PAN: the holder's type (Income Tax Department).
PAN_HOLDER_TYPES = {
    "P": "individual",
    "C": "company",
    "E": "limited liability partnership",
    "H": "hindu undivided family",
    "F": "firm",
    "A": "association of persons",
    "T": "trust",
    "B": "body of individuals",
    "L": "local authority",
    "J": "artificial juridical person",
    "G": "government",
}
