"""``ntk policy``: check a policy file, test expected decisions against it, explain a
recipient x purpose (now or at a past moment), propose a new version, activate it once
its notice has run, list versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from needtoknow.cli.common import parse_moment, print_json, reported, stdout, with_vault
from needtoknow.errors import NeedToKnowError, PolicyError
from needtoknow.policy import load_policy
from needtoknow.records.versions import Version
from needtoknow.types import Context
from needtoknow.vault import Vault

app = typer.Typer(help="The need-to-know policy.", no_args_is_help=True)

UNDECLARED = (
    "warning: no purpose says what it `collects:`, so every category may be collected; "
    "declare what each purpose needs to limit collection"
)


@app.command()
def check(file: Path) -> None:
    """Load and check a policy file; errors name the file and line."""
    with reported():
        policy, _ = load_policy(file)
    typer.echo(
        f"{file}: ok — policy {policy.name!r}, version {policy.version[:12]}, "
        f"{len(policy.rules)} rules, {len(policy.recipients)} recipients, "
        f"{len(policy.purposes)} purposes"
    )
    if not policy.collection_declared:
        typer.echo(UNDECLARED, err=True)
    unstated = [n for n, p in policy.purposes.items() if p.collects and p.retention is None]
    if policy.collection_declared and unstated:
        typer.echo(
            f"warning: purposes collect data but state no retention: {', '.join(unstated)} "
            "(`retention: 8 years`); the notice cannot say how long it is kept",
            err=True,
        )


@app.command()
def test(
    file: Annotated[Path, typer.Argument(help="A YAML file of expected decisions.")],
    policy: Annotated[
        Path | None, typer.Option(help="The policy file to test (default: the vault's active).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What the active policy (or the one active --at a moment) lets RECIPIENT have for
    PURPOSE, and which rule says so; with --collection, which categories it lets the
    vault collect, for which purposes, and how many customers hold each."""
    if collection:
        if recipient or purpose:
            raise typer.BadParameter("--collection takes no --recipient or --purpose")
        _explain_collection(at, as_json)
        return
    if recipient is None or purpose is None:
        raise typer.BadParameter("name a --recipient and a --purpose (or ask for --collection)")
    asked, why = recipient, purpose

    def explained(vault: Vault) -> dict[str, Any]:
        if at is None:
            context = Context(now=vault.clock(), legal_reference=legal_reference, case_id=case_id)
            return vault.explain(asked, why, context)
        moment = parse_moment(at, "at")
        engine = vault.versions.engine_at(moment)
        context = Context(now=moment, legal_reference=legal_reference, case_id=case_id)
        return engine.explain(asked, why, context)

    account: dict[str, Any] = with_vault(explained, as_json)
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
    typer.echo("and refuses to store:")
    for category, why in account["not_collected"].items():
        held = f"  [still held by {why['held_by']}: review]" if why["held_by"] else ""
        typer.echo(f"  {category}{held}")


@app.command()
def propose(
    file: Path,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Make a posted VERSION the active policy. A material change is refused (exit 12)
    until its notice period is over, with the date it becomes possible."""
    activated = with_vault(lambda vault: vault.versions.activate(version), as_json)
    if as_json:
        print_json(activated.to_json())
        return
    typer.echo(f"active: {activated.version[:12]} since {activated.activated_at}")


@app.command()
def versions(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Every version: posted, when it may or did take effect, when it was retired."""
    history = with_vault(lambda vault: vault.versions.history(), as_json)
    if as_json:
        print_json([v.to_json() for v in history])
        return
    for v in history:
        state = "active" if v.active else ("retired" if v.retired_at else "posted")
        effective = f"{v.effective_at:%Y-%m-%d %H:%M}" if v.effective_at else "-"
        typer.echo(
            f"{v.version[:12]}  {state:8}  material={v.material}  "
            f"posted {v.posted_at:%Y-%m-%d %H:%M}  effective {effective}"
        )
