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
    """``@njit(cache=True)`` when numba is importable, else the plain function.

    ``error_model="numpy"``: a division by zero would give inf or nan instead
    of raising, so numba need not test every divisor (validated inputs never
    divide by zero: targets are above 0, curve points and tier boundaries
    distinct, and each branch divides only where its divisor is not 0).
    """
    if njit is None:
        return function
    return njit(cache=True, nogil=True, error_model="numpy")(function)


@_jit
def lowered(boundary):
    """The boundary that ``at_least`` compares with: value >= lowered(boundary)."""
    return boundary - TOLERANCE * max(1.0, abs(boundary))


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
    """Attainment, score and gate failure of every scorecard row.

    What depends only on the KPI (its boundaries lowered by the tolerance,
    the differences the linear rule divides) is worked out once per KPI, with
    the same operations ``at_least`` and ``score_linear`` do, so every number
    is the same as evaluating them row by row.
    """
    n = row_kpi.shape[0]
    n_kpis = kpi_method.shape[0]
    attainment = np.empty(n)
    score = np.empty(n)
    gate_failed = np.zeros(n, dtype=np.bool_)
    threshold_low = np.empty(n_kpis)  # at_least(a, threshold) <=> a >= threshold_low
    stretch_low = np.empty(n_kpis)
    gate_low = np.empty(n_kpis)  # a gate passes when the compared value >= gate_low
    rise = np.empty(n_kpis)  # target_score - threshold_score
    rise_over = np.empty(n_kpis)  # 1 - threshold
    climb = np.empty(n_kpis)  # stretch_score - target_score
    climb_over = np.empty(n_kpis)  # stretch - 1
    for k in range(n_kpis):
        threshold_low[k] = lowered(kpi_threshold[k])
        stretch_low[k] = lowered(kpi_stretch[k])
        rise[k] = kpi_target_score[k] - kpi_threshold_score[k]
        rise_over[k] = 1.0 - kpi_threshold[k]
        climb[k] = kpi_stretch_score[k] - kpi_target_score[k]
        climb_over[k] = kpi_stretch[k] - 1.0
        # a divisor of 0 belongs to a half of the line that is never kept
        # (threshold 1: nothing is below 1 and at or above it; stretch 1 likewise)
        if rise_over[k] == 0.0:
            rise_over[k] = 1.0
        if climb_over[k] == 0.0:
            climb_over[k] = 1.0
        method = kpi_method[k]
        if method == METHOD_DIRECT:
            gate_low[k] = lowered(kpi_threshold_score[k])
        elif method == METHOD_LINEAR:
            gate_low[k] = threshold_low[k]
        elif method == METHOD_BINARY:
            gate_low[k] = lowered(1.0)
        else:
            gate_low[k] = lowered(curve_x[curve_offsets[kpi_curve[k]]])
    one_low = lowered(1.0)
    # Pass 1, every row, without a branch that depends on the data: attainment,
    # the line's score (both halves computed, one kept), binary and direct
    # scores and gates; rows scored on a curve are only listed here.
    curve_rows = np.empty(n, dtype=np.int64)
    n_curve = 0
    for i in range(n):
        k = row_kpi[i]
        method = kpi_method[k]
        x = actual[i]
        t = target[i]
        lower = kpi_lower[k]
        numerator = t if lower else x
        denominator = x if lower else t
        zero = denominator == 0.0  # lower is better and actual 0: infinite attainment
        a = numerator / (1.0 if zero else denominator)
        a = math.inf if zero else a
        direct = method == METHOD_DIRECT
        attainment[i] = math.nan if direct else a
        line = a if a < stretch_low[k] else 1.0  # at or above stretch neither half is kept: no inf * 0
        rising = kpi_threshold_score[k] + (line - kpi_threshold[k]) * rise[k] / rise_over[k]
        above = kpi_target_score[k] + (line - 1.0) * climb[k] / climb_over[k]
        s = above if a >= one_low else rising
        s = kpi_stretch_score[k] if a >= stretch_low[k] else s
        s = s if a >= threshold_low[k] else 0.0
        s = (kpi_target_score[k] if a >= one_low else 0.0) if method == METHOD_BINARY else s
        clipped = min(max(x, 0.0), kpi_stretch_score[k])
        s = clipped if direct else s
        score[i] = s
        compared = s if direct else a
        gate_failed[i] = kpi_gate[k] & (not compared >= gate_low[k])
        curve_rows[n_curve] = i
        n_curve += (method == METHOD_LINEAR_CURVE) | (method == METHOD_STEP)
    # Pass 2, rows on a curve: the last point reached, then its score or the line to the next
    for r in range(n_curve):
        i = curve_rows[r]
        k = row_kpi[i]
        a = attainment[i]
        c = kpi_curve[k]
        start = curve_offsets[c]
        stop = curve_offsets[c + 1]
        if stop <= start or not a >= lowered(curve_x[start]):
            score[i] = 0.0
            continue
        j = start
        while j + 1 < stop and a >= lowered(curve_x[j + 1]):
            j += 1
        if kpi_method[k] != METHOD_LINEAR_CURVE or j + 1 == stop:
            score[i] = curve_y[j]
        else:
            score[i] = curve_y[j] + (a - curve_x[j]) * (curve_y[j + 1] - curve_y[j]) / (curve_x[j + 1] - curve_x[j])
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
    boundary = np.empty(tier_min.shape[0])  # at_least(x, tier_min[r]) <=> x >= boundary[r]
    for r in range(tier_min.shape[0]):
        boundary[r] = lowered(tier_min[r])
    for e in range(m):
        t = employee_tier_table[e]
        if t < 0:
            continue
        start = tier_offsets[t]
        stop = tier_offsets[t + 1]
        j = -1
        for r in range(start, stop):
            if total[e] >= boundary[r]:
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

EXACT_POWERS_OF_TEN = np.array([10.0**k for k in range(23)])  # 1e0 .. 1e22, all exact doubles


@_jit
def _pow10(k):
    """10.0 ** k, the exact power from a table for 0 <= k <= 22 (no libm call)."""
    if 0 <= k <= 22:
        return EXACT_POWERS_OF_TEN[k]
    return 10.0**k



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
            scale = _pow10(14 - e)
            p, err = _two_product(ax, scale)
        else:
            p = ax / _pow10(e - 14)
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
        return 0.0, abs(x) * _pow10(digits)
    sign = 1.0 if x > 0 else -1.0
    mantissa, e = _fifteen_digits(abs(x))
    k = e - 14 + digits
    if k >= 0:
        return sign * mantissa * _pow10(k), 0.0
    if -k > 15:
        return 0.0, abs(x) * _pow10(digits)
    divisor = _pow10(-k)
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
    scale = _pow10(digits)
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
            shown = mantissa * _pow10(e - 14) if e >= 14 else mantissa / _pow10(14 - e)
            out[i] = shown if x > 0 else -shown
            continue
        units, _ = _round_units(x, digits, False)
        out[i] = units / scale
    return out


@_jit
def _round_half_away_units(x, digits):
    """_round_units(x, digits, False)[0], quickly where no tie is near.

    y = |x| * 10**digits differs from the value Excel shows (15 significant
    digits) times 10**digits by less than 6e-15 * y.  When y is further than
    1e-14 * y from every half unit, both round to the same unit, floor(y + 0.5),
    which is exact below 10**15.  Otherwise the exact decimal path decides.
    """
    if x == 0.0 or not math.isfinite(x):
        return 0.0
    y = abs(x) * _pow10(digits)
    if y < 1e15:
        whole = math.floor(y)
        if abs((y - whole) - 0.5) > 1e-14 * y + 1e-300:
            units = math.floor(y + 0.5)
            return units if x > 0 else -units
    units, _ = _round_units(x, digits, False)
    return units


@_jit
def _cents_to_largest(units, remainder, members, leftover):
    """One unit more for the ``leftover`` (1..len(members)) members with the
    largest remainders, ties to the member listed first: the same members as
    the first ``leftover`` of a stable sort on -remainder, found in linear
    time.  Remainders lie in [0, 1): members are counted into about one bucket
    each by remainder; every bucket above the one where the count reaches
    ``leftover`` gets its unit, and only that bucket is sorted."""
    count = members.shape[0]
    buckets = count
    per_bucket = np.zeros(buckets, dtype=np.int64)
    slot = np.empty(count, dtype=np.int64)
    for j in range(count):
        b = min(max(int(remainder[members[j]] * buckets), 0), buckets - 1)
        slot[j] = b
        per_bucket[b] += 1
    need = leftover
    cut = buckets - 1
    while per_bucket[cut] < need:
        need -= per_bucket[cut]
        cut -= 1
    chosen = np.empty(per_bucket[cut], dtype=np.int64)  # the cut bucket's members, in sheet order
    c = 0
    for j in range(count):
        if slot[j] > cut:
            units[members[j]] += 1.0
        elif slot[j] == cut:
            chosen[c] = members[j]
            c += 1
    order = chosen[np.argsort(-remainder[chosen], kind="mergesort")]
    for a in range(need):
        units[order[a]] += 1.0


@_jit
def allocate_payouts(payout_before, employee_department, department_factor, department_pool, digits):
    """Rounded payouts; where a pool factor other than 1 applies, the department's
    payouts add up to its rounded pool exactly (largest remainders get the cents,
    ties to the employee listed first)."""
    m = payout_before.shape[0]
    n_departments = department_factor.shape[0]
    scale = _pow10(digits)
    units = np.zeros(m)
    remainder = np.zeros(m)
    sharing = np.zeros(n_departments + 1, dtype=np.int64)  # members of each pooled department, counted
    for e in range(m):
        d = employee_department[e]
        value = payout_before[e] * department_factor[d]
        if department_factor[d] == 1.0:
            units[e] = _round_half_away_units(value, digits)
        else:
            units[e], remainder[e] = _round_units(value, digits, True)
            if payout_before[e] > 0.0:
                sharing[d + 1] += 1
    # the sharing members of each department, in sheet order (a counting sort)
    for d in range(n_departments):
        sharing[d + 1] += sharing[d]
    members_of = np.empty(sharing[n_departments], dtype=np.int64)
    filled = sharing[:n_departments].copy()
    for e in range(m):
        d = employee_department[e]
        if department_factor[d] != 1.0 and payout_before[e] > 0.0:
            members_of[filled[d]] = e
            filled[d] += 1
    for d in range(n_departments):
        if department_factor[d] == 1.0:
            continue
        wanted, _ = _round_units(department_pool[d], digits, False)
        members = members_of[sharing[d] : sharing[d + 1]]
        if members.shape[0] == 0:
            continue
        have = 0.0
        for e in members:
            have += units[e]
        leftover = int(wanted - have)
        count = members.shape[0]
        if 0 < leftover <= count:
            _cents_to_largest(units, remainder, members, leftover)
            continue
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
