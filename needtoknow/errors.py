"""Every error needtoknow raises, in one hierarchy.

::

    NeedToKnowError
    ├── ValidationError     malformed input; names field, category and rule, never the value
    │   └── NotCollected    a category no purpose of the active policy collects
    ├── CategoryError       a category the registry does not know
    ├── PolicyError         a policy file that cannot be loaded; names file and line
    ├── PolicyDenied        recipient, purpose and the reason; nothing was decrypted
    ├── BudgetExceeded      an aggregate report would overspend a privacy budget
    ├── NoticePending       a material policy change before its notice period ends
    ├── NotFound            no such customer (or only a tombstone is left), or record
    ├── KeyProviderError    keys missing, unsafe or unreachable
    ├── IntegrityError      ciphertext or key failed authentication; deliberately opaque
    │   ├── LedgerTampered  the ledger no longer matches its newest signed head
    │   └── ReleaseAltered  a stored report's rows differ from its ledgered release
    ├── AuthenticationError no valid API key: missing, malformed, unknown, expired, revoked
    ├── VerificationFailed  a one-time code wrong, expired or locked out; a request unverified
    ├── TooManyAttempts     too many attempts from one customer or address; retry later
    ├── ScopeDenied         the API key does not carry the scope the call needs
    ├── Unavailable         the database or ledger could not take the write now; retry
    └── MissingExtra        an optional part whose libraries are not installed

Catch :class:`NeedToKnowError` at a boundary (CLI, HTTP) and the leaves where you
can act on them. Messages carry identifiers, field and category names only: a
customer's value never reaches ``str(exc)``, a log line or an HTTP body.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from needtoknow.moments import utc_text


class NeedToKnowError(Exception):
    """Base of everything needtoknow raises on purpose."""

    def details(self) -> dict[str, Any]:
        """What a caller can act on, as JSON (ids, names, reasons — never a value): the
        CLI's ``--json`` errors and the HTTP problem bodies both carry it."""
        return {}


class ValidationError(NeedToKnowError):
    """Input that breaks a category's rule.

    ``field`` is where the value sat (``identity_number[0].number``), ``category``
    the PII category, ``rule`` the rule broken (``verhoeff``, ``future_date``).
    """

    def __init__(self, field: str, category: str, rule: str, detail: str = "") -> None:
        self.field = field
        self.category = category
        self.rule = rule
        self.detail = detail
        message = f"{field}: invalid {category} ({rule})"
        super().__init__(f"{message}: {detail}" if detail else message)

    def __reduce__(self) -> tuple[Any, ...]:  # pickled: a bulk import's worker refused a row
        return type(self), (self.field, self.category, self.rule, self.detail)

    def details(self) -> dict[str, Any]:
        return {"field": self.field, "category": self.category, "rule": self.rule}


class NotCollected(ValidationError):
    """A write carrying categories that no purpose of the active policy needs collected
    (the seed: "limit the collection ... only on a need-to-know basis"). Nothing of the
    write was stored, and no value was looked at."""

    def __init__(
        self, categories: list[str], policy: str, consent: list[str] | None = None
    ) -> None:
        self.categories = categories
        self.policy = policy
        self.consent = consent or []
        super().__init__(categories[0], categories[0], "not_collected")
        named = ", ".join(categories)
        why = (
            f"policy {policy!r} collects {named} only with the customer's consent to "
            f"{' or '.join(self.consent)}, which does not stand"
            if self.consent
            else f"no purpose of policy {policy!r} needs {named}"
        )
        Exception.__init__(self, f"not collected: {why} (see ntk policy explain --collection)")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.categories, self.policy, self.consent)

    def details(self) -> dict[str, Any]:
        extra = {"consent_needed": self.consent} if self.consent else {}
        return {**super().details(), "categories": self.categories, "policy": self.policy, **extra}


class CategoryError(NeedToKnowError):
    """A category name the registry does not know."""


class PolicyError(NeedToKnowError):
    """A policy that cannot be loaded: unknown names, contradictions, forbidden grants.
    The loader reports every problem it finds at once: the first here, the rest in
    ``more``, each with its line (one per line of the message)."""

    def __init__(
        self, source: str, line: int | None, problem: str, more: Sequence[PolicyError] = ()
    ) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        self.more = tuple(more)
        where = f"{source}:{line}" if line is not None else source
        super().__init__("\n".join([f"{where}: {problem}", *(str(e) for e in self.more)]))

    def details(self) -> dict[str, Any]:
        return {
            "errors": [
                {"source": e.source, "line": e.line, "problem": e.problem}
                for e in (self, *self.more)
            ]
        }


class PolicyDenied(NeedToKnowError):
    """Every requested category was denied; the reasons say why for each."""

    def __init__(self, recipient: str, purpose: str, reasons: dict[str, str]) -> None:
        self.recipient = recipient
        self.purpose = purpose
        self.reasons = reasons
        distinct = set(reasons.values())
        if len(distinct) == 1:
            categories = "" if list(reasons) == ["*"] else f" ({', '.join(sorted(reasons))})"
            detail = distinct.pop() + categories
        else:
            detail = "; ".join(f"{category}: {why}" for category, why in sorted(reasons.items()))
        super().__init__(f"denied to {recipient!r} for {purpose!r}: {detail}")

    def details(self) -> dict[str, Any]:
        return {"recipient": self.recipient, "purpose": self.purpose, "reasons": self.reasons}


class BudgetExceeded(NeedToKnowError):
    """A report whose (ε, δ) would take a recipient's privacy budget for a month of data
    past what the policy allows; nothing was computed or charged. Carries what is left."""

    def __init__(
        self,
        recipient: str,
        period: str,
        requested: tuple[float, float],
        remaining: tuple[float, float],
    ) -> None:
        self.recipient = recipient
        self.period = period
        self.requested = requested
        self.remaining = remaining
        super().__init__(
            f"privacy budget of {recipient!r} for {period} would be exceeded: the report "
            f"needs ε={requested[0]:.6g}, δ={requested[1]:.3g}; remaining "
            f"ε={remaining[0]:.6g}, δ={remaining[1]:.3g}"
        )

    def details(self) -> dict[str, Any]:
        return {
            "recipient": self.recipient,
            "period": self.period,
            "requested": {"epsilon": self.requested[0], "delta": self.requested[1]},
            "remaining": {"epsilon": self.remaining[0], "delta": self.remaining[1]},
        }


class NoticePending(NeedToKnowError):
    """A policy version that widens what anyone may have cannot be activated before the
    notice of it has been posted for the notice period: ``effective_at`` is the first
    moment it can be."""

    def __init__(self, version: str, effective_at: datetime, reason: str = "") -> None:
        self.version = version
        self.effective_at = effective_at
        super().__init__(
            f"policy {version[:12]} is a material change and cannot take effect before "
            f"{utc_text(effective_at)}" + (f" ({reason})" if reason else "")
        )

    def details(self) -> dict[str, Any]:
        return {"version": self.version, "effective_at": utc_text(self.effective_at)}


class NotFound(NeedToKnowError):
    """No live customer with that id."""


class KeyProviderError(NeedToKnowError):
    """Key material is missing, unsafe (e.g. a world-readable key file) or unreachable."""


class IntegrityError(NeedToKnowError):
    """Ciphertext, wrapped key or key version failed authentication.

    Opaque on purpose: which check failed would help an attacker more than an operator.
    """

    def __init__(self) -> None:
        super().__init__("integrity check failed: ciphertext or key is wrong or was tampered with")


class LedgerTampered(IntegrityError):
    """The ledger no longer matches its newest signed head (heads deleted, or stored
    hashes rewritten): signing a new head over it would cover the change up, so the
    vault refuses until someone has looked (``ntk ledger verify --witness``)."""

    def __init__(self) -> None:
        NeedToKnowError.__init__(
            self,
            "the ledger no longer matches its newest signed head (heads deleted or hashes "
            "rewritten); no new head is signed over it: run 'ntk ledger verify --witness' "
            "with heads saved outside the vault",
        )


class LedgerIndexForged(IntegrityError):
    """An SQLite ledger holds entries whose index is not an integer, which only a change
    by hand makes (SQLite kept any value in the old BIGINT column). Migration 0031 makes
    the index the table's rowid, where only integers fit: it will not carry such rows
    over, nor drop them, so the vault stays as it is until someone has looked."""

    def __init__(self, indexes: list[str]) -> None:
        self.indexes = indexes
        NeedToKnowError.__init__(
            self,
            f"ledger entries stored at index {', '.join(indexes)}: not integers, which only "
            "tampering makes; this version will not upgrade the vault over them. Run "
            "'ntk ledger verify' with the release before it to see what was changed, and "
            "restore a backup taken before the change",
        )

    def details(self) -> dict[str, Any]:
        return {"indexes": self.indexes}


class ReleaseAltered(IntegrityError):
    """A stored report's rows no longer match the SHA-256 its release's ledger entry
    holds: it is not shown again as it was not released so."""

    def __init__(self, ledger_index: int) -> None:
        self.ledger_index = ledger_index
        NeedToKnowError.__init__(
            self, f"report released at ledger index {ledger_index} was altered since"
        )

    def details(self) -> dict[str, Any]:
        return {"ledger_index": self.ledger_index}


class AuthenticationError(NeedToKnowError):
    """No valid credential. ``reason`` is one of ``missing``, ``malformed``, ``unknown``,
    ``expired``, ``revoked``; the message never echoes the credential."""

    def __init__(self, reason: str, credential: str = "API key") -> None:
        self.reason = reason
        super().__init__(f"authentication failed: {reason} {credential}")

    def details(self) -> dict[str, Any]:
        return {"reason": self.reason}


class VerificationFailed(NeedToKnowError):
    """Identity not proven. ``reason``: ``wrong_code``, ``expired`` (or no code was sent),
    ``locked`` (too many wrong codes), ``unverified`` (a request acted on before its
    customer was verified). Never says whether an address is on file."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"verification failed: {reason}")

    def details(self) -> dict[str, Any]:
        return {"reason": self.reason}


class TooManyAttempts(NeedToKnowError):
    """Too many attempts; ``retry_after`` seconds until the next is accepted."""

    def __init__(self, retry_after: int, what: str = "too many attempts") -> None:
        self.retry_after = retry_after
        super().__init__(f"{what}; try again in {retry_after} s")

    def details(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class ScopeDenied(NeedToKnowError):
    """A valid API key without the scope this call needs (the policy still decides,
    per purpose, what a key with the scope may read)."""

    def __init__(self, key_id: str, scope: str, staff_only: bool = False) -> None:
        self.key_id = key_id
        self.scope = scope
        super().__init__(
            f"API key {key_id} may not use scope {scope!r}: it is for the company's own "
            "teams (internal_team recipients) only"
            if staff_only
            else f"API key {key_id} does not have scope {scope!r}"
        )

    def details(self) -> dict[str, Any]:
        return {"scope": self.scope}


class Unavailable(NeedToKnowError):
    """The write could not be made now (the database stayed locked, or the ledger commit
    this request shared failed); nothing was disclosed. Safe to retry."""


class MissingExtra(NeedToKnowError):
    """An optional part of needtoknow (the HTTP service, the scanner, aggregate reports…)
    whose libraries are not installed; says which extra to install."""

    def __init__(self, extra: str, modules: list[str]) -> None:
        self.extra = extra
        self.modules = modules
        super().__init__(
            f"this needs the [{extra}] extra (missing: {', '.join(modules)}): "
            f"pip install 'needtoknow[{extra}]'"
        )

    def details(self) -> dict[str, Any]:
        return {"extra": self.extra, "missing": self.modules}
