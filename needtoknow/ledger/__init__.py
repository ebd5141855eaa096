"""The disclosure ledger: an RFC 6962 Merkle log of every access, with signed tree heads."""

from needtoknow.ledger.entry import Entry
from needtoknow.ledger.heads import TreeHead
from needtoknow.ledger.ledger import InclusionProof, Ledger
from needtoknow.ledger.report import Report

__all__ = ["Entry", "InclusionProof", "Ledger", "Report", "TreeHead"]
