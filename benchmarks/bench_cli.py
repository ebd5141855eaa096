"""How long an ``ntk`` command takes to start and finish, against Typer and Rich alone.

Peer: ``python -c "import typer, rich"`` — the least any Typer + Rich program can take.
Measured in the same run, best of N fresh processes each (the minimum is the cost; the
rest is the machine's noise):

1. ``ntk --help``        goal ≤ 2x the peer
2. ``ntk customer get``  goal ≤ 5x the peer (a ledgered, policy-checked read of one
   customer from a small SQLite vault made for the run)

and, to show what of that is ours, against a second peer: the *floor*, a process that
only imports the libraries any Typer + SQLAlchemy + pyca program with this read must
load (Typer's parameter coercion is Pydantic since Typer 0.2x; SQLAlchemy's engine;
AES-GCM; PyYAML; MessagePack; Rich's console).

Run: ``.venv/bin/python benchmarks/bench_cli.py [--runs 15]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NTK = str(Path(sys.executable).with_name("ntk"))
FLOOR = (
    "import typer._adapters, rich.console, sqlalchemy, msgpack, yaml,"
    " cryptography.hazmat.primitives.ciphers.aead"
)
ASHA = {"name": "Asha Rao", "email": "asha@example.in", "telephone": "+919876543210"}


def best(command: list[str], env: dict[str, str], runs: int) -> float:
    """Seconds of the fastest of ``runs`` fresh processes."""
    fastest = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
        fastest = min(fastest, time.perf_counter() - started)
    return fastest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "NTK_HOME": home}
        env.pop("NTK_DATABASE_URL", None)
        subprocess.run([NTK, "init"], env=env, stdout=subprocess.DEVNULL, check=True)
        added = subprocess.run(
            [NTK, "customer", "add", "--json", "-"],
            env=env,
            input=json.dumps(ASHA),
            capture_output=True,
            text=True,
            check=True,
        )
        customer = json.loads(added.stdout)["customer_id"]
        get = ["customer", "get", customer, "--recipient", "billing_team", "--purpose", "billing"]
        peer = best([sys.executable, "-c", "import typer, rich"], env, args.runs)
        helped = best([NTK, "--help"], env, args.runs)
        read = best([NTK, *get, "--json"], env, args.runs)
        floor = best([sys.executable, "-c", FLOOR], env, args.runs)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"CPython {platform.python_version()}; best of {args.runs} runs each"
    )
    peer_name = 'python -c "import typer, rich"'
    print(f"{'command':<36}{'ms':>8}{'x peer':>10}  goal")
    print(f"{peer_name:<36}{peer * 1000:>8.0f}{1:>10.2f}  (peer)")
    for name, seconds, goal in (("ntk --help", helped, 2), ("ntk customer get", read, 5)):
        ratio = seconds / peer
        verdict = "met" if ratio <= goal else "NOT met"
        print(f"{name:<36}{seconds * 1000:>8.0f}{ratio:>10.2f}  ≤ {goal}x: {verdict}")
    print(
        f"{'floor: the libraries a read imports':<36}{floor * 1000:>8.0f}{floor / peer:>10.2f}"
        f"  (ntk customer get = {read / floor:.2f}x the floor)"
    )


if __name__ == "__main__":
    main()
