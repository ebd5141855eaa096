"""How a refusal names what is valid: the nearest valid name first (a typo is the
usual cause), then all of them — for recipients, purposes, categories, columns."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def nearest(name: str, valid: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown(kind: str, name: str, valid: Iterable[str]) -> str:
    """``unknown recipient 'billing_tem': did you mean billing_team? (one of: …)``"""
    names = sorted(valid)
    match = nearest(name, names)
    hint = f": did you mean {match}?" if match else ""
    return f"unknown {kind} {name!r}{hint} (one of: {', '.join(names)})"
