"""What-if scenarios: the base plan and N scenarios scored on one compiled plan, numba vs reference.

    .venv/bin/python benchmarks/whatif_bench.py                  # 10,000 employees x 6 KPIs, 20 scenarios

Builds the benchmark company (benchmarks/data.py, fixed seed), compiles it
once, and scores the base and each scenario (one KPI's performance × a
factor, and the company multiplier × 0.95) as ``kpi-xl whatif`` does:
``whatif.apply`` copies the changed arrays and ``engine.run_plan`` runs again.
Prints the time a scenario on each engine, their ratio, and checks that both
engines pay every department the same. Recorded in docs/performance-finance.md.
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
from kpi_xl.engine import run_plan  # noqa: E402
from kpi_xl.whatif import Change, Scenario, apply, department_payouts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--scenarios", type=int, default=20)
    args = parser.parse_args()

    plan, _ = plan_of(company(args.employees * 6))
    scenarios = [
        Scenario(f"S{i}", [Change("kpi", i % plan.kpi_method.shape[0], "K", 1.0 + 0.01 * i, None, 2),
                           Change("company_multiplier", -1, "", 0.95, None, 3)])
        for i in range(args.scenarios)
    ]
    run_plan(plan, "numba")  # compile (or load from the cache)
    seconds, results = {}, {}
    for engine in ("numba", "reference"):
        started = time.perf_counter()
        base = department_payouts(plan, run_plan(plan, engine).payout)
        results[engine] = [base] + [
            department_payouts(plan, run_plan(apply(plan, scenario), engine).payout) for scenario in scenarios
        ]
        seconds[engine] = time.perf_counter() - started
    assert all(np.array_equal(a, b) for a, b in zip(results["numba"], results["reference"])), "engines disagree"
    runs = args.scenarios + 1
    print(f"machine: {os.cpu_count()} cores; company: {plan.n_employees:,} employees, "
          f"{plan.row_kpi.shape[0]:,} scorecard rows; base + {args.scenarios} scenarios")
    for engine in ("numba", "reference"):
        print(f"{engine:9s}: {seconds[engine]:.2f} s = {seconds[engine] / runs * 1e3:.1f} ms a scenario")
    print(f"ratio    : numba {seconds['reference'] / seconds['numba']:.0f}x faster; "
          "the same payouts by department in every scenario")


if __name__ == "__main__":
    main()
