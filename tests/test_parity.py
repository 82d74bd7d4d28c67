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


# ------------------------------------------------------------------ the Rules sheet
# (1) The vectorised compiler of rule expressions vs a per-person interpreter
#     (tests/naive_rules.py), on random expressions over random people with unknown
#     values, infinite attainments and numbers a hair off the literals they meet.
# (2) The whole pipeline with random rules at every stage: numba and the reference
#     twin give the same numbers and the same trace.

from kpi_xl.rules.checking import Facts, check_expression  # noqa: E402
from kpi_xl.rules.evaluation import compile_node, compile_rules  # noqa: E402
from kpi_xl.rules.language import parse  # noqa: E402
from kpi_xl.rules.sheet import rule_from_text  # noqa: E402
from tests import naive_rules  # noqa: E402

RULE_FACTS = Facts(kpi_index={"K0": 0, "K1": 1})
NUMBER_LITERALS = ["0", "1", "0.5", "1.1", "110%", "100", "120", "1e3", "3"]

number_atoms = st.sampled_from(
    ["total_score", "multiplier", "payout", "base_salary", 'attainment("K0")', 'score("K1")', 'actual("K0")',
     *NUMBER_LITERALS]
)
numbers_text = st.recursive(
    number_atoms,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda t: f"-{t}"),
        st.tuples(st.sampled_from(["min", "max"]), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
    ),
    max_leaves=5,
)
text_atoms = st.sampled_from(["department", "grade", '"d0"', '"D1"', '" d2 "', '"x"'])
truth_atoms = st.one_of(
    st.tuples(numbers_text, st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), numbers_text).map(
        lambda t: f"{t[0]} {t[1]} {t[2]}"
    ),
    st.tuples(text_atoms, st.sampled_from(["=", "<>"]), text_atoms).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
    st.tuples(text_atoms, st.sampled_from(["in", "not in"]), st.lists(text_atoms, min_size=1, max_size=3)).map(
        lambda t: f"{t[0]} {t[1]} ({', '.join(t[2])})"
    ),
    st.tuples(numbers_text, st.lists(numbers_text, min_size=1, max_size=3)).map(
        lambda t: f"{t[0]} in ({', '.join(t[1])})"
    ),
    st.sampled_from(["eligible", "gate_passed", "true", "no", "eligible = no"]),
)
truths_text = st.recursive(
    truth_atoms,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or", "且", "或"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda t: f"not ({t})"),
    ),
    max_leaves=6,
)

NEAR = [0.0, 1.0, 0.5, 1.1, 100.0, 120.0, 1000.0, 3.0]
near_numbers = st.one_of(
    st.sampled_from(NEAR),
    st.sampled_from(NEAR).map(lambda x: x * (1 + 1e-13)),
    st.sampled_from(NEAR).map(lambda x: x - 1e-13),
    st.floats(-5, 500, allow_nan=False, allow_subnormal=False),
)
maybe = st.one_of(near_numbers, st.just(math.nan), st.just(math.inf))


@st.composite
def populations(draw):
    m = draw(st.integers(1, 12))
    column = lambda s: draw(st.lists(s, min_size=m, max_size=m))  # noqa: E731
    return {
        "total_score": np.array(column(near_numbers)),
        "multiplier": np.array(column(near_numbers)),
        "payout": np.array(column(near_numbers)),
        "base_salary": np.array(column(near_numbers)),
        "department": np.array(column(st.sampled_from(["d0", "d1", "d2", "x"]))),
        "grade": np.array(column(st.sampled_from(["", "d0", "x"]))),
        "eligible": np.array(column(st.booleans())),
        "gate_passed": np.array(column(st.booleans())),
        ("attainment", 0): np.array(column(maybe)),
        ("score", 1): np.array(column(maybe)),
        ("actual", 0): np.array(column(maybe)),
    }


class ArraysEnv:
    """The environment an expression reads, from plain arrays."""

    def __init__(self, data):
        self.data = data

    def number(self, key):
        return self.data[key]

    def text(self, key):
        return self.data[key]

    def boolean(self, key):
        return self.data[key]

    def kpi(self, function, k):
        return self.data[(function, k)]


def _person(data, e):
    person = {k: (v[e].item() if hasattr(v[e], "item") else v[e]) for k, v in data.items() if isinstance(k, str)}
    person["kpi"] = {k: float(v[e]) for k, v in data.items() if isinstance(k, tuple)}
    return person


@SETTINGS
@given(truths_text, populations())
def test_conditions_agree_with_the_per_person_twin(text, data):
    node = parse(text)
    check_expression(node, text, RULE_FACTS, "ineligible", "true/false")
    value, known = compile_node(node)(ArraysEnv(data))
    m = len(data["department"])
    value = np.broadcast_to(value, (m,))
    known = np.broadcast_to(known, (m,))
    for e in range(m):
        expected = naive_rules.evaluate(node, _person(data, e))
        assert (bool(value[e]) if known[e] else None) == expected, (text, e)


@SETTINGS
@given(numbers_text, populations())
def test_values_agree_with_the_per_person_twin(text, data):
    node = parse(text)
    check_expression(node, text, RULE_FACTS, "ineligible", "number")
    value = np.broadcast_to(np.asarray(compile_node(node)(ArraysEnv(data)), dtype=float), (len(data["grade"]),))
    expected = np.array([naive_rules.evaluate(node, _person(data, e)) for e in range(len(data["grade"]))], dtype=float)
    assert_same(value, expected)


RULE_TEMPLATES = [
    ("add_score", "total_score < {t}", "{v}"),
    ("add_score", 'attainment("K0") >= {a} or department = "D0"', "-{v}"),
    ("cap_score", None, "{t}"),
    ("force_tier", "total_score >= {t}", "T{row}"),
    ("force_tier", 'not eligible', "No bonus"),
    ("set_multiplier", "multiplier > {mult}", "{mult}"),
    ("scale_multiplier", 'department in ("D0", "D2") and gate_passed', "{f}"),
    ("scale_multiplier", "tier = \"T{row}\"", "max(0.5, total_score / 100)"),
    ("cap_payout", "payout > {p}", "{p}"),
    ("cap_payout_multiple", None, "{x}"),
    ("ineligible", "payout < {p}", None),
    ("ineligible", 'score("K1") < {t}', None),
]


@st.composite
def plans_with_rules(draw):
    plan = draw(plans())
    m = plan.n_employees
    n_rows = int(plan.tier_offsets[-1])
    tables = [[f"T{r}" for r in range(plan.tier_offsets[t], plan.tier_offsets[t + 1])]
              for t in range(len(plan.tier_offsets) - 1)]
    facts = Facts(kpi_index={f"K{k}": k for k in range(len(plan.kpi_method))})
    rules = []
    for i, (action, condition, value) in enumerate(
        draw(st.lists(st.sampled_from(RULE_TEMPLATES), min_size=1, max_size=8))
    ):
        fill = {
            "t": draw(st.sampled_from([0, 50, 80, 100, 120])),
            "v": draw(st.sampled_from([5, 20, 40])),
            "a": draw(st.sampled_from(["90%", "1", "1.1"])),
            "row": draw(st.integers(0, n_rows - 1)),
            "mult": draw(st.sampled_from([0.5, 1, 1.5])),
            "f": draw(st.sampled_from([0.75, 1.1, 2])),
            "p": draw(st.sampled_from([0, 1000, 20000])),
            "x": draw(st.sampled_from([0.5, 1, 2])),
        }
        if "K0" not in facts.kpi_index or "K1" not in facts.kpi_index:
            if condition and "K" in condition:
                continue
        condition = condition.format(**fill) if condition else None
        value = value.format(**fill) if value else None
        rules.append(rule_from_text(f"R{i}", condition, action, value, facts, row=i + 2))
    if not rules:  # every drawn rule needed a KPI the plan lacks
        rules.append(rule_from_text("R0", None, "cap_score", 100, facts, row=2))
    plan.rules = compile_rules(
        rules,
        first=draw(st.booleans()),
        sheet="Rules",
        language="en",
        employee_ids=[str(e) for e in range(m)],
        departments=[plan.department_names[d] for d in plan.employee_department],
        grades=[None] * m,
        tier_tables=[f"table{t}" for t in plan.employee_tier_table],
        tier_names=[f"table{t}" for t in range(len(tables))],
        tier_rows_labels=tables,
        hire_dates=[None] * m,
        termination_dates=[None] * m,
        period_end=None,
    )
    return plan


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(plans_with_rules())
def test_whole_pipeline_with_rules_agrees(plan):
    fast = run_plan(plan, "numba")
    slow = run_plan(plan, "reference")
    for name in ("total", "multiplier", "payout_before_pool", "department_factor"):
        assert_same(getattr(fast, name), getattr(slow, name))
    np.testing.assert_array_equal(fast.tier_row, slow.tier_row)
    np.testing.assert_allclose(fast.payout, slow.payout, rtol=0, atol=10.0 ** -plan.rounding + 1e-9)
    np.testing.assert_array_equal(fast.rules.eligible, slow.rules.eligible)
    for a, b in zip(fast.rules.hits, slow.rules.hits):
        np.testing.assert_array_equal(a.people, b.people)
        np.testing.assert_array_equal(a.changed, b.changed)
        assert_same(a.value, b.value)
        np.testing.assert_allclose(a.effect, b.effect, rtol=1e-9, atol=1e-6)
    assert [str(p) for p in fast.rules.problems] == [str(p) for p in slow.rules.problems]
    # the effects add up to the payouts before pool with the rules minus without them
    plain = run_plan(Plan(**{**plan.__dict__, "rules": None}), "reference")
    effects = sum(float(h.effect.sum()) for h in slow.rules.hits)
    assert effects == pytest.approx(float(slow.payout_before_pool.sum() - plain.payout_before_pool.sum()),
                                    rel=1e-9, abs=1e-6)
