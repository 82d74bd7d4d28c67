"""Kernel arrays -> the Results, Payouts and Departments tables, with notes.

Step 5 of the pipeline.  Columns use the contract's English keys; the writer
puts them under English or Chinese headers.  Every row gets a ``note`` that
explains its number in words.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import schema
from .compiling import POOL_NONE, TIER_LINEAR, Plan
from .engine import Scores
from .kernels import METHOD_BINARY, METHOD_DIRECT, METHOD_LINEAR, METHOD_LINEAR_CURVE
from .validation import ValidatedBook
from .values import percent, plain


def results_table(book: ValidatedBook, plan: Plan, scores: Scores) -> pd.DataFrame:
    kpis, employees = book.kpis, book.employees
    notes = [
        _row_note(book, plan, scores, i) for i in range(len(plan.row_kpi))
    ]
    return pd.DataFrame(
        {
            "employee_id": [employees.ids[e] for e in plan.row_employee],
            "kpi_id": [kpis.ids[k] for k in plan.row_kpi],
            "weight": plan.weight,
            "target": plan.target,
            "actual": plan.actual,
            "attainment": scores.attainment,
            "score": scores.score,
            "weighted_score": scores.weighted,
            "note": notes,
        }
    )


def _row_note(book: ValidatedBook, plan: Plan, scores: Scores, i: int) -> str:
    k = int(plan.row_kpi[i])
    method = int(plan.kpi_method[k])
    a = float(scores.attainment[i])
    s = float(scores.score[i])
    kpis = book.kpis
    if method == METHOD_DIRECT:
        raw = float(plan.actual[i])
        text = f"assessed score {plain(raw)}"
        if s != raw:
            text += f", kept within 0–{plain(plan.kpi_stretch_score[k])} → score {plain(s)}"
        text += " (direct)"
    else:
        text = f"attainment {percent(a)}"
        if plan.kpi_lower[k]:
            text += f" (lower is better: target {plain(plan.target[i])} / actual {plain(plan.actual[i])})"
        text += f" → score {plain(s)} ({_how(plan, k, a, s, kpis.curve[k])})"
    if plan.kpi_gate[k]:
        if scores.row_gate_failed[i]:
            text += f"; gate failed: {kpis.ids[k]} {_gate_text(plan, k, a, s)}"
        else:
            text += "; gate passed"
    line = kpis.budget_line[k]
    if line is not None:
        text += f"; budget line {line}"
    return text


def _how(plan: Plan, k: int, a: float, s: float, curve: str | None) -> str:
    method = int(plan.kpi_method[k])
    if method == METHOD_LINEAR:
        threshold, stretch = float(plan.kpi_threshold[k]), float(plan.kpi_stretch[k])
        if s == 0.0 and a < threshold:
            return f"below threshold {percent(threshold, 0)}"
        if a >= stretch:
            return f"at or above stretch {percent(stretch, 0)}: top score"
        if a < 1.0:
            return f"linear, threshold {percent(threshold, 0)} → target 100%"
        return f"linear, target 100% → stretch {percent(stretch, 0)}"
    if method == METHOD_BINARY:
        return "target met" if s > 0 else "target not met"
    kind = "linear on curve" if method == METHOD_LINEAR_CURVE else "step curve"
    return f"{kind} '{curve}'"


def _gate_text(plan: Plan, k: int, a: float, s: float) -> str:
    method = int(plan.kpi_method[k])
    if method == METHOD_DIRECT:
        return f"score {plain(s)} < {plain(plan.kpi_threshold_score[k])}"
    if method == METHOD_LINEAR:
        at = float(plan.kpi_threshold[k])
    elif method == METHOD_BINARY:
        at = 1.0
    else:
        at = float(plan.curve_x[plan.curve_offsets[plan.kpi_curve[k]]])
    return f"{percent(a)} < {percent(at, 0)}"


def payouts_table(book: ValidatedBook, plan: Plan, scores: Scores) -> pd.DataFrame:
    employees = book.employees
    language = book.language
    failing: dict[int, list[int]] = {}
    for i in np.flatnonzero(scores.row_gate_failed):
        failing.setdefault(int(plan.row_employee[i]), []).append(int(i))
    tiers, gates, notes = [], [], []
    for e in range(plan.n_employees):
        row = int(scores.tier_row[e])
        tier = plan.tier_labels[row] if row >= 0 else schema.word("no_bonus", language)
        tiers.append(tier)
        failed_rows = failing.get(e, [])
        if failed_rows:
            names = ", ".join(book.kpis.ids[int(plan.row_kpi[i])] for i in failed_rows)
            gates.append(f"{schema.word('failed', language)}: {names}")
        else:
            gates.append(schema.word("passed", language))
        notes.append(_payout_note(book, plan, scores, e, tier, failed_rows))
    return pd.DataFrame(
        {
            "employee_id": employees.ids,
            "name": employees.names,
            "department": employees.department,
            "total_score": scores.total,
            "tier": tiers,
            "multiplier": scores.multiplier,
            "gate": gates,
            "proration": plan.proration,
            "payout_before_pool": scores.payout_before_pool,
            "pool_factor": scores.department_factor[plan.employee_department],
            "payout": scores.payout,
            "note": notes,
        }
    )


def _payout_note(
    book: ValidatedBook, plan: Plan, scores: Scores, e: int, tier: str, failed_rows: list[int]
) -> str:
    parts = [f"total score {plain(scores.total[e])}"]
    multiplier = float(scores.multiplier[e])
    if scores.tier_row[e] < 0:
        parts.append(f"below the lowest tier → {tier}")
    else:
        row = int(scores.tier_row[e])
        how = "interpolated " if plan.tier_mode == TIER_LINEAR else ""
        parts.append(
            f"tier '{tier}' (from {plain(plan.tier_min[row])}) → {how}multiplier {plain(multiplier)}"
        )
    if failed_rows:
        details = "; ".join(
            f"{book.kpis.ids[int(plan.row_kpi[i])]} "
            f"{_gate_text(plan, int(plan.row_kpi[i]), float(scores.attainment[i]), float(scores.score[i]))}"
            for i in failed_rows
        )
        parts.append(f"gate failed: {details} → no bonus")
    if not plan.eligible[e]:
        parts.append("not eligible → no bonus")
    if plan.company_multiplier != 1.0:
        parts.append(f"company multiplier {plain(plan.company_multiplier)}")
    if plan.employed_days[e] >= 0 and plan.employed_days[e] != plan.period_days:
        parts.append(f"prorated {plan.employed_days[e]}/{plan.period_days} days")
    d = int(plan.employee_department[e])
    factor = float(scores.department_factor[d])
    if plan.pool_mode != POOL_NONE and factor != 1.0:
        parts.append(f"pool {plan.department_names[d]}: factor {factor:.4f}")
    return "; ".join(parts)


def departments_table(book: ValidatedBook, plan: Plan, scores: Scores) -> pd.DataFrame:
    d_count = plan.n_departments
    dept = plan.employee_department
    headcount = np.bincount(dept, minlength=d_count)
    eligible = np.bincount(dept, weights=plan.eligible.astype(float), minlength=d_count).astype(int)
    total_score = np.bincount(dept, weights=scores.total, minlength=d_count)
    payout = np.bincount(dept, weights=scores.payout, minlength=d_count)
    scale = 10.0**plan.rounding
    payout = np.round(payout * scale) / scale  # a sum of whole cents, without float noise
    with np.errstate(invalid="ignore", divide="ignore"):
        average = total_score / headcount
    return pd.DataFrame(
        {
            "department": plan.department_names,
            "headcount": headcount,
            "eligible_headcount": eligible,
            "average_total_score": average,
            "payout": payout,
            "pool": plan.department_pool,
            "pool_factor": scores.department_factor,
        }
    )


def problems_table(problems, language: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "severity": [schema.word(p.severity, language) for p in problems],
            "sheet": [p.sheet for p in problems],
            "cell": [p.where if p.sheet else "" for p in problems],
            "message": [p.message for p in problems],
        }
    )


def _finite(x: float) -> bool:
    return not (math.isnan(x) or math.isinf(x))
