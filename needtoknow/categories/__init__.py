"""PII categories: the registry, validators and check-digit algorithms."""

from needtoknow.categories.registry import TRANSFORMS, Category, Registry, seed_registry
from needtoknow.categories.validators import Normalised, Rules

__all__ = ["TRANSFORMS", "Category", "Normalised", "Registry", "Rules", "seed_registry"]
