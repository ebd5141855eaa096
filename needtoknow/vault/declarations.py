"""What a record declares beside its categories, never stored as data: whether the
person is a child (``is_child``, when no date of birth says so), the parent whose
verified consent lets a child's record in (``guardian``: vault.minors), and the evidence
of the person's consent in writing to collecting sensitive categories
(``written_consent``: SPDI Rules 2011 r.5(1), until the policy's date)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from needtoknow.errors import ValidationError
from needtoknow.guards.jsontext import is_evidence
from needtoknow.policy import Policy

DECLARATIONS = ("is_child", "guardian", "written_consent")


@dataclass(frozen=True)
class Declared:
    is_child: bool | None = None
    guardian: Any = None
    written_consent: str | None = None  # its evidence: what the person signed or ticked


def split(record: Any) -> tuple[Any, Declared]:
    """``record``'s categories, and what it declares (each checked for its type)."""
    if not isinstance(record, Mapping):
        return record, Declared()
    declared = record.get("is_child")
    if declared is not None and not isinstance(declared, bool):
        raise ValidationError("is_child", "customer", "type", "true or false")
    evidence = record.get("written_consent")
    if evidence is not None and not is_evidence(evidence):
        detail = "its evidence, 1-1000 characters (what was signed, when, which form)"
        raise ValidationError("written_consent", "customer", "text", detail)
    categories = {k: v for k, v in record.items() if k not in DECLARATIONS}
    return categories, Declared(declared, record.get("guardian"), evidence)


def written_consent(
    policy: Policy, categories: Iterable[str], declared: Declared, today: date
) -> dict[str, Any] | None:
    """What the write's ledger entry records of the person's consent in writing — its
    artefact — when ``categories`` include ones the policy collects only with it (None
    when none do); refused without it."""
    rule = policy.written_consent
    needed = rule.needed(set(categories), today) if rule is not None else frozenset()
    if not needed:
        return None
    assert rule is not None
    if declared.written_consent is None:
        detail = (
            f"{rule.law}: {', '.join(sorted(needed))} are collected only with the "
            f"person's consent in writing until {rule.until}; give its evidence"
        )
        raise ValidationError("written_consent", "customer", "required", detail)
    return {
        "law": rule.law,
        "written_for": sorted(needed),
        "evidence_sha256": hashlib.sha256(declared.written_consent.encode()).hexdigest(),
        "notice_version": policy.version,
    }
