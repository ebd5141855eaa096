"""Staff who sign in to the console with their own accounts: the name that signs in is
the actor of everything done there, so four eyes are two people, not two claims."""

from needtoknow.staff.accounts import ROLES, Enrolment, StaffAccounts, StaffMember
from needtoknow.staff.sessions import StaffSessions

__all__ = ["ROLES", "Enrolment", "StaffAccounts", "StaffMember", "StaffSessions"]
