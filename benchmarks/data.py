"""Generated companies of a given size, with a fixed seed.

``company(rows)`` builds the input tables of a scoring workbook - Settings,
KPIs, Curves, Employees, Scorecards, Tiers, Pools - as pandas DataFrames with
the contract's English headers, six KPIs a person.  The mix exercises every
rule of the contract: linear KPIs higher and lower is better, a linear KPI on
a curve, a step curve (a range target), binary and direct KPIs, two gate
KPIs, two tier tables, proration by days with joiners and leavers, people
not eligible, and capped department pools that bind for some departments.

The same tables feed every contender: kpi_xl through ``plan_of`` (the real
read -> validate -> compile steps) and the analyst's pandas version in
``benchmarks.analyst``; ``write_xlsx`` writes them as a workbook for the end
to end runs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20260107
VERSION = 1  # bump when the generator changes: cached workbooks carry it in their name
KPIS_PER_PERSON = 6
PERIOD_START = dt.date(2026, 1, 1)
PERIOD_END = dt.date(2026, 12, 31)

# kpi_id, name, direction, method, threshold, stretch, curve, gate, how actuals are drawn
KPI_LIBRARY = [
    ("REV", "Revenue", "higher", "linear", 0.8, 1.2, None, "no", "ratio"),
    ("MARGIN", "Gross margin", "higher", "linear", 0.9, 1.1, None, "no", "ratio"),
    ("COST", "Unit cost", "lower", "linear", 0.85, 1.15, None, "no", "ratio"),
    ("DEFECTS", "Defect rate", "lower", "linear", 0.7, 1.3, None, "no", "ratio"),
    ("NPS", "Net promoter score", "higher", "linear", None, None, "NPS_CURVE", "no", "ratio"),
    ("OTD", "On-time delivery", "higher", "step", None, None, "BAND", "no", "ratio"),
    ("CSAT", "Customer satisfaction", "higher", "step", None, None, "CSAT_STEPS", "no", "ratio"),
    ("AUDIT", "Audit passed", "higher", "binary", None, None, None, "yes", "binary"),
    ("SAFETY", "Safety incidents", "lower", "linear", 0.6, 1.2, None, "yes", "ratio"),
    ("TRAIN", "Training completed", "higher", "binary", None, None, None, "no", "binary"),
    ("MGR", "Manager assessment", "higher", "direct", None, None, None, "no", "direct"),
    ("PROJ", "Project milestones", "higher", "linear", 0.5, 1.5, None, "no", "ratio"),
]
CURVES = [
    ("NPS_CURVE", [(0.6, 20.0), (0.8, 60.0), (1.0, 100.0), (1.2, 130.0), (1.4, 150.0)]),
    ("BAND", [(0.0, 0.0), (0.95, 100.0), (1.05, 0.0)]),
    ("CSAT_STEPS", [(0.7, 50.0), (0.85, 80.0), (1.0, 100.0), (1.1, 120.0)]),
]
TIERS = [
    ("default", 60.0, 0.5, "Partial"),
    ("default", 80.0, 1.0, "Meets"),
    ("default", 100.0, 1.2, "Exceeds"),
    ("default", 120.0, 1.5, "Outstanding"),
    ("exec", 70.0, 0.8, "E-Partial"),
    ("exec", 100.0, 1.3, "E-Meets"),
    ("exec", 130.0, 2.0, "E-Exceeds"),
]
WEIGHTS = [0.3, 0.2, 0.15, 0.15, 0.1, 0.1]  # sum to 1 within float noise


def company(rows: int, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Input tables with (about) ``rows`` scorecard rows: rows // 6 people x 6 KPIs."""
    rng = np.random.default_rng(seed)
    people = max(1, rows // KPIS_PER_PERSON)
    n = people * KPIS_PER_PERSON
    departments = max(2, min(200, people // 400 + 2))

    kpis = pd.DataFrame(
        [
            {
                "kpi_id": k, "name": name, "direction": direction, "method": method,
                "threshold": threshold, "stretch": stretch, "curve": curve, "gate": gate,
            }
            for k, name, direction, method, threshold, stretch, curve, gate, _ in KPI_LIBRARY
        ]
    )
    curves = pd.DataFrame(
        [(c, x, y) for c, points in CURVES for x, y in points], columns=["curve_id", "attainment", "score"]
    )
    tiers = pd.DataFrame(TIERS, columns=["tier_table", "min_score", "multiplier", "label"])

    ids = np.arange(100001, 100001 + people)
    department_of = rng.integers(0, departments, people)
    department_names = np.array([f"D{d:03d}" for d in range(departments)])
    hire = np.full(people, None, dtype=object)
    leave = np.full(people, None, dtype=object)
    joiners = rng.random(people) < 0.08
    leavers = rng.random(people) < 0.05
    days = rng.integers(0, 365, people)
    for e in np.flatnonzero(joiners):
        hire[e] = PERIOD_START + dt.timedelta(days=int(days[e]))
    for e in np.flatnonzero(~joiners):
        hire[e] = dt.date(2015, 1, 1) + dt.timedelta(days=int(days[e]) * 10)
    for e in np.flatnonzero(leavers):
        start = hire[e] if hire[e] > PERIOD_START else PERIOD_START
        leave[e] = start + dt.timedelta(days=int(rng.integers(0, (PERIOD_END - start).days + 1)))
    employees = pd.DataFrame(
        {
            "employee_id": ids,
            "name": [f"Person {i}" for i in ids],
            "department": department_names[department_of],
            "base_salary": rng.integers(300, 2500, people) * 100.0,
            "target_bonus_pct": rng.choice([0.05, 0.1, 0.15, 0.2, 0.25], people),
            "hire_date": hire,
            "termination_date": leave,
            "eligible": np.where(rng.random(people) < 0.97, "yes", "no"),
            "tier_table": np.where(rng.random(people) < 0.1, "exec", "default"),
        }
    )

    # six distinct KPIs a person, drawn from the library
    library = len(KPI_LIBRARY)
    picks = np.argsort(rng.random((people, library)), axis=1)[:, :KPIS_PER_PERSON]
    kpi_index = picks.reshape(-1)
    kind = np.array([spec[8] for spec in KPI_LIBRARY])[kpi_index]
    lower = np.array([spec[2] == "lower" for spec in KPI_LIBRARY])[kpi_index]
    target = np.round(rng.uniform(50, 5000, n), 0)
    attainment = np.clip(rng.normal(1.0, 0.18, n), 0.05, None)
    actual = np.where(lower, target / attainment, target * attainment)
    actual = np.where(kind == "binary", np.where(rng.random(n) < 0.9, 1.0, 0.0), actual)
    target = np.where(kind == "binary", 1.0, target)
    actual = np.where(kind == "direct", rng.integers(0, 160, n).astype(float), actual)
    actual = np.round(actual, 2)
    scorecards = pd.DataFrame(
        {
            "employee_id": np.repeat(ids, KPIS_PER_PERSON),
            "kpi_id": np.array([spec[0] for spec in KPI_LIBRARY])[kpi_index],
            "weight": np.tile(WEIGHTS, people),
            "target": np.where(kind == "direct", np.nan, target),
            "actual": actual,
        }
    )

    # pools: each department's expected payout, give or take 15 %: some caps bind
    expected = employees["base_salary"] * employees["target_bonus_pct"]
    by_department = expected.groupby(employees["department"], sort=False).sum()
    pool_factor = rng.uniform(0.6, 1.0, len(by_department))
    pools = pd.DataFrame(
        {"department": by_department.index, "pool": np.round(by_department.to_numpy() * pool_factor, -2)}
    )
    settings = pd.DataFrame(
        {
            "key": ["period_start", "period_end", "proration", "company_multiplier", "rounding", "pool_mode", "tier_mode"],
            "value": [PERIOD_START.isoformat(), PERIOD_END.isoformat(), "days", 1.05, 2, "cap", "step"],
        }
    )
    return {
        "Settings": settings,
        "KPIs": kpis,
        "Curves": curves,
        "Employees": employees,
        "Scorecards": scorecards,
        "Tiers": tiers,
        "Pools": pools,
    }


def plan_of(tables: dict[str, pd.DataFrame]):
    """kpi_xl's compiled Plan of the tables (read -> validate -> compile), and the book."""
    from kpi_xl.compiling import compile_plan
    from kpi_xl.reading import read_tables
    from kpi_xl.validation import validate

    book = validate(read_tables(tables))
    errors = [p for p in book.problems if p.severity == "error"]
    if errors:
        raise AssertionError(f"generated tables do not validate: {errors[:3]}")
    return compile_plan(book), book


def write_xlsx(tables: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """The tables as a workbook, one sheet each (openpyxl, write-only), dates as Excel dates."""
    import openpyxl

    path = Path(path)
    book = openpyxl.Workbook(write_only=True)
    for title, frame in tables.items():
        sheet = book.create_sheet(title)
        sheet.append(list(frame.columns))
        columns = [_cells(frame[c]) for c in frame.columns]
        for record in zip(*columns):
            sheet.append(record)
    book.save(path)
    return path


def _cells(column: pd.Series) -> list:
    values = column.tolist()
    return [None if (isinstance(v, float) and v != v) else v for v in values]
