"""Low-level primitives where the caller chooses nonces and associated data.

Hazardous: misuse (a repeated nonce, a missing binding) silently breaks the
guarantees. Only :mod:`needtoknow.crypto` and the reversible redaction tokens of
:mod:`needtoknow.detect.redact` call this; everything else goes through the vault's
safe front door.
"""
