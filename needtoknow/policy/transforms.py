"""Transforms: how much of a decrypted value leaves the vault.

Applied in :mod:`needtoknow.vault.access` after decryption and before anything is
returned, so a rule's ``last4`` is all a recipient ever sees. Which transforms a
category admits is declared in the category registry and checked when a policy
loads; reaching an undefined combination here is a bug.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from needtoknow.categories import Category

Tokenizer = Callable[[bytes], str]

# Structure, not identity: kept as-is by ``masked``.
_KEEP_WHEN_MASKED = frozenset({"type", "network", "content_type", "country", "city", "state"})


def _mask_text(text: str) -> str:
    """Hide all but the last four letters or digits; keep separators so the shape shows."""
    visible = 4 if len(re.sub(r"\W", "", text)) > 6 else 0
    out, kept = [], 0
    for char in reversed(text):
        if char.isalnum():
            out.append(char if kept < visible else "*")
            kept += 1
        else:
            out.append(char)
    return "".join(reversed(out))


def _mask_email(address: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def _mask_words(text: str) -> str:
    """Initials only: the end of a surname identifies a family as well as the whole."""
    return " ".join(f"{word[0]}." for word in text.split())


def _masked(value: Any, category: Category) -> Any:
    if category.validator == "email":
        return _mask_email(value)
    if category.validator == "text":
        return _mask_words(value)
    if category.validator == "card_number":
        return {"number": f"**** **** **** {value['last4']}", "network": value["network"]}
    if isinstance(value, str):
        return _mask_text(value)
    if isinstance(value, list):
        return [_masked(item, category) for item in value]
    return {
        k: v if k in _KEEP_WHEN_MASKED else _masked(v, category)
        for k, v in value.items()
        if k != "token"
    }


def _last4(value: Any, category: Category) -> Any:
    if category.validator == "card_number":
        return value["last4"]
    if category.validator == "bank_account":
        return value["account_number"][-4:]
    if isinstance(value, list):
        return [{"type": item["type"], "last4": item["number"][-4:]} for item in value]
    return re.sub(r"\W", "", value)[-4:]


def apply(transform: str, value: Any, category: Category, tokenizer: Tokenizer) -> Any:
    """The part of ``value`` that ``transform`` lets out."""
    if transform == "full":
        return value
    if transform == "masked":
        return _masked(value, category)
    if transform == "last4":
        return _last4(value, category)
    if transform == "year_only":
        return str(value)[:4]
    if transform == "city_only":
        return value["city"]
    if transform == "token":
        canonical = json.dumps([category.name, value], sort_keys=True, separators=(",", ":"))
        return tokenizer(canonical.encode())
    raise AssertionError(f"transform {transform!r} reached apply() unchecked")
