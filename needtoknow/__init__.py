"""needtoknow: customer PII on a need-to-know basis, as a written privacy policy promises.

The front door is :class:`Vault`, opened with :func:`init_vault` / :func:`open_vault`.
Every read names a recipient and a purpose and returns only what the policy allows.

Names are imported on first use (PEP 562), so that ``import needtoknow.errors`` — or a
command that needs only part of the package — does not pay for all of it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from needtoknow.errors import (
    AuthenticationError,
    BudgetExceeded,
    CategoryError,
    IntegrityError,
    KeyProviderError,
    LedgerIndexForged,
    LedgerTampered,
    MissingExtra,
    NeedToKnowError,
    NotCollected,
    NotFound,
    NoticePending,
    PolicyDenied,
    PolicyError,
    ReleaseAltered,
    ScopeDenied,
    TooManyAttempts,
    Unavailable,
    ValidationError,
    VerificationFailed,
)

if TYPE_CHECKING:
    from needtoknow.config import Settings, init_vault, open_vault
    from needtoknow.policy import Engine, Policy, load_policy, load_policy_text
    from needtoknow.types import Context, Decision, Disclosure, Grant
    from needtoknow.vault import Vault

_LAZY = {
    "Settings": "needtoknow.config",
    "init_vault": "needtoknow.config",
    "open_vault": "needtoknow.config",
    "Engine": "needtoknow.policy",
    "Policy": "needtoknow.policy",
    "load_policy": "needtoknow.policy",
    "load_policy_text": "needtoknow.policy",
    "Context": "needtoknow.types",
    "Decision": "needtoknow.types",
    "Disclosure": "needtoknow.types",
    "Grant": "needtoknow.types",
    "Vault": "needtoknow.vault",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'needtoknow' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "AuthenticationError",
    "BudgetExceeded",
    "CategoryError",
    "Context",
    "Decision",
    "Disclosure",
    "Engine",
    "Grant",
    "IntegrityError",
    "KeyProviderError",
    "LedgerIndexForged",
    "LedgerTampered",
    "MissingExtra",
    "NeedToKnowError",
    "NotCollected",
    "NotFound",
    "NoticePending",
    "Policy",
    "PolicyDenied",
    "PolicyError",
    "ReleaseAltered",
    "ScopeDenied",
    "Settings",
    "TooManyAttempts",
    "Unavailable",
    "ValidationError",
    "Vault",
    "VerificationFailed",
    "init_vault",
    "load_policy",
    "load_policy_text",
    "open_vault",
]
