"""Monte Carlo bonus cost: the numba kernel over scenarios vs the reference twin, side by side.

    .venv/bin/python benchmarks/simulate_bench.py                 # 10,000 employees x 6 KPIs
    .venv/bin/python benchmarks/simulate_bench.py --runs 10000    # the issue's full size

Builds the benchmark company (benchmarks/data.py, fixed seed), moves every
scorecard row with one of six forecast lines (one per KPI kind), and times
``simulate_kernel`` on RUNS scenarios and ``simulate_reference`` on a few,
reporting scenarios per second and the ratio. The last result is recorded in
docs/performance-finance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.data import company, plan_of  # noqa: E402
from kpi_xl.simulation import simulate_kernel, simulate_reference  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1_000, help="scenarios for the kernel (default 1,000)")
    parser.add_argument("--reference-runs", type=int, default=4)
    args = parser.parse_args()

    plan, _ = plan_of(company(args.employees * 6))
    groups = 6
    row_group = (plan.row_kpi % groups).astype(np.int64)
    rng = np.random.default_rng(1)
    draws = np.maximum(rng.normal(1.0, 0.1, (args.runs, groups)), 0)
    simulate_kernel(plan, row_group, draws[:2])  # compile (or load from the cache)
    started = time.perf_counter()
    total, _ = simulate_kernel(plan, row_group, draws)
    kernel = time.perf_counter() - started
    started = time.perf_counter()
    reference_total, _ = simulate_reference(plan, row_group, draws[: args.reference_runs])
    reference = time.perf_counter() - started
    assert np.array_equal(total[: args.reference_runs], reference_total), "kernel and reference disagree"
    rows = plan.row_kpi.shape[0]
    per_kernel = kernel / args.runs
    per_reference = reference / args.reference_runs
    print(f"machine: {os.cpu_count()} cores; company: {plan.n_employees:,} employees, {rows:,} scorecard rows")
    print(f"kernel    : {args.runs:,} scenarios in {kernel:.2f} s = {per_kernel * 1e3:.2f} ms a scenario "
          f"({rows * args.runs / kernel / 1e6:.0f} M scorecard rows/s)")
    print(f"reference : {args.reference_runs} scenarios in {reference:.2f} s = {per_reference * 1e3:.1f} ms a scenario")
    print(f"ratio     : kernel {per_reference / per_kernel:.0f}x faster; identical costs on the shared scenarios")
    print(f"10,000 scenarios x {plan.n_employees:,} employees: {per_kernel * 10_000:.1f} s (kernel, "
          + ("measured" if args.runs >= 10_000 else "extrapolated") + f"), {per_reference * 10_000 / 3600:.1f} h (reference)")


if __name__ == "__main__":
    main()
