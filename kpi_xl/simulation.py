"""Monte Carlo bonus cost: ``kpi-xl simulate``.

The Forecast sheet says, per KPI (optionally per department), how the year-end
actual may turn out, as a fraction of target: normal(mean, sd) or
triangular(low, most_likely, high). Each scenario draws one fraction per
forecast line — every scorecard row of that KPI (in that department) moves
together, as a company or department result does — sets those rows' actuals
to target × fraction, and scores the whole company with the same kernels as
``kpi-xl score``: scores, totals, gates, tiers, proration, pools, cent-exact
rounding. Rows of KPIs without a forecast keep the workbook's actual.

Two implementations, one answer: ``simulate_kernel`` runs the scenarios in
parallel (numba ``prange``) and calls the scoring kernels for each;
``simulate_reference`` is the same loop over the reference twin. The random
fractions are drawn outside the kernels, chunk by chunk, from a NumPy
generator seeded by (seed, chunk number) with a fixed chunk size, so a seed
gives the same numbers whatever the number of threads or the engine.

Decision: the Rules sheet is not applied in the simulation (its evaluation is
vectorised NumPy over employees, not a kernel); a workbook with rules gets a
warning saying so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import schema
from .compiling import Plan
from .problems import Problem, Problems

CHUNK = 256  # scenarios per chunk: fixed, so the random stream does not depend on threads
NORMAL, TRIANGULAR = 0, 1
PERCENTILES = (10, 50, 90, 99)
HISTOGRAM_BINS = 30


@dataclass
class Forecast:
    """The Forecast sheet, compiled: one line per (KPI, department or all)."""

    kind: np.ndarray  # int64 [g]: NORMAL or TRIANGULAR
    a: np.ndarray  # mean | low
    b: np.ndarray  # sd | most_likely
    c: np.ndarray  # unused | high
    row_group: np.ndarray  # int64 [n]: the forecast line moving each scorecard row, -1 none
    labels: list[str]  # "CO_REV", "IN_QUOTA (Sales)"

    @property
    def n_groups(self) -> int:
        return int(self.kind.shape[0])


@dataclass
class SimulationResult:
    runs: int
    seed: int
    department_names: list[str]
    total: np.ndarray  # [runs]: the company's bonus cost in each scenario
    department: np.ndarray  # [runs, d]
    budget_total: float  # NaN without any bonus budget
    budget_department: np.ndarray  # [d], NaN without a bonus budget (pool or bonus budget line)
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> list[dict[str, Any]]:
        """Mean, P10, P50, P90, P99, budget and the chance to exceed it: the company, then each department."""
        rows = [_describe("Company", self.total, self.budget_total)]
        for d, name in enumerate(self.department_names):
            rows.append(_describe(name, self.department[:, d], float(self.budget_department[d])))
        return rows


def _describe(scope: str, cost: np.ndarray, budget: float) -> dict[str, Any]:
    p10, p50, p90, p99 = np.percentile(cost, PERCENTILES)
    over = float(np.mean(cost > budget + 0.005)) if not math.isnan(budget) else math.nan
    return {
        "scope": scope,
        "mean": float(np.mean(cost)),
        "p10": float(p10),
        "p50": float(p50),
        "p90": float(p90),
        "p99": float(p99),
        "bonus_budget": budget,
        "chance_over_budget": over,
    }


# ------------------------------------------------------------------ the Forecast sheet


def read_forecast(raw: Any, book: Any, plan: Plan, problems: Problems) -> Forecast | None:
    """The Forecast sheet as a Forecast; problems with their cells. None when there is none."""
    from .validation import SheetReader

    reader = SheetReader(raw.tables.get(schema.FORECAST.key), schema.FORECAST, problems, raw.language)
    if reader.table is None:
        problems.error(
            reader.title, "",
            "kpi-xl simulate needs a Forecast sheet (预测): per KPI, how the year-end actual may turn out "
            "(see docs/workbook.md, 'Forecast sheet')",
        )
        return None
    if not reader.require():
        return None
    numbers = {key: reader.numbers(key) for key in ("mean", "sd", "low", "most_likely", "high")}
    kinds, a, b, c, labels, keys = [], [], [], [], [], {}
    departments = {name: d for d, name in enumerate(plan.department_names)}
    for i in range(reader.n):
        kpi_raw = reader.raw("kpi_id")[i]
        kpi = None if kpi_raw is None else str(kpi_raw).strip()
        if not kpi:
            continue
        if kpi not in book.kpis.index:
            reader.error("kpi_id", i, f"'{kpi}' is not a KPI of the KPIs sheet")
            continue
        k = book.kpis.index[kpi]
        if book.kpis.method[k] == "direct":
            reader.error("kpi_id", i, f"'{kpi}' is scored directly (its actual is the score, no target): "
                         "it cannot be forecast as a fraction of target")
            continue
        department = reader.raw("department")[i] if reader.has("department") else None
        department = None if department is None or str(department).strip() == "" else str(department).strip()
        if department is not None and department not in departments:
            reader.error("department", i, f"'{department}' is not a department of the Employees sheet")
            continue
        key = (k, department)
        if key in keys:
            reader.error("kpi_id", i, f"{kpi}{' in ' + department if department else ''} is forecast twice "
                         f"(also in row {keys[key]}): keep one")
            continue
        kind = schema.DISTRIBUTION.parse(reader.raw("distribution")[i])
        if kind is None:
            reader.error("distribution", i, "the distribution must be normal (正态) or triangular (三角)")
            continue
        if kind == "normal":
            mean, sd = numbers["mean"][i], numbers["sd"][i]
            if not (mean >= 0):
                reader.error("mean", i, "normal needs a mean of 0 or more, as a fraction of target (e.g. 100%)")
                continue
            if not (sd >= 0):
                reader.error("sd", i, "normal needs a standard deviation of 0 or more, as a fraction of target")
                continue
            kinds.append(NORMAL)
            a.append(mean), b.append(sd), c.append(math.nan)
        else:
            low, likely, high = numbers["low"][i], numbers["most_likely"][i], numbers["high"][i]
            if not (0 <= low <= likely <= high) or low == high:
                reader.error("low", i, "triangular needs 0 ≤ low ≤ most_likely ≤ high, with low below high "
                             "(fractions of target)")
                continue
            kinds.append(TRIANGULAR)
            a.append(low), b.append(likely), c.append(high)
        keys[key] = reader.row(i)
        labels.append(kpi if department is None else f"{kpi} ({department})")
    if not kinds:
        if not problems.has_errors:
            problems.error(reader.title, "A2", "the Forecast sheet has no lines: add at least one KPI to forecast")
        return None
    # each scorecard row moves with its department's line, else the KPI's line for all
    line_of = {key: g for g, key in enumerate(keys)}
    row_department = plan.employee_department[plan.row_employee]
    row_group = np.full(plan.row_kpi.shape[0], -1, dtype=np.int64)
    for i in range(row_group.shape[0]):
        k = int(plan.row_kpi[i])
        name = plan.department_names[int(row_department[i])]
        row_group[i] = line_of.get((k, name), line_of.get((k, None), -1))
    return Forecast(np.array(kinds, np.int64), np.array(a), np.array(b), np.array(c), row_group, labels)


def draw_fractions(forecast: Forecast, seed: int, chunk: int, size: int) -> np.ndarray:
    """The [size, groups] fractions of target for chunk number ``chunk`` (reproducible)."""
    rng = np.random.default_rng([seed, chunk])
    out = np.empty((size, forecast.n_groups))
    for g in range(forecast.n_groups):
        if forecast.kind[g] == NORMAL:
            out[:, g] = rng.normal(forecast.a[g], forecast.b[g], size) if forecast.b[g] > 0 else forecast.a[g]
        else:
            out[:, g] = rng.triangular(forecast.a[g], forecast.b[g], forecast.c[g], size)
    return np.maximum(out, 0.0)  # an actual cannot fall below zero


# ------------------------------------------------------------------ the two implementations


def _scenario_cost(k: Any, plan_arrays: tuple, actual: np.ndarray, department_cost: np.ndarray) -> float:
    """Score one scenario with kernel module k; department costs into department_cost."""
    (row_employee, row_kpi, weight, target, method, lower, threshold, stretch, threshold_score,
     target_score, stretch_score, gate, curve, curve_offsets, curve_x, curve_y, n_employees,
     employee_tier_table, tier_offsets, tier_min, tier_multiplier, linear, base_salary, target_bonus_pct,
     company_multiplier, proration, eligible, employee_department, department_pool, pool_mode,
     n_departments, rounding) = plan_arrays
    _, score, row_gate_failed = k.score_rows(
        row_kpi, target, actual, method, lower, threshold, stretch, threshold_score, target_score,
        stretch_score, gate, curve, curve_offsets, curve_x, curve_y,
    )
    _, total, gate_failed = k.employee_totals(row_employee, weight, score, row_gate_failed, n_employees)
    multiplier, _ = k.tier_lookup(total, employee_tier_table, tier_offsets, tier_min, tier_multiplier, linear)
    before = k.payouts_before_pool(
        base_salary, target_bonus_pct, multiplier, company_multiplier, proration, eligible, gate_failed
    )
    _, factor = k.pool_factors(employee_department, before, department_pool, pool_mode, n_departments)
    payout = k.allocate_payouts(before, employee_department, factor, department_pool, rounding)
    cost = 0.0
    for e in range(payout.shape[0]):
        department_cost[employee_department[e]] += payout[e]
        cost += payout[e]
    return cost


def _plan_arrays(plan: Plan) -> tuple:
    return (
        plan.row_employee, plan.row_kpi, plan.weight, plan.target, plan.kpi_method, plan.kpi_lower,
        plan.kpi_threshold, plan.kpi_stretch, plan.kpi_threshold_score, plan.kpi_target_score,
        plan.kpi_stretch_score, plan.kpi_gate, plan.kpi_curve, plan.curve_offsets, plan.curve_x, plan.curve_y,
        plan.n_employees, plan.employee_tier_table, plan.tier_offsets, plan.tier_min, plan.tier_multiplier,
        plan.tier_mode == 1, plan.base_salary, plan.target_bonus_pct, plan.company_multiplier, plan.proration,
        plan.eligible, plan.employee_department, plan.department_pool, plan.pool_mode, plan.n_departments,
        plan.rounding,
    )


def simulate_reference(plan: Plan, row_group: np.ndarray, fractions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[S] company cost and [S, d] department cost for the fractions [S, groups]: the reference twin."""
    from . import reference

    arrays = _plan_arrays(plan)
    moved = row_group >= 0
    total = np.zeros(fractions.shape[0])
    department = np.zeros((fractions.shape[0], plan.n_departments))
    for s in range(fractions.shape[0]):
        actual = plan.actual.copy()
        actual[moved] = plan.target[moved] * fractions[s, row_group[moved]]
        total[s] = _scenario_cost(reference, arrays, actual, department[s])
    return total, department


def _make_kernel() -> Callable | None:
    try:
        from numba import njit, prange
    except ImportError:  # e.g. Pyodide: the reference serves
        return None
    from . import kernels as k

    @njit(parallel=True, cache=True, error_model="numpy")
    def simulate_kernel(fractions, row_group, actual0, row_employee, row_kpi, weight, target, method, lower,
                        threshold, stretch, threshold_score, target_score, stretch_score, gate, curve,
                        curve_offsets, curve_x, curve_y, n_employees, employee_tier_table, tier_offsets,
                        tier_min, tier_multiplier, linear, base_salary, target_bonus_pct, company_multiplier,
                        proration, eligible, employee_department, department_pool, pool_mode, n_departments,
                        rounding):
        runs = fractions.shape[0]
        total = np.zeros(runs)
        department = np.zeros((runs, n_departments))
        for s in prange(runs):
            actual = actual0.copy()
            for i in range(actual.shape[0]):
                g = row_group[i]
                if g >= 0:
                    actual[i] = target[i] * fractions[s, g]
            _, score, row_gate_failed = k.score_rows(
                row_kpi, target, actual, method, lower, threshold, stretch, threshold_score, target_score,
                stretch_score, gate, curve, curve_offsets, curve_x, curve_y,
            )
            _, emp_total, gate_failed = k.employee_totals(row_employee, weight, score, row_gate_failed, n_employees)
            multiplier, _ = k.tier_lookup(emp_total, employee_tier_table, tier_offsets, tier_min, tier_multiplier,
                                          linear)
            before = k.payouts_before_pool(
                base_salary, target_bonus_pct, multiplier, company_multiplier, proration, eligible, gate_failed
            )
            _, factor = k.pool_factors(employee_department, before, department_pool, pool_mode, n_departments)
            payout = k.allocate_payouts(before, employee_department, factor, department_pool, rounding)
            cost = 0.0
            for e in range(payout.shape[0]):
                department[s, employee_department[e]] += payout[e]
                cost += payout[e]
            total[s] = cost
        return total, department

    return simulate_kernel


_KERNEL: list[Callable | None] = []


def simulate_kernel(plan: Plan, row_group: np.ndarray, fractions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same as simulate_reference, with numba over scenarios in parallel."""
    if not _KERNEL:
        _KERNEL.append(_make_kernel())
    kernel = _KERNEL[0]
    if kernel is None:
        return simulate_reference(plan, row_group, fractions)
    return kernel(np.ascontiguousarray(fractions), row_group, plan.actual, *_plan_arrays(plan))


# ------------------------------------------------------------------ running it


def simulate_book(raw: Any, runs: int, seed: int, engine: str | None = None,
                  progress: Callable[[int], None] | None = None) -> SimulationResult | list[Problem]:
    """Validate, compile, read the Forecast sheet and run ``runs`` scenarios. Problems when it cannot."""
    from .compiling import compile_plan
    from .engine import default_engine
    from .validation import validate

    book = validate(raw)
    problems = book.problems
    if problems.has_errors:
        return list(problems)
    plan = compile_plan(book)
    forecast = read_forecast(raw, book, plan, problems)
    if forecast is None or problems.has_errors:
        return list(problems)
    if book.rules:
        problems.warning(book.titles.get("Rules", "Rules"), "",
                         "the simulation does not apply the Rules sheet: costs are before the plan's rules")
    run = simulate_reference if (engine or default_engine()) == "reference" else simulate_kernel
    total = np.empty(runs)
    department = np.empty((runs, plan.n_departments))
    for chunk, start in enumerate(range(0, runs, CHUNK)):
        size = min(CHUNK, runs - start)
        fractions = draw_fractions(forecast, seed, chunk, size)
        total[start:start + size], department[start:start + size] = run(plan, forecast.row_group, fractions)
        if progress is not None:
            progress(size)
    # the bonus budget: each department's pool (whatever pool_mode says about paying it), else its
    # bonus budget line - the same budget as the Bonus cost sheet of kpi-xl score (kpi_xl.finance)
    from .finance import bonus_budget

    budget = bonus_budget(book, plan.department_names)
    budget_total, budget_department = budget.total, budget.department
    return SimulationResult(runs, seed, list(plan.department_names), total, department, budget_total,
                            budget_department, list(problems))


def histogram(cost: np.ndarray, bins: int = HISTOGRAM_BINS) -> list[tuple[float, float, int]]:
    """(from, to, runs) per bin of the company cost."""
    low, high = float(np.min(cost)), float(np.max(cost))
    if high == low:
        return [(low, high, int(cost.shape[0]))]
    counts, edges = np.histogram(cost, bins=bins, range=(low, high))
    return [(float(edges[i]), float(edges[i + 1]), int(counts[i])) for i in range(bins)]


def write_simulation(result: SimulationResult, destination: Any, language: str = "en") -> Any:
    """A new workbook: the Simulation sheet (summary, histogram table, bar chart), saved atomically."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    from .writing import save_atomically

    zh = language == "zh"
    book = Workbook()
    sheet = book.active
    sheet.title = "模拟" if zh else "Simulation"
    columns = ("scope", "mean", "p10", "p50", "p90", "p99", "bonus_budget", "chance_over_budget")
    title = (f"奖金成本蒙特卡洛模拟：{result.runs:,} 次，随机种子 {result.seed}" if zh else
             f"Bonus cost, Monte Carlo: {result.runs:,} scenarios, seed {result.seed}")
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([schema.COLUMN_ZH[c] if zh else c for c in columns])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in result.summary():
        values = [row[c] for c in columns]
        values = [None if isinstance(v, float) and math.isnan(v) else v for v in values]
        if zh and values[0] == "Company":
            values[0] = "公司合计"
        sheet.append(values)
        r = sheet.max_row
        for col in range(2, 8):
            sheet.cell(r, col).number_format = "#,##0.00"
        sheet.cell(r, 8).number_format = "0.0%"
    sheet.append([])
    sheet.append([schema.COLUMN_ZH[c] if zh else c for c in ("cost_from", "cost_to", "runs")])
    start = sheet.max_row  # the histogram's header row
    for cell in sheet[start]:
        cell.font = Font(bold=True)
    for low, high, count in histogram(result.total):
        sheet.append([low, high, count])
        sheet.cell(sheet.max_row, 1).number_format = "#,##0"
        sheet.cell(sheet.max_row, 2).number_format = "#,##0"
    end = sheet.max_row
    chart = BarChart()
    chart.title = "公司奖金成本分布" if zh else "Company bonus cost: scenarios by cost"
    chart.y_axis.title = "次数" if zh else "scenarios"
    chart.x_axis.title = "奖金成本（区间下限）" if zh else "bonus cost (bin from)"
    chart.add_data(Reference(sheet, min_col=3, min_row=start, max_row=end), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=start + 1, max_row=end))
    chart.gapWidth = 10
    chart.legend = None
    chart.width, chart.height = 22, 11
    sheet.add_chart(chart, "J2")
    for column, width in zip("ABCDEFGH", (22, 14, 14, 14, 14, 14, 14, 18)):
        sheet.column_dimensions[column].width = width
    return save_atomically(book, destination)
