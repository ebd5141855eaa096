"""The policy file's JSON Schema, for editors (YAML language servers read JSON Schema):
completion of every key and of the names the vocabulary fixes (legal bases, recipient
kinds, obligations, transforms, categories). The loader stays the judge — it checks what
a schema cannot (names defined elsewhere in the file, the seed's promises) and says
file:line — but a file the schema refuses has a key or value the loader does not know.
"""

from __future__ import annotations

from typing import Any

from needtoknow.categories import TRANSFORMS, Registry
from needtoknow.categories.validators import VALIDATORS
from needtoknow.policy.model import (
    HOLD_BASES,
    LEGAL_BASES,
    OBLIGATIONS,
    RECIPIENT_KINDS,
    RIGHT_KINDS,
    TRACKER_KINDS,
    TRACKER_PARTIES,
    USAGE_FORMS,
)

_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
_PERIOD = {
    "type": "string",
    "pattern": "^[1-9][0-9]{0,5} (day|days|month|months|year|years)$",
    "description": "e.g. 90 days, 6 months, 8 years",
}
_TEXT = {"type": "string", "minLength": 1}


def _names(description: str) -> dict[str, Any]:
    return {
        "oneOf": [_NAME, {"type": "array", "items": _NAME, "minItems": 1}],
        "description": description,
    }


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def policy_schema(registry: Registry) -> dict[str, Any]:
    categories = sorted(registry)
    description = {
        "oneOf": [
            _TEXT,
            {
                "type": "object",
                "properties": {"en": _TEXT},
                "required": ["en"],
                "additionalProperties": {"type": "string"},
            },
        ],
        "description": "English, or {en: …, hi: …} for the notice in each language",
    }
    purpose = _object(
        {
            "legal_basis": {"enum": sorted(LEGAL_BASES)},
            "description": description,
            "collects": {"type": "array", "items": {"enum": categories}},
            "retention": _PERIOD,
            "tracking": {
                "type": "boolean",
                "description": "Tracking, behavioural monitoring or advertising directed at "
                "the person: never for a child (DPDP Act s.9(3))",
            },
        },
        ["legal_basis"],
    )
    recipient = _object(
        {"kind": {"enum": sorted(RECIPIENT_KINDS)}, "description": _TEXT, "parent": _NAME},
        ["kind"],
    )
    agreement = _object(
        {
            "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"},
            "recipient": _NAME,
            "purposes": {"type": "array", "items": _NAME, "minItems": 1},
            "reference": {"type": "string", "maxLength": 200},
            "starts": {"type": "string", "format": "date"},
            "expires": {"type": "string", "format": "date"},
            "customer_scoped": {"type": "boolean"},
        },
        ["id", "recipient", "purposes", "expires"],
    )
    rule = _object(
        {
            "id": _TEXT,
            "recipient": _names("who receives"),
            "recipients": _names("who receives"),
            "purpose": _names("what for"),
            "purposes": _names("what for"),
            "grant": {
                "type": "object",
                "propertyNames": {"enum": categories},
                "additionalProperties": {"enum": list(TRANSFORMS)},
            },
            "obligations": {"type": "array", "items": {"enum": sorted(OBLIGATIONS)}},
            "clause": {**_TEXT, "description": "the policy sentence this rule implements"},
        },
        ["id", "grant", "clause"],
    )
    usage = _object(
        {
            "id": _TEXT,
            "recipient": _names("who receives usage data"),
            "recipients": _names("who receives usage data"),
            "purpose": _names("what for"),
            "purposes": _names("what for"),
            "form": {"enum": sorted(USAGE_FORMS)},
            "budget": _object(
                {"epsilon": {"type": "number", "exclusiveMinimum": 0}, "delta": {"type": "number"}},
                ["epsilon"],
            ),
            "requires_consent": _NAME,
            "clause": _TEXT,
        },
        ["id", "form", "clause"],
    )
    hold = _object(
        {
            "basis": _TEXT,
            "services": {"type": "array", "items": _NAME},
            "categories": {"type": "array", "items": {"enum": categories}, "minItems": 1},
            "kept": _PERIOD,
            "readable_for": {"type": "array", "items": _NAME},
        },
        ["basis", "categories", "kept"],
    )
    settings = _object(
        {
            "store_full_card_numbers": {"type": "boolean"},
            "notice_period_days": {"type": "integer", "minimum": 0},
            "erasure_ack_days": {"type": "integer", "minimum": 1},
            "services": {"type": "array", "items": _NAME},
            "grievance_contact": {"type": "string"},
            "response_days": {
                "type": "object",
                "propertyNames": {"enum": list(RIGHT_KINDS)},
                "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 90},
            },
            "rights_how": {"type": "string"},
            "rights_identifier": {"type": "string"},
        },
        [],
    )
    category = _object(
        {
            "label": _TEXT,
            "validator": {"enum": sorted(VALIDATORS)},
            "transforms": {"type": "array", "items": {"enum": list(TRANSFORMS)}},
            "blind_index": {"type": "boolean"},
        },
        ["validator"],
    )
    tracker = {
        "type": "object",
        "description": "A cookie, web beacon or other technology that follows a visit",
        "properties": {
            "kind": {"enum": list(TRACKER_KINDS)},
            "party": {"enum": list(TRACKER_PARTIES), "description": "third: consent-based only"},
            "purpose": _NAME,
        },
        "required": ["kind", "party", "purpose"],
        "additionalProperties": False,
    }
    age_verifier = {
        "type": "object",
        "description": "A provider whose signed token shows a parent is an adult (Rule 10)",
        "properties": {
            "public_key": {
                "type": "string",
                "pattern": "^[0-9a-fA-F]{64}$",
                "description": "The Ed25519 key its tokens are signed with (hex)",
            },
            "description": _TEXT,
        },
        "required": ["public_key"],
        "additionalProperties": False,
    }
    consent_manager = {
        "type": "object",
        "description": "A consent manager registered with the Data Protection Board",
        "properties": {
            "registration": {**_TEXT, "description": "Its registration number with the Board"},
            "public_key": {
                "type": "string",
                "pattern": "^[0-9a-fA-F]{64}$",
                "description": "The Ed25519 key its events are signed with (hex)",
            },
            "description": _TEXT,
        },
        "required": ["registration", "public_key"],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "needtoknow policy",
        "description": "Purposes, recipients, agreements and rules: who may see what, why. "
        f"Holds keep data for laws ({', '.join(sorted(HOLD_BASES))} purposes only).",
        "type": "object",
        "properties": {
            "name": _TEXT,
            "categories": {"type": "object", "additionalProperties": category},
            "purposes": {"type": "object", "additionalProperties": purpose},
            "prohibited_purposes": {"type": "array", "items": _NAME},
            "holds": {"type": "object", "additionalProperties": hold},
            "settings": settings,
            "recipients": {"type": "object", "additionalProperties": recipient},
            "agreements": {"type": "array", "items": agreement},
            "rules": {"type": "array", "items": rule},
            "usage_data": {"type": "array", "items": usage},
            "consent_managers": {"type": "object", "additionalProperties": consent_manager},
            "age_verifiers": {"type": "object", "additionalProperties": age_verifier},
            "written_consent": {
                "type": "object",
                "description": "Categories collected only with the person's consent in "
                "writing, until a date (SPDI Rules 2011 r.5(1), until 13 May 2027)",
                "properties": {
                    "law": _TEXT,
                    "categories": {"type": "array", "items": {"enum": categories}},
                    "until": {"type": "string", "format": "date"},
                },
                "required": ["law", "categories", "until"],
                "additionalProperties": False,
            },
            "trackers": {"type": "object", "additionalProperties": tracker},
        },
        "required": ["purposes", "recipients", "rules"],
        "additionalProperties": False,
    }
