"""Bulk import of customer records from JSON Lines or CSV: streamed, validated row by
row, written in batches (one transaction and one ledger commit each), refused rows
reported by number, field and rule — never by value."""
