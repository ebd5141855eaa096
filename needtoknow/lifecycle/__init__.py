"""The data lifecycle: accounts that close, retention that erases, holds the law or a
court imposes, and the one erasure path that honours them (see docs/lifecycle.md)."""
