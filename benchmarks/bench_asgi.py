"""Our app and the bare FastAPI peer called in-process as ASGI: no sockets, no uvicorn.

`bench_http.py` measures what a client sees, through wrk and a server on the other core;
its figures move with everything else on the machine. This calls both applications
directly, ``--concurrency`` requests at a time on one event loop, the same 95% reads /
5% corrections (``--writes``), our access log written as `ntk serve` writes it (to
/dev/null), and reports the CPU each request costs the process —
the figure a change to our stack moves. The peer is `bare_app.py`, the same paths and
bodies without vault, policy, ledger or authentication. Our ledger must verify after
the run and hold one entry per request.

Run: ``.venv/bin/python benchmarks/bench_asgi.py [--requests 20000] [--writes 0.05]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging.config
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def request(method: str, path: str, query: bytes, headers: dict[str, str], body: bytes) -> Any:
    """An ASGI call of one request: (scope, receive, send, what was sent)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")]
        + [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    return scope, receive, send, sent


async def drive(app: Asgi, ids: list[str], keys: tuple[str, str], n: int, args: Any) -> int:
    """``n`` requests from ``args.concurrency`` clients, each sending its next request
    when the last is answered (as wrk's connections do); how many were answered 2xx."""
    reader, writer = keys
    left, answered = n, 0

    async def client() -> None:
        nonlocal left, answered
        while left > 0:
            left -= 1
            customer = random.choice(ids)
            if random.random() < args.writes:
                phone = f"+9198{random.randint(0, 99_999_999):08d}"
                body = json.dumps({"fields": {"telephone": phone}}).encode()
                headers = {
                    "x-api-key": writer,
                    "content-type": "application/json",
                    "content-length": str(len(body)),
                }
                call = request("PATCH", f"/v1/customers/{customer}", b"", headers, body)
            else:
                query, headers = b"purpose=billing", {"x-api-key": reader}
                call = request("GET", f"/v1/customers/{customer}", query, headers, b"")
            scope, receive, send, sent = call
            await app(scope, receive, send)
            answered += 200 <= sent[0]["status"] < 300

    await asyncio.gather(*(client() for _ in range(args.concurrency)))
    return answered


def measure(app: Asgi, ids: list[str], keys: tuple[str, str], args: Any) -> tuple[float, float]:
    """(CPU µs, wall µs) a request, after a warm-up; with the app's lifespan running."""

    async def run() -> tuple[float, float]:
        started: asyncio.Queue[Any] = asyncio.Queue()
        stop = asyncio.Event()

        async def receive() -> dict[str, str]:
            if started.empty():
                await started.put(True)
                return {"type": "lifespan.startup"}
            await stop.wait()
            return {"type": "lifespan.shutdown"}

        async def send(message: dict[str, Any]) -> None:
            pass

        lifespan = {"type": "lifespan", "asgi": {"version": "3.0"}}
        life = asyncio.ensure_future(app(lifespan, receive, send))
        await asyncio.sleep(0.1)
        await drive(app, ids, keys, min(1000, args.requests), args)
        cpu, wall = time.process_time(), time.perf_counter()
        answered = await drive(app, ids, keys, args.requests, args)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if answered != args.requests:
            raise SystemExit(f"only {answered} of {args.requests} requests were answered 2xx")
        stop.set()
        await life
        return cpu / args.requests * 1e6, wall / args.requests * 1e6

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--writes", type=float, default=0.05)
    args = parser.parse_args()
    from needtoknow.api.app import create_app
    from needtoknow.api.logs import uvicorn_log_config
    from needtoknow.api.service import Limits
    from needtoknow.config import Settings, init_vault, open_vault

    sys.path.insert(0, str(HERE))
    from bench_http import prepare

    with tempfile.TemporaryDirectory(prefix="ntk-bench-asgi-") as work:
        home = Path(work) / "home"
        settings = Settings(home=home, database_url=f"sqlite:///{home}/vault.db")
        vault = init_vault(settings)
        ids, keys, body = prepare(vault, args.customers)
        before = vault.ledger.sign_head().tree_size
        os.environ["BARE_BODY"] = json.dumps(body)
        from bare_app import app as bare

        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, CPython "
            f"{platform.python_version()}; {args.requests} requests, {args.concurrency} at a "
            f"time, {1 - args.writes:.0%} reads / {args.writes:.0%} corrections, in-process ASGI"
        )
        bare_cpu, bare_wall = measure(bare, ids, keys, args)
        gc.collect()
        # The access log as `ntk serve` writes it (one JSON line a request, on stderr),
        # to /dev/null.
        logging.config.dictConfig(uvicorn_log_config())
        ours_app = create_app(vault, Limits(rate="1000000/second"))
        stderr = os.dup(2)
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        try:
            ours_cpu, ours_wall = measure(ours_app, ids, keys, args)
        finally:
            os.dup2(stderr, 2)
            os.close(stderr)
        print(f" bare FastAPI: CPU per request {bare_cpu:7.0f} µs, wall {bare_wall:7.0f} µs")
        print(f"   needtoknow: CPU per request {ours_cpu:7.0f} µs, wall {ours_wall:7.0f} µs")
        print(f"ours costs {ours_cpu / bare_cpu:.2f}x the peer's CPU per request")
        vault.close()
        checked = open_vault(settings)
        added = checked.ledger.sign_head().tree_size - before
        ok = checked.ledger.verify().ok
        checked.close()
        expected = args.requests + min(1000, args.requests)
        print(
            f"ledger: {'verify ok' if ok else 'VERIFY FAILED'}; {added} new entries for "
            f"{expected} requests ({'equal' if added == expected else 'NOT equal'})"
        )


if __name__ == "__main__":
    main()
