"""``ntk policy``: check a policy file, test expected decisions against it, explain a
recipient x purpose (now or at a past moment), propose a new version, activate it once
its notice has run, list versions."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from needtoknow.cli.common import (
    Json,
    parse_moment,
    print_json,
    reported,
    show,
    stdout,
    with_vault,
)
from needtoknow.errors import NeedToKnowError, PolicyError, ValidationError
from needtoknow.guards.names import unknown
from needtoknow.moments import utc_text
from needtoknow.policy import load_policy
from needtoknow.records.versions import Version
from needtoknow.types import Context
from needtoknow.vault import Vault

if TYPE_CHECKING:
    from needtoknow.categories import Registry
    from needtoknow.policy.engine import Engine

app = typer.Typer(help="The need-to-know policy.", no_args_is_help=True)

PolicyFile = Annotated[
    Path | None,
    typer.Option("--policy", help="A policy file instead of the vault's active policy."),
]

UNDECLARED = (
    "warning: no purpose says what it `collects:`, so every category may be collected; "
    "declare what each purpose needs to limit collection"
)


@app.command()
def check(file: Path, as_json: Json = False) -> None:
    """Load and check a policy file; every problem is reported at once, each with the
    file and line (exit 6). Warnings go to stderr (in --json: under "warnings")."""
    with reported(as_json):
        policy, _ = load_policy(file)
    warnings = []
    if not policy.collection_declared:
        warnings.append(UNDECLARED.removeprefix("warning: "))
    unstated = [n for n, p in policy.purposes.items() if p.collects and p.retention is None]
    if policy.collection_declared and unstated:
        warnings.append(
            f"purposes collect data but state no retention: {', '.join(unstated)} "
            "(`retention: 8 years`); the notice cannot say how long it is kept"
        )
    if as_json:
        print_json(
            {
                "file": str(file),
                "ok": True,
                "policy": policy.name,
                "policy_version": policy.version,
                "rules": len(policy.rules),
                "recipients": len(policy.recipients),
                "purposes": len(policy.purposes),
                "warnings": warnings,
            }
        )
        return
    typer.echo(
        f"{file}: ok — policy {policy.name!r}, version {policy.version[:12]}, "
        f"{len(policy.rules)} rules, {len(policy.recipients)} recipients, "
        f"{len(policy.purposes)} purposes"
    )
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


@app.command()
def test(
    file: Annotated[Path, typer.Argument(help="A YAML file of expected decisions.")],
    policy: Annotated[
        Path | None, typer.Option(help="The policy file to test (default: the vault's active).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Check expected decisions against a policy, like `opa test`; exits 17 on any
    mismatch. The file's format: needtoknow/policy/testing.py and docs/privacy-officer.md."""
    from needtoknow.policy.testing import run_tests

    with reported(as_json):
        loaded = load_policy(policy)[0] if policy is not None else None
        try:
            text = file.read_text("utf-8")
        except OSError as exc:
            raise NeedToKnowError(f"cannot read {file}: {exc.strerror}") from None
    if loaded is None:
        loaded = with_vault(lambda vault: vault.policy, as_json)
    with reported(as_json):
        report = run_tests(loaded, text, str(file))
    if as_json:
        print_json(report.to_json())
    else:
        for outcome in report.outcomes:
            mark = "ok  " if outcome.passed else "FAIL"
            stdout.print(f"{mark} {outcome.name}", highlight=False)
            if not outcome.passed:
                stdout.print(f"     expected {outcome.expected}", highlight=False, markup=False)
                stdout.print(f"     actual   {outcome.actual}", highlight=False, markup=False)
        summary = report.to_json()
        stdout.print(f"{summary['passed']} passed, {summary['failed']} failed", highlight=False)
    if report.failed:
        raise typer.Exit(17)


@app.command()
def explain(
    recipient: Annotated[str | None, typer.Option(help="Who would receive data.")] = None,
    purpose: Annotated[str | None, typer.Option(help="What for.")] = None,
    collection: Annotated[
        bool,
        typer.Option(
            "--collection", help="Instead: what may be collected, for which purposes, and held."
        ),
    ] = False,
    legal_reference: Annotated[
        str | None, typer.Option(help="Assume this legal reference.")
    ] = None,
    case_id: Annotated[str | None, typer.Option(help="Assume this case id.")] = None,
    at: Annotated[
        str | None,
        typer.Option(
            help="Replay under the version active then (ISO 8601, e.g. 2026-11-01T09:00Z)."
        ),
    ] = None,
    policy_file: PolicyFile = None,
    as_json: Json = False,
) -> None:
    """What the active policy (or the one active --at a moment, or a --policy file, with
    no vault) lets RECIPIENT have for PURPOSE, and which rule says so; with
    --collection, which categories it lets the vault collect, for which purposes, and
    how many customers hold each."""
    if collection:
        if recipient or purpose or policy_file:
            raise typer.BadParameter("--collection takes no --recipient, --purpose or --policy")
        _explain_collection(at, as_json)
        return
    if recipient is None or purpose is None:
        raise typer.BadParameter("name a --recipient and a --purpose (or ask for --collection)")
    if policy_file is not None and at is not None:
        raise typer.BadParameter("--at replays the vault's history: not with --policy")
    asked, why = recipient, purpose

    def explained(vault: Vault | None) -> dict[str, Any]:
        if vault is None:  # a policy file: decided at this moment, by its own agreements
            now = datetime.now(UTC)
            context = Context(now=now, legal_reference=legal_reference, case_id=case_id)
            assert policy_file is not None
            return _engine_of(policy_file)[0].explain(asked, why, context)
        if at is None:
            context = Context(now=vault.clock(), legal_reference=legal_reference, case_id=case_id)
            return vault.explain(asked, why, context)
        moment = parse_moment(at, "at")
        engine = vault.versions.engine_at(moment)
        context = Context(now=moment, legal_reference=legal_reference, case_id=case_id)
        return engine.explain(asked, why, context)

    if policy_file is not None:
        with reported(as_json):
            account: dict[str, Any] = explained(None)
    else:
        account = with_vault(explained, as_json)
    if as_json:
        print_json(account)
        return
    typer.echo(
        f"{recipient} ({account['recipient_kind']}) for {purpose} "
        f"(legal basis: {account['legal_basis']}), policy {account['policy_version']!s:.12}"
    )
    for category, grant in account["allowed"].items():
        typer.echo(f"  allow {category}: {grant['transform']}  [rule {grant['rule']}]")
    for category, reason in account["denied"].items():
        typer.echo(f"  deny  {category}: {reason}")
    if account["obligations"]:
        typer.echo(f"  obligations: {', '.join(account['obligations'])}")
    if account["only_through"]:
        typer.echo(f"  only through: {account['only_through']}")


def _explain_collection(at: str | None, as_json: bool) -> None:
    def explained(vault: Vault) -> dict[str, Any]:
        policy = None if at is None else vault.versions.at(parse_moment(at, "at"))
        return vault.explain_collection(policy)

    account: dict[str, Any] = with_vault(explained, as_json)
    if as_json:
        print_json(account)
        return
    if not account["declared"]:
        typer.echo(UNDECLARED, err=True)
    typer.echo(f"policy {account['policy']} {account['policy_version']!s:.12} collects:")
    for category, why in account["collected"].items():
        purposes = ", ".join(
            f"{p['purpose']} ({p['legal_basis']}, kept {p['retention'] or 'unstated'})"
            for p in why["purposes"]
        )
        consent = ", only while the consent stands" if why["consent_needed"] else ""
        typer.echo(f"  {category}: for {purposes}{consent}  [held by {why['held_by']}]")
    written = account["written_consent"]
    if written:
        typer.echo(
            f"only with the person's consent in writing until {written['until']} "
            f"({written['law']}): {', '.join(written['categories'])}"
        )
    typer.echo("and refuses to store:")
    for category, why in account["not_collected"].items():
        held = f"  [still held by {why['held_by']}: review]" if why["held_by"] else ""
        typer.echo(f"  {category}{held}")


@app.command()
def propose(
    file: Path,
    as_json: Json = False,
) -> None:
    """Post FILE as a new policy version: what it changes against the active one, whether
    that is material (widens anything) and when it may take effect."""

    def posted(vault: Vault) -> Version:
        try:
            text = file.read_text("utf-8")
        except OSError as exc:
            raise PolicyError(
                str(file), None, f"cannot read policy file ({exc.strerror})"
            ) from None
        return vault.versions.propose(text, str(file))

    version = with_vault(posted, as_json)
    body = version.to_json()
    if as_json:
        print_json(body)
        return
    kind = "MATERIAL change" if version.material else "no widening"
    typer.echo(f"posted {version.version[:12]}: {kind}; may take effect {body['effective_at']}")
    for change in version.changes:
        mark = "+" if change["widens"] else "-"
        where = " ".join(
            str(change[k]) for k in ("recipient", "purpose", "category") if k in change
        )
        moved = f" {change.get('before')} → {change.get('after')}" if "before" in change else ""
        typer.echo(f"  {mark} {change['kind']}: {where}{moved}")


@app.command()
def activate(
    version: str,
    as_json: Json = False,
) -> None:
    """Make a posted VERSION the active policy. A material change is refused (exit 12)
    until its notice period is over, with the date it becomes possible."""
    activated = with_vault(lambda vault: vault.versions.activate(version), as_json)
    if as_json:
        print_json(activated.to_json())
        return
    typer.echo(f"active: {activated.version[:12]} since {utc_text(activated.activated_at)}")


@app.command()
def versions(as_json: Json = False) -> None:
    """Every version: posted, when it may or did take effect, when it was retired."""
    history = with_vault(lambda vault: vault.versions.history(), as_json)
    if as_json:
        print_json([v.to_json() for v in history])
        return
    for v in history:
        state = "active" if v.active else ("retired" if v.retired_at else "posted")
        effective = utc_text(v.effective_at) or "-"
        typer.echo(
            f"{v.version[:12]}  {state:8}  material={v.material}  "
            f"posted {utc_text(v.posted_at)}  effective {effective}"
        )


def _engine_of(policy_file: Path) -> tuple[Engine, Registry]:
    """The engine of a policy file (no vault: the file's own agreements), and the
    categories it knows."""
    from needtoknow.policy.engine import Engine

    policy, registry = load_policy(policy_file)
    return Engine(policy), registry


@app.command()
def who(
    category: Annotated[str, typer.Option(help="The category asked about, e.g. telephone.")],
    policy_file: PolicyFile = None,
    as_json: Json = False,
) -> None:
    """Every recipient and purpose that may receive CATEGORY, how (the transform), by
    which rule, and on what condition (an agreement, a legal reference)."""
    _matrix("category", category, policy_file, as_json)


@app.command()
def what(
    recipient: Annotated[str, typer.Option(help="The recipient asked about.")],
    policy_file: PolicyFile = None,
    as_json: Json = False,
) -> None:
    """Everything RECIPIENT may receive: each purpose and category, how, by which rule,
    and on what condition."""
    _matrix("recipient", recipient, policy_file, as_json)


def _matrix(key: str, value: str, policy_file: Path | None, as_json: bool) -> None:
    def rows(engine: Engine, names: Collection[str]) -> dict[str, Any]:
        if value not in names:
            raise ValidationError(key, "policy", "unknown", unknown(key, value, names))
        found = [row for row in engine.matrix() if row[key] == value]
        return {key: value, "policy_version": engine.version, "grants": found}

    def of(engine: Engine, registry: Registry) -> dict[str, Any]:
        return rows(engine, registry if key == "category" else engine.policy.recipients)

    if policy_file is None:
        table = with_vault(lambda vault: of(vault.engine, vault.registry), as_json)
    else:
        with reported(as_json):
            table = of(*_engine_of(policy_file))
    if as_json or table["grants"]:
        drop = {key, "clause", "recipient_kind", "legal_basis"}
        short = [{k: v for k, v in row.items() if k not in drop} for row in table["grants"]]
        show(table if as_json else short, as_json)
    else:
        typer.echo(f"no recipient may receive it under policy {table['policy_version'][:12]}")
