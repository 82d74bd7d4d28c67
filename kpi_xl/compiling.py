"""Validated tables -> a Plan: flat NumPy arrays the kernels run on.

Step 3 of the pipeline.  Ids become integer indexes; methods become codes;
curves and tier tables become CSR-style (offsets, x, y) arrays; proration
becomes one number per employee.  A Plan holds no Python objects per row, so
the kernels (and their reference twin) see only arrays and scalars.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import schema
from .validation import ValidatedBook

POOL_NONE, POOL_CAP, POOL_SCALE = 0, 1, 2
TIER_STEP, TIER_LINEAR = 0, 1
POOL_MODES = {"none": POOL_NONE, "cap": POOL_CAP, "scale": POOL_SCALE}
TIER_MODES = {"step": TIER_STEP, "linear": TIER_LINEAR}


@dataclass
class Plan:
    # scorecard rows
    row_employee: np.ndarray  # int64 [n]
    row_kpi: np.ndarray  # int64 [n]
    weight: np.ndarray  # float64 [n]
    target: np.ndarray  # float64 [n]
    actual: np.ndarray  # float64 [n]
    # KPIs
    kpi_method: np.ndarray  # int64 [k], schema.METHOD_*
    kpi_lower: np.ndarray  # bool [k]
    kpi_threshold: np.ndarray
    kpi_stretch: np.ndarray
    kpi_threshold_score: np.ndarray
    kpi_target_score: np.ndarray
    kpi_stretch_score: np.ndarray
    kpi_gate: np.ndarray  # bool [k]
    kpi_curve: np.ndarray  # int64 [k], -1 without a curve
    # curves, CSR: points of curve c are [curve_offsets[c], curve_offsets[c+1])
    curve_offsets: np.ndarray
    curve_x: np.ndarray
    curve_y: np.ndarray
    # employees
    employee_tier_table: np.ndarray  # int64 [m]
    employee_department: np.ndarray  # int64 [m]
    base_salary: np.ndarray
    target_bonus_pct: np.ndarray
    eligible: np.ndarray  # bool [m]
    proration: np.ndarray  # float64 [m]
    employed_days: np.ndarray  # int64 [m], -1 without proration
    period_days: int
    # tier tables, CSR, sorted by min_score
    tier_offsets: np.ndarray
    tier_min: np.ndarray
    tier_multiplier: np.ndarray
    tier_mode: int
    # departments
    department_pool: np.ndarray  # float64 [d], NaN without a pool
    pool_mode: int
    company_multiplier: float
    rounding: int
    # names, for assembling results
    department_names: list[str]
    tier_labels: list[str]
    # the Rules sheet, compiled (None without rules): kpi_xl.rules.evaluation.RulePlan
    rules: Any = None

    @property
    def n_employees(self) -> int:
        return int(self.base_salary.shape[0])

    @property
    def n_departments(self) -> int:
        return len(self.department_names)


METHOD_CODES = {
    "linear": schema.METHOD_LINEAR,
    "step": schema.METHOD_STEP,
    "binary": schema.METHOD_BINARY,
    "direct": schema.METHOD_DIRECT,
}


def compile_plan(book: ValidatedBook) -> Plan:
    kpis, employees, cards, settings = book.kpis, book.employees, book.scorecards, book.settings

    curve_names = list(book.curves)
    curve_number = {name: c for c, name in enumerate(curve_names)}
    curve_offsets = np.zeros(len(curve_names) + 1, dtype=np.int64)
    curve_offsets[1:] = np.cumsum([len(book.curves[name]) for name in curve_names])
    curve_points = [p for name in curve_names for p in book.curves[name]]
    curve_x = np.array([p[0] for p in curve_points], dtype=np.float64)
    curve_y = np.array([p[1] for p in curve_points], dtype=np.float64)

    kpi_curve = np.array(
        [curve_number.get(c, -1) if c is not None else -1 for c in kpis.curve], dtype=np.int64
    )
    kpi_method = np.array([METHOD_CODES[m] for m in kpis.method], dtype=np.int64)
    kpi_method[(kpi_method == schema.METHOD_LINEAR) & (kpi_curve >= 0)] = schema.METHOD_LINEAR_CURVE

    tier_names = list(book.tiers)
    tier_number = {name: t for t, name in enumerate(tier_names)}
    tier_rows = [row for name in tier_names for row in book.tiers[name]]
    tier_offsets = np.zeros(len(tier_names) + 1, dtype=np.int64)
    tier_offsets[1:] = np.cumsum([len(book.tiers[name]) for name in tier_names])

    department_names = list(dict.fromkeys(employees.department))
    department_number = {name: d for d, name in enumerate(department_names)}
    pool_mode = POOL_MODES[settings.pool_mode]
    department_pool = np.array(
        [book.pools.get(name, np.nan) if pool_mode != POOL_NONE else np.nan for name in department_names],
        dtype=np.float64,
    )

    proration, employed_days, period_days = _proration(book)
    rules = _rules(book, tier_names) if book.rules else None

    return Plan(
        row_employee=cards.employee.astype(np.int64),
        row_kpi=cards.kpi.astype(np.int64),
        weight=cards.weight.astype(np.float64),
        target=cards.target.astype(np.float64),
        actual=cards.actual.astype(np.float64),
        kpi_method=kpi_method,
        kpi_lower=kpis.lower.astype(np.bool_),
        kpi_threshold=kpis.threshold.astype(np.float64),
        kpi_stretch=kpis.stretch.astype(np.float64),
        kpi_threshold_score=kpis.threshold_score.astype(np.float64),
        kpi_target_score=kpis.target_score.astype(np.float64),
        kpi_stretch_score=kpis.stretch_score.astype(np.float64),
        kpi_gate=kpis.gate.astype(np.bool_),
        kpi_curve=kpi_curve,
        curve_offsets=curve_offsets,
        curve_x=curve_x,
        curve_y=curve_y,
        employee_tier_table=np.array(
            [tier_number.get(t, -1) for t in employees.tier_table], dtype=np.int64
        ),
        employee_department=np.array(
            [department_number[d] for d in employees.department], dtype=np.int64
        ),
        base_salary=employees.base_salary.astype(np.float64),
        target_bonus_pct=employees.target_bonus_pct.astype(np.float64),
        eligible=employees.eligible.astype(np.bool_),
        proration=proration,
        employed_days=employed_days,
        period_days=period_days,
        tier_offsets=tier_offsets,
        tier_min=np.array([r.min_score for r in tier_rows], dtype=np.float64),
        tier_multiplier=np.array([r.multiplier for r in tier_rows], dtype=np.float64),
        tier_mode=TIER_MODES[settings.tier_mode],
        department_pool=department_pool,
        pool_mode=pool_mode,
        company_multiplier=float(settings.company_multiplier),
        rounding=int(settings.rounding),
        department_names=department_names,
        tier_labels=[r.label for r in tier_rows],
        rules=rules,
    )


def _rules(book: ValidatedBook, tier_names: list[str]) -> Any:
    """The Rules sheet's rules as array operations, with the employee facts they read."""
    from .rules.evaluation import compile_rules

    employees = book.employees
    return compile_rules(
        book.rules,
        first=book.settings.rule_policy == "first",
        sheet=book.titles.get(schema.RULES.key, schema.RULES.label(book.language)),
        language=book.language,
        employee_ids=employees.ids,
        departments=employees.department,
        grades=employees.grade,
        tier_tables=employees.tier_table,
        tier_names=tier_names,
        tier_rows_labels=[[row.label for row in book.tiers[name]] for name in tier_names],
        hire_dates=employees.hire_date,
        termination_dates=employees.termination_date,
        period_end=book.settings.period_end,
    )


def _proration(book: ValidatedBook) -> tuple[np.ndarray, np.ndarray, int]:
    """Days employed within the period, both ends counted, over the period's days."""
    m = len(book.employees.ids)
    settings = book.settings
    if settings.proration != "days" or settings.period_start is None or settings.period_end is None:
        return np.ones(m), np.full(m, -1, dtype=np.int64), 0
    start = np.datetime64(settings.period_start, "D")
    end = np.datetime64(settings.period_end, "D")
    hire = _dates(book.employees.hire_date, start)
    leave = _dates(book.employees.termination_date, end)
    first = np.maximum(hire, start)
    last = np.minimum(leave, end)
    days = np.maximum((last - first).astype(np.int64) + 1, 0)
    period = int((end - start).astype(np.int64)) + 1
    return days / period, days, period


def _dates(values: list[dt.date | None], fallback: np.datetime64) -> np.ndarray:
    return np.array([np.datetime64(v, "D") if v is not None else fallback for v in values], dtype="datetime64[D]")
