"""The encrypted PII vault: envelope encryption, key providers, blind indexes, erasure."""

from needtoknow.crypto.keys import KeyProvider, LocalKeyFile
from needtoknow.storage.scrubs import PendingScrub
from needtoknow.vault.keychanges import RotationResult
from needtoknow.vault.vault import Erasure, Vault, WriteResult

__all__ = [
    "Erasure",
    "KeyProvider",
    "LocalKeyFile",
    "PendingScrub",
    "RotationResult",
    "Vault",
    "WriteResult",
]
