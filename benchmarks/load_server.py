"""Load test of the add-in server on loopback: concurrent, realistic requests, bounded in count and time.

Starts ``kpi-xl serve`` as its own process (with an access key, as in real
use), sends a mix of Office.js-shaped requests from several client threads,
checks every answer (status 200 and the right numbers, not only "it answered"),
and prints throughput and latency percentiles per kind of request.

    .venv/bin/python benchmarks/load_server.py                      # 600 requests, 16 at a time
    .venv/bin/python benchmarks/load_server.py --requests 2000 --concurrency 32 --max-seconds 300

The last results are recorded in docs/server.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.payloads import payload_from_xlsx  # noqa: E402  (the same payloads the tests send)

KEY = "load-test-access-key-0123456789"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, max_busy: int) -> subprocess.Popen:
    env = {**os.environ, "KPI_XL_ACCESS_KEY": KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "kpi_xl", "serve", "--port", str(port), "--max-busy", str(max_busy)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start: " + (process.stderr.read() if process.stderr else ""))


def build_requests(example: Path):
    """Kinds of request an add-in user makes, each with a check of its answer."""
    import kpi_xl

    payload = payload_from_xlsx(example)
    expected_total = round(float(kpi_xl.score_workbook(example).payouts["payout"].sum()), 2)

    def payout_total(body: dict) -> float:
        sheets = {}
        for action in body["actions"]:
            if action["func"] == "addSheet":
                sheets[action["args"][0]] = action["args"][1]
            elif action["func"] == "setValues" and sheets.get(action["sheet_position"]) == "Payouts":
                header, *rows = action["values"]
                column = header.index("payout")
                return round(sum(r[column] for r in rows), 2)
        return float("nan")

    actuals = [[float(90 + i % 40) for i in range(1000)]]
    return {
        # the Score button on the 40-person example company (240 scorecard rows)
        "score button": ("/api/actions/score", payload, lambda b: payout_total(b) == expected_total),
        # the Check button on the same workbook
        "check button": ("/api/actions/check", payload, lambda b: b["ok"] is True),
        # =KPI.SCORE over a 1,000-cell range (one recalculation of a column)
        "KPI_SCORE 1000 cells": (
            "/api/functions/KPI_SCORE",
            {"args": [actuals, [[100.0]], None, [[0.8]], [[1.2]]]},
            lambda b: len(b["result"][0]) == 1000 and abs(b["result"][0][20] - 125.0) < 1e-9,
        ),
        # =KPI.PAYOUT in one cell (the commonest call)
        "KPI_PAYOUT 1 cell": (
            "/api/functions/KPI_PAYOUT",
            {"args": [[[100000]], [[0.1]], [[100]], [[0, 0], [100, 1], [150, 2]]]},
            lambda b: b["result"] == [[10000.0]],
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600, help="total requests (default 600)")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads (default 16)")
    parser.add_argument("--max-seconds", type=float, default=180, help="stop sending after this long (default 180)")
    parser.add_argument("--max-busy", type=int, default=2, help="the server's --max-busy (default 2)")
    args = parser.parse_args()

    kinds = build_requests(ROOT / "templates" / "example_company.xlsx")
    names = list(kinds)
    port = free_port()
    server = start_server(port, args.max_busy)
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {KEY}"}
    latencies: dict[str, list[float]] = {name: [] for name in names}
    failures: list[str] = []
    deadline = time.monotonic() + args.max_seconds

    def one(index: int, client: httpx.Client) -> None:
        if time.monotonic() > deadline:
            return
        name = names[index % len(names)]
        path, body, check = kinds[name]
        started = time.perf_counter()
        try:
            answer = client.post(path, json=body, headers=headers)
        except httpx.HTTPError as problem:
            failures.append(f"{name}: {type(problem).__name__}")
            return
        elapsed = time.perf_counter() - started
        if answer.status_code != 200:
            failures.append(f"{name}: HTTP {answer.status_code} {answer.text[:120]}")
        elif not check(answer.json()):
            failures.append(f"{name}: wrong answer")
        else:
            latencies[name].append(elapsed)

    try:
        with httpx.Client(base_url=url, headers=headers) as warm:  # first call compiles nothing (numba cache) but loads
            for name in names:
                path, body, _ = kinds[name]
                warm.post(path, json=body, timeout=120)
        clients = [httpx.Client(base_url=url, timeout=120) for _ in range(args.concurrency)]
        began = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(lambda i: one(i, clients[i % args.concurrency]), range(args.requests)))
        wall = time.perf_counter() - began
        for client in clients:
            client.close()
    finally:
        server.terminate()
        server.wait(timeout=20)

    done = sum(len(v) for v in latencies.values())
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"server: kpi-xl serve --max-busy {args.max_busy}; clients: {args.concurrency} threads on the same machine")
    print(f"requests: {done} ok, {len(failures)} failed, in {wall:.1f} s -> {done / wall:.1f} requests/s")
    print(f"{'request':<22} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name in names:
        times = sorted(latencies[name])
        if not times:
            continue
        q = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else [times[0]] * 99
        print(
            f"{name:<22} {len(times):>6} {q[49] * 1e3:>8.1f} {q[94] * 1e3:>8.1f} {q[98] * 1e3:>8.1f} "
            f"{times[-1] * 1e3:>8.1f}"
        )
    for failure in failures[:20]:
        print("FAILED", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
