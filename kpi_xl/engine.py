"""Run a compiled Plan through the kernels (numba) or their reference twin.

The one place that strings the kernels together, in the contract's order:
rows -> employee totals and gates -> tiers -> payouts before pool -> pool
factors -> rounded, cent-exact payouts.

With a Rules sheet, its rules act at four stages (kpi_xl.rules.evaluation):

    totals -> [score rules] -> tier lookup -> [tier rules] -> payouts before pool
           -> [payout rules] -> [eligibility rules] -> pools -> rounded payouts
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from .compiling import TIER_LINEAR, Plan

ENGINES = ("numba", "reference")


@dataclass
class Scores:
    attainment: np.ndarray  # [n]
    score: np.ndarray  # [n]
    weighted: np.ndarray  # [n]
    row_gate_failed: np.ndarray  # [n]
    total: np.ndarray  # [m]
    gate_failed: np.ndarray  # [m]
    multiplier: np.ndarray  # [m]
    tier_row: np.ndarray  # [m]
    payout_before_pool: np.ndarray  # [m]
    department_total: np.ndarray  # [d]
    department_factor: np.ndarray  # [d]
    payout: np.ndarray  # [m]
    rules: Any = None  # kpi_xl.rules.evaluation.RuleOutcome when the plan has rules


def default_engine() -> str:
    chosen = os.environ.get("KPI_XL_ENGINE", "numba").strip().lower()
    if chosen not in ENGINES:
        chosen = "numba"
    if chosen == "numba":
        try:
            import numba  # noqa: F401
        except ImportError:  # e.g. Pyodide: the reference twin gives the same numbers
            chosen = "reference"
    return chosen


def kernels_for(engine: str | None) -> ModuleType:
    engine = engine or default_engine()
    if engine == "reference":
        from . import reference

        return reference
    from . import kernels

    return kernels


def run_plan(plan: Plan, engine: str | None = None) -> Scores:
    k = kernels_for(engine)
    attainment, score, row_gate_failed = k.score_rows(
        plan.row_kpi,
        plan.target,
        plan.actual,
        plan.kpi_method,
        plan.kpi_lower,
        plan.kpi_threshold,
        plan.kpi_stretch,
        plan.kpi_threshold_score,
        plan.kpi_target_score,
        plan.kpi_stretch_score,
        plan.kpi_gate,
        plan.kpi_curve,
        plan.curve_offsets,
        plan.curve_x,
        plan.curve_y,
    )
    weighted, total, gate_failed = k.employee_totals(
        plan.row_employee, plan.weight, score, row_gate_failed, plan.n_employees
    )
    linear = plan.tier_mode == TIER_LINEAR

    def lookup(totals: np.ndarray, tables: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return k.tier_lookup(totals, tables, plan.tier_offsets, plan.tier_min, plan.tier_multiplier, linear)

    run = None
    if plan.rules is not None and plan.rules.rules:
        from .rules.evaluation import RuleRun

        unit = k.payouts_before_pool(
            plan.base_salary,
            plan.target_bonus_pct,
            np.ones(plan.n_employees),
            plan.company_multiplier,
            plan.proration,
            plan.eligible,
            gate_failed,
        )
        run = RuleRun(plan, attainment, score, total, gate_failed, unit, lambda t, tables: lookup(t, tables)[0])
        total = run.score_stage()
    multiplier, tier_row = lookup(total, plan.employee_tier_table)
    if run is not None:
        multiplier, tier_row = run.tier_stage(multiplier, tier_row)
    before = k.payouts_before_pool(
        plan.base_salary,
        plan.target_bonus_pct,
        multiplier,
        plan.company_multiplier,
        plan.proration,
        plan.eligible,
        gate_failed,
    )
    if run is not None:
        before = run.payout_stages(before)
    department_total, factor = k.pool_factors(
        plan.employee_department, before, plan.department_pool, plan.pool_mode, plan.n_departments
    )
    payout = k.allocate_payouts(
        before, plan.employee_department, factor, plan.department_pool, plan.rounding
    )
    return Scores(
        attainment=attainment,
        score=score,
        weighted=weighted,
        row_gate_failed=row_gate_failed,
        total=total,
        gate_failed=gate_failed,
        multiplier=multiplier,
        tier_row=tier_row,
        payout_before_pool=before,
        department_total=department_total,
        department_factor=factor,
        payout=payout,
        rules=run.outcome() if run is not None else None,
    )
