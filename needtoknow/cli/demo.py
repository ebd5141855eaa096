"""``ntk demo``: the NextraOne walkthrough — who may read what, and who may not."""

from __future__ import annotations

import base64
import json
import os
import sys
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.progress import track
from rich.prompt import Prompt

from needtoknow.cli.common import reported, stdout
from needtoknow.cli.serve import serve as serve_command
from needtoknow.config import Settings, init_vault, open_vault
from needtoknow.demo.customers import customers
from needtoknow.demo.messages import DEMO_MARK
from needtoknow.errors import NeedToKnowError, NotCollected
from needtoknow.records.apikeys import DEFAULT_SCOPES, SCOPES
from needtoknow.types import Context
from needtoknow.vault import Vault

# (recipient, purpose, legal reference, case id): each line of the walkthrough.
SCENARIOS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("billing_team", "billing", None, None),
    ("support_team", "service_delivery", None, None),
    ("collection_agency", "bill_collection", None, None),
    ("collection_field_agent", "bill_collection", None, None),
    ("legacy_sms_gateway", "service_notification", None, None),
    ("credit_bureau", "statistical_analysis", None, None),
    ("law_enforcement", "investigation", None, None),
    ("law_enforcement", "investigation", "IT Act s.69 notice 2026/114", "CASE-7731"),
    ("ad_network", "advertising", None, None),
    ("billing_team", "sale", None, None),
)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _attempt(
    vault: Vault,
    customer_id: str,
    recipient: str,
    purpose: str,
    reference: str | None,
    case_id: str | None,
) -> tuple[str, str]:
    context = Context(now=vault.clock(), legal_reference=reference, case_id=case_id)
    try:
        disclosure = vault.get(customer_id, recipient=recipient, purpose=purpose, context=context)
    except NeedToKnowError as exc:
        return "[red]denied[/red]", str(exc).split(": ", 1)[-1]
    shown = "\n         ".join(
        f"{c} ({disclosure.decision.allowed[c].transform}): {_short(v)}"
        for c, v in disclosure.values.items()
    )
    return "[green]allowed[/green]", shown


def _ensure_vault(count: int) -> Vault:
    settings = Settings.from_env()
    try:
        vault = open_vault(settings)
    except NeedToKnowError:
        vault = init_vault(settings)
        (settings.home / DEMO_MARK).write_text("made by ntk demo; holds synthetic data only\n")
        stdout.print(f"Created a vault in {settings.home} with the NextraOne policy.")
    if not vault.customer_ids(limit=1):
        for record in track(customers(count), total=count, description="Adding customers"):
            vault.add(record)
        # Hand the first two accounts to the collection agency and its field agent.
        first = vault.customer_ids(limit=2)
        vault.agreements.assign("AGR-COLL-2026", first)
        vault.agreements.assign("AGR-FIELD-2026", first[:1])
        # Every other customer consents to each consent-based purpose at sign-up (the
        # rest show the consent refusal).
        consents = vault.consents
        wanted = [p for p in vault.policy.purposes if consents.needed(p)]
        for cid in vault.customer_ids(limit=count)[::2]:
            for purpose in wanted:
                consents.grant(cid, purpose, "web", f"demo sign-up form for {cid}")
    return vault


def demo(
    count: Annotated[
        int, typer.Option("--customers", min=2, help="Synthetic customers to add.")
    ] = 200,
    interactive: Annotated[
        bool | None,
        typer.Option(help="Ask for recipient and purpose (default: when stdin is a terminal)."),
    ] = None,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Instead of the walkthrough: issue one demo API key per recipient, print "
            "them, and serve the HTTP API (what `make run` does).",
        ),
    ] = False,
    port: Annotated[int, typer.Option(help="Port for --serve.")] = 8000,
) -> None:
    """Create the demo vault if needed, then show allowed and denied reads (or serve)."""
    if serve:
        with reported():
            vault = _ensure_vault(count)
            if not (Settings.from_env().home / DEMO_MARK).exists():
                vault.close()
                raise NeedToKnowError(
                    "NTK_HOME holds a vault `ntk demo` did not make: demo keys are only "
                    "issued for demo vaults (use `ntk serve` and `ntk keys api create`)"
                )
            _print_demo_keys(vault, port)
            _print_console(vault, port)
            vault.ledger.sign_head()  # the server signs more as it runs, and at shutdown
            vault.close()
        os.environ["NTK_DEMO_CODES"] = "1"  # portal codes to this terminal (demo vault only)
        serve_command(port=port)
        return
    with reported():
        vault = _ensure_vault(count)
        vault.ledger.sign_head()  # a head before the walkthrough and one after it
        customer_id, other = vault.customer_ids(limit=2)
        stdout.print(
            f"Reads of customer {customer_id} under policy "
            f"{vault.policy.name} {vault.policy.version[:12]}:\n"
        )
        for recipient, purpose, reference, case_id in SCENARIOS:
            decision, detail = _attempt(vault, customer_id, recipient, purpose, reference, case_id)
            context = (
                f" with {', '.join(x for x in (reference, case_id) if x)}"
                if (reference or case_id)
                else ""
            )
            stdout.print(f"{decision}  {recipient} for {purpose}{context}", highlight=False)
            stdout.print(f"         {detail}\n", highlight=False)
        decision, detail = _attempt(
            vault, other, "collection_field_agent", "bill_collection", None, None
        )
        stdout.print(
            f"{decision}  collection_field_agent for bill_collection, another customer "
            "(its agreement is customer-scoped and this account was not assigned to it)",
            highlight=False,
        )
        stdout.print(f"         {detail}\n", highlight=False)
        try:  # need-to-know collection: no purpose of the demo policy needs genetic data
            vault.correct(customer_id, {"genetic_information": "rs4680 AG"})
        except NotCollected as exc:
            stdout.print("[red]refused[/red] storing genetic_information", highlight=False)
            stdout.print(f"         {exc}\n", highlight=False)
    if interactive is None:
        interactive = sys.stdin.isatty()
    while interactive:
        recipient = Prompt.ask(
            "recipient (blank to quit)", choices=[*vault.policy.recipients, ""], default=""
        )
        if not recipient:
            break
        purpose = Prompt.ask("purpose", choices=list(vault.policy.purposes))
        reference = Prompt.ask("legal reference (optional)", default="") or None
        case_id = Prompt.ask("case id (optional)", default="") or None
        decision, detail = _attempt(vault, customer_id, recipient, purpose, reference, case_id)
        stdout.print(f"{decision}: {detail}")
    head = vault.ledger.sign_head()
    stdout.print(f"ledger: {head.tree_size} entries under a signed tree head", highlight=False)
    vault.close()


def _print_demo_keys(vault: Vault, port: int) -> None:
    """Revoke the last run's demo keys; issue and print one per recipient. Every key may
    read customers and ask the policy (which still decides per purpose); the legal
    team's may also manage agreements, handle disclosures and audit the ledger."""
    keys = vault.api_keys
    for old in keys.listing():
        if old.label == "demo" and old.revoked_at is None:
            keys.revoke(old.id)
    expires = vault.clock() + timedelta(days=1)
    lines = []
    for recipient, found in vault.policy.recipients.items():
        if found.kind == "data_principal":  # customers sign in with codes, never keys
            continue
        scopes = tuple(SCOPES) if recipient == "legal_team" else DEFAULT_SCOPES
        issued = keys.create(recipient, scopes, expires, label="demo")
        kind = "all scopes" if len(scopes) == len(SCOPES) else "read"
        lines.append(f"  {recipient:<24} {issued.token}  {kind}")
    url = f"http://127.0.0.1:{port}"
    customer_id = vault.customer_ids(limit=1)[0]
    # Plain print: tokens and URLs must come out whole, whatever the terminal's width.
    print(f"\nneedtoknow serves the {vault.policy.name} policy at {url}")
    print(f"OpenAPI docs: {url}/docs   schema: {url}/openapi.json\n")
    print("Demo API keys, one per recipient, valid for a day (send as the X-API-Key header):")
    print("\n".join(lines))
    print(
        "\nTry:\n  curl -H 'X-API-Key: <the billing_team key>' "
        f"'{url}/v1/customers/{customer_id}?purpose=billing'\n",
        flush=True,
    )


DEMO_STAFF = (("demo-officer", "officer"), ("demo-approver", "approver"))
STAFF_FILE = "demo-staff.json"  # in NTK_HOME (0600): the demo accounts' sign-in secrets


def _print_console(vault: Vault, port: int) -> None:
    """Demo staff accounts (made once; their passwords and TOTP secrets kept beside the
    demo vault so every run can print them) and a customer to sign in to the portal as."""
    import secrets

    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    from needtoknow.staff import StaffAccounts

    path = Settings.from_env().home / STAFF_FILE
    if path.exists():
        accounts = json.loads(path.read_text("utf-8"))
    else:
        accounts = {}
        for name, role in DEMO_STAFF:
            password = secrets.token_urlsafe(12)
            enrolled = StaffAccounts(vault.scope).add(name, role, password)
            accounts[name] = {"role": role, "password": password, "totp": enrolled.totp_secret}
        path.touch(mode=0o600)
        path.write_text(json.dumps(accounts, indent=2), "utf-8")
    customer_id = vault.customer_ids(limit=1)[0]
    read = vault.get(customer_id, recipient="support_team", purpose="service_delivery")
    url = f"http://localhost:{port}"
    print(f"The privacy console: {url}/console  (sign in with a name, password and code)")
    for name, account in accounts.items():
        totp = TOTP(base64.b32decode(account["totp"]), 6, SHA1(), 30)
        now = totp.generate(int(vault.clock().timestamp())).decode()
        print(
            f"  {name:<14} {account['role']:<9} password {account['password']}  "
            f"TOTP secret {account['totp']}  (code now: {now}, it changes every 30 s)"
        )
    print(
        f"The customer portal: {url}/me  sign in as {read.values.get('email', customer_id)}; "
        "the one-time code is printed here, in this terminal.\n",
        flush=True,
    )
