"""The customer record's JSON Schema, generated from the category registry: every form
each validator accepts, with an example, so a deployment's own categories appear in it
as soon as its policy adds them.

One schema serves ``ntk schema customer``, the request body of ``POST /v1/customers``
in the OpenAPI document, and ``docs/records.md``. A test feeds every example through its
validator, so the schema cannot promise a form the vault refuses.
"""

from __future__ import annotations

from typing import Any

from needtoknow.categories.registry import Registry

_TEXT = {"type": "string", "minLength": 1, "maxLength": 500}
_PIN = {"type": "string", "pattern": "^[1-9][0-9]{2} ?[0-9]{3}$", "description": "six digits"}
_ADDRESS_OBJECT = {
    "type": "object",
    "required": ["line1", "city", "pin"],
    "properties": {
        "line1": _TEXT,
        "line2": _TEXT,
        "city": {"type": "string", "maxLength": 100},
        "state": {"type": "string", "maxLength": 100, "description": "an Indian state or UT"},
        "pin": _PIN,
        "country": {"type": "string", "pattern": "^[A-Za-z]{2}$", "default": "IN"},
    },
    "additionalProperties": False,
}


def _typed(kinds: list[str], value_key: str, one_line: str) -> dict[str, Any]:
    """One ``{"type", value_key}`` entry, a list of them, or ``"type:value"`` text."""
    entry = {
        "type": "object",
        "required": ["type", value_key],
        "properties": {"type": {"enum": kinds}, value_key: {"type": "string"}},
        "additionalProperties": False,
    }
    text = {
        "type": "string",
        "pattern": f"^({'|'.join(kinds)}):.+$",
        "description": one_line,
    }
    one = {"oneOf": [entry, text]}
    return {"oneOf": [entry, text, {"type": "array", "minItems": 1, "items": one}]}


# The smallest GIF (a 1x1 transparent pixel): a photograph example that is an image.
_GIF = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"

# validator → (schema of the accepted input, examples — one per form —, what is stored)
SCHEMAS: dict[str, tuple[dict[str, Any], list[Any], str]] = {
    "text": (_TEXT, ["Asha Verma"], "the text, runs of whitespace made one space"),
    "long_text": (
        {"type": "string", "minLength": 1, "maxLength": 20_000},
        ["rs4680 AG; BRCA1 negative"],
        "the text",
    ),
    "date": (
        {"type": "string", "format": "date", "description": "YYYY-MM-DD, not in the future"},
        ["1987-04-12"],
        "YYYY-MM-DD",
    ),
    "telephone": (
        {
            "type": "string",
            "maxLength": 40,
            "description": "any common format; a number without +country is Indian",
        },
        ["+91 98765 43210", "098765-43210", "(022) 4000 0000"],
        "E.164 (+919876543210)",
    ),
    "email": (
        {
            "type": "string",
            "maxLength": 320,
            "description": 'an address, or a display name with one: "Asha <asha@example.in>"',
        },
        ["asha.verma@example.in", "Asha Verma <asha.verma@example.in>"],
        "the address alone, domain lower-cased",
    ),
    "place": (
        {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["city"],
                    "properties": {
                        "city": {"type": "string"},
                        "state": {"type": "string"},
                        "country": {"type": "string"},
                    },
                    "additionalProperties": False,
                },
                {"type": "string", "description": "City[, State][, Country]"},
            ]
        },
        ["Pune, Maharashtra", {"city": "Pune", "country": "India"}],
        '{"city", "state"?, "country"?} — a city, nothing finer',
    ),
    "address": (
        {
            "oneOf": [
                _ADDRESS_OBJECT,
                {
                    "type": "string",
                    "description": "one line: street, city, state and a six-digit PIN, "
                    "separated by commas",
                },
            ]
        },
        [
            {"line1": "17 MG Road", "city": "Pune", "state": "Maharashtra", "pin": "411001"},
            "Flat 4B, 17 MG Road, Pune, Maharashtra 411001",
        ],
        '{"line1", "line2"?, "city", "state"?, "pin", "country"}',
    ),
    "bank_account": (
        {
            "type": "object",
            "required": ["account_number", "ifsc"],
            "properties": {
                "account_number": {"type": "string", "description": "9 to 18 digits"},
                "ifsc": {"type": "string", "description": "4 letters, 0, 6 letters or digits"},
            },
            "additionalProperties": False,
        },
        [{"account_number": "123456789012", "ifsc": "HDFC0001234"}],
        '{"account_number", "ifsc"}',
    ),
    "card_number": (
        {
            "oneOf": [
                {"type": "string", "description": "12 to 19 digits, Luhn-valid"},
                {
                    "type": "object",
                    "required": ["number"],
                    "properties": {
                        "number": {"type": "string"},
                        "token": {"type": "string", "description": "the gateway's token"},
                    },
                    "additionalProperties": False,
                },
            ]
        },
        [{"number": "4111 1111 1111 1111", "token": "gw_tok_123"}, "5555555555554444"],
        '{"last4", "network", "token"?} — the full number only with '
        "settings.store_full_card_numbers (RBI card-on-file rules)",
    ),
    "identity_number": (
        _typed(
            ["aadhaar", "pan", "passport", "voter_id", "gstin"],
            "number",
            '"pan:AFZPK7190K": the kind, a colon, the number',
        ),
        [
            [{"type": "pan", "number": "AFZPK7190K"}],
            "pan:AFZPK7190K",
            ["aadhaar:2345 6789 0124", {"type": "pan", "number": "afzpk7190k"}],
        ],
        '[{"type", "number"}], numbers upper-cased without spaces',
    ),
    "vehicle_registration": (
        {"type": "string", "description": "SS RR XX NNNN or YY BH NNNN XX"},
        ["MH 12 AB 1234", "MH12AB1234"],
        "upper-cased without spaces",
    ),
    "driving_licence": (
        {"type": "string", "description": "SS RR YYYY NNNNNNN"},
        ["MH14 20110062821"],
        "upper-cased without spaces",
    ),
    "photograph": (
        {
            "oneOf": [
                {"type": "string", "contentEncoding": "base64"},
                {
                    "type": "object",
                    "required": ["content_base64"],
                    "properties": {"content_base64": {"type": "string"}},
                },
            ],
            "description": "a JPEG, PNG, WebP or GIF image (the type is sniffed)",
        },
        [{"content_base64": _GIF}],
        '{"content_type", "content_base64"}',
    ),
    "digital_identity": (
        _typed(
            ["ip", "username", "device_id"],
            "value",
            '"ip:198.51.100.23": the kind, a colon, the value',
        ),
        [
            [{"type": "ip", "value": "198.51.100.23"}, {"type": "username", "value": "ashav"}],
            "ip:2001:db8::1",
        ],
        '[{"type", "value"}]',
    ),
}


# Declarations a record may carry beside its categories, never stored as data: whether
# the person is a child (when no date of birth says so) and the parent whose verified
# consent lets a child's record in (DPDP Act s.9, Rules r.10; see vault.minors).
DECLARATIONS: dict[str, dict[str, Any]] = {
    "is_child": {
        "type": "boolean",
        "title": "Under 18 (a declaration, when no date of birth is given)",
        "examples": [True],
    },
    "written_consent": {
        "type": "string",
        "title": "Evidence of the person's consent in writing to collecting sensitive "
        "categories (what was signed or ticked, when, which form): needed while the "
        "policy's written_consent applies",
        "examples": ["signup form v3, SPDI consent box ticked, 2026-11-26 10:02 IST"],
    },
    "guardian": {
        "title": "The parent whose verified consent lets a child's record in",
        "oneOf": [
            {
                "type": "object",
                "description": "an adult customer, and what shows they consented",
                "properties": {"customer_id": {"type": "string"}, "evidence": {"type": "string"}},
                "required": ["customer_id", "evidence"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "description": "an age verifier's signed token, and the parent's e-mail",
                "properties": {
                    "verifier": {"type": "string"},
                    "token": {"type": "string"},
                    "email": {"type": "string"},
                },
                "required": ["verifier", "token", "email"],
                "additionalProperties": False,
            },
        ],
        "examples": [
            {
                "customer_id": "5b0c2f7e-6a51-4a43-9a55-3b1f8e1c9d20",
                "evidence": "confirmed in their signed-in session",
            }
        ],
    },
}


def customer_schema(registry: Registry) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a customer record: one optional property per
    category of ``registry``, and the declarations about a child."""
    properties: dict[str, Any] = {}
    for name, category in registry.items():
        accepted, examples, stored = SCHEMAS[category.validator]
        properties[name] = {
            **accepted,
            "title": category.label,
            "examples": examples,
            "x-stored-as": stored,
        }
    properties |= DECLARATIONS
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Customer record",
        "description": "A customer's personal data, one property per category; only the "
        "categories the active policy collects are accepted.",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "minProperties": 1,
    }


def markdown(registry: Registry) -> str:
    """``docs/records.md``: each category's accepted forms, an example, what is stored."""
    import json

    lines = [
        "# The customer record",
        "",
        "Generated from the category registry by `scripts/records_reference.py` "
        "(`tests/test_docs.py` fails when it is stale); `ntk schema customer --json` prints "
        "the same as a JSON Schema (2020-12), including a deployment's own categories, and "
        "it is the request body of `POST /v1/customers` in `/openapi.json`.",
        "",
        "A record is one JSON object, a property per category; every property is optional, "
        "but the active policy must collect each category given (`ntk policy explain "
        "--collection`). Values are normalised before they are sealed, so what you read "
        "back is the stored form.",
        "",
    ]
    lines += [
        "## Consent in writing to sensitive categories",
        "",
        "While the policy's `written_consent:` applies (the demo policy: bank and card "
        "details and photographs, under the SPDI Rules 2011 r.5(1), until 13 May 2027), a "
        "record carrying one of its categories is refused unless it gives the evidence of "
        "the person's consent in writing as `written_consent` (what was signed or ticked, "
        "when, on which form; 1 to 1000 characters). Its SHA-256 is recorded in the ledger as "
        "the consent's artefact; the text is not kept. A CSV import may carry it as a "
        "`written_consent` column.",
        "",
        "```json",
        '{"name": "Asha Verma", "card_number": "4111 1111 1111 1111", "written_consent": '
        '"signup form v3: SPDI consent box ticked, 2026-11-26 10:02 IST"}',
        "```",
        "",
        "## Declarations about a child",
        "",
        "A child's record (under 18: by `date_of_birth`, or by `is_child: true` when no date "
        "is given) is refused unless it names the parent whose verifiable consent lets it "
        "in (DPDP Act s.9, Rules r.10), as `guardian`: an adult customer with what shows they "
        "consented, or an age verifier's signed token (a verifier the policy lists under "
        "`age_verifiers:`) with the parent's e-mail. Neither is stored as data: the link to "
        "the parent and its evidence are. See `docs/children.md`.",
        "",
        "```json",
        '{"name": "Meera Rao", "date_of_birth": "2014-06-02", "guardian": '
        '{"customer_id": "5b0c2f7e-6a51-4a43-9a55-3b1f8e1c9d20", "evidence": '
        '"confirmed in their signed-in session"}}',
        '{"name": "Meera Rao", "is_child": true, "guardian": {"verifier": "digilocker", '
        '"token": "eyJ0b2tlbl9pZCI6...<body>.<signature>", "email": "parent@example.in"}}',
        "```",
        "",
    ]
    for name, category in registry.items():
        accepted, examples, stored = SCHEMAS[category.validator]
        forms = accepted.get("oneOf", [accepted])
        lines += [f"## `{name}` — {category.label}", ""]
        for form in forms:
            lines.append(f"- {_describe(form)}")
        lines += [
            f"- stored as: {stored}",
            f"- lookup by exact value: {'yes' if category.blind_index else 'no'}",
            "",
            "```json",
            *(json.dumps({name: example}, ensure_ascii=False) for example in examples),
            "```",
            "",
        ]
    return "\n".join(lines)


def _describe(form: dict[str, Any]) -> str:
    if form.get("type") == "object":
        required = form.get("required", [])
        properties = form.get("properties", {})
        optional = [k for k in properties if k not in required]

        def key(name: str) -> str:
            kinds = properties.get(name, {}).get("enum")
            return f"`{name}` ({', '.join(kinds)})" if kinds else f"`{name}`"

        keys = ", ".join(key(k) for k in required)
        more = f" (optional: {', '.join(f'`{k}`' for k in optional)})" if optional else ""
        return f"an object with {keys}{more}"
    if form.get("type") == "array":
        return "a list of either"
    description = form.get("description", "")
    return "text" + (f": {description}" if description else "")
