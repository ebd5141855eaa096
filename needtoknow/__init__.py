"""needtoknow: customer PII on a need-to-know basis, as a written privacy policy promises.

The front door is :class:`Vault`, opened with :func:`init_vault` / :func:`open_vault`.
Every read names a recipient and a purpose and returns only what the policy allows.
"""

from needtoknow.config import Settings, init_vault, open_vault
from needtoknow.errors import (
    AuthenticationError,
    BudgetExceeded,
    CategoryError,
    IntegrityError,
    KeyProviderError,
    LedgerTampered,
    NeedToKnowError,
    NotCollected,
    NotFound,
    NoticePending,
    PolicyDenied,
    PolicyError,
    ScopeDenied,
    Unavailable,
    ValidationError,
)
from needtoknow.policy import Engine, Policy, load_policy, load_policy_text
from needtoknow.types import Context, Decision, Disclosure, Grant
from needtoknow.vault import Vault

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
    "LedgerTampered",
    "NeedToKnowError",
    "NotCollected",
    "NotFound",
    "NoticePending",
    "Policy",
    "PolicyDenied",
    "PolicyError",
    "ScopeDenied",
    "Settings",
    "Unavailable",
    "ValidationError",
    "Vault",
    "init_vault",
    "load_policy",
    "load_policy_text",
    "open_vault",
]
