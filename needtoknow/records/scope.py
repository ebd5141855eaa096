"""What a registry uses of the vault, and nothing more.

The registries (agreements, API keys, consents, disclosures, policy versions, the
notice outbox) once took the whole :class:`~needtoknow.vault.Vault` and reached into it
for a database here and a clock there, which tied every one of them to the vault and the
vault to each of them. A :class:`Scope` is the slice they share: where to write, where to
ledger, what time it is, who is acting, and the active policy. The vault builds one and
composes the registries from it; a view acting for another caller (``Vault.acting``)
builds another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from needtoknow.categories import Registry
from needtoknow.crypto.keys import KeyProvider
from needtoknow.ledger import Entry, Ledger
from needtoknow.policy import Engine, Policy
from needtoknow.storage.fastpath import ThreadConnections
from needtoknow.types import Context, Disclosure, view_of

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Scope:
    db: sa.Engine
    connections: ThreadConnections  # per-thread DBAPI connections of the hot paths
    ledger: Ledger
    keys: KeyProvider  # for re-keying a customer when some of its data is shredded
    clock: Clock
    actor: str
    request_id: str | None
    policy: Callable[[], Policy]  # the active version as of the last decision (cheap)
    engine: Callable[[], Engine]  # the active version with the agreements as they are now
    categories: Callable[[], Registry]  # the category registry the active version extends

    def acting(self, actor: str, request_id: str | None) -> Scope:
        """This scope acting for ``actor`` in ``request_id``: made for every request."""
        return view_of(self, actor=actor, request_id=request_id)

    def entry(self, kind: str, **fields: Any) -> Entry:
        """A ledger entry by whoever this scope acts for, made now and under the active
        policy version unless ``fields`` give another time or version."""
        fields.setdefault("policy_version", self.policy().version)
        fields.setdefault("time", self.clock())
        return Entry(kind=kind, actor=self.actor, request_id=self.request_id, **fields)


class Reader(Protocol):
    """The vault's one read path (:mod:`needtoknow.vault.access`), as the registries that
    read through it see it: a disclosure release, the outbox reading an address. They are
    handed the vault as this, so every read they make is decided and ledgered like any
    other, and they never import the vault."""

    def get(
        self,
        customer_id: str,
        *,
        recipient: str,
        purpose: str,
        categories: Iterable[str] | None = None,
        context: Context | None = None,
    ) -> Disclosure: ...

    def get_many(
        self,
        customer_ids: Iterable[str],
        *,
        recipient: str,
        purpose: str,
        categories: Iterable[str] | None = None,
        context: Context | None = None,
    ) -> list[Disclosure]: ...
