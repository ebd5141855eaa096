"""``ntk schema``: the JSON Schemas of what people write — the customer record and the
policy file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from needtoknow.categories import Registry, seed_registry
from needtoknow.categories.schema import customer_schema, markdown
from needtoknow.cli.common import print_json, reported, stdout
from needtoknow.config import Settings, open_vault

schema = typer.Typer(
    help="JSON Schemas of what you write: the customer record, the policy file.",
    no_args_is_help=True,
)


def _registry(policy: Path | None) -> Registry:
    """The categories of ``policy``, else of the vault's active policy, else the seed's."""
    if policy is not None:
        from needtoknow.policy import load_policy

        return load_policy(policy)[1]
    settings = Settings.from_env()
    if not settings.home.exists():
        return seed_registry()
    vault = open_vault(settings)
    try:
        return vault.registry
    finally:
        vault.close()


@schema.command()
def customer(
    policy: Annotated[
        Path | None,
        typer.Option(help="A policy file whose categories to use (default: the vault's)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON Schema.")] = False,
) -> None:
    """The customer record: each category's accepted forms, an example, what is stored
    (--json: as a JSON Schema, 2020-12)."""
    with reported(as_json):
        registry = _registry(policy)
    if as_json:
        print_json(customer_schema(registry))
        return
    stdout.print(markdown(registry), highlight=False, markup=False)


@schema.command()
def policy(
    with_categories: Annotated[
        Path | None,
        typer.Option("--policy", help="A policy file whose own categories to include."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Errors as JSON too (the schema is JSON either way).")
    ] = False,
) -> None:
    """The policy file as a JSON Schema (2020-12), for an editor's completion and
    checking; `ntk policy check` remains the judge."""
    from needtoknow.policy.schema import policy_schema

    with reported(as_json):
        registry = _registry(with_categories)
    print_json(policy_schema(registry))
