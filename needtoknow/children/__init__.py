"""Children's data (DPDP Act s.9): who is a child, and the parent whose verified
consent lets a child's record in and who acts for the child."""

from needtoknow.children.age import adult_on, is_child
from needtoknow.children.guardians import Guardian, Guardians, Verified

__all__ = ["Guardian", "Guardians", "Verified", "adult_on", "is_child"]
