"""Keys and encryption: the hazmat AEAD (:mod:`needtoknow.crypto.hazmat`), the envelope
that binds every sealed field to its customer and category, and the key providers
(a local key file, a PKCS#11 HSM) that hold the key-encryption and MAC keys."""
