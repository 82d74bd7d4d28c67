"""The plain NumPy/Python twin of every kernel in ``kpi_xl.kernels``.

Written independently of the kernels - vectorised NumPy where the kernels
loop, exact ``decimal`` arithmetic where the kernels use integer tricks - so
that agreement between the two (tests/test_parity.py) means something.  It is
also the engine wherever numba cannot run (xlwings Lite / Pyodide), selected
with ``KPI_XL_ENGINE=reference``.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import numpy as np

from .kernels import (
    METHOD_BINARY,
    METHOD_DIRECT,
    METHOD_LINEAR,
    METHOD_LINEAR_CURVE,
    METHOD_STEP,
    SMALLEST_EXACT,
    TOLERANCE,
)


def at_least(value: np.ndarray, boundary: np.ndarray) -> np.ndarray:
    boundary = np.asarray(boundary, dtype=float)
    return np.asarray(value) >= boundary - TOLERANCE * np.maximum(1.0, np.abs(boundary))


def score_rows(
    row_kpi,
    target,
    actual,
    kpi_method,
    kpi_lower,
    kpi_threshold,
    kpi_stretch,
    kpi_threshold_score,
    kpi_target_score,
    kpi_stretch_score,
    kpi_gate,
    kpi_curve,
    curve_offsets,
    curve_x,
    curve_y,
):
    method = kpi_method[row_kpi]
    lower = kpi_lower[row_kpi]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        attainment = np.where(
            lower,
            np.where(actual == 0.0, np.inf, target / np.where(actual == 0.0, 1.0, actual)),
            actual / target,
        )
    direct = method == METHOD_DIRECT
    attainment = np.where(direct, np.nan, attainment)
    score = np.zeros(len(row_kpi))
    gate_at = np.full(len(row_kpi), np.nan)

    # linear, threshold / stretch
    rows = np.flatnonzero(method == METHOD_LINEAR)
    if rows.size:
        k = row_kpi[rows]
        a = attainment[rows]
        thr, st = kpi_threshold[k], kpi_stretch[k]
        ts, tg, ss = kpi_threshold_score[k], kpi_target_score[k], kpi_stretch_score[k]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            rising = ts + (a - thr) * (tg - ts) / (1.0 - thr)
            above = tg + (a - 1.0) * (ss - tg) / (st - 1.0)
        s = np.where(at_least(a, 1.0), above, rising)
        s = np.where(at_least(a, st), ss, s)
        s = np.where(at_least(a, thr), s, 0.0)
        score[rows] = s
        gate_at[rows] = thr

    rows = np.flatnonzero(method == METHOD_BINARY)
    if rows.size:
        k = row_kpi[rows]
        score[rows] = np.where(at_least(attainment[rows], 1.0), kpi_target_score[k], 0.0)
        gate_at[rows] = 1.0

    rows = np.flatnonzero((method == METHOD_LINEAR_CURVE) | (method == METHOD_STEP))
    for curve in np.unique(kpi_curve[row_kpi[rows]]) if rows.size else []:
        mine = rows[kpi_curve[row_kpi[rows]] == curve]
        xs = curve_x[curve_offsets[curve] : curve_offsets[curve + 1]]
        ys = curve_y[curve_offsets[curve] : curve_offsets[curve + 1]]
        a = attainment[mine]
        # j = last point whose attainment the row reaches (-1: below the first)
        reached = at_least(a[:, None], xs[None, :])
        j = reached.sum(axis=1) - 1
        base = np.where(j >= 0, ys[np.clip(j, 0, None)], 0.0)
        nxt = np.clip(j + 1, 0, len(xs) - 1)
        inner = (j >= 0) & (j + 1 < len(xs))
        jj = np.clip(j, 0, None)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            slope_part = base + (a - xs[jj]) * (ys[nxt] - ys[jj]) / (xs[nxt] - xs[jj])
        interpolate = method[mine] == METHOD_LINEAR_CURVE
        score[mine] = np.where(interpolate & inner, slope_part, base)
        gate_at[mine] = xs[0]

    rows = np.flatnonzero(direct)
    if rows.size:
        k = row_kpi[rows]
        s = np.minimum(np.maximum(actual[rows], 0.0), kpi_stretch_score[k])
        score[rows] = s
    gate = kpi_gate[row_kpi]
    compared = np.where(direct, score, attainment)
    threshold = np.where(direct, kpi_threshold_score[row_kpi], gate_at)
    gate_failed = gate & ~at_least(compared, np.nan_to_num(threshold, nan=0.0))
    return attainment, score, gate_failed


def employee_totals(row_employee, weight, score, row_gate_failed, n_employees):
    weighted = weight * score
    total = np.zeros(n_employees)
    np.add.at(total, row_employee, weighted)
    gate_failed = np.zeros(n_employees, dtype=bool)
    gate_failed[row_employee[row_gate_failed]] = True
    return weighted, total, gate_failed


def tier_lookup(total, employee_tier_table, tier_offsets, tier_min, tier_multiplier, linear):
    m = len(total)
    multiplier = np.zeros(m)
    tier_row = np.full(m, -1, dtype=np.int64)
    for t in range(len(tier_offsets) - 1):
        people = np.flatnonzero(employee_tier_table == t)
        if not people.size:
            continue
        lo, hi = tier_offsets[t], tier_offsets[t + 1]
        mins, mults = tier_min[lo:hi], tier_multiplier[lo:hi]
        reached = at_least(total[people][:, None], mins[None, :])
        j = reached.sum(axis=1) - 1
        tier_row[people] = np.where(j >= 0, lo + j, -1)
        jj = np.clip(j, 0, None)
        nxt = np.clip(j + 1, 0, len(mins) - 1)
        value = mults[jj]
        if linear:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                between = mults[jj] + (total[people] - mins[jj]) * (mults[nxt] - mults[jj]) / (mins[nxt] - mins[jj])
            value = np.where(j + 1 < len(mins), between, value)
        multiplier[people] = np.where(j >= 0, value, 0.0)
    return multiplier, tier_row


def payouts_before_pool(base_salary, target_bonus_pct, multiplier, company_multiplier, proration, eligible, gate_failed):
    amount = base_salary * target_bonus_pct * multiplier * company_multiplier * proration
    return np.where(eligible & ~gate_failed, amount, 0.0)


def pool_factors(employee_department, payout_before, department_pool, pool_mode, n_departments):
    total = np.zeros(n_departments)
    np.add.at(total, employee_department, payout_before)
    factor = np.ones(n_departments)
    if pool_mode == 0:
        return total, factor
    has_pool = ~np.isnan(department_pool)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = department_pool / total
    if pool_mode == 1:
        factor = np.where(has_pool & (total > department_pool), ratio, 1.0)
    else:
        factor = np.where(has_pool & (total >= SMALLEST_EXACT), ratio, 1.0)
    return total, factor


# ------------------------------------------------------------------ money, exactly


def _shown(x: float) -> Decimal:
    """The value as Excel shows it: 15 significant digits."""
    return Decimal(format(x, ".15g"))


def excel_round_one(x: float, digits: int) -> float:
    if x == 0.0 or not np.isfinite(x):
        return float(x)
    return float(_shown(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def excel_round(values, digits):
    return np.array([excel_round_one(float(x), digits) for x in values], dtype=float)


def allocate_payouts(payout_before, employee_department, department_factor, department_pool, digits):
    unit = Decimal(1).scaleb(-digits)
    payout = [Decimal(0)] * len(payout_before)
    for d, factor in enumerate(department_factor):
        people = [e for e in range(len(payout_before)) if employee_department[e] == d]
        values = {e: float(payout_before[e] * factor) for e in people}
        if factor == 1.0:
            for e in people:
                payout[e] = _shown(values[e]).quantize(unit, rounding=ROUND_HALF_UP) if values[e] else Decimal(0)
            continue
        sharing = [e for e in people if payout_before[e] > 0.0]
        if not sharing:
            continue
        floors = {e: _shown(values[e]).quantize(unit, rounding=ROUND_DOWN) for e in sharing}
        remainders = {e: (_shown(values[e]) - floors[e]) / unit for e in sharing}
        wanted = _shown(float(department_pool[d])).quantize(unit, rounding=ROUND_HALF_UP)
        leftover = int((wanted - sum(floors.values())) / unit)
        order = sorted(sharing, key=lambda e: (-remainders[e], e))
        for i in range(max(leftover, 0)):
            floors[order[i % len(order)]] += unit
        for i in range(max(-leftover, 0)):
            floors[order[len(order) - 1 - i % len(order)]] -= unit
        for e in sharing:
            payout[e] = floors[e]
    return np.array([float(p) for p in payout], dtype=float)
