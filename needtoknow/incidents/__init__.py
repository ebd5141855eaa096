"""Security incidents and personal data breaches: the clocks the law starts when one is
noticed, and who it touched, computed from the ledger's evidence rather than guessed."""

from needtoknow.incidents.kinds import KINDS, REPORTS
from needtoknow.incidents.register import Incident, Incidents, Scoped

__all__ = ["KINDS", "REPORTS", "Incident", "Incidents", "Scoped"]
