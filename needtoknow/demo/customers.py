"""Synthetic customers for the demo and the benchmarks: plausible, valid, and nobody's.

Every identifier passes the same validators real input must pass (Verhoeff,
Luhn, PIN zones, state codes), generated from a seeded RNG so runs repeat. Names and
street lines come from Faker's ``en_IN`` provider (packaged data, seeded the same way);
cities, states and PIN prefixes from the table below, so they agree with each other.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from faker import Faker
from stdnum import luhn, verhoeff

from needtoknow.categories.identifiers import gstin_check_char

# (city, state, PIN prefix consistent with India Post zones, driving-licence state code)
PLACES = (
    ("New Delhi", "Delhi", "110", "DL"),
    ("Mumbai", "Maharashtra", "400", "MH"),
    ("Pune", "Maharashtra", "411", "MH"),
    ("Bengaluru", "Karnataka", "560", "KA"),
    ("Chennai", "Tamil Nadu", "600", "TN"),
    ("Kolkata", "West Bengal", "700", "WB"),
    ("Hyderabad", "Telangana", "500", "TS"),
    ("Ahmedabad", "Gujarat", "380", "GJ"),
    ("Jaipur", "Rajasthan", "302", "RJ"),
    ("Lucknow", "Uttar Pradesh", "226", "UP"),
    ("Patna", "Bihar", "800", "BR"),
    ("Kochi", "Kerala", "682", "KL"),
    ("Chandigarh", "Chandigarh", "160", "CH"),
    ("Bhopal", "Madhya Pradesh", "462", "MP"),
)
BANKS = ("HDFC", "ICIC", "SBIN", "UTIB", "KKBK", "PUNB", "BARB", "CNRB")
MOBILE_PREFIXES = (
    "98",
    "99",
    "97",
    "96",
    "95",
    "94",
    "93",
    "91",
    "90",
    "89",
    "88",
    "87",
    "86",
    "85",
    "84",
    "83",
    "82",
    "81",
    "80",
    "79",
    "78",
    "77",
    "76",
    "75",
    "74",
    "73",
    "72",
    "70",
    "63",
    "62",
)
PAN_TYPES = "PPPPPPPPCF"  # mostly individuals


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(n))


def aadhaar(rng: random.Random) -> str:
    body = str(rng.randint(2, 9)) + _digits(rng, 10)
    return body + verhoeff.calc_check_digit(body)


def pan(rng: random.Random) -> str:
    return (
        _letters(rng, 3)
        + rng.choice(PAN_TYPES)
        + _letters(rng, 1)
        + _digits(rng, 4)
        + _letters(rng, 1)
    )


def gstin(rng: random.Random) -> str:
    first14 = f"{rng.randint(1, 37):02d}" + pan(rng) + str(rng.randint(1, 9)) + "Z"
    return first14 + gstin_check_char(first14)


def card(rng: random.Random) -> str:
    prefix = rng.choice(("4", "4", "51", "53", "65216", "608100"))
    body = prefix + _digits(rng, 15 - len(prefix))
    return body + luhn.calc_check_digit(body)


def customer(rng: random.Random, fake: Faker, today: date) -> dict[str, Any]:
    """One synthetic customer with every category the demo policy collects."""
    first, last = fake.first_name(), fake.last_name()
    city, state, pin3, code = rng.choice(PLACES)
    born = today - timedelta(days=rng.randint(18 * 365, 80 * 365))
    handle = "".join(
        c for c in f"{first}.{last}{rng.randint(1, 999)}".lower() if c.isalnum() or c == "."
    )
    return {
        "name": f"{first} {last}",
        "date_of_birth": born.isoformat(),
        "address": {
            "line1": f"{fake.building_number()}, {fake.street_name()}",
            "city": city,
            "state": state,
            "pin": pin3 + _digits(rng, 3),
        },
        "telephone": "+91" + rng.choice(MOBILE_PREFIXES) + _digits(rng, 8),
        "email": f"{handle}@example.in",
        "bank_account": {
            "account_number": _digits(rng, rng.randint(11, 16)),
            "ifsc": rng.choice(BANKS) + "0" + _digits(rng, 6),
        },
        "card_number": {"number": card(rng), "token": "gw_tok_" + _letters(rng, 12).lower()},
        "identity_number": [
            {"type": "aadhaar", "number": aadhaar(rng)},
            {"type": "pan", "number": pan(rng)},
        ],
        "driving_licence": f"{code}{rng.randint(1, 20):02d}{rng.randint(2000, today.year - 1)}"
        f"{_digits(rng, 7)}",
        "digital_identity": [
            {"type": "username", "value": handle},
            {"type": "ip", "value": f"203.0.113.{rng.randint(1, 254)}"},
        ],
        # the SPDI Rules' consent in writing to keeping the bank and card details
        "written_consent": f"signup form v3: SPDI consent box ticked on {today.isoformat()}",
    }


def customers(
    count: int, seed: int = 20261126, today: date = date(2026, 11, 26)
) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    fake = Faker("en_IN")
    fake.seed_instance(seed)
    for _ in range(count):
        yield customer(rng, fake, today)
