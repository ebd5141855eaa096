"""A labelled corpus written without looking at the scanner's rules (issue 21).

Every value comes from a library's own examples or generators, in the forms that
library writes, and is dropped into plain sentences:

- telephones: ``phonenumbers``' example number of each type for every region it knows,
  in each of its formats (E.164, international, national, RFC 3966); a national number
  names its country in the sentence (a national number means nothing without one);
- machine addresses: ``ipaddress``' text forms of random IPv4 and IPv6 addresses —
  compressed, exploded, IPv4-mapped, with a prefix length, with a zone id;
- e-mail addresses, payment cards of each issuer Faker knows, and names, in the en_IN,
  hi_IN, en_US and en_GB locales;
- Aadhaar and PAN numbers made with ``python-stdnum``'s check digits, in every
  separator style (space, hyphen, dot, none) and either case;
- negatives: sentences that name a country, say "card" or "Dear", or hold numbers,
  versions, hashes and codes, with nothing personal in them (Faker's own non-personal
  providers: prices, ISBNs, EAN codes, versions, hex colours, file names, dates of
  events), so precision is measured too.

Writes JSON Lines in ``ntk eval --corpus`` form (``--format ntk``): run
``python benchmarks/independent_corpus.py OUT.jsonl`` then ``ntk eval --corpus
OUT.jsonl``; ``bench_detect.py --independent`` scores needtoknow and Presidio on it.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
from collections.abc import Iterator
from pathlib import Path

import phonenumbers
from babel import Locale
from faker import Faker
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from stdnum import verhoeff

from needtoknow.detect.corpus import Document, Gold

LOCALES = ("en_IN", "hi_IN", "en_US", "en_GB")
PHONE_FORMATS = {
    "e164": PhoneNumberFormat.E164,
    "international": PhoneNumberFormat.INTERNATIONAL,
    "national": PhoneNumberFormat.NATIONAL,
    "rfc3966": PhoneNumberFormat.RFC3966,
}
SAY_PHONE = (
    "You can reach me on {v} most evenings.",
    "Phone: {v}",
    "Please call {v} to confirm the booking.",
    "New contact number {v} (updated today).",
)
SAY_NATIONAL = (
    "My {country} number is {v}.",
    "Our office in {country}: {v}",
)
SAY_IP = (
    "Login from {v} at 02:14.",
    "client={v} status=200",
    "Blocked {v} after five failures.",
    "The VPS was allotted {v} yesterday.",
)
SAY_EMAIL = ("Write to {v} for the invoice.", "From: {v}", "reply-to {v}; thanks")
SAY_CARD = ("Card used: {v}", "Please charge {v} for the renewal.", "cc {v} exp 09/29")
SAY_NAME = ("Dear {v},", "Regards, {v}", "{v} called about the outage.", "Welcome back {v}!")
SAY_ID = ("Aadhaar {v} verified.", "PAN: {v}", "KYC document {v} received.")


def _document(template: str, value: str, entity: str, **words: str) -> Document:
    before = template.split("{v}")[0].format(**words)
    text = template.format(v=value, **words)
    start = len(before)
    return Document("independent", text, [Gold(start, start + len(value), entity)])


def _phones(rng: random.Random) -> Iterator[Document]:
    english = Locale("en").territories
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            for name, fmt in PHONE_FORMATS.items():
                value = phonenumbers.format_number(number, fmt)
                if name == "national":
                    country = english.get(region, region)
                    yield _document(
                        rng.choice(SAY_NATIONAL), value, "PHONE_NUMBER", country=country
                    )
                else:
                    yield _document(rng.choice(SAY_PHONE), value, "PHONE_NUMBER")


def _addresses(rng: random.Random, count: int) -> Iterator[Document]:
    for _ in range(count):
        v4 = ipaddress.IPv4Address(rng.getrandbits(32))
        v6 = ipaddress.IPv6Address(rng.getrandbits(128))
        forms = (
            str(v4),
            str(v6),
            v6.exploded,
            str(ipaddress.IPv6Address(f"::ffff:{v4}")),
            f"{ipaddress.IPv4Network((int(v4) & 0xFFFFFF00, 24))}",
            f"{ipaddress.IPv6Network((int(v6) >> 64 << 64, 64))}",
            f"fe80::{rng.getrandbits(16):x}:{rng.getrandbits(16):x}%eth0",
        )
        for value in forms:
            yield _document(rng.choice(SAY_IP), value, "IP_ADDRESS")


def _people(rng: random.Random, count: int) -> Iterator[Document]:
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(rng.getrandbits(32))
        for _ in range(count):
            yield _document(rng.choice(SAY_EMAIL), fake.email(), "EMAIL_ADDRESS")
            yield _document(rng.choice(SAY_NAME), fake.name(), "PERSON")
            card = fake.credit_card_number()
            yield _document(rng.choice(SAY_CARD), card, "CREDIT_CARD")


def _identifiers(rng: random.Random, count: int) -> Iterator[Document]:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for _ in range(count):
        body = str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(10))
        aadhaar = body + verhoeff.calc_check_digit(body)
        pan = (
            "".join(rng.choice(letters) for _ in range(3))
            + rng.choice("PCHFATBLJG")
            + rng.choice(letters)
            + "".join(str(rng.randint(0, 9)) for _ in range(4))
            + rng.choice(letters)
        )
        for separator in (" ", "-", ".", ""):
            grouped = separator.join((aadhaar[:4], aadhaar[4:8], aadhaar[8:]))
            yield _document(rng.choice(SAY_ID), grouped, "IN_AADHAAR")
        for value in (pan, pan.lower()):
            yield _document(rng.choice(SAY_ID), value, "IN_PAN")


SAY_NOTHING = (
    "The {country} team shipped build {version} with {count} fixes.",
    "Card game night: {count} players, table {small}.",
    "Dear team, the release {version} is out.",
    "Invoice total {price}, ISBN {isbn}.",
    "Barcode {ean} scanned at {time}.",
    "Colour {colour} replaced on page {small}.",
    "Attached {file} ({count} KB), checksum {hexa}.",
    "Order {order} from {country} dispatched in {count} boxes.",
    "Revenue in {country} grew {small}% to {price}.",
)


def _nothing(rng: random.Random, count: int) -> Iterator[Document]:
    fake = Faker("en_US")
    fake.seed_instance(rng.getrandbits(32))
    english = Locale("en").territories
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    for number in range(count):
        words = {
            "country": english.get(regions[number % len(regions)], "France"),
            "version": f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
            "count": str(rng.randint(2, 99_999)),
            "small": str(rng.randint(2, 99)),
            "price": fake.pricetag(),
            "isbn": fake.isbn13(),
            "ean": fake.ean13(),
            "time": fake.time(),
            "colour": fake.hex_color(),
            "file": fake.file_name(),
            "hexa": fake.sha1()[:16],
            "order": str(rng.randint(10**9, 10**12)),
        }
        text = SAY_NOTHING[number % len(SAY_NOTHING)].format(**words)
        yield Document("independent", text, [])


def documents(seed: int = 21, per_kind: int = 60) -> list[Document]:
    rng = random.Random(seed)
    return [
        *_phones(rng),
        *_addresses(rng, per_kind),
        *_people(rng, per_kind),
        *_identifiers(rng, per_kind),
        *_nothing(rng, per_kind * 10),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--per-kind", type=int, default=60)
    args = parser.parse_args()
    with args.out.open("w", encoding="utf-8") as out:
        for doc in documents(args.seed, args.per_kind):
            spans = [{"start": g.start, "end": g.end, "entity": g.entity} for g in doc.gold]
            out.write(json.dumps({"text": doc.text, "spans": spans}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
