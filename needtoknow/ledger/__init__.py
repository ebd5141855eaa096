"""The disclosure ledger: an RFC 6962 Merkle log of every access, with signed tree heads."""

from needtoknow.ledger.audit import Report
from needtoknow.ledger.entry import Entry
from needtoknow.ledger.heads import TreeHead
from needtoknow.ledger.ledger import InclusionProof, Ledger

__all__ = ["Entry", "InclusionProof", "Ledger", "Report", "TreeHead"]
