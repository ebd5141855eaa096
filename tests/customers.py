"""Known, valid test customers. Values are synthetic; tests plant them as canaries."""

from __future__ import annotations

from typing import Any

from needtoknow.vault import Vault

# Who may look a customer up by each indexed category in the NextraOne policy.
LOOKUP = {
    "email": ("support_team", "service_delivery"),
    "telephone": ("support_team", "service_delivery"),
    "identity_number": ("partner_bank", "verification"),
}


def lookup(vault: Vault, category: str, value: Any) -> list[str]:
    """``Vault.find`` as a recipient the demo policy allows to search ``category``."""
    recipient, purpose = LOOKUP[category]
    return vault.find(category, value, recipient=recipient, purpose=purpose)


# What a signup records of the consent in writing the SPDI Rules ask for bank and card
# details (the demo policy's written_consent): a declaration, not a category.
WRITTEN = "signup form v3: SPDI consent box ticked, 2026-11-26 10:02 IST"

# Every category the demo policy collects (and the written consent its card needs).
ASHA: dict[str, Any] = {
    "name": "Asha Canarywala",
    "date_of_birth": "1987-04-12",
    "address": {"line1": "17 Canary Lane", "city": "Pune", "state": "Maharashtra", "pin": "411001"},
    "telephone": "+91 98765 43210",
    "email": "asha.canary@example.in",
    "bank_account": {"account_number": "123456789012", "ifsc": "HDFC0001234"},
    "card_number": {"number": "4111 1111 1111 1111", "token": "gw_tok_asha"},
    "identity_number": [
        {"type": "aadhaar", "number": "2345 6789 0124"},
        {"type": "pan", "number": "ABCPE1234F"},
    ],
    "driving_licence": "MH14 20110062821",
    "digital_identity": [
        {"type": "username", "value": "ashacanary"},
        {"type": "ip", "value": "198.51.100.23"},
    ],
    "written_consent": WRITTEN,
}
# ASHA's categories alone: what the vault stores of her
ASHA_CATEGORIES = sorted(k for k in ASHA if k != "written_consent")

# Categories the demo policy collects for no purpose: a write carrying one is refused.
NOT_COLLECTED: dict[str, Any] = {
    "birthplace": "Pune, Maharashtra",
    "genetic_information": "rs4680 AG; BRCA1 negative",
    "vehicle_registration": "MH 12 AB 1234",
}

RAVI: dict[str, Any] = {
    "name": "Ravi Sentinelkar",
    "email": "ravi.sentinel@example.in",
    "telephone": "9123456780",
    "address": {
        "line1": "9 Sentinel Road",
        "city": "Chennai",
        "state": "Tamil Nadu",
        "pin": "600001",
    },
    "card_number": "5555 5555 5555 4444",
    "written_consent": WRITTEN,
}
