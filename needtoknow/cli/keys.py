"""``ntk keys``: rotate and retire key-encryption keys, rotate the ledger signing key;
create, list and revoke API keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from needtoknow.cli.common import Json, counting, print_json, show, stdout, with_vault
from needtoknow.errors import ValidationError
from needtoknow.records.apikeys import DEFAULT_SCOPES, SCOPES
from needtoknow.vault import Vault

app = typer.Typer(help="Key-encryption keys and API keys.", no_args_is_help=True)
api = typer.Typer(help="API keys for the HTTP service, one per calling system.")
app.add_typer(api, name="api")


@app.command()
def rotate(as_json: Json = False) -> None:
    """New KEK version; rewrap every customer key under it (data is not re-encrypted)."""

    def run(vault: Vault) -> Any:
        with counting("rewrapping data keys", as_json) as advance:
            return vault.rotate_keys(progress=advance)

    result = with_vault(run, as_json)
    show({"kek_version": result.kek_version, "rewrapped": result.rewrapped}, as_json)


@app.command("rotate-signing")
def rotate_signing(as_json: Json = False) -> None:
    """New ledger signing key; heads signed by the old one stay verifiable (its public key
    is kept and named in the ledger). Give witnesses the new public key this prints."""
    head = with_vault(lambda vault: vault.rotate_signing_key(), as_json)
    show({"public_key": head.public_key.hex(), "signed_tree_head": head.to_json()}, as_json)


@app.command(name="list")
def list_(
    as_json: Json = False,
) -> None:
    """KEK versions (the active one marked) with how many keys each wraps, and the
    ledger's signing keys."""
    found = with_vault(lambda vault: vault.key_inventory(), as_json)
    if as_json:
        print_json(found)
        return
    for kek in found["keks"]:
        mark = " (active)" if kek["active"] else ""
        stdout.print(
            f"KEK {kek['version']}{mark}: {kek['customer_keys']} customer keys, "
            f"{kek['notes']} notes",
            highlight=False,
        )
    for key in found["signing_keys"]:
        stdout.print(f"signing key {key}", highlight=False)


@app.command()
def retire(version: int, as_json: Json = False) -> None:
    """Destroy an old KEK version once nothing depends on it."""
    with_vault(lambda vault: vault.retire_key(version), as_json)
    show({"retired": version}, as_json)


@api.command("create")
def api_create(
    recipient: Annotated[str, typer.Argument(help="The policy recipient the key acts as.")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            help=f"Repeat for each scope (default: {' '.join(DEFAULT_SCOPES)}). "
            f"Known: {', '.join(SCOPES)}.",
        ),
    ] = None,
    expires: Annotated[
        str | None, typer.Option(help="Expiry, ISO 8601 with a timezone (2027-01-01T00:00Z).")
    ] = None,
    label: Annotated[str, typer.Option(help="What the key is for.")] = "",
    as_json: Json = False,
) -> None:
    """Create an API key and print its token — shown this once, stored only hashed."""

    def create(vault: Vault) -> dict[str, object]:
        issued = vault.api_keys.create(
            recipient, tuple(scope or DEFAULT_SCOPES), _expiry(expires), label
        )
        return {**issued.key.to_json(), "token": issued.token}

    show(with_vault(create, as_json), as_json)


@api.command("list")
def api_list(as_json: Json = False) -> None:
    """Every API key (revoked and expired ones too); never a token."""
    show(
        with_vault(lambda vault: [k.to_json() for k in vault.api_keys.listing()], as_json), as_json
    )


@api.command("revoke")
def api_revoke(key_id: str, as_json: Json = False) -> None:
    """Revoke a key: every process refuses it from its next request."""
    show(with_vault(lambda vault: vault.api_keys.revoke(key_id).to_json(), as_json), as_json)


def _expiry(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("expires", "api_key", "iso_datetime") from None
    if moment.tzinfo is None:
        raise ValidationError("expires", "api_key", "timezone", "add Z or an offset")
    return moment.astimezone(UTC)
