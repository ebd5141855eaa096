"""``ntk doctor``: check a vault's setup and say what to fix."""

from __future__ import annotations

import typer

from needtoknow.cli.common import Json, print_json, stdout
from needtoknow.config import Settings

DOCTOR_FAILED = 13
_MARK = {"ok": "[green]ok[/green]  ", "warn": "[yellow]warn[/yellow]", "fail": "[red]fail[/red]"}


def doctor(as_json: Json = False) -> None:
    """Check the vault under NTK_HOME and say what to fix.

    File modes, the signing key kept apart from the KEKs, erasures whose bytes may still
    be on disk, entries no signed head covers, database TLS, and the clock. Exits 13 when
    any check fails, with what to do."""
    from needtoknow.health import diagnose

    checks = diagnose(Settings.from_env())
    ok = all(c.status != "fail" for c in checks)
    if as_json:
        print_json({"ok": ok, "checks": [c.to_json() for c in checks]})
    else:
        for check in checks:
            stdout.print(f"{_MARK[check.status]} {check.name}: {check.detail}", soft_wrap=True)
            if check.fix and check.status != "ok":
                stdout.print(f"      → {check.fix}", soft_wrap=True, highlight=False)
    if not ok:
        raise typer.Exit(DOCTOR_FAILED)
