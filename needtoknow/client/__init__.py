"""A Python client for the HTTP service, sync (:class:`VaultClient`) and async
(:class:`AsyncVaultClient`), raising the library's own errors; and the customer's own
(:class:`CustomerClient`, :class:`AsyncCustomerClient`), signed in with a one-time code.

Each call is described once, in :mod:`.calls` (method, path, parameters, body and how
to read the answer); the two clients differ only in how they send it. A problem
response becomes the library error its ``type`` names — ``PolicyDenied`` with the
recipient, purpose and reasons, ``NotFound``, ``ValidationError``… — and anything the
library has no error for (429, 413, 5xx) a :class:`ServiceError` carrying status and type.
Answers are the library's own types: a read is a :class:`needtoknow.types.Disclosure`, a
write a ``WriteResult``, an erasure an ``Erasure`` — as ``Vault`` returns them.
"""

from needtoknow.guards.extras import require

require("client")

# ruff: noqa: E402 - imported after the check of their extra
from needtoknow.client.asynchronous import AsyncCustomerClient, AsyncVaultClient
from needtoknow.client.problems import TYPE_BASE, ServiceError, raise_for
from needtoknow.client.sync import CustomerClient, VaultClient

__all__ = [
    "TYPE_BASE",
    "AsyncCustomerClient",
    "AsyncVaultClient",
    "CustomerClient",
    "ServiceError",
    "VaultClient",
    "raise_for",
]
