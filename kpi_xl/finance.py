"""Finance's view of a scored plan: the Bonus cost and Budget variance sheets.

* **Bonus cost** (奖金成本): per department, what the plan costs against the
  bonus budget — headcount, the on-target bonus, the average multiplier, the
  payout before and after pools, the budget, what is left of it, and the pool
  each department would need for everyone to be paid in full (with pool_mode
  none: what the pools would have to be).
* **Budget variance** (预算差异): per budget line and department, budget,
  actual, variance and variance %, whether it is favourable, and which KPIs
  and how many people take their numbers from the line.

A department's **bonus budget** is its row on the Pools sheet (whatever
pool_mode says about paying it), else the Budget sheet's line named by the
setting ``bonus_budget_line`` (default ``BONUS``) for that department — see
docs/decisions.md.  ``kpi-xl simulate`` compares its scenarios with the same
budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import schema
from .compiling import Plan
from .validation import ValidatedBook


@dataclass
class BonusBudget:
    """The bonus budget of each department of a plan, and where it comes from."""

    department: np.ndarray  # float64 [d], NaN without one
    source: list[str]  # "Pools", "Budget: BONUS" or "" per department

    @property
    def total(self) -> float:
        """The company's bonus budget: the departments' budgets added up (NaN when none has one)."""
        present = self.department[~np.isnan(self.department)]
        return float(math.fsum(present)) if present.size else math.nan


def bonus_budget(book: ValidatedBook, department_names: list[str]) -> BonusBudget:
    """Each department's bonus budget: its pool, else the bonus budget line."""
    line = book.settings.bonus_budget_line
    pools_title = book.titles.get(schema.POOLS.key, schema.POOLS.label(book.language))
    budget_title = book.titles.get(schema.BUDGET.key, schema.BUDGET.label(book.language))
    amounts, sources = [], []
    for name in department_names:
        if name in book.pools:
            amounts.append(book.pools[name])
            sources.append(pools_title)
        elif (line, name) in book.budget and not math.isnan(book.budget[(line, name)][0]):
            amounts.append(book.budget[(line, name)][0])
            sources.append(f"{budget_title}: {line}")
        else:
            amounts.append(math.nan)
            sources.append("")
    return BonusBudget(np.array(amounts, dtype=float), sources)


def _cents(values: np.ndarray, digits: int) -> np.ndarray:
    """Sums of rounded money amounts without float noise."""
    scale = 10.0**digits
    return np.round(np.asarray(values, dtype=float) * scale) / scale


def cost_table(book: ValidatedBook, plan: Plan, scores) -> pd.DataFrame:
    """The Bonus cost sheet: one row per department (Employees order), then the company total."""
    from .engine import kernels_for

    d_count = plan.n_departments
    dept = plan.employee_department
    eligible = plan.eligible.astype(float)
    headcount = np.bincount(dept, minlength=d_count).astype(float)
    eligible_count = np.bincount(dept, weights=eligible, minlength=d_count)
    on_target = plan.base_salary * plan.target_bonus_pct * plan.proration * eligible
    target_bonus = np.bincount(dept, weights=on_target, minlength=d_count)
    multiplier_sum = np.bincount(dept, weights=scores.multiplier, minlength=d_count)
    before = np.bincount(dept, weights=scores.payout_before_pool, minlength=d_count)
    payout = _cents(np.bincount(dept, weights=scores.payout, minlength=d_count), plan.rounding)
    # the pool that pays everyone in full: each payout before pool rounded as it would be paid
    full = kernels_for(None).excel_round(np.ascontiguousarray(scores.payout_before_pool), plan.rounding)
    needed = _cents(np.bincount(dept, weights=full, minlength=d_count), plan.rounding)
    budget = bonus_budget(book, plan.department_names)
    rounding = plan.rounding

    def row_values(h, e, t, m_sum, b, p, need, money, source):
        with np.errstate(invalid="ignore", divide="ignore"):
            return {
                "headcount": h,
                "eligible_headcount": e,
                "target_bonus": t,
                "average_multiplier": m_sum / h if h else math.nan,
                "payout_before_pool": b,
                "payout": p,
                "bonus_budget": money,
                "budget_source": source,
                "remaining_budget": float(_cents(np.array([money - p]), rounding)[0]),
                "budget_used": p / money if money and not math.isnan(money) else math.nan,
                "pool_needed": need,
            }

    rows = []
    for d, name in enumerate(plan.department_names):
        rows.append({"department": name, **row_values(
            headcount[d], eligible_count[d], target_bonus[d], multiplier_sum[d], before[d], payout[d],
            needed[d], float(budget.department[d]), budget.source[d],
        )})
    sources = sorted({s for s in budget.source if s})
    rows.append({"department": schema.word("company_total", book.language), **row_values(
        headcount.sum(), eligible_count.sum(), math.fsum(target_bonus), multiplier_sum.sum(), math.fsum(before),
        float(_cents(np.array([payout.sum()]), plan.rounding)[0]),
        float(_cents(np.array([needed.sum()]), plan.rounding)[0]), budget.total, ", ".join(sources),
    )})
    frame = pd.DataFrame(rows, columns=[c.key for c in schema.COST.columns])
    for key in ("headcount", "eligible_headcount"):
        frame[key] = frame[key].astype(np.int64)
    return frame


def variance_table(book: ValidatedBook, plan: Plan) -> pd.DataFrame | None:
    """The Budget variance sheet: one row per Budget line and department (sheet order); None without lines."""
    if not book.budget:
        return None
    kpis, cards, employees = book.kpis, book.scorecards, book.employees
    kpis_of: dict[str, list[int]] = {}
    for k, line in enumerate(kpis.budget_line):
        if line is not None:
            kpis_of.setdefault(line, []).append(k)
    # who depends on a (line, department): people with a row of such a KPI that takes a number from the line
    kpi, employee = np.asarray(cards.kpi), np.asarray(cards.employee)
    has_line = np.array([line is not None for line in kpis.budget_line] + [False], dtype=bool)  # [-1]: unknown
    depends = has_line[kpi] & (employee >= 0) & ~(cards.target_given & cards.actual_given)
    line_of = np.array([*kpis.budget_line, None], dtype=object)
    department_of = np.array(employees.department, dtype=object)
    pairs = pd.DataFrame({
        "line": line_of[kpi[depends]],
        "department": department_of[employee[depends]],
        "employee": employee[depends],
    })
    people = pairs.groupby(["line", "department"])["employee"].nunique().to_dict() if len(pairs) else {}
    language = book.language
    rows = []
    for (line, department), (budget, actual) in book.budget.items():
        variance = actual - budget
        used_by = kpis_of.get(line, [])
        lower = [bool(kpis.lower[k]) for k in used_by]
        if not used_by or math.isnan(variance):
            assessment = ""
        elif abs(variance) <= 1e-9 * max(1.0, abs(budget)):
            assessment = schema.word("on_budget", language)
        else:
            # a lower-is-better line (costs) is favourable under budget; any other above it
            good = (variance < 0) if all(lower) else (variance > 0) if not any(lower) else None
            assessment = "" if good is None else schema.word("favourable" if good else "unfavourable", language)
        rows.append({
            "line_id": line,
            "department": department,
            "account": book.budget_accounts.get((line, department)),
            "budget": budget,
            "actual": actual,
            "variance": variance,
            "variance_pct": variance / abs(budget) if budget else math.nan,
            "assessment": assessment,
            "kpis": ", ".join(kpis.ids[k] for k in used_by),
            "people": int(people.get((line, department), 0)),
        })
    frame = pd.DataFrame(rows, columns=[c.key for c in schema.VARIANCE.columns])
    frame["people"] = frame["people"].astype(np.int64)
    return frame
