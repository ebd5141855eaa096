"""The encrypted PII vault: envelope encryption, key providers, blind indexes, erasure."""

from needtoknow.vault.keys import KeyProvider, LocalKeyFile
from needtoknow.vault.vault import RotationResult, Vault, WriteResult

__all__ = ["KeyProvider", "LocalKeyFile", "RotationResult", "Vault", "WriteResult"]
