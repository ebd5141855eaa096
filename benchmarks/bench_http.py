"""The HTTP service under load, against a bare FastAPI endpoint serving the same JSON.

Both servers run the same way (``uvicorn``, one worker) on 127.0.0.1; the same load
generator drives each in turn: ``wrk`` (C, one thread, so the other core serves) with
``--clients`` connections for ``--seconds``, 95% policy-checked gets of random customers
(each a ledger entry) and 5% corrections (``bench_http.lua``). The bare app answers the
same paths with the same bodies, without vault, policy, ledger or authentication.
Afterwards the vault's ledger must verify and hold exactly one new entry per customer
request the service logged as served.

With ``--rounds N`` both servers run throughout and are loaded in turn, N times, the
order alternating, and the goals are judged on the medians of the rounds' ratios: this
machine's pace drifts by a third within an hour, which one pair of runs cannot tell from
a change of ours.

Run: ``.venv/bin/python benchmarks/bench_http.py [--seconds 30] [--rounds 1] [--clients 50]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
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
    parser.add_argument("--seconds", type=float, default=30, help="each app's load, a round")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds (medians)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--port", type=int, default=8731, help="the bare app's; ours the next")
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
        apps = {
            "bare FastAPI": (
                [*uvicorn, "bare_app:app"],
                {"BARE_BODY": json.dumps(body)},
                args.port,
            ),
            "needtoknow": (
                [NTK, "serve", "--port", str(args.port + 1), "--workers", str(args.workers)],
                ntk_env,
                args.port + 1,
            ),
        }
        before = entries(settings)
        log = Path(work) / "needtoknow.log"
        rounds = Rounds(args.rounds)
        processes = {}
        try:
            # Both serve throughout, each loaded in turn (the order alternating from round
            # to round), so a change in the machine's pace between rounds reaches both.
            for name, (command, env, port) in apps.items():
                out = log if name == "needtoknow" else Path(work) / "bare.log"
                processes[name] = serve(command, {**env, "PYTHONPATH": str(HERE)}, port, out)
                drive(f"http://127.0.0.1:{port}", args.clients, min(2.0, args.seconds), load_env)
            for number in range(args.rounds):
                order = list(apps) if number % 2 == 0 else list(apps)[::-1]
                for name in order:
                    url = f"http://127.0.0.1:{apps[name][2]}"
                    start = cpu_seconds(processes[name].pid)
                    load = drive(url, args.clients, args.seconds, load_env)
                    end = cpu_seconds(processes[name].pid)
                    rounds.add(name, load, (end[0] - start[0], end[1] - start[1]))
        finally:
            for process in processes.values():
                stop(process)
        added = entries(settings) - before
        answered = served(log)
        checked = open_vault(settings)
        ok = checked.ledger.verify().ok
        checked.close()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}; "
        f"{args.clients} clients, {args.rounds} round(s) of {args.seconds:.0f} s each, "
        f"95% gets / 5% corrections, read entries synchronous={args.ledger_sync.upper()}, "
        f"{args.workers} worker(s) each"
    )
    rounds.report()
    print(
        f"ledger: verify {'ok' if ok else 'FAILED'}; {added} new entries for {answered} "
        f"customer requests served ({'equal' if added == answered else 'NOT equal'})"
    )
    if not ok or added != answered or rounds.failed("needtoknow"):
        sys.exit(1)


class Rounds:
    """Each round's load and CPU for both apps; the goals are judged on the medians of
    the rounds' ratios, each ratio taken within a round (the same minute of the machine)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.loads: dict[str, list[Load]] = {}
        self.cpu: dict[str, list[tuple[float, float]]] = {}

    def add(self, name: str, load: Load, cpu: tuple[float, float]) -> None:
        self.loads.setdefault(name, []).append(load)
        self.cpu.setdefault(name, []).append(cpu)

    def failed(self, name: str) -> bool:
        return any(load.non_2xx or load.socket_errors for load in self.loads[name])

    def report(self) -> None:
        bare, ours = self.loads["bare FastAPI"], self.loads["needtoknow"]
        if self.count > 1:
            for number, (b, o) in enumerate(zip(bare, ours, strict=True), 1):
                print(
                    f"round {number}: bare {b.throughput:6.0f} req/s p99 {b.p99_ms:6.2f} ms "
                    f"{self._per_request('bare FastAPI', number - 1):4.0f} µs | ours "
                    f"{o.throughput:6.0f} req/s p99 {o.p99_ms:6.2f} ms "
                    f"{self._per_request('needtoknow', number - 1):4.0f} µs | "
                    f"{o.throughput / b.throughput:.0%}, p99 {o.p99_ms / b.p99_ms:.2f}x"
                )
        for name, loads in self.loads.items():
            requests = sum(load.requests for load in loads)
            print(
                f"{name:>13}: {requests / sum(load.seconds for load in loads):8.0f} req/s, "
                f"p50 {statistics.median(load.p50_ms for load in loads):6.2f} ms, "
                f"p99 {statistics.median(load.p99_ms for load in loads):6.2f} ms, "
                f"mean {statistics.fmean(load.mean_ms for load in loads):6.2f} ms, "
                f"non-2xx {sum(load.non_2xx for load in loads)}, "
                f"socket errors {sum(load.socket_errors for load in loads)}"
            )
        for name, spent in self.cpu.items():
            per = 1e6 / sum(load.requests for load in self.loads[name])
            user, system = sum(u for u, _ in spent), sum(s for _, s in spent)
            print(
                f"{name:>13}: CPU per request {(user + system) * per:6.0f} µs "
                f"(user {user * per:.0f}, system {system * per:.0f})"
            )
        p99 = statistics.median(o.p99_ms / b.p99_ms for b, o in zip(bare, ours, strict=True))
        share = statistics.median(
            o.throughput / b.throughput for b, o in zip(bare, ours, strict=True)
        )
        of = f" (median of {self.count} rounds)" if self.count > 1 else ""
        print(f"p99 ratio {p99:.2f}x{of} (goal ≤ 2x: {'met' if p99 <= 2 else 'NOT met'})")
        print(
            f"throughput {share:.0%} of bare{of} "
            f"(goal ≥ 50%: {'met' if share >= 0.5 else 'NOT met'})"
        )

    def _per_request(self, name: str, index: int) -> float:
        user, system = self.cpu[name][index]
        return (user + system) * 1e6 / self.loads[name][index].requests


if __name__ == "__main__":
    main()
