"""Where a demo's one-time codes go: the terminal that runs ``make run``, so a newcomer
can sign in to the portal as a synthetic customer without a mail server. Only the
message's text is printed (the code and the contact), never the address."""

from __future__ import annotations

import sys

DEMO_MARK = "demo-vault"  # in NTK_HOME: this vault was made by `ntk demo`


class PrintedMessages:
    def send(self, channel: str, address: str, subject: str, text: str) -> None:
        print(f"[demo] {subject} (by {channel}): {text}", file=sys.stderr, flush=True)
