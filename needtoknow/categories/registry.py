"""The registry of PII categories: names, validators and the transforms each allows.

The seed categories are data (``seed.yaml``), not code, so a deployment can add a
category in its policy file by naming an existing validator.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from needtoknow.categories.validators import VALIDATORS, Normalised, Rules
from needtoknow.errors import CategoryError
from needtoknow.guards.names import unknown
from needtoknow.guards.yamltext import SafeLoader

TRANSFORMS = ("full", "masked", "last4", "year_only", "city_only", "token")


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    validator: str
    transforms: frozenset[str]
    blind_index: bool = False

    def normalise(self, value: Any, rules: Rules, path: str | None = None) -> Normalised:
        return VALIDATORS[self.validator](value, path or self.name, self.name, rules)


def category_from_mapping(name: str, spec: Mapping[str, Any]) -> Category:
    """Build a category from its data form; raises CategoryError naming what is wrong."""
    if not isinstance(spec, Mapping):
        raise CategoryError(f"category {name!r}: a mapping of label, validator, transforms")
    validator = spec.get("validator")
    if not isinstance(validator, str) or validator not in VALIDATORS:
        raise CategoryError(f"category {name!r}: unknown validator {validator!r}")
    listed = spec.get("transforms", ["full", "token"])
    if not isinstance(listed, list) or not all(isinstance(t, str) for t in listed):
        raise CategoryError(f"category {name!r}: transforms is a list of names")
    transforms = frozenset(listed)
    unknown = sorted(transforms - set(TRANSFORMS))
    if unknown:
        raise CategoryError(f"category {name!r}: unknown transforms {unknown}")
    return Category(
        name=name,
        label=str(spec.get("label", name)),
        validator=validator,
        transforms=transforms,
        blind_index=bool(spec.get("blind_index", False)),
    )


class Registry(Mapping[str, Category]):
    """An immutable name → :class:`Category` mapping."""

    def __init__(self, categories: Mapping[str, Category]) -> None:
        self._categories = dict(categories)

    def __getitem__(self, name: str) -> Category:
        try:
            return self._categories[name]
        except KeyError:
            raise CategoryError(unknown("category", name, self._categories)) from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._categories

    def __iter__(self) -> Iterator[str]:
        return iter(self._categories)

    def __len__(self) -> int:
        return len(self._categories)

    def extended(self, extra: Mapping[str, Mapping[str, Any]]) -> Registry:
        """A new registry with ``extra`` categories added; redefining a seed one is an error."""
        clash = sorted(set(extra) & set(self._categories))
        if clash:
            raise CategoryError(f"categories already defined: {clash}")
        added = {name: category_from_mapping(name, spec) for name, spec in extra.items()}
        return Registry({**self._categories, **added})


def seed_registry() -> Registry:
    """The fourteen categories the seed privacy policy names."""
    text = resources.files("needtoknow.categories").joinpath("seed.yaml").read_text("utf-8")
    data = yaml.load(text, Loader=SafeLoader)
    return Registry({name: category_from_mapping(name, spec) for name, spec in data.items()})
