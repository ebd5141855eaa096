"""Customer JSON as callers send it (``ntk customer add|correct``, the HTTP write routes),
parsed strictly before any of it is validated.

Python's ``json`` keeps the last of two equal keys, so ``{"email": a, "email": b}``
would store ``b`` while a reviewer of the file sees ``a``: a duplicate key is refused,
naming the key (a key is a category or part name, not a value). Text that is not UTF-8,
or nested deeper than any record can be, is refused too, as a ValidationError rather
than a traceback. Messages never carry a value.
"""

from __future__ import annotations

import json
from typing import Any

from needtoknow.errors import ValidationError

MAX_DEPTH = 32  # a record nests three deep; anything past this is not a record


def parse_json(data: bytes, field: str = "record") -> Any:
    """The JSON value in ``data``; a ValidationError naming ``field`` (or the duplicated
    key) and the rule — ``utf8``, ``duplicate_key``, ``depth``, ``json_syntax`` — else."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(field, "customer", "utf8", "JSON text must be UTF-8") from None
    try:
        value = json.loads(text, object_pairs_hook=_unique)
    except RecursionError:
        raise _too_deep(field) from None
    except ValueError:
        raise ValidationError(field, "customer", "json_syntax") from None
    # Nesting is never deeper than the number of brackets opened: most records open a
    # dozen, so the walk is needed only for text that could be too deep.
    if text.count("{") + text.count("[") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise _too_deep(field)
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValidationError(
                key[:64], "customer", "duplicate_key", "a key may appear once in an object"
            )
        found[key] = value
    return found


def _too_deep(field: str) -> ValidationError:
    return ValidationError(field, "customer", "depth", f"nested at most {MAX_DEPTH} deep")


def _depth(value: Any) -> int:
    """How deep objects and arrays nest in ``value`` (iteratively: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def is_evidence(value: Any) -> bool:
    """Whether ``value`` can stand as the evidence of a consent (what was signed or
    ticked, when, where): 1 to 1000 characters of text that is Unicode through and
    through — JSON can carry a lone surrogate, which can be neither hashed nor shown."""
    if not isinstance(value, str) or not 0 < len(value.strip()) <= 1000:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
