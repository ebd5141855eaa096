"""``ntk ledger``: signed tree heads, verification, export, and who saw a customer's data."""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer

from needtoknow.cli.common import (
    Json,
    counting,
    print_json,
    reported,
    stderr,
    stopping_on_sigterm,
    with_vault,
)
from needtoknow.config import Settings, open_vault
from needtoknow.errors import ValidationError
from needtoknow.guards.private import private_file
from needtoknow.ledger import Report, TreeHead, audit
from needtoknow.ledger.heads import parse_heads
from needtoknow.vault import Vault

app = typer.Typer(help="The tamper-evident disclosure ledger.", no_args_is_help=True)


@app.command()
def sth(
    as_json: Json = False,
    every: Annotated[
        float | None,
        typer.Option(
            help="Keep running: sign a new head every SECONDS while the ledger grows "
            "(one line per head; stop with Ctrl-C or SIGTERM).",
            min=0.05,
        ),
    ] = None,
) -> None:
    """Sign and print a tree head covering every entry so far (reused if nothing changed)."""
    if every is None:
        head = with_vault(lambda vault: vault.ledger.sign_head(), as_json)
        if as_json:
            print_json(head.to_json())
            return
        typer.echo(
            f"tree_size {head.tree_size}\nroot_hash {head.root_hash.hex()}\n"
            f"timestamp {head.timestamp_ms}\nsignature {head.signature.hex()}\n"
            f"public_key {head.public_key.hex()}"
        )
        return
    with reported(as_json), stopping_on_sigterm():
        vault: Vault | None = None
        signed = -1
        try:
            vault = open_vault(Settings.from_env())
            while True:
                try:
                    head = vault.ledger.sign_head()
                except sa.exc.OperationalError as exc:  # busy, or the server restarting
                    stderr.print(f"warning: no head this time: {exc.orig!r}", highlight=False)
                else:
                    if head.tree_size != signed:
                        signed = head.tree_size
                        summary = f"tree_size {head.tree_size} root_hash {head.root_hash.hex()}"
                        print(json.dumps(head.to_json()) if as_json else summary, flush=True)
                time.sleep(every)
        except KeyboardInterrupt:
            pass
        finally:
            if vault is not None:
                vault.close()


Witness = Annotated[
    list[Path] | None,
    typer.Option(
        "--witness",
        help="A signed tree head saved outside the vault (what 'ntk ledger sth --json' "
        "prints; JSON Lines of several also do). Repeat for several files.",
        exists=True,
        dir_okay=False,
    ),
]


def _witnesses(files: list[Path] | None) -> list[TreeHead]:
    return [head for path in files or [] for head in parse_heads(path.read_text("utf-8"))]


def _show(report: Report, as_json: bool) -> None:
    """Print a verification report; exit 8 when anything does not match."""
    if as_json:
        print_json(report.to_json())
    else:
        for warning in report.warnings:
            stderr.print(f"warning: {warning}", highlight=False)
        if report.ok:
            read = report.entries - report.since
            since = f" (appended after the head of size {report.since})" if report.since else ""
            typer.echo(
                f"ok: {read} entries{since}, {report.heads_checked} signed tree heads, "
                f"{report.nodes_checked} stored nodes, {report.witnesses_checked} witness "
                "heads checked"
            )
        for problem in report.problems:
            stderr.print(f"error: {problem}", highlight=False)
    if not report.ok:
        raise typer.Exit(8)


@app.command()
def verify(
    witness: Witness = None,
    since_head: Annotated[
        bool,
        typer.Option(
            "--since-head",
            help="Check only what was appended after the newest signed head the last "
            "verification that held reached: its cost is the new entries', not the log's.",
        ),
    ] = False,
    as_json: Json = False,
) -> None:
    """Recompute the tree from storage and check it against every signed tree head.

    With --witness, also check that the ledger still extends each head saved outside the
    vault (RFC 6962 consistency), whatever the vault's own tables hold. Warns when
    entries exist past the newest signed head. Exits 8 when anything does not match,
    naming the first bad entry.
    """
    with reported(as_json):
        witnesses = _witnesses(witness)

    def run(vault: Vault) -> Report:
        with counting("verifying entries", as_json) as advance:
            return vault.audits.run(witnesses, advance, since_last=since_head)

    _show(with_vault(run, as_json), as_json)


@app.command("verify-export")
def verify_export(
    file: Annotated[Path, typer.Argument(help="What 'ntk ledger export' wrote.", exists=True)],
    witness: Witness = None,
    public_key: Annotated[
        list[str] | None,
        typer.Option(
            "--public-key",
            help="The ledger's Ed25519 public key (hex) from your own records; repeat for "
            "keys it rotated through.",
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Check an export offline, with no vault: leaf hashes, the root under its signed
    head, and consistency with each --witness head. Exits 8 when anything does not match.
    """
    with reported(as_json):
        witnesses = _witnesses(witness)
        try:
            keys = [bytes.fromhex(k) for k in public_key or []]
        except ValueError:
            raise ValidationError("public_key", "ed25519", "hex_32_bytes") from None
        with file.open(encoding="utf-8") as lines:
            report = audit.verify_export(lines, keys, witnesses)
    _show(report, as_json)


@app.command()
def export(
    start: Annotated[int, typer.Option("--from", help="First entry index.")] = 0,
    stop: Annotated[int | None, typer.Option("--to", help="Stop before this index.")] = None,
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """JSON Lines: one line per entry (index, entry base64, leaf_hash), then the signed head."""

    def write(vault: Vault) -> int:
        with counting("exporting entries") as advance:  # stderr, at a terminal only
            if output is None:
                return vault.ledger.export(sys.stdout, start, stop, advance)
            with private_file(output) as raw:  # customer ids and actors: owner only
                out = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
                written = vault.ledger.export(out, start, stop, advance)
                out.detach()  # leave closing the file to private_file
                return written

    written = with_vault(write)
    if output is not None:
        stderr.print(f"{written} entries written to {output}", highlight=False)


@app.command()
def tiles(
    directory: Annotated[Path, typer.Argument(help="Where to write (created if need be).")],
    origin: Annotated[
        str,
        typer.Option(
            help="The log's name in the checkpoint: where it will be published, without "
            "the scheme (say ledger.example.com/needtoknow)."
        ),
    ] = "needtoknow/ledger",
    entries: Annotated[
        bool,
        typer.Option(
            "--entries",
            help="Also write the entries (owner-only: they hold customer ids; never publish them).",
        ),
    ] = False,
    as_json: Json = False,
) -> None:
    """Write the ledger as static C2SP tlog-tiles with a signed checkpoint, for witnesses.

    Any static web host can serve the directory; Go's sumdb tlog and note packages (and
    other tlog-tiles clients) verify inclusion and consistency with the printed key.
    Run it again to add what is new: full tiles are written once."""

    def write(vault: Vault) -> Any:
        with counting("writing tiles", as_json) as advance:
            return vault.ledger.tiles(directory, origin, entries, advance)

    published = with_vault(write, as_json)
    if as_json:
        print_json(published.to_json())
        return
    typer.echo(
        f"checkpoint {directory / 'checkpoint'} at tree size {published.tree_size}; "
        f"{published.tiles_written} tiles and {published.bundles_written} entry bundles "
        f"written\nverifier key {published.verifier_key}"
    )


@app.command()
def customer(
    customer_id: str,
    as_json: Json = False,
    include_held: Annotated[
        bool, typer.Option(help="Internal audit: include disclosures under a gag order.")
    ] = False,
) -> None:
    """Every access to one customer's data — when, who, which categories, why — with proofs.

    Disclosures the customer may not yet be told of (non-disclosure order) are left out
    unless --include-held.
    """

    body = with_vault(lambda vault: vault.history_document(customer_id, include_held), as_json)
    if as_json:
        print_json(body)
        return
    for item in body["entries"]:
        entry = item["entry"]
        who = f"{entry.get('recipient', entry['actor'])}"
        why = entry.get("purpose", "")
        what = ", ".join(entry.get("categories", [])) or "-"
        typer.echo(
            f"{entry['time']}  #{item['index']:<6} {entry['kind']:<8} "
            f"{entry.get('decision', ''):<5} {who:<24} {why:<22} {what}"
        )
    typer.echo(
        f"(proofs under tree head of size {body['signed_tree_head']['tree_size']}; "
        "--json prints them)"
    )
