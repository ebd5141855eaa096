"""Crypto-shredding some categories of one customer while the rest stay readable.

Deleting a category's ciphertext from the record is not enough: a backup taken earlier
still holds it, sealed under the customer's data key, and that key lives on — rewrapped
by every KEK rotation — as long as the customer does. So the customer is re-keyed: the
categories that stay are sealed again under a new data key (the next DEK version), the
old wrapped key is overwritten, and the shredded categories' ciphertext and digests are
dropped. A backup's copy is then sealed under a key that exists only in backups, wrapped
by a KEK version that ``ntk keys retire`` destroys: the guarantee erasing a whole
customer gives. Shredding every category a customer has is that erasure (a tombstone).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from needtoknow.crypto import envelope
from needtoknow.crypto.keys import KeyProvider
from needtoknow.storage import store


def shred(
    conn: sa.Connection,
    keys: KeyProvider,
    customer_id: str,
    categories: Iterable[str],
    now: datetime,
) -> list[str]:
    """Destroy ``categories`` of a live customer in ``conn``'s transaction, under its
    row lock; returns those it held (sorted). Unknown or erased customers: nothing."""
    found = store.locked_record(conn, customer_id)
    if found is None:
        return []
    gone = sorted(set(categories) & set(found.fields))
    if not gone:
        return []
    kept = {c: v for c, v in found.fields.items() if c not in gone}
    if not kept:
        store.erase(conn, customer_id, now)
        return gone
    old = found.key
    dek = envelope.unwrap_dek(keys, old.kek_version, old.wrapped_dek, customer_id, old.dek_version)
    plain = envelope.decrypt_fields(dek, customer_id, old.dek_version, kept)
    version, new = old.dek_version + 1, envelope.new_dek()
    kek_version, wrapped = envelope.wrap_dek(keys, new, customer_id, version)
    sealed = {
        c: envelope.encrypt_field(new, customer_id, c, version, value) for c, value in plain.items()
    }
    held = {c: h for c, h in found.held.items() if c not in gone}
    key = store.KeyRow(customer_id, version, kek_version, wrapped)
    store.rekey(conn, key, sealed, held, gone)
    return gone
