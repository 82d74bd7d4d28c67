"""The numba scoring core: arrays in, arrays out, no Python objects per row.

Step 4 of the pipeline.  Every public kernel here has a plain NumPy/Python
twin of the same name in ``kpi_xl.reference``; ``tests/test_parity.py`` proves
with hypothesis that both give the same numbers.  The kernels only compute:
inputs are validated before they get here, and nothing here raises.

Comparisons against thresholds, curve points and tier boundaries use a
relative tolerance of 1e-12 (``TOLERANCE``), so float noise such as
0.3 * 100 + 0.7 * 100 = 100.00000000000001 - or 99.99999999999999 - never
moves a person across a boundary.  Both twins use the same rule.
"""

from __future__ import annotations

import math

import numpy as np

try:  # numba is a hard dependency, but the reference twin serves where it cannot run
    from numba import njit
except ImportError:  # pragma: no cover - exercised only without numba (e.g. Pyodide)
    njit = None

TOLERANCE = 1e-12
SMALLEST_EXACT = 1e-8  # money rounding is exact from here up to 1e15 (see _fifteen_digits)

METHOD_LINEAR = 0
METHOD_LINEAR_CURVE = 1
METHOD_STEP = 2
METHOD_BINARY = 3
METHOD_DIRECT = 4


def _jit(function):
    """``@njit(cache=True)`` when numba is importable, else the plain function."""
    if njit is None:
        return function
    return njit(cache=True, nogil=True)(function)


# ------------------------------------------------------------------ scalars


@_jit
def at_least(value, boundary):
    """value >= boundary, forgiving float noise of 1e-12 relative."""
    return value >= boundary - TOLERANCE * max(1.0, abs(boundary))


@_jit
def attainment_of(actual, target, lower):
    """actual / target, or target / actual for lower-is-better (0 -> infinity)."""
    if lower:
        if actual == 0.0:
            return math.inf
        return target / actual
    return actual / target


@_jit
def score_linear(a, threshold, stretch, threshold_score, target_score, stretch_score):
    if not at_least(a, threshold):
        return 0.0
    if at_least(a, stretch):
        return stretch_score
    if not at_least(a, 1.0):
        return threshold_score + (a - threshold) * (target_score - threshold_score) / (1.0 - threshold)
    return target_score + (a - 1.0) * (stretch_score - target_score) / (stretch - 1.0)


@_jit
def score_curve(a, xs, ys, start, stop, interpolate):
    """Score on curve points [start, stop): linear interpolation or step."""
    if stop <= start or not at_least(a, xs[start]):
        return 0.0
    j = start
    while j + 1 < stop and at_least(a, xs[j + 1]):
        j += 1
    if not interpolate or j + 1 == stop:
        return ys[j]
    return ys[j] + (a - xs[j]) * (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])


# ------------------------------------------------------------------ row kernels


@_jit
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
    """Attainment, score and gate failure of every scorecard row."""
    n = row_kpi.shape[0]
    attainment = np.empty(n)
    score = np.empty(n)
    gate_failed = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        k = row_kpi[i]
        method = kpi_method[k]
        if method == METHOD_DIRECT:
            attainment[i] = math.nan
            s = min(max(actual[i], 0.0), kpi_stretch_score[k])
            score[i] = s
            if kpi_gate[k] and not at_least(s, kpi_threshold_score[k]):
                gate_failed[i] = True
            continue
        a = attainment_of(actual[i], target[i], kpi_lower[k])
        attainment[i] = a
        c = kpi_curve[k]
        if method == METHOD_LINEAR:
            score[i] = score_linear(
                a,
                kpi_threshold[k],
                kpi_stretch[k],
                kpi_threshold_score[k],
                kpi_target_score[k],
                kpi_stretch_score[k],
            )
            gate_at = kpi_threshold[k]
        elif method == METHOD_BINARY:
            score[i] = kpi_target_score[k] if at_least(a, 1.0) else 0.0
            gate_at = 1.0
        else:  # a curve: linear interpolation or step
            start = curve_offsets[c]
            stop = curve_offsets[c + 1]
            score[i] = score_curve(a, curve_x, curve_y, start, stop, method == METHOD_LINEAR_CURVE)
            gate_at = curve_x[start]
        if kpi_gate[k] and not at_least(a, gate_at):
            gate_failed[i] = True
    return attainment, score, gate_failed


@_jit
def employee_totals(row_employee, weight, score, row_gate_failed, n_employees):
    """Weighted scores, each employee's total (sheet order) and gate result."""
    n = row_employee.shape[0]
    weighted = np.empty(n)
    total = np.zeros(n_employees)
    gate_failed = np.zeros(n_employees, dtype=np.bool_)
    for i in range(n):
        e = row_employee[i]
        w = weight[i] * score[i]
        weighted[i] = w
        total[e] += w
        if row_gate_failed[i]:
            gate_failed[e] = True
    return weighted, total, gate_failed


@_jit
def tier_lookup(total, employee_tier_table, tier_offsets, tier_min, tier_multiplier, linear):
    """Multiplier and tier row (global index, -1 below the lowest) per employee."""
    m = total.shape[0]
    multiplier = np.zeros(m)
    tier_row = np.full(m, -1, dtype=np.int64)
    for e in range(m):
        t = employee_tier_table[e]
        if t < 0:
            continue
        start = tier_offsets[t]
        stop = tier_offsets[t + 1]
        j = -1
        for r in range(start, stop):
            if at_least(total[e], tier_min[r]):
                j = r
            else:
                break
        tier_row[e] = j
        if j < 0:
            continue
        if not linear or j + 1 == stop:
            multiplier[e] = tier_multiplier[j]
        else:
            multiplier[e] = tier_multiplier[j] + (total[e] - tier_min[j]) * (
                tier_multiplier[j + 1] - tier_multiplier[j]
            ) / (tier_min[j + 1] - tier_min[j])
    return multiplier, tier_row


@_jit
def payouts_before_pool(
    base_salary, target_bonus_pct, multiplier, company_multiplier, proration, eligible, gate_failed
):
    m = base_salary.shape[0]
    out = np.zeros(m)
    for e in range(m):
        if eligible[e] and not gate_failed[e]:
            out[e] = base_salary[e] * target_bonus_pct[e] * multiplier[e] * company_multiplier * proration[e]
    return out


@_jit
def pool_factors(employee_department, payout_before, department_pool, pool_mode, n_departments):
    """Each department's total before pool and its pool factor (1 without a pool).

    pool_mode: 0 none, 1 cap (scale down only when over the pool), 2 scale (to the pool).
    """
    total = np.zeros(n_departments)
    for e in range(employee_department.shape[0]):
        total[employee_department[e]] += payout_before[e]
    factor = np.ones(n_departments)
    if pool_mode == 0:
        return total, factor
    for d in range(n_departments):
        pool = department_pool[d]
        if math.isnan(pool):
            continue
        if pool_mode == 1:
            if total[d] > pool:
                factor[d] = pool / total[d]
        elif total[d] >= SMALLEST_EXACT:  # a total below that is nothing to scale
            factor[d] = pool / total[d]
    return total, factor


# ------------------------------------------------------------------ money


@_jit
def _two_product(a, b):
    """Dekker's exact product: a * b == p + err (no FMA needed)."""
    p = a * b
    split = 134217729.0  # 2**27 + 1
    t = split * a
    a_hi = t - (t - a)
    a_lo = a - a_hi
    t = split * b
    b_hi = t - (t - b)
    b_lo = b - b_hi
    err = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return p, err


@_jit
def _fifteen_digits(ax):
    """(M, e): ax as Excel shows it, M * 10**(e - 14) with 10**14 <= M < 10**15.

    Exact (correctly rounded, ties to even, like Python's '%.15g') for
    1e-8 <= ax < 1e15, where 10**(14 - e) is an exact double.
    """
    e = int(math.floor(math.log10(ax)))
    f = 0.0
    for _ in range(3):
        if 14 - e >= 0:
            scale = 10.0 ** (14 - e)
            p, err = _two_product(ax, scale)
        else:
            p = ax / 10.0 ** (e - 14)
            err = 0.0
        f = math.floor(p)
        frac = (p - f) + err
        if frac < 0.0:
            f -= 1.0
            frac += 1.0
        if frac > 0.5 or (frac == 0.5 and f % 2.0 == 1.0):
            f += 1.0
        if f >= 1e15:
            e += 1
        elif f < 1e14:
            e -= 1
        else:
            return f, e
    return f, e


@_jit
def _round_units(x, digits, floor_mode):
    """x in units of 10**-digits: (units, remainder in [0, 1)), half away from zero
    (or toward zero with floor_mode), on the 15-significant-digit decimal value."""
    if x == 0.0 or not math.isfinite(x):
        return 0.0, 0.0
    if abs(x) < SMALLEST_EXACT:  # far below a unit at any supported rounding
        return 0.0, abs(x) * 10.0**digits
    sign = 1.0 if x > 0 else -1.0
    mantissa, e = _fifteen_digits(abs(x))
    k = e - 14 + digits
    if k >= 0:
        return sign * mantissa * 10.0 ** k, 0.0
    if -k > 15:
        return 0.0, abs(x) * 10.0 ** digits
    divisor = 10.0 ** (-k)
    q = math.floor(mantissa / divisor)
    r = mantissa - q * divisor
    if r < 0.0:  # guard against a floor off by one on huge quotients
        q -= 1.0
        r += divisor
    elif r >= divisor:
        q += 1.0
        r -= divisor
    if not floor_mode and 2.0 * r >= divisor:
        q += 1.0
    return sign * q, r / divisor


@_jit
def excel_round(values, digits):
    """Excel's ROUND(x, digits) on each value: half away from zero on the decimal value."""
    out = np.empty(values.shape[0])
    scale = 10.0 ** digits
    for i in range(values.shape[0]):
        x = values[i]
        if x == 0.0 or not math.isfinite(x):
            out[i] = x
            continue
        if abs(x) < SMALLEST_EXACT:
            out[i] = 0.0 if x > 0 else -0.0
            continue
        mantissa, e = _fifteen_digits(abs(x))
        if e - 14 + digits >= 0:  # already no more decimals than asked: the shown value
            shown = mantissa * 10.0 ** (e - 14) if e >= 14 else mantissa / 10.0 ** (14 - e)
            out[i] = shown if x > 0 else -shown
            continue
        units, _ = _round_units(x, digits, False)
        out[i] = units / scale
    return out


@_jit
def allocate_payouts(payout_before, employee_department, department_factor, department_pool, digits):
    """Rounded payouts; where a pool factor other than 1 applies, the department's
    payouts add up to its rounded pool exactly (largest remainders get the cents,
    ties to the employee listed first)."""
    m = payout_before.shape[0]
    n_departments = department_factor.shape[0]
    scale = 10.0 ** digits
    units = np.zeros(m)
    remainder = np.zeros(m)
    for e in range(m):
        d = employee_department[e]
        value = payout_before[e] * department_factor[d]
        if department_factor[d] == 1.0:
            units[e], _ = _round_units(value, digits, False)
        else:
            units[e], remainder[e] = _round_units(value, digits, True)
    for d in range(n_departments):
        if department_factor[d] == 1.0:
            continue
        wanted, _ = _round_units(department_pool[d], digits, False)
        members = np.flatnonzero((employee_department == d) & (payout_before > 0.0))
        if members.shape[0] == 0:
            continue
        have = 0.0
        for e in members:
            have += units[e]
        leftover = int(wanted - have)
        # order: largest remainder first, then sheet order (a stable sort on -remainder)
        order = members[np.argsort(-remainder[members], kind="mergesort")]
        count = order.shape[0]
        i = 0
        while leftover > 0:
            units[order[i % count]] += 1.0
            leftover -= 1
            i += 1
        i = 0
        while leftover < 0:
            units[order[count - 1 - (i % count)]] -= 1.0
            leftover += 1
            i += 1
    return units / scale
