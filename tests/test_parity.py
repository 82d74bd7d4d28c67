"""Kernels (numba) vs their reference twin (NumPy/decimal): same numbers on random plans.

Values are planted on purpose on thresholds, stretch, curve points and tier
boundaries, at zero, at infinite attainment (lower-is-better with actual 0)
and below zero, because that is where two implementations drift apart.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kpi_xl import kernels, reference
from kpi_xl.compiling import Plan
from kpi_xl.engine import run_plan

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

EDGE_RATIOS = [0.0, 0.5, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2, 1.5]
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def curves(draw, count):
    offsets = [0]
    xs: list[float] = []
    ys: list[float] = []
    for _ in range(count):
        points = draw(
            st.lists(
                st.one_of(st.sampled_from(EDGE_RATIOS), st.floats(0, 2, allow_nan=False, allow_subnormal=False)),
                min_size=1,
                max_size=6,
                unique=True,
            )
        )
        points.sort()
        xs += points
        ys += draw(st.lists(st.floats(0, 200, allow_nan=False, allow_subnormal=False), min_size=len(points), max_size=len(points)))
        offsets.append(len(xs))
    return np.array(offsets, dtype=np.int64), np.array(xs), np.array(ys)


@st.composite
def kpi_rows(draw):
    n_kpis = draw(st.integers(1, 6))
    n_curves = draw(st.integers(1, 3))
    offsets, cx, cy = draw(curves(n_curves))
    method = np.array(draw(st.lists(st.integers(0, 4), min_size=n_kpis, max_size=n_kpis)), dtype=np.int64)
    curve = np.array(draw(st.lists(st.integers(0, n_curves - 1), min_size=n_kpis, max_size=n_kpis)), dtype=np.int64)
    curve = np.where((method == 1) | (method == 2), curve, -1)
    threshold = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 0.8, 0.9, 1.0]), min_size=n_kpis, max_size=n_kpis)))
    stretch = np.array(draw(st.lists(st.sampled_from([1.0, 1.1, 1.2, 1.5, 2.0]), min_size=n_kpis, max_size=n_kpis)))
    scores = [
        np.array(draw(st.lists(st.floats(0, 200, allow_nan=False, allow_subnormal=False), min_size=n_kpis, max_size=n_kpis)))
        for _ in range(3)
    ]
    lower = np.array(draw(st.lists(st.booleans(), min_size=n_kpis, max_size=n_kpis)))
    gate = np.array(draw(st.lists(st.booleans(), min_size=n_kpis, max_size=n_kpis)))
    n = draw(st.integers(1, 40))
    row_kpi = np.array(draw(st.lists(st.integers(0, n_kpis - 1), min_size=n, max_size=n)), dtype=np.int64)
    target = np.array(draw(st.lists(st.sampled_from([1.0, 3.0, 100.0, 250000.0, 0.07]), min_size=n, max_size=n)))
    # actual: often exactly on an edge ratio of the target, sometimes 0, negative or random
    ratio = draw(st.lists(st.one_of(st.sampled_from(EDGE_RATIOS), st.floats(-0.5, 3, allow_nan=False, allow_subnormal=False)), min_size=n, max_size=n))
    actual = np.array(ratio) * target
    for i in range(n):
        if lower[row_kpi[i]]:
            actual[i] = abs(actual[i]) if ratio[i] == 0 else target[i] / ratio[i] if ratio[i] > 1e-9 else abs(actual[i])
    return (
        row_kpi, target, actual, method, lower, threshold, stretch,
        scores[0], scores[1], scores[2], gate, curve, offsets, cx, cy,
    )


def assert_same(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9, equal_nan=True)


@SETTINGS
@given(kpi_rows())
def test_score_rows_agree(args):
    fast = kernels.score_rows(*args)
    slow = reference.score_rows(*args)
    assert_same(fast[0], slow[0])  # attainment, inf included
    assert_same(fast[1], slow[1])  # score
    np.testing.assert_array_equal(fast[2], slow[2])  # gate failures


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 9), st.floats(0, 1, allow_nan=False, allow_subnormal=False), st.floats(0, 200, allow_nan=False, allow_subnormal=False), st.booleans()), min_size=1, max_size=60)
)
def test_employee_totals_agree(rows):
    employee = np.array([r[0] for r in rows], dtype=np.int64)
    weight = np.array([r[1] for r in rows])
    score = np.array([r[2] for r in rows])
    gate = np.array([r[3] for r in rows])
    fast = kernels.employee_totals(employee, weight, score, gate, 10)
    slow = reference.employee_totals(employee, weight, score, gate, 10)
    for f, s in zip(fast, slow):
        assert_same(np.asarray(f, dtype=float), np.asarray(s, dtype=float))


@st.composite
def tier_tables(draw):
    n_tables = draw(st.integers(1, 3))
    offsets = [0]
    mins: list[float] = []
    mults: list[float] = []
    for _ in range(n_tables):
        rows = sorted(draw(st.lists(st.sampled_from([0.0, 50.0, 80.0, 90.0, 100.0, 110.0, 120.0, 150.0]), min_size=1, max_size=6, unique=True)))
        mins += rows
        mults += draw(st.lists(st.floats(0, 3, allow_nan=False, allow_subnormal=False), min_size=len(rows), max_size=len(rows)))
        offsets.append(len(mins))
    return np.array(offsets, dtype=np.int64), np.array(mins), np.array(mults)


@SETTINGS
@given(
    tier_tables(),
    st.lists(st.one_of(st.sampled_from([0.0, 49.999999999999, 80.0, 99.99999999999999, 100.0, 100.00000000000001, 150.0, 1e9]), st.floats(-10, 200, allow_nan=False, allow_subnormal=False)), min_size=1, max_size=30),
    st.booleans(),
    st.data(),
)
def test_tier_lookup_agrees(tables, totals, linear, data):
    offsets, mins, mults = tables
    total = np.array(totals)
    table = np.array(data.draw(st.lists(st.integers(0, len(offsets) - 2), min_size=len(totals), max_size=len(totals))), dtype=np.int64)
    fast = kernels.tier_lookup(total, table, offsets, mins, mults, linear)
    slow = reference.tier_lookup(total, table, offsets, mins, mults, linear)
    assert_same(fast[0], slow[0])
    np.testing.assert_array_equal(fast[1], slow[1])


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 3), st.floats(0, 1e6, allow_nan=False, allow_subnormal=False)), min_size=1, max_size=40),
    st.lists(st.one_of(st.just(math.nan), st.floats(0, 2e6, allow_nan=False, allow_subnormal=False)), min_size=4, max_size=4),
    st.integers(0, 2),
)
def test_pool_factors_agree(people, pools, mode):
    department = np.array([p[0] for p in people], dtype=np.int64)
    before = np.array([p[1] for p in people])
    pool = np.array(pools)
    fast = kernels.pool_factors(department, before, pool, mode, 4)
    slow = reference.pool_factors(department, before, pool, mode, 4)
    assert_same(fast[0], slow[0])
    assert_same(fast[1], slow[1])


money = st.one_of(
    st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_subnormal=False),
    st.decimals(min_value=0, max_value=10**9, places=3).map(float),  # exact x.xx5 halves
    st.integers(0, 10**9).map(lambda c: c / 1000 + 0.0005),
)


@SETTINGS
@given(st.lists(money, min_size=1, max_size=50), st.integers(0, 6), st.booleans())
def test_excel_round_agrees_exactly(values, digits, negative):
    x = np.array(values) * (-1.0 if negative else 1.0)
    np.testing.assert_array_equal(kernels.excel_round(x, digits), reference.excel_round(x, digits))


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 2), st.one_of(st.just(0.0), st.floats(0.01, 1e5, allow_nan=False, allow_subnormal=False))), min_size=1, max_size=40),
    st.lists(st.floats(0, 3e5, allow_nan=False, allow_subnormal=False), min_size=3, max_size=3),
    st.integers(0, 2),
    st.sampled_from([0, 2]),
)
def test_allocation_agrees_and_adds_up(people, pools, mode, digits):
    department = np.array([p[0] for p in people], dtype=np.int64)
    before = np.array([p[1] for p in people])
    pool = np.array(pools)
    _, factor = kernels.pool_factors(department, before, pool, mode, 3)
    fast = kernels.allocate_payouts(before, department, factor, pool, digits)
    slow = reference.allocate_payouts(before, department, factor, pool, digits)
    np.testing.assert_array_equal(fast, slow)
    unit = Decimal(1).scaleb(-digits)
    for d in range(3):
        if factor[d] != 1.0 and before[department == d].sum() > 0:
            total = sum(Decimal(repr(float(v))) for v in fast[department == d])
            wanted = Decimal(format(pool[d], ".15g")).quantize(unit, rounding=ROUND_HALF_UP)
            assert total == wanted


@st.composite
def plans(draw):
    args = draw(kpi_rows())
    (row_kpi, target, actual, method, lower, threshold, stretch, ts, tg, ss, gate, curve, offsets, cx, cy) = args
    n = len(row_kpi)
    m = draw(st.integers(1, 8))
    tiers = draw(tier_tables())
    row_employee = np.array(draw(st.lists(st.integers(0, m - 1), min_size=n, max_size=n)), dtype=np.int64)
    assume(len(set(row_employee.tolist())) == m)
    d = draw(st.integers(1, 3))
    return Plan(
        row_employee=row_employee, row_kpi=row_kpi,
        weight=np.array(draw(st.lists(st.floats(0, 1, allow_nan=False, allow_subnormal=False), min_size=n, max_size=n))),
        target=target, actual=actual, kpi_method=method, kpi_lower=lower, kpi_threshold=threshold,
        kpi_stretch=stretch, kpi_threshold_score=ts, kpi_target_score=tg, kpi_stretch_score=ss,
        kpi_gate=gate, kpi_curve=curve, curve_offsets=offsets, curve_x=cx, curve_y=cy,
        employee_tier_table=np.array(draw(st.lists(st.integers(0, len(tiers[0]) - 2), min_size=m, max_size=m)), dtype=np.int64),
        employee_department=np.array(draw(st.lists(st.integers(0, d - 1), min_size=m, max_size=m)), dtype=np.int64),
        base_salary=np.array(draw(st.lists(st.floats(0, 3e5, allow_nan=False, allow_subnormal=False), min_size=m, max_size=m))),
        target_bonus_pct=np.array(draw(st.lists(st.sampled_from([0.0, 0.05, 0.1, 0.15, 0.2, 0.3]), min_size=m, max_size=m))),
        eligible=np.array(draw(st.lists(st.booleans(), min_size=m, max_size=m))),
        proration=np.array(draw(st.lists(st.floats(0, 1, allow_nan=False, allow_subnormal=False), min_size=m, max_size=m))),
        employed_days=np.full(m, -1, dtype=np.int64), period_days=0,
        tier_offsets=tiers[0], tier_min=tiers[1], tier_multiplier=tiers[2],
        tier_mode=draw(st.integers(0, 1)),
        department_pool=np.array(draw(st.lists(st.floats(0, 1e6, allow_nan=False, allow_subnormal=False), min_size=d, max_size=d))),
        pool_mode=draw(st.integers(0, 2)),
        company_multiplier=draw(st.sampled_from([1.0, 0.9, 1.05, 1.2])),
        rounding=draw(st.sampled_from([0, 2])),
        department_names=[f"D{i}" for i in range(d)], tier_labels=[],
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(plans())
def test_whole_pipeline_agrees(plan):
    fast = run_plan(plan, "numba")
    slow = run_plan(plan, "reference")
    for name in ("attainment", "score", "weighted", "total", "multiplier", "payout_before_pool", "department_factor"):
        assert_same(getattr(fast, name), getattr(slow, name))
    for name in ("row_gate_failed", "gate_failed", "tier_row"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name))
    # Payouts are money: equal to the cent unless a pool factor differs in its last bit.
    np.testing.assert_allclose(fast.payout, slow.payout, rtol=0, atol=10.0 ** -plan.rounding + 1e-9)


@pytest.mark.parametrize(
    "value, digits, expected",
    [
        (2.675, 2, 2.68),  # binary 2.67499999... but Excel shows 2.675
        (-2.675, 2, -2.68),  # half away from zero
        (1.005, 2, 1.01),
        (0.125, 2, 0.13),
        (0.5, 0, 1.0),
        (1.5, 0, 2.0),
        (2.5, 0, 3.0),  # not banker's rounding
        (1234.5649999, 2, 1234.56),
        (0.1 + 0.2, 2, 0.3),
        (1e-7, 2, 0.0),
        (123456789.125, 2, 123456789.13),
    ],
)
def test_excel_round_examples(value, digits, expected):
    for implementation in (kernels, reference):
        assert implementation.excel_round(np.array([value]), digits)[0] == expected
