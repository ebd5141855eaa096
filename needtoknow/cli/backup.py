"""``ntk backup`` and ``ntk restore``: the database copied out and back, both ledgered."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from needtoknow.cli.common import Json, print_json, reported, stdout
from needtoknow.config import Settings, open_vault
from needtoknow.errors import ValidationError


def backup(
    dest: Annotated[Path, typer.Argument(help="The backup file to write (a new path).")],
    as_json: Json = False,
) -> None:
    """Copy the vault's database to a file, and ledger it. The keys are not in it.

    SQLite: the online backup API, while the service runs. PostgreSQL: pg_dump (custom
    format). Back up the key file (or the HSM) separately: see docs/backups.md."""
    from needtoknow.backups import back_up

    with reported(as_json):
        vault = open_vault(Settings.from_env())
        try:
            taken = back_up(vault, dest)
        finally:
            vault.close()
    if as_json:
        print_json(taken.to_json())
        return
    stdout.print(
        f"backup {taken.path}\nsha256 {taken.sha256}\nledger entries {taken.tree_size} "
        f"(the backup's own entry: {taken.ledger_index})",
        highlight=False,
    )


def restore(
    src: Annotated[Path, typer.Argument(help="A backup written by ntk backup.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask: replace the database now.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Replace the vault's database with a backup; erasures since it stay erased.

    The ledger entries appended after the backup are carried over from the database
    being replaced, and every erasure and consent withdrawal among them is carried out
    again; records that only retired KEK versions open are erased. Keys that are not
    the backup's vault's stop it before anything is erased. Stop ntk serve first. A
    restore cut short (or stopped) is finished by running it again; until then the
    vault does not open."""
    from needtoknow.backups import restore as restore_backup

    with reported(as_json):
        settings = Settings.from_env()
        if not yes and as_json:  # a script reads the answer: nothing may be asked
            raise ValidationError("yes", "restore", "required", "--yes with --json")
        if not yes:
            typer.confirm(
                f"Replace the database at {settings.database_url_safe()} with {src}? "
                "Records in it that only retired keys open will be erased",
                abort=True,
            )
        restored = restore_backup(settings, src)
    if as_json:
        print_json(restored.to_json())
        return
    stdout.print(
        f"restored {src} ({restored.tree_size} ledger entries)\n"
        f"ledger after the backup: {restored.ledger_after_backup}, {restored.carried} "
        f"entries carried over\nerased again: {restored.erasures} customers; consents "
        f"withdrawn again: {restored.withdrawals}",
        highlight=False,
    )
    if restored.unopenable:
        stdout.print(
            f"[yellow]{restored.unopenable} records were sealed under retired key versions: "
            "no key can read them, so they were erased (their 'erase' entries name "
            "them)[/yellow]"
        )
