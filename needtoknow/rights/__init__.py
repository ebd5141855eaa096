"""Customers' rights (DPDP Act ss.11-14): requests with deadlines, identity proven by a
one-time code or by staff, access summaries, nominees, and the customer's own sessions."""
