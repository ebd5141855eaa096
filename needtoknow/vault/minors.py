"""Children in the vault (DPDP Act s.9): a child's record comes in only with a parent's
verified consent, and is never read for tracking, behavioural monitoring or targeted
advertising — whatever the rules say.

A record says who the person is with its date of birth, or — without one — with an
``is_child`` declaration the signup asks for; ``guardian`` names the parent
(:mod:`needtoknow.children.guardians`). Both are declarations beside the categories,
never stored as data: what is stored is the link to the parent and its evidence.
Whether someone is a child *now* is worked out when it matters: a record stored as a
child's whose date of birth has since passed eighteen years is an adult's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from needtoknow.categories import Normalised, Rules
from needtoknow.children import Verified, adult_on, is_child
from needtoknow.children.guardians import GUARDIAN_SHAPES
from needtoknow.crypto import envelope
from needtoknow.errors import ValidationError
from needtoknow.storage.store import Record

if TYPE_CHECKING:
    from needtoknow.vault.vault import Vault

CHILD_REFUSAL = (
    "the customer is a child: no tracking, behavioural monitoring or targeted advertising "
    "(DPDP Act s.9(3))"
)


def parent_for(
    vault: Vault, normal: Mapping[str, Normalised], declared: bool | None, given: Any, rules: Rules
) -> Verified | None:
    """The verified parent a child's record needs (None for an adult's); refused when a
    child's record names none, or an adult's names one."""
    child = is_child(_birth(normal), declared, rules.today)
    if not child:
        if given is not None:
            detail = "only a child's record (under 18) names a guardian"
            raise ValidationError("guardian", "customer", "not_a_child", detail)
        return None
    if given is None:
        raise ValidationError("guardian", "customer", "parental_consent_required", GUARDIAN_SHAPES)
    return vault.guardians.verified(given, rules)


def check_guardian(vault: Vault, parent: Verified) -> None:
    """A customer named as a parent must be one whose age we hold (r.10(1)(a)): a live
    customer whose date of birth is on record and shows eighteen or over."""
    if parent.guardian_id is None:
        return
    found = vault.reader.fetch(parent.guardian_id)
    if found is None:
        raise ValidationError("guardian.customer_id", "customer", "unknown", "an adult customer")
    birth = _birth_in(vault, parent.guardian_id, found)
    if birth is None:
        detail = "a customer whose date of birth is on record (their age must be known)"
        raise ValidationError("guardian.customer_id", "customer", "age_unknown", detail)
    if vault.clock().date() < adult_on(birth):
        raise ValidationError("guardian.customer_id", "customer", "not_an_adult", "18 or over")


def is_minor(vault: Vault, customer_id: str) -> bool:
    """Whether ``customer_id`` is a child today: stored as one, and their date of birth
    (decrypted only for such records) not yet eighteen years ago — or none given."""
    if not vault.guardians.flagged(customer_id):
        return False
    found = vault.reader.fetch(customer_id)
    if found is None:
        return False
    birth = _birth_in(vault, customer_id, found)
    # no date: declared a child, with none to come of age by
    return birth is None or vault.clock().date() < adult_on(birth)


def _birth_in(vault: Vault, customer_id: str, found: Record) -> date | None:
    """The date of birth in a fetched record, decrypted (None when it holds none)."""
    sealed = found.fields.get("date_of_birth")
    if sealed is None:
        return None
    key = found.key
    dek = envelope.unwrap_dek(
        vault.keys, key.kek_version, key.wrapped_dek, customer_id, key.dek_version
    )
    plain = envelope.decrypt_fields(dek, customer_id, key.dek_version, {"date_of_birth": sealed})
    return date.fromisoformat(str(plain["date_of_birth"]))


def check_correction(vault: Vault, customer_id: str, normal: Mapping[str, Normalised]) -> None:
    """A correction that makes an adult's record a child's needs a parent first."""
    birth = _birth(normal)
    if birth is None or not is_child(birth, None, vault.clock().date()):
        return
    if not vault.guardians.flagged(customer_id):
        detail = "a child's record needs a parent's verified consent, given when it is added"
        raise ValidationError("date_of_birth", "customer", "parental_consent_required", detail)


def _birth(normal: Mapping[str, Normalised]) -> date | None:
    found = normal.get("date_of_birth")
    return None if found is None else date.fromisoformat(str(found.value))
