"""A seeded evaluation corpus: what a hosting company's texts look like, with gold spans.

Names, streets and cities come from Faker's ``en_IN`` provider (seeded), not from the
scanner's own gazetteer, so name and address recall is measured on names the scanner
was not built from (about 60% of Faker's first and of its last names are in it).

Support tickets, billing and KYC e-mails, web-server and mail logs and CSV exports, each
built from pieces so every PII value's span is known exactly, plus hard negatives that
look like PII and are not (order and invoice numbers, timestamps, versions, hashes,
phone-like numbers outside any numbering plan). Every identifier is generated valid by
the same rules the vault uses, with the formats people write (grouped, hyphenated,
upper case). Nothing here is real: same seed, same corpus.
"""

from __future__ import annotations

import ipaddress
import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from stdnum import luhn, verhoeff

from needtoknow.categories import india
from needtoknow.categories.identifiers import gstin_check_char
from needtoknow.guards.extras import require


@dataclass(frozen=True)
class Gold:
    start: int
    end: int
    entity: str
    masked: bool = False


@dataclass
class Document:
    kind: str
    text: str = ""
    gold: list[Gold] = field(default_factory=list)

    @property
    def format(self) -> str:
        """How a scanner reads it (a :func:`needtoknow.detect.files.kind`)."""
        return "csv" if self.kind == "csv_export" else "text"

    def add(self, piece: str) -> None:
        self.text += piece

    def pii(self, value: str, entity: str, masked: bool = False) -> None:
        self.gold.append(Gold(len(self.text), len(self.text) + len(value), entity, masked))
        self.text += value


FIRST = "Asha Ravi Priya Arjun Kavya Rohan Meera Vikram Ananya Karthik Divya Suresh Lakshmi".split()
LAST = "Rao Sharma Iyer Nair Reddy Gupta Menon Das Patel Singh Kulkarni Banerjee Pillai".split()
DOMAINS = ("gmail.com", "example.in", "rediffmail.com", "yahoo.co.in", "nextraone.in")
STATES = sorted(india.STATE_CODES - {"DD", "DN", "OR", "UA", "TS", "LA", "LD"})
UPI = ("okhdfcbank", "okicici", "oksbi", "ybl", "paytm", "axl")
GENETIC_TESTS = ("BRCA1", "BRCA2", "whole genome sequencing", "carrier screening", "HLA typing")
MONTHS = "January February March April May June July August September October November December"


class Values:
    """Valid PII values in the formats people write them."""

    def __init__(self, rng: random.Random) -> None:
        require("demo")  # Faker only generates; scoring and the corpus's types need none
        from faker import Faker

        self.r = rng
        self.fake = Faker("en_IN")
        self.fake.seed_instance(rng.randrange(1 << 32))

    def digits(self, n: int) -> str:
        return "".join(self.r.choice(string.digits) for _ in range(n))

    def letters(self, n: int) -> str:
        return "".join(self.r.choice(string.ascii_uppercase) for _ in range(n))

    def clock(self) -> str:
        return f"{self.r.randint(0, 23):02d}:{self.digits(2)}:{self.digits(2)}"

    def name(self) -> str:
        return f"{self.fake.first_name()} {self.fake.last_name()}"

    def city(self) -> str:
        return str(self.fake.city())

    def address(self) -> str:
        house = self.r.choice(
            (f"{self.r.randint(1, 999)}", f"{self.r.randint(1, 99)}/{self.r.randint(1, 999)}")
        )
        street = self.fake.street_name()
        while len(street.split()) < 2:  # Faker's en_IN streets are sometimes a bare surname
            street = self.fake.street_name()
        city = self.city()
        # A real PIN's first digit is its state's postal zone ("Delhi" takes 1).
        named = india.STATE_NAMES.findall(f"{street} {city}".lower())
        zones = [z for z, states in india.PIN_ZONES.items() if any(s in states for s in named)]
        pin = f"{self.r.choice(zones or list('12345678'))}{self.digits(5)}"
        return f"{house}, {street}, {city}{self.r.choice((' ', '-', ' - '))}{pin}"

    def email(self) -> str:
        local = f"{self.r.choice(FIRST).lower()}{self.r.choice(['.', '_', ''])}"
        local += f"{self.r.choice(LAST).lower()}{self.r.choice(['', self.digits(2)])}"
        return f"{local}@{self.r.choice(DOMAINS)}"

    def mobile(self) -> str:
        number = self.r.choice("6789") + self.digits(9)
        return self.r.choice(
            (
                f"+91 {number[:5]} {number[5:]}",
                f"+91-{number}",
                f"0{number}",
                number,
                f"{number[:5]}-{number[5:]}",
            )
        )

    def landline(self) -> str:
        return self.r.choice(
            (f"(022) 2{self.digits(3)} {self.digits(4)}", f"080-2{self.digits(7)}")
        )

    def card(self) -> str:
        prefix, length = self.r.choice(
            (("4", 16), ("51", 16), ("2221", 16), ("6521", 16), ("37", 15), ("6011", 16))
        )
        body = prefix + self.digits(length - len(prefix) - 1)
        number = body + luhn.calc_check_digit(body)
        if length == 15:
            return self.r.choice((number, f"{number[:4]} {number[4:10]} {number[10:]}"))
        groups = " ".join(number[i : i + 4] for i in range(0, 16, 4))
        return self.r.choice((number, groups, groups.replace(" ", "-")))

    def aadhaar(self) -> str:
        body = self.r.choice("23456789") + self.digits(10)
        number = body + verhoeff.calc_check_digit(body)
        spaced = f"{number[:4]} {number[4:8]} {number[8:]}"
        return self.r.choice((spaced, spaced, number, spaced.replace(" ", "-")))

    def pan(self) -> str:
        holder = self.r.choice("PPPPCHF")
        return f"{self.letters(3)}{holder}{self.letters(1)}{self.digits(4)}{self.letters(1)}"

    def gstin(self) -> str:
        body = f"{self.r.randint(1, 37):02d}{self.pan()}{self.r.choice('123')}Z"
        return body + gstin_check_char(body)

    def passport(self) -> str:
        return (
            self.r.choice("ABCDEFGHJKLMNPRSTUVWY")
            + self.r.choice("123456789")
            + self.digits(5)
            + self.r.choice("123456789")
        )

    def voter(self) -> str:
        return self.letters(3) + self.digits(7)

    def plate(self) -> str:
        if self.r.random() < 0.15:
            year, serial = self.r.randint(21, 25), self.r.randint(1000, 9999)
            return f"{year} BH {serial} {self.r.choice('ABCDEF')}{self.r.choice('ABCDEF')}"
        state, rto = self.r.choice(STATES), f"{self.r.randint(1, 50):02d}"
        series, number = self.letters(self.r.choice((1, 2))), f"{self.r.randint(1, 9999):04d}"
        return self.r.choice(
            (
                f"{state} {rto} {series} {number}",
                f"{state}{rto}{series}{number}",
                f"{state}-{rto}-{series}-{number}",
            )
        )

    def licence(self) -> str:
        state, rto, year = (
            self.r.choice(STATES),
            f"{self.r.randint(1, 50):02d}",
            self.r.randint(1990, 2024),
        )
        tail = self.digits(7)
        return self.r.choice(
            (
                f"{state}{rto}{year}{tail}",
                f"{state}{rto} {year}{tail}",
                f"{state}-{rto}-{year}-{tail}",
            )
        )

    def account(self) -> str:
        return self.r.choice("123456789") + self.digits(self.r.randint(8, 15))

    def ifsc(self) -> str:
        return f"{self.r.choice(('SBIN', 'HDFC', 'ICIC', 'UTIB', 'KKBK'))}0{self.digits(6)}"

    def upi(self) -> str:
        name = self.r.choice(FIRST).lower() + self.digits(self.r.choice((0, 2)))
        return f"{name}@{self.r.choice(UPI)}"

    def ipv4(self) -> str:
        return self.r.choice(
            (
                f"203.0.113.{self.r.randint(1, 254)}",
                f"49.{self.r.randint(32, 47)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}",
            )
        )

    def ipv6(self) -> str:
        return str(ipaddress.IPv6Address(self.r.getrandbits(64) | (0x2001_0DB8 << 96)))

    def mac(self) -> str:
        octets = [f"{self.r.randint(0, 255):02x}" for _ in range(6)]
        return self.r.choice((":", "-")).join(octets)

    def imei(self) -> str:
        body = self.r.choice(("35", "86", "01")) + self.digits(12)
        return body + luhn.calc_check_digit(body)

    def dob(self) -> str:
        day, month, year = self.r.randint(1, 28), self.r.randint(1, 12), self.r.randint(1950, 2005)
        return self.r.choice(
            (
                f"{day:02d}/{month:02d}/{year}",
                f"{year}-{month:02d}-{day:02d}",
                f"{day} {MONTHS.split()[month - 1]} {year}",
                f"{day:02d}-{month:02d}-{year}",
            )
        )

    def rsid(self) -> str:
        return f"rs{self.r.randint(1000, 99999999)}"

    def dna(self) -> str:
        return "".join(self.r.choice("ACGT") for _ in range(self.r.randint(20, 40)))

    def masked_card(self) -> str:
        return self.r.choice(
            ("XXXX XXXX XXXX ", "**** **** **** ", "XXXX-XXXX-XXXX-")
        ) + self.digits(4)

    def masked_aadhaar(self) -> str:
        return self.r.choice(("XXXX XXXX ", "xxxx-xxxx-")) + self.digits(4)


# Hard negatives: each a function of the values generator giving text that is no PII.
NEGATIVES: tuple[Callable[[Values], str], ...] = (
    lambda v: f"order {v.digits(12)} was shipped",
    lambda v: f"invoice INV{v.r.randint(2019, 2025)}{v.digits(6)} is due",
    lambda v: f"at 2024-{v.r.randint(1, 12):02d}-{v.r.randint(1, 28):02d} {v.clock()}",
    lambda v: f"nginx version 1.{v.r.randint(10, 27)}.{v.r.randint(0, 9)}",
    lambda v: f"sha256 {''.join(v.r.choice('0123456789abcdef') for _ in range(64))}",
    lambda v: f"ticket #{v.digits(7)}",
    lambda v: f"amount Rs {v.r.randint(100, 99999)}.{v.digits(2)}",
    lambda v: f"tracking AWB {v.digits(11)}",
    lambda v: f"ref 1{v.digits(4)} {v.digits(5)}",
    lambda v: f"plan PLN-{v.digits(6)}",
    lambda v: f"port {v.r.randint(1024, 65535)} pid {v.r.randint(100, 99999)}",
    lambda v: f"build {v.r.randint(1, 9)}.{v.r.randint(0, 9)}.{v.digits(2)}.{v.digits(4)}",
)


def _ticket(v: Values, doc: Document) -> None:
    doc.add(f"Ticket #{v.digits(6)} from ")
    doc.pii(v.name(), "PERSON")
    doc.add("\nHi team, I cannot log in to my cPanel. ")
    doc.add("My registered email is ")
    doc.pii(v.email(), "EMAIL_ADDRESS")
    doc.add(" and mobile ")
    doc.pii(v.mobile(), "PHONE_NUMBER")
    doc.add(". Please call me. ")
    if v.r.random() < 0.5:
        doc.add("My username: ")
        doc.pii(f"{v.r.choice(FIRST).lower()}_{v.digits(2)}", "USERNAME")
        doc.add(". ")
    if v.r.random() < 0.4:
        doc.add("Login attempts came from ")
        doc.pii(v.ipv4(), "IP_ADDRESS")
        doc.add(". ")
    doc.add(f"{v.r.choice(NEGATIVES)(v)}. Regards\n")


def _billing(v: Values, doc: Document) -> None:
    doc.add(f"Subject: Payment failed for {v.r.choice(DOMAINS)} renewal\nDear ")
    doc.pii(v.name(), "PERSON")
    doc.add(",\n")
    doc.add("We could not charge your card ")
    if v.r.random() < 0.5:
        doc.pii(v.card(), "CREDIT_CARD")
    else:
        doc.pii(v.masked_card(), "CREDIT_CARD", masked=True)
    doc.add(f". {v.r.choice(NEGATIVES)(v)}. You can pay by UPI to ")
    doc.pii(v.upi(), "IN_UPI_ID")
    doc.add(" or by bank transfer: A/c No. ")
    doc.pii(v.account(), "IN_BANK_ACCOUNT")
    doc.add(", IFSC ")
    doc.pii(v.ifsc(), "IN_IFSC")
    doc.add(". GSTIN ")
    doc.pii(v.gstin(), "IN_GSTIN")
    doc.add(f" applies. Call {v.r.choice(('us', 'billing'))} at ")
    doc.pii(v.landline(), "PHONE_NUMBER")
    doc.add(".\n")


def _kyc(v: Values, doc: Document) -> None:
    doc.add("KYC for reseller account of ")
    doc.pii(v.name(), "PERSON")
    doc.add(".\nAddress: ")
    doc.pii(v.address(), "ADDRESS")
    doc.add("\nPlace of birth: ")
    doc.pii(v.city(), "BIRTHPLACE")
    doc.add("\nPAN: ")
    doc.pii(v.pan(), "IN_PAN")
    doc.add("\nAadhaar: ")
    if v.r.random() < 0.8:
        doc.pii(v.aadhaar(), "IN_AADHAAR")
    else:
        doc.pii(v.masked_aadhaar(), "IN_AADHAAR", masked=True)
    doc.add("\nDate of birth: ")
    doc.pii(v.dob(), "DATE_OF_BIRTH")
    choice = v.r.randrange(4)
    if choice == 0:
        doc.add("\nPassport No. ")
        doc.pii(v.passport(), "IN_PASSPORT")
    elif choice == 1:
        doc.add("\nVoter ID: ")
        doc.pii(v.voter(), "IN_VOTER")
    elif choice == 2:
        doc.add("\nDriving licence ")
        doc.pii(v.licence(), "IN_DRIVING_LICENCE")
    else:
        doc.add("\nVehicle registration ")
        doc.pii(v.plate(), "IN_VEHICLE_REGISTRATION")
    if v.r.random() < 0.3:
        doc.add("\nGenetic report: ")
        doc.pii(v.r.choice(GENETIC_TESTS), "GENETIC_TEST")
        doc.add(" positive; variant ")
        doc.pii(v.rsid(), "GENETIC_MARKER")
        doc.add(f" ({v.r.choice(('AG', 'CT', 'GG'))}), sequence ")
        doc.pii(v.dna(), "DNA_SEQUENCE")
    doc.add(f"\nNotes: {v.r.choice(NEGATIVES)(v)}.\n")


def _weblog(v: Values, doc: Document) -> None:
    ip = v.ipv4() if v.r.random() < 0.8 else v.ipv6()
    doc.pii(ip, "IP_ADDRESS")
    day = v.r.randint(1, 28)
    doc.add(
        f' - - [{day:02d}/Nov/2026:{v.clock()} +0530] "GET /cart?plan=PLN-{v.digits(4)} HTTP/1.1" '
    )
    doc.add(f'{v.r.choice((200, 302, 404))} {v.r.randint(200, 90000)} "-" "Mozilla/5.0"\n')


def _maillog(v: Values, doc: Document) -> None:
    doc.add(f"Nov 26 10:{v.digits(2)}:{v.digits(2)} mx1 postfix/smtp[{v.r.randint(1000, 99999)}]: ")
    doc.add(f"{v.letters(10)}: to=<")
    doc.pii(v.email(), "EMAIL_ADDRESS")
    doc.add(f">, relay=mx.{v.r.choice(DOMAINS)}[")
    doc.pii(v.ipv4(), "IP_ADDRESS")
    doc.add(f"]:25, delay=0.{v.digits(2)}, status=sent (250 2.0.0 OK)\n")


def _device(v: Values, doc: Document) -> None:
    doc.add("Device registered: MAC ")
    doc.pii(v.mac(), "MAC_ADDRESS")
    doc.add(", IMEI ")
    doc.pii(v.imei(), "IMEI")
    doc.add(f", {v.r.choice(NEGATIVES)(v)}.\n")


def _csv(v: Values, doc: Document) -> None:
    doc.add("customer_id,name,email,phone,city,plan\n")
    for _ in range(v.r.randint(2, 5)):
        doc.add(f"CUST{v.digits(6)},")
        doc.pii(v.name(), "PERSON")
        doc.add(",")
        doc.pii(v.email(), "EMAIL_ADDRESS")
        doc.add(",")
        doc.pii(v.mobile(), "PHONE_NUMBER")
        doc.add(f",{v.city()},PLN-{v.digits(6)}\n")


KINDS: dict[str, Callable[[Values, Document], None]] = {
    "support_ticket": _ticket,
    "billing_email": _billing,
    "kyc_email": _kyc,
    "web_log": _weblog,
    "mail_log": _maillog,
    "device_note": _device,
    "csv_export": _csv,
}


def documents(count: int, seed: int = 2026) -> Iterator[Document]:
    """``count`` documents, the kinds in turn; the same seed gives the same corpus."""
    rng = random.Random(seed)
    values = Values(rng)
    kinds = list(KINDS.items())
    for n in range(count):
        kind, build = kinds[n % len(kinds)]
        doc = Document(kind)
        build(values, doc)
        yield doc
