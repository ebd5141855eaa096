"""Policy as code: load a YAML policy, compile it, and decide every access."""

from needtoknow.policy.engine import Engine
from needtoknow.policy.load import load_policy, load_policy_text, load_stored_policy
from needtoknow.policy.model import Policy

__all__ = ["Engine", "Policy", "load_policy", "load_policy_text", "load_stored_policy"]
