"""``ntk scan`` on a multi-gigabyte log: memory stays flat, and what the gazetteer costs.

Writes a web-server and mail log of ``--gigabytes`` (a 16 MB block of generated lines,
repeated), runs ``ntk scan FILE --json`` on it as a separate process with its output
thrown away, and samples that process's resident memory twice a second. A flat line is
the goal: the file is read a block of lines at a time. The peer for memory is the same
command on a file one tenth the size: if memory grew with the input, the two peaks
would differ tenfold. The large file is also scanned with ``--workers 2``, and counted
by GNU grep for its IPv4 addresses (the speed of reading it with one pattern and
nothing validated: the floor a scanner in Python is measured against).

Also measured: loading the name and place gazetteer (time and memory), which only
scanners looking for names, birthplaces or addresses do.

Run: ``.venv/bin/python benchmarks/bench_detect_stream.py [--gigabytes 2]``
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from needtoknow.detect.corpus import Values

NTK = str(Path(sys.executable).with_name("ntk"))
GREP_IPV4 = r"([0-9]{1,3}\.){3}[0-9]{1,3}"
BLOCK = 16 << 20


def block() -> bytes:
    v = Values(random.Random(7))
    lines = []
    size = 0
    while size < BLOCK:
        line = (
            f'{v.ipv4()} - - [26/Nov/2026:{v.clock()} +0530] "GET /cart?plan=PLN-{v.digits(4)} '
            f'HTTP/1.1" 200 {v.r.randint(200, 90000)} "-" "Mozilla/5.0"\n'
            if v.r.random() < 0.8
            else f"Nov 26 {v.clock()} mx1 postfix/smtp[{v.r.randint(1000, 99999)}]: "
            f"to=<{v.email()}>, relay=mx.example.in[{v.ipv4()}]:25, status=sent\n"
        )
        lines.append(line)
        size += len(line)
    return "".join(lines).encode()


def write(path: Path, size: int) -> None:
    chunk = block()
    with path.open("wb") as out:
        for _ in range(max(1, size // len(chunk))):
            out.write(chunk)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def scan(path: Path, workers: int = 1) -> tuple[float, list[float]]:
    """Seconds and the RSS samples (MB) of ``ntk scan path --json --workers N`` (the
    parent's memory: each worker holds what one part needs)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [NTK, "scan", str(path), "--json", "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    samples = []
    while process.poll() is None:
        try:
            samples.append(rss_mb(process.pid))
        except FileNotFoundError:
            break
        time.sleep(0.5)
    if process.returncode != 0:
        raise SystemExit(f"ntk scan failed: {process.returncode}")
    return time.perf_counter() - started, samples


def gazetteer_cost() -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    from needtoknow.detect import gazetteer

    gazetteer.load()
    seconds = time.perf_counter() - started
    return seconds, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=2.0)
    args = parser.parse_args()
    load_s, load_mb = gazetteer_cost()
    print(f"gazetteer: loaded in {load_s * 1000:.0f} ms, +{load_mb:.1f} MB peak RSS")
    with tempfile.TemporaryDirectory(prefix="ntk-bench-stream-") as work:
        results = {}
        for name, size in (
            ("small", int(args.gigabytes * 1e9 / 10)),
            ("large", int(args.gigabytes * 1e9)),
        ):
            path = Path(work) / f"{name}.log"
            write(path, size)
            actual = path.stat().st_size
            seconds, samples = scan(path)
            results[name] = max(samples)
            tenths = [samples[min(len(samples) - 1, len(samples) * i // 10)] for i in range(1, 11)]
            print(
                f"{actual / 1e9:5.2f} GB: {seconds:6.1f} s ({actual / 1e6 / seconds:.1f} MB/s), "
                f"RSS at each tenth of the run (MB): {' '.join(f'{m:.0f}' for m in tenths)}; "
                f"peak {max(samples):.0f} MB"
            )
            if name == "large":
                seconds_two, _ = scan(path, workers=2)
                print(
                    f"  --workers 2: {seconds_two:6.1f} s ({actual / 1e6 / seconds_two:.1f} MB/s),"
                    f" {seconds / seconds_two:.2f}x one process"
                )
                started = time.perf_counter()
                subprocess.run(["grep", "-cE", GREP_IPV4, str(path)], capture_output=True)
                grep = time.perf_counter() - started
                print(
                    f"  peer, GNU grep -cE (IPv4 addresses only, nothing validated): {grep:.1f} s "
                    f"({actual / 1e6 / grep:.0f} MB/s); ntk scan takes {seconds / grep:.1f}x"
                )
            path.unlink()
        ratio = results["large"] / results["small"]
        print(f"peak RSS large/small: {ratio:.2f}x for 10x the input (flat: ~1x)")


if __name__ == "__main__":
    main()
