"""``ntk keys``: rotate and retire key-encryption keys."""

from __future__ import annotations

import typer

from needtoknow.cli.common import print_json, with_vault

app = typer.Typer(help="Key-encryption keys.", no_args_is_help=True)


@app.command()
def rotate() -> None:
    """New KEK version; rewrap every customer key under it (data is not re-encrypted)."""
    result = with_vault(lambda vault: vault.rotate_keys(), as_json=True)
    print_json({"kek_version": result.kek_version, "rewrapped": result.rewrapped})


@app.command()
def retire(version: int) -> None:
    """Destroy an old KEK version once nothing depends on it."""
    with_vault(lambda vault: vault.retire_key(version), as_json=True)
    print_json({"retired": version})
