"""The HTTP service under load, against a bare FastAPI endpoint serving the same JSON.

Both servers run the same way (``uvicorn``, one worker) on 127.0.0.1; the same load
generator drives each in turn: ``wrk`` (C, one thread, so the other core serves) with
``--clients`` connections for ``--seconds``, 95% policy-checked gets of random customers
(each a ledger entry) and 5% corrections (``bench_http.lua``). The bare app answers the
same paths with the same bodies, without vault, policy, ledger or authentication.
Afterwards the vault's ledger must verify and hold exactly one new entry per customer
request the service logged as served.

Run: ``.venv/bin/python benchmarks/bench_http.py [--seconds 30] [--clients 50]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from needtoknow.config import Settings, init_vault, open_vault
from needtoknow.demo.customers import customers
from needtoknow.storage.schema import ledger_state
from needtoknow.vault import Vault

HERE = Path(__file__).parent
NTK = str(Path(sys.executable).with_name("ntk"))


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    mean_ms: float

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds


def drive(url: str, clients: int, seconds: float, env: dict[str, str]) -> Load:
    """wrk against ``url`` with ``clients`` connections; its Lua script reports JSON."""
    result = subprocess.run(
        [
            "wrk",
            "--threads",
            "1",
            "--connections",
            str(clients),
            "--duration",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "--script",
            str(HERE / "bench_http.lua"),
            url,
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(result.stdout.strip().splitlines()[-1])
    return Load(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        non_2xx=data["non_2xx"],
        socket_errors=data["socket_errors"],
        p50_ms=data["p50_us"] / 1e3,
        p99_ms=data["p99_us"] / 1e3,
        mean_ms=data["mean_us"] / 1e3,
    )


def serve(command: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=log.open("wb")
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{command[0]} did not start")


def family(root: int) -> dict[int, tuple[int, int]]:
    """A process and its descendants (uvicorn's workers): user and system CPU ticks by pid."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), int(fields[11]), int(fields[12]))
    members = {root}
    for _ in range(3):  # children, grandchildren
        members |= {pid for pid, (ppid, _, _) in stats.items() if ppid in members}
    return {pid: stats[pid][1:] for pid in members & set(stats)}


def cpu_seconds(root: int) -> tuple[float, float]:
    """User and system CPU seconds of a process and its descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    ticks = family(root).values()
    return sum(user for user, _ in ticks) / tick, sum(system for _, system in ticks) / tick


def rss_bytes(root: int) -> int:
    """Resident memory of a process and its descendants (the server's whole footprint)."""
    total = 0
    for pid in family(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def entries(settings: Settings) -> int:
    vault = open_vault(settings)
    with vault.db.connect() as conn:
        size = int(conn.execute(sa.select(ledger_state.c.size)).scalar_one())
    vault.close()
    return size


def served(log: Path) -> int:
    """Customer requests the service logged as answered (its JSON access lines)."""
    count = 0
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            count += event.get("event") == "request" and event.get("route", "").startswith(
                "/v1/customers/"
            )
    return count


def prepare(vault: Vault, count: int) -> tuple[list[str], tuple[str, str], dict[str, Any]]:
    """``count`` customers, a reading and a writing key, and the body the bare app answers
    a read with (the same JSON as ours): what both HTTP benchmarks start from."""
    ids = [vault.add(record).customer_id for record in customers(count)]
    keys = vault.api_keys
    tokens = (
        keys.create("billing_team", ("customers:read",)).token,
        keys.create("support_team", ("customers:write",)).token,
    )
    sample = vault.get(ids[0], recipient="billing_team", purpose="billing")
    body = {
        "customer_id": ids[0],
        "values": sample.values,
        "recipient": "billing_team",
        "purpose": "billing",
        "policy_version": sample.decision.policy_version,
        "denied": {},
        "obligations": ["log"],
    }
    return ids, tokens, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--ledger-sync", choices=("full", "normal"), default="full")
    parser.add_argument("--workers", type=int, default=1, help="server processes, both apps")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench_http needs wrk: apt-get install wrk (scripts/test-services.sh does)")
    with tempfile.TemporaryDirectory(prefix="ntk-bench-http-") as work:
        home = Path(work) / "home"
        settings = Settings(
            home=home, database_url=f"sqlite:///{home}/vault.db", ledger_sync=args.ledger_sync
        )
        vault = init_vault(settings)
        ids, tokens, body = prepare(vault, args.customers)
        vault.close()
        ids_file = Path(work) / "ids.txt"
        ids_file.write_text("\n".join(ids) + "\n")
        load_env = {
            "BENCH_IDS": str(ids_file),
            "BENCH_READ_KEY": tokens[0],
            "BENCH_WRITE_KEY": tokens[1],
        }
        url = f"http://127.0.0.1:{args.port}"
        # The bare app gets the settings `ntk serve` uses: keep-alive 5 s, 1000 connections.
        uvicorn = [
            sys.executable,
            "-m",
            "uvicorn",
            "--port",
            str(args.port),
            "--no-access-log",
            "--timeout-keep-alive",
            "5",
            "--limit-concurrency",
            "1000",
            "--workers",
            str(args.workers),
        ]
        ntk_env = {
            "NTK_HOME": str(home),
            "NTK_DATABASE_URL": "",
            "NTK_API_RATE": "1000000/second",
            "NTK_LEDGER_SYNC": args.ledger_sync,
        }
        runs = (
            ("bare FastAPI", [*uvicorn, "bare_app:app"], {"BARE_BODY": json.dumps(body)}),
            (
                "needtoknow",
                [NTK, "serve", "--port", str(args.port), "--workers", str(args.workers)],
                ntk_env,
            ),
        )
        results = {}
        cpu: dict[str, tuple[float, float]] = {}
        for name, command, env in runs:
            log = Path(work) / f"{name.split()[0]}.log"
            before = entries(settings)
            process = serve(command, {**env, "PYTHONPATH": str(HERE)}, args.port, log)
            try:
                drive(url, args.clients, min(2.0, args.seconds), load_env)  # warm up
                before_cpu = cpu_seconds(process.pid)
                results[name] = drive(url, args.clients, args.seconds, load_env)
                after_cpu = cpu_seconds(process.pid)
                cpu[name] = (after_cpu[0] - before_cpu[0], after_cpu[1] - before_cpu[1])
            finally:
                stop(process)
            if name == "needtoknow":
                added = entries(settings) - before
                answered = served(log)
                checked = open_vault(settings)
                ok = checked.ledger.verify().ok
                checked.close()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}; "
        f"{args.clients} clients for {args.seconds:.0f} s, 95% gets / 5% corrections, "
        f"read entries synchronous={args.ledger_sync.upper()}, {args.workers} worker(s) each"
    )
    for name, load in results.items():
        print(
            f"{name:>13}: {load.throughput:8.0f} req/s, p50 {load.p50_ms:6.2f} ms, "
            f"p99 {load.p99_ms:6.2f} ms, mean {load.mean_ms:6.2f} ms, "
            f"non-2xx {load.non_2xx}, socket errors {load.socket_errors}"
        )
    for name, (user, system) in cpu.items():
        per = 1e6 / results[name].requests  # µs of a second spread over the requests
        print(
            f"{name:>13}: CPU per request {(user + system) * per:6.0f} µs "
            f"(user {user * per:.0f}, system {system * per:.0f})"
        )
    bare, ours = results["bare FastAPI"], results["needtoknow"]
    p99 = ours.p99_ms / bare.p99_ms
    share = ours.throughput / bare.throughput
    print(f"p99 ratio {p99:.2f}x (goal ≤ 2x: {'met' if p99 <= 2 else 'NOT met'})")
    print(f"throughput {share:.0%} of bare (goal ≥ 50%: {'met' if share >= 0.5 else 'NOT met'})")
    print(
        f"ledger: verify {'ok' if ok else 'FAILED'}; {added} new entries for {answered} "
        f"customer requests served ({'equal' if added == answered else 'NOT equal'})"
    )
    if not ok or added != answered or ours.non_2xx or ours.socket_errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
