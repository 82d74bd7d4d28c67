"""How much do rules add to scoring?  20 rules over 100,000 employees.

    python benchmarks/rules_bench.py [EMPLOYEES] [REPEATS]

Builds an in-memory company (EMPLOYEES people, 5 KPIs each, two tier tables,
proration and pools) and scores it with and without a Rules sheet of 20 rules
spread over the four stages, through the public API (kpi_xl.score_tables:
validation, compiling, the numba engine, the result tables with notes) and
through the engine alone (compile_plan + run_plan).  Prints the best of
REPEATS runs of each and the ratios.  No assertions: the numbers go to
docs/performance-rules.md.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # runnable from a checkout

import kpi_xl  # noqa: E402
from kpi_xl.compiling import compile_plan  # noqa: E402
from kpi_xl.engine import run_plan  # noqa: E402
from kpi_xl.reading import read_tables  # noqa: E402
from kpi_xl.validation import validate  # noqa: E402

DEPARTMENTS = ["Sales", "Operations", "Finance", "People", "IT", "Legal", "Marketing", "Support"]
GRADES = ["P1", "P2", "P3", "P4", "M1", "M2", "M3"]
KPIS = ["REV", "MARGIN", "NPS", "DEFECTS", "ASSESS"]

RULES = [
    ("R01", "tenure_days < 90", "ineligible", None),
    ("R02", 'department = "Sales" and attainment("REV") >= 110%', "scale_multiplier", 1.1),
    ("R03", None, "cap_payout_multiple", 2),
    ("R04", 'score("ASSESS") < 70 and multiplier > 0.5', "force_tier", "Partial"),
    ("R05", 'actual("NPS") < 30 and not attainment("REV") > 100%', "scale_multiplier", 0.75),
    ("R06", 'grade in ("M1", "M2", "M3") and total_score > 140', "cap_score", 140),
    ("R07", 'department = "Support" and attainment("NPS") >= 105%', "add_score", 5),
    ("R08", 'attainment("DEFECTS") < 80%', "add_score", -10),
    ("R09", 'grade = "P1" and tenure_days < 365', "cap_payout", 4000),
    ("R10", "payout < 100", "ineligible", None),
    ("R11", 'tier = "Outstanding" and department in ("Legal", "Finance")', "set_multiplier", 1.4),
    ("R12", 'department = "IT" and score("REV") > 120', "scale_multiplier", 1.05),
    ("R13", "base_salary > 180000", "cap_payout", "0.3 * base_salary"),
    ("R14", "not gate_passed", "add_score", 0),
    ("R15", 'min(attainment("REV"), attainment("MARGIN")) >= 120%', "scale_multiplier", 1.1),
    ("R16", 'department = "Marketing" and (grade = "P3" or grade = "P4")', "add_score", 2),
    ("R17", "proration < 50%", "cap_payout_multiple", 1),
    ("R18", 'total_score >= 95 and total_score < 100 and grade <> "M3"', "add_score", 1),
    ("R19", 'multiplier > 1.5 and department = "Operations"', "set_multiplier", 1.5),
    ("R20", "target_bonus > 30000", "cap_payout", 60000),
]


def company(m: int, seed: int = 2026) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.arange(100001, 100001 + m)
    department = rng.choice(DEPARTMENTS, m)
    hire = pd.Timestamp("2026-12-31") - pd.to_timedelta(rng.integers(0, 4000, m), unit="D")
    employees = pd.DataFrame({
        "employee_id": ids,
        "name": [f"Person {i}" for i in ids],
        "department": department,
        "base_salary": rng.integers(40, 200, m) * 1000.0,
        "target_bonus_pct": rng.choice([0.08, 0.1, 0.12, 0.15, 0.2], m),
        "hire_date": [d.date() for d in hire],
        "grade": rng.choice(GRADES, m),
        "tier_table": np.where(department == "Sales", "sales", "default"),
    })
    kpis = pd.DataFrame({
        "kpi_id": KPIS,
        "name": KPIS,
        "direction": ["higher", "higher", "higher", "lower", "higher"],
        "method": ["linear", "linear", "linear", "linear", "direct"],
        "threshold": [0.8, 0.9, 0.8, 0.7, None],
        "stretch": [1.2, 1.1, 1.2, 1.3, None],
    })
    weights = [0.4, 0.2, 0.15, 0.15, 0.1]
    scorecards = pd.DataFrame({
        "employee_id": np.repeat(ids, len(KPIS)),
        "kpi_id": np.tile(KPIS, m),
        "weight": np.tile(weights, m),
        "target": np.tile([100.0, 100.0, 50.0, 2.0, np.nan], m),
        "actual": np.round(rng.normal(1.0, 0.15, m * len(KPIS)) * np.tile([100.0, 100.0, 50.0, 2.0, 100.0], m), 2),
    })
    tiers = pd.DataFrame({
        "tier_table": ["default"] * 5 + ["sales"] * 5,
        "min_score": [0, 60, 90, 110, 130, 0, 70, 95, 115, 140],
        "multiplier": [0, 0.5, 1, 1.25, 1.5, 0, 0.6, 1, 1.5, 2],
        "label": ["Below", "Partial", "Meets", "Exceeds", "Outstanding", "Below", "Partial", "On plan", "Over",
                  "Club"],
    })
    settings = pd.DataFrame({
        "key": ["period_start", "period_end", "proration", "company_multiplier", "pool_mode"],
        "value": [dt.date(2026, 1, 1), dt.date(2026, 12, 31), "days", 1.05, "cap"],
    })
    pools = pd.DataFrame({"department": DEPARTMENTS, "pool": [m * 1500.0] * len(DEPARTMENTS)})
    return {"Settings": settings, "KPIs": kpis, "Employees": employees, "Scorecards": scorecards, "Tiers": tiers,
            "Pools": pools}


def rules_sheet() -> pd.DataFrame:
    return pd.DataFrame(RULES, columns=["rule_id", "condition", "action", "value"]).astype(object)


def best_of(functions: dict[str, object], repeats: int) -> dict[str, float]:
    """The best time of each function, running them in turn (so that a busy moment of a
    shared machine does not land on one side only)."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()  # type: ignore[operator]
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def main(argv: list[str]) -> int:
    m = int(argv[0]) if argv else 100_000
    repeats = int(argv[1]) if len(argv) > 1 else 3
    plain_tables = company(m)
    ruled_tables = {**plain_tables, "Rules": rules_sheet()}

    print(f"kpi_xl rules benchmark: {m:,} employees × {len(KPIS)} KPIs, {len(RULES)} rules, best of {repeats}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPU(s), "
          f"{platform.machine()} {platform.system()}")

    outcome = kpi_xl.score_tables(ruled_tables)  # also warms numba's cache
    assert outcome.ok, [str(p) for p in outcome.problems[:5]]
    trace = outcome.rule_trace
    print(f"rules fired: {int(trace['changed'].sum()):,} changes for {int((outcome.payouts['rules_fired'] != '').sum()):,}"
          f" people; matched {int(trace['matched'].sum()):,}")

    books = {name: validate(read_tables(tables)) for name, tables in (("plain", plain_tables), ("rules", ruled_tables))}
    plans = {name: compile_plan(book) for name, book in books.items()}
    run_plan(plans["plain"]), run_plan(plans["rules"])  # warm

    engine = best_of({name: (lambda p=plan: run_plan(p)) for name, plan in plans.items()}, repeats * 3)
    compiling = best_of({name: (lambda b=book: compile_plan(b)) for name, book in books.items()}, repeats)
    fresh = best_of({name: (lambda b=book: run_plan(compile_plan(b))) for name, book in books.items()}, repeats)
    whole = best_of({"plain": lambda: kpi_xl.score_tables(plain_tables),
                     "rules": lambda: kpi_xl.score_tables(ruled_tables)}, repeats)

    rows = [
        ("engine (run_plan) *", engine),
        ("compile (compile_plan)", compiling),
        ("compile + engine, fresh", fresh),
        ("whole API (score_tables)", whole),
    ]
    print(f"{'step':<26} {'no rules':>10} {'20 rules':>10} {'added':>10} {'ratio':>7}")
    for label, times in rows:
        added = times["rules"] - times["plain"]
        print(f"{label:<26} {times['plain']:>9.3f}s {times['rules']:>9.3f}s {added:>+9.3f}s {times['rules'] / times['plain']:>6.2f}×")
    print("* rules evaluated with the employee facts they read (text columns, tenure) already gathered;")
    print("  the fresh line gathers them too, as every real run does")
    per_rule = (engine["rules"] - engine["plain"]) / len(RULES)
    print(f"per rule in the engine: {per_rule * 1000:.2f} ms for {m:,} people "
          f"({per_rule / m * 1e9:.1f} ns per person per rule)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
