"""The vault's stateful registries, each ledgering its own changes: agreements with
contractors, API keys, consents, legal disclosures, policy versions and the notice outbox.
Each is given what it uses of the vault (a :class:`Scope`), never the vault itself."""
