"""The vault on real SQLite and PostgreSQL: writes, policy-checked reads, find, erase, rotate."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from needtoknow.config import Settings, open_vault
from needtoknow.crypto import envelope
from needtoknow.errors import (
    IntegrityError,
    KeyProviderError,
    NeedToKnowError,
    NotFound,
    PolicyDenied,
    ValidationError,
)
from needtoknow.storage import store
from needtoknow.storage.schema import customers, ledger_entries
from needtoknow.storage.store import pack_fields, unpack_fields
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA, RAVI, lookup


def sealed_fields(vault: Vault, customer_id: str) -> dict[str, bytes]:
    with vault.db.connect() as conn:
        blob: bytes = conn.execute(
            sa.select(customers.c.sealed_fields).where(customers.c.id == customer_id)
        ).scalar_one()
    return unpack_fields(bytes(blob))


def store_sealed_fields(vault: Vault, customer_id: str, fields: dict[str, bytes]) -> None:
    with vault.db.begin() as conn:
        conn.execute(
            customers.update()
            .where(customers.c.id == customer_id)
            .values(sealed_fields=pack_fields(fields))
        )


def test_billing_read_returns_only_allowed_fields_transformed(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    got = vault.get(cid, recipient="billing_team", purpose="billing")
    assert got.values == {
        "name": "Asha Canarywala",
        "address": {
            "line1": "17 Canary Lane",
            "city": "Pune",
            "state": "Maharashtra",
            "pin": "411001",
            "country": "IN",
        },
        "email": "asha.canary@example.in",
        "telephone": "+919876543210",
        "card_number": "1111",
        "bank_account": "9012",
    }
    assert "date_of_birth" not in got.values and "genetic_information" not in got.values


def test_requested_categories_outside_the_rule_are_denied_with_reason(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    got = vault.get(
        cid, recipient="billing_team", purpose="billing", categories=["name", "date_of_birth"]
    )
    assert list(got.values) == ["name"]
    assert "date_of_birth" in got.decision.denied


def test_denied_purpose_never_decrypts(vault: Vault) -> None:
    """A denial is decided before the database is read: even a customer whose key is
    destroyed (so any decryption would fail) gets PolicyDenied, not IntegrityError."""
    cid = vault.add(ASHA).customer_id
    with vault.db.begin() as conn:
        conn.execute(customers.update().values(wrapped_dek=b"\x00" * 60))
    with pytest.raises(PolicyDenied):
        vault.get(cid, recipient="billing_team", purpose="sale")
    with pytest.raises(IntegrityError):
        vault.get(cid, recipient="billing_team", purpose="billing")


def test_denial_does_not_reveal_whether_customer_exists(vault: Vault) -> None:
    with pytest.raises(PolicyDenied):
        vault.get("no-such-customer", recipient="ad_network", purpose="advertising")
    with pytest.raises(NotFound):
        vault.get("no-such-customer", recipient="billing_team", purpose="billing")


def test_bad_field_writes_nothing(vault: Vault) -> None:
    bad = {**ASHA, "identity_number": [{"type": "aadhaar", "number": "2345 6789 0125"}]}
    with pytest.raises(ValidationError) as caught:
        vault.add(bad)
    assert caught.value.field == "identity_number[0].number"
    assert caught.value.rule == "verhoeff"
    with vault.db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(customers)).scalar() == 0


def test_full_card_number_is_discarded_and_the_write_says_so(vault: Vault) -> None:
    result = vault.add(RAVI)
    assert any("full card number discarded" in n for n in result.notices)
    # Only an authority is granted cards in full, and only through a disclosure release.
    request = vault.disclosures.request(
        authority="law_enforcement",
        purpose="legal_process",
        legal_basis="BNSS 2023 s.94",
        reference="CrPC 91 order 12/2026",
        customer_ids=[result.customer_id],
        categories=["card_number"],
        case_owner="legal",
    )
    vault.acting("dpo:second-person").disclosures.approve(request.id)
    package = json.loads(vault.disclosures.release(request.id).payload)
    card = package["customers"][0]["fields"]["card_number"]
    assert card == {"last4": "4444", "network": "mastercard"}


def test_find_by_email_telephone_and_identity_without_decrypting(vault: Vault) -> None:
    asha = vault.add(ASHA).customer_id
    ravi = vault.add(RAVI).customer_id
    assert lookup(vault, "email", "ASHA.canary@example.in") == [asha]
    assert lookup(vault, "telephone", "+91-91234-56780") == [ravi]
    assert lookup(vault, "identity_number", {"type": "pan", "number": "abcpe1234f"}) == [asha]
    assert lookup(vault, "identity_number", {"type": "aadhaar", "number": "234567890124"}) == [asha]
    assert lookup(vault, "email", "nobody@example.in") == []


def test_find_is_a_disclosure_and_needs_the_policy(vault: Vault) -> None:
    vault.add(ASHA)
    with pytest.raises(PolicyDenied):
        vault.find("email", ASHA["email"], recipient="ad_network", purpose="advertising")
    with pytest.raises(PolicyDenied):  # credit bureau has telephone, not email
        vault.find("email", ASHA["email"], recipient="credit_bureau", purpose="credit_reporting")


def test_erase_crypto_shreds_and_leaves_a_tombstone(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    vault.erase(cid)
    with pytest.raises(NotFound):
        vault.get(cid, recipient="billing_team", purpose="billing")
    assert lookup(vault, "email", ASHA["email"]) == []
    with vault.db.connect() as conn:
        row = conn.execute(sa.select(customers).where(customers.c.id == cid)).one()
    assert row.wrapped_dek is None and row.sealed_fields is None and row.erased_at is not None
    with pytest.raises(NotFound):
        vault.erase(cid)


def test_erasure_claims_scrubbed_bytes_only_where_the_vault_checks(vault: Vault) -> None:
    """Issue 15: SQLite's scrub is checked; PostgreSQL has none (old row versions stay
    until VACUUM and in its WAL), so there erase never says the bytes are gone and
    nothing is left pending that no retry could finish."""
    cid = vault.add(ASHA).customer_id
    erased = vault.erase(cid)
    assert erased.customer_id == cid
    assert erased.scrubbed is (vault.db.dialect.name == "sqlite")
    assert vault.pending_scrubs() == []
    assert vault.scrub_pending()


def test_erasure_makes_an_earlier_copy_unreadable_once_its_kek_is_retired(vault: Vault) -> None:
    """A backup taken before erasure still holds the wrapped DEK; retiring the KEK
    version that wrapped it is what makes that copy unreadable."""
    erased = vault.add(ASHA).customer_id
    kept = vault.add(RAVI).customer_id
    with vault.db.connect() as conn:
        backup = conn.execute(sa.select(customers).where(customers.c.id == erased)).one()
    assert envelope.unwrap_dek(vault.keys, 1, backup.wrapped_dek, erased, 1)  # readable before
    vault.erase(erased)
    vault.rotate_keys()
    vault.retire_key(1)
    with pytest.raises(KeyProviderError, match="KEK version 1 is not available"):
        envelope.unwrap_dek(vault.keys, 1, backup.wrapped_dek, erased, 1)
    assert vault.get(kept, recipient="billing_team", purpose="billing").values["name"]


def test_rotation_never_revives_a_customer_erased_meanwhile(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    vault.keys.rotate()
    with vault.db.begin() as conn:
        stale = store.stale_keys(conn, 2, "", 10)
    vault.erase(cid)  # lands between the rotation's read and its write
    rewrapped = [store.KeyRow(r.customer_id, r.dek_version, 2, b"x" * 60) for r in stale]
    with vault.db.begin() as conn:
        assert store.rewrap(conn, stale, rewrapped) == 0
    with vault.db.connect() as conn:
        row = conn.execute(sa.select(customers).where(customers.c.id == cid)).one()
    assert row.wrapped_dek is None and row.erased_at is not None
    assert vault.customer_ids() == []


def test_rotation_rewraps_every_key_without_reencrypting(vault: Vault) -> None:
    ids = [vault.add(ASHA).customer_id, vault.add(RAVI).customer_id]
    before = [sealed_fields(vault, cid) for cid in ids]
    result = vault.rotate_keys(batch=1)
    assert result.kek_version == 2 and result.rewrapped == 2
    with vault.db.connect() as conn:
        versions: Sequence[int] = conn.execute(sa.select(customers.c.kek_version)).scalars().all()
    assert [sealed_fields(vault, cid) for cid in ids] == before
    assert versions == [2, 2]
    vault.retire_key(1)
    for cid in ids:
        assert vault.get(cid, recipient="billing_team", purpose="billing").values["name"]


def test_retiring_a_kek_still_in_use_is_refused(vault: Vault) -> None:
    vault.add(ASHA)
    vault.keys.rotate()
    with pytest.raises(Exception, match="still wraps 1 keys"):
        vault.retire_key(1)


@pytest.mark.parametrize(("version", "refusal"), [(99, "unknown_version"), (1, "active")])
def test_retiring_an_unknown_or_active_kek_ledgers_nothing(
    vault: Vault, version: int, refusal: str
) -> None:
    """Issue 15: ``ntk keys retire 99`` left a dangling "begin" entry; the version is
    checked first, and the error names those that exist."""
    before = ledger_size(vault)
    with pytest.raises(NeedToKnowError) as refused:
        vault.retire_key(version)
    if refusal == "unknown_version":
        assert isinstance(refused.value, ValidationError)
        assert refused.value.rule == "unknown_version"
        assert "existing versions: 1" in str(refused.value)
    else:
        assert isinstance(refused.value, KeyProviderError) and "is active" in str(refused.value)
    assert ledger_size(vault) == before
    assert vault.keys.versions() == (1,)


def ledger_size(vault: Vault) -> int:
    with vault.db.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(ledger_entries)).scalar_one()
        )


def test_tampered_ciphertext_raises_integrity_error(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    fields = sealed_fields(vault, cid)
    fields["name"] = fields["name"][:-1] + bytes([fields["name"][-1] ^ 1])
    store_sealed_fields(vault, cid, fields)
    with pytest.raises(IntegrityError):
        vault.get(cid, recipient="billing_team", purpose="billing")


def test_truncated_record_raises_integrity_error(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    with vault.db.begin() as conn:
        blob: bytes = conn.execute(sa.select(customers.c.sealed_fields)).scalar_one()
        conn.execute(customers.update().values(sealed_fields=bytes(blob)[:-7]))
    with pytest.raises(IntegrityError):
        vault.get(cid, recipient="billing_team", purpose="billing")


def test_ciphertext_moved_to_another_customer_or_field_fails(vault: Vault) -> None:
    asha = vault.add(ASHA).customer_id
    ravi = vault.add(RAVI).customer_id
    stolen = sealed_fields(vault, asha)["email"]
    store_sealed_fields(vault, ravi, {**sealed_fields(vault, ravi), "email": stolen})
    store_sealed_fields(vault, asha, {**sealed_fields(vault, asha), "name": stolen})
    with pytest.raises(IntegrityError):
        vault.get(ravi, recipient="billing_team", purpose="billing", categories=["email"])
    with pytest.raises(IntegrityError):
        vault.get(asha, recipient="billing_team", purpose="billing", categories=["name"])


def test_concurrent_corrections_do_not_lose_updates(sqlite_vault: Vault) -> None:
    vault = sqlite_vault
    cid = vault.add(ASHA).customer_id

    def correct(field_and_values: tuple[str, list[str]]) -> None:
        field, values = field_and_values
        for value in values:
            vault.correct(cid, {field: value})

    emails = [f"asha{i}@example.in" for i in range(15)]
    phones = [f"+91 98765 432{i:02d}" for i in range(15)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(correct, [("email", emails), ("telephone", phones)]))
    got = vault.get(cid, recipient="support_team", purpose="service_delivery").values
    assert got["email"] == emails[-1] and got["telephone"] == "+919876543214"
    assert lookup(vault, "email", emails[-1]) == [cid]
    assert lookup(vault, "telephone", phones[-1]) == [cid]


def test_a_vault_opened_before_another_process_rotates_keeps_working(
    vault: Vault, settings: Settings, clock: Clock
) -> None:
    cid = vault.add(ASHA).customer_id
    other = open_vault(settings, clock=clock)  # stands for a second process
    other.rotate_keys()
    other.retire_key(1)
    assert vault.get(cid, recipient="billing_team", purpose="billing").values["name"]
    later = vault.add(RAVI).customer_id  # wrapped with the new active version
    assert other.get(later, recipient="billing_team", purpose="billing").values["name"]
    other.close()


def test_correct_replaces_fields_and_reindexes(vault: Vault) -> None:
    cid = vault.add(ASHA).customer_id
    vault.correct(cid, {"email": "asha.new@example.in"})
    assert lookup(vault, "email", "asha.new@example.in") == [cid]
    assert lookup(vault, "email", ASHA["email"]) == []
    got = vault.get(cid, recipient="billing_team", purpose="billing", categories=["email", "name"])
    assert got.values == {"email": "asha.new@example.in", "name": "Asha Canarywala"}


def test_expired_agreement_stops_a_contractor_when_the_clock_moves(
    vault: Vault, clock: Clock
) -> None:
    cid = vault.add(ASHA).customer_id
    vault.agreements.assign("AGR-COLL-2026", [cid])
    assert vault.get(cid, recipient="collection_agency", purpose="bill_collection").values
    clock.now += timedelta(days=500)  # past AGR-COLL-2026's 2027-12-31 expiry
    with pytest.raises(PolicyDenied, match="no agreement in force"):
        vault.get(cid, recipient="collection_agency", purpose="bill_collection")


def test_token_transform_is_stable_per_recipient_and_reveals_nothing(vault: Vault) -> None:
    a = vault.add(ASHA).customer_id
    b = vault.add(ASHA).customer_id
    for customer in (a, b):  # statistical analysis is consent-based
        vault.consents.grant(customer, "statistical_analysis", "web", "form 1")
    ta = vault.get(a, recipient="credit_bureau", purpose="statistical_analysis").values
    tb = vault.get(b, recipient="credit_bureau", purpose="statistical_analysis").values
    assert ta["name"] == tb["name"] and ta["name"].startswith("tok_")
    assert "asha" not in ta["name"].lower() and "canary" not in ta["name"].lower()
    other = vault.tokenize("partner_bank", b'["name","Asha Canarywala"]')
    assert other != ta["name"]  # another recipient cannot join on the token
    assert ta["date_of_birth"] == "1987" and ta["address"] == "Pune"


@pytest.mark.parametrize(
    "change",
    [
        lambda vault: vault.rotate_signing_key(),
        lambda vault: vault.rotate_keys(),
    ],
    ids=["signing key", "KEK"],
)
def test_key_changes_wait_for_one_another_across_processes(
    vault: Vault, change: Callable[[Vault], object]
) -> None:
    """Two operators rotating at once would each make a key of the same generation (an
    HSM's labels are not unique). A change to the keys waits for another one in any
    process sharing the database: here the lock is held through a second engine, as
    another process would hold it."""
    import threading

    from needtoknow.storage import connect
    from needtoknow.storage.database import key_change

    other = connect(vault.db.url.render_as_string(hide_password=False))
    vault.ledger.sign_head()
    done = threading.Event()

    def run() -> None:
        change(vault)
        done.set()

    with key_change(other):
        worker = threading.Thread(target=run)
        worker.start()
        assert not done.wait(0.5), "the change did not wait for the one under way"
    worker.join(timeout=30)
    assert done.is_set()
    other.dispose()
    assert vault.ledger.verify().ok
