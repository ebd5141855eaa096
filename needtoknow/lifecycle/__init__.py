"""The data lifecycle: accounts that close, retention that erases, holds the law or a
court imposes, and the one erasure path that honours them (docs/architecture.md, "The
data lifecycle"; docs/privacy-officer.md, "Closing accounts, retention and holds")."""
