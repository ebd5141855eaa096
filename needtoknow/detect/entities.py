"""The entity types the scanner reports, each mapped to a seed category.

Names follow Presidio's where Presidio has the entity, so its users keep their
configuration; the others are ours (``IN_`` for Indian identifiers). ``score`` is what a
candidate gets once its validator accepts it; words from ``context`` found just before
it raise the score, words from ``NEGATIVE_CONTEXT`` lower it. An entity whose score
without context is below the default threshold is reported only with context: bank
accounts, passports, handles and dates of birth look like too many other things.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entity:
    name: str
    category: str
    score: float
    context: tuple[str, ...] = ()


# The identity documents: a word for any of them before a number says it is an identity
# number — which one, its structure and check digit decide (people write "PAN:" before an
# Aadhaar). "KYC": Know Your Customer, the RBI's identity check, which asks for them.
IDENTITY_DOCUMENTS = (
    "aadhaar",
    "aadhar",
    "adhaar",
    "pan",
    "passport",
    "voter",
    "voter id",
    "kyc",
    "id proof",
    "identity proof",
)

_ENTITIES = (
    Entity("EMAIL_ADDRESS", "email", 0.9, ("email", "e-mail", "mail")),
    Entity(
        "PHONE_NUMBER",
        "telephone",
        0.7,
        ("phone", "mobile", "tel", "call", "contact", "whatsapp", "ph"),
    ),
    Entity(
        "CREDIT_CARD",
        "card_number",
        0.85,
        ("card", "credit", "debit", "visa", "mastercard", "rupay", "amex", "cc", "charge"),
    ),
    Entity("IN_AADHAAR", "identity_number", 0.6, ("uidai", "uid", *IDENTITY_DOCUMENTS)),
    Entity("IN_AADHAAR_VID", "identity_number", 0.3, ("vid", "virtual id", "aadhaar", "aadhar")),
    Entity(
        "IN_PAN", "identity_number", 0.8, ("permanent account", "income tax", *IDENTITY_DOCUMENTS)
    ),
    Entity("IN_GSTIN", "identity_number", 0.95, ("gst", "gstin", "gst no")),
    Entity("IN_PASSPORT", "identity_number", 0.35, IDENTITY_DOCUMENTS),
    Entity("IN_VOTER", "identity_number", 0.55, ("epic", "election", *IDENTITY_DOCUMENTS)),
    Entity(
        "IN_VEHICLE_REGISTRATION",
        "vehicle_registration",
        0.6,
        ("vehicle", "registration", "reg no", "car", "bike", "rc"),
    ),
    Entity(
        "IN_DRIVING_LICENCE",
        "driving_licence",
        0.6,
        ("licence", "license", "dl no", "dl", "driving"),
    ),
    Entity(
        "IN_BANK_ACCOUNT",
        "bank_account",
        0.2,
        ("account", "a/c", "acct", "acc no", "bank", "savings", "current"),
    ),
    Entity("IN_IFSC", "bank_account", 0.7, ("ifsc", "branch", "bank")),
    Entity("IN_UPI_ID", "bank_account", 0.6, ("upi", "vpa", "gpay", "phonepe", "paytm", "bhim")),
    Entity(
        "IP_ADDRESS", "digital_identity", 0.6, ("ip", "client", "remote", "from", "addr", "host")
    ),
    Entity("MAC_ADDRESS", "digital_identity", 0.8, ("mac", "hwaddr", "ether", "device")),
    Entity("IMEI", "digital_identity", 0.35, ("imei", "handset", "device")),
    Entity(
        "USERNAME",
        "digital_identity",
        0.3,
        (
            "user",
            "username",
            "user name",
            "login",
            "handle",
            "twitter",
            "instagram",
            "user id",
            "userid",
            "screen name",
        ),
    ),
    Entity(
        "DATE_OF_BIRTH",
        "date_of_birth",
        0.2,
        ("dob", "d.o.b", "date of birth", "born", "birth", "birthday", "b'day"),
    ),
    Entity(
        "GENETIC_MARKER",
        "genetic",
        0.55,
        ("snp", "genotype", "allele", "variant", "dna", "gene", "rs"),
    ),
    Entity("DNA_SEQUENCE", "genetic", 0.6, ("sequence", "dna", "gene", "primer")),
    Entity("GENETIC_TEST", "genetic", 0.6, ("test", "result", "report", "screening")),
    Entity(
        "PERSON",
        "name",
        0.3,
        (
            "name",
            "dear",
            "mr",
            "mrs",
            "ms",
            "shri",
            "smt",
            "dr",
            "from",
            "regards",
            "customer",
            "of",
            "by",
            "contact",
            "hi",
            "hello",
            "attn",
            "holder",
        ),
    ),
    Entity("BIRTHPLACE", "birthplace", 0.6),  # found with its label ("place of birth: …")
    Entity(
        "ADDRESS",
        "address",
        0.4,
        ("address", "addr", "residence", "resides", "residing", "located", "ship to", "deliver"),
    ),
    Entity("FACE", "face", 0.8),  # images only (detect.images)
)

ENTITIES: dict[str, Entity] = {entity.name: entity for entity in _ENTITIES}

# Words that, just before a candidate, say it is a reference of ours rather than a person's.
NEGATIVE_CONTEXT = (
    "order",
    "invoice",
    "inv no",
    "txn",
    "transaction",
    "ref",
    "ticket",
    "request",
    "req",
    "complaint",
    "docket",
    "reference",
    "receipt",
    "booking",
    "pnr",
    "claim",
    "barcode",
    "ean",
    "upc",
    "gtin",
    "isbn",
    "tracking",
    "awb",
    "sku",
    "version",
    "build",
    "serial",
    "pid",
    "port",
    "pin",
    "otp",
)

DEFAULT_THRESHOLD = 0.5
CONTEXT_BOOST = 0.35
NEGATIVE_PENALTY = 0.4  # a card that passes Luhn by chance after "order" (0.85) falls below 0.5
CONTEXT_WINDOW = 48  # characters before a candidate searched for context words
