"""Whether a configured host is this machine's loopback: the one place plain text may go.

Decided on the host *as configured*, never by resolving it: a name's answer can change
between the check and the connection (or be spoofed), so only ``localhost`` — which RFC
6761 reserves for loopback — and loopback address literals count. Any other name, and
the wildcards ``0.0.0.0`` and ``::`` (every interface, not loopback), needs TLS.
"""

from __future__ import annotations

import ipaddress

LOOPBACK_EXAMPLES = "127.0.0.1, ::1, localhost"


def is_loopback(host: str) -> bool:
    name = host.strip().removeprefix("[").removesuffix("]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback
