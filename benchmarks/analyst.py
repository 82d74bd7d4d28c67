"""The workbook contract in pandas, written the way an analyst would.

The contender kpi_xl's kernels are measured against: merges to bring each
scorecard row its KPI and employee, vectorised ``np.where`` / ``np.select``
for the scoring rules, ``np.interp`` and ``np.searchsorted`` for curves and
tiers, ``groupby`` for totals, gates and pools, and Python's ``decimal`` for
Excel's ROUND (the contract rounds the value as Excel shows it, half away
from zero; an analyst who needs the cents right has no vectorised shortcut).

It starts from the input tables as ``pd.read_excel`` would give them (one
DataFrame a sheet, the contract's English headers) and returns one row per
employee with total_score, multiplier, gate, proration, payout_before_pool,
pool_factor and payout.  ``benchmarks.suite`` checks on every run that these
are the engine's numbers: a benchmark comparing different answers is
worthless.

Comparisons with thresholds, curve points and tier boundaries forgive float
noise of 1e-12 relative, as the contract's implementation does
(kpi_xl/kernels.py): without it, 0.3 * 100 + 0.7 * 100 would miss a tier
boundary of 100.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

TOLERANCE = 1e-12
DEFAULT_SCORES = {"threshold_score": 50.0, "target_score": 100.0, "stretch_score": 150.0}


def _lowered(boundary):
    """A boundary moved down by the float-noise allowance: x >= b becomes x >= _lowered(b)."""
    return boundary - TOLERANCE * np.maximum(1.0, np.abs(boundary))


def score_company(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    settings = tables["Settings"].set_index("key")["value"]
    kpis = tables["KPIs"].copy()
    for column, default in DEFAULT_SCORES.items():
        kpis[column] = pd.to_numeric(kpis.get(column), errors="coerce") if column in kpis else default
        kpis[column] = kpis[column].fillna(default)
    employees = tables["Employees"].copy()
    employees["employee_id"] = employees["employee_id"].astype(str)
    cards = tables["Scorecards"].copy()
    cards["employee_id"] = cards["employee_id"].astype(str)

    # --- each scorecard row with its KPI: attainment and score
    rows = cards.merge(kpis, on="kpi_id", how="left", validate="many_to_one")
    target = rows["target"].fillna(rows["kpi_id"].map(kpis.set_index("kpi_id").get("target", pd.Series(dtype=float))))
    actual = rows["actual"].to_numpy(float)
    target = target.to_numpy(float)
    lower = rows["direction"].eq("lower").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        attainment = np.where(lower, np.where(actual == 0, np.inf, target / actual), actual / target)
    method = rows["method"].fillna("linear").to_numpy()
    has_curve = rows["curve"].notna().to_numpy()
    threshold = rows["threshold"].to_numpy(float)
    stretch = rows["stretch"].to_numpy(float)
    ts, tg, ss = (rows[c].to_numpy(float) for c in ("threshold_score", "target_score", "stretch_score"))

    score = np.zeros(len(rows))
    gate_at = np.full(len(rows), np.nan)
    plain_linear = (method == "linear") & ~has_curve
    with np.errstate(divide="ignore", invalid="ignore"):
        rising = ts + (attainment - threshold) * (tg - ts) / (1.0 - threshold)
        above = tg + (attainment - 1.0) * (ss - tg) / (stretch - 1.0)
    linear_score = np.select(
        [attainment < _lowered(threshold), attainment >= _lowered(stretch), attainment < _lowered(1.0)],
        [0.0, ss, rising],
        above,
    )
    score = np.where(plain_linear, linear_score, score)
    gate_at = np.where(plain_linear, threshold, gate_at)

    binary = method == "binary"
    score = np.where(binary, np.where(attainment >= _lowered(1.0), tg, 0.0), score)
    gate_at = np.where(binary, 1.0, gate_at)

    curves = tables["Curves"].sort_values(["curve_id", "attainment"], kind="mergesort")
    for curve_id, points in curves.groupby("curve_id", sort=False):
        xs = points["attainment"].to_numpy(float)
        ys = points["score"].to_numpy(float)
        mine = (rows["curve"] == curve_id).to_numpy() & ((method == "linear") | (method == "step"))
        if not mine.any():
            continue
        a = attainment[mine]
        reached = np.searchsorted(_lowered(xs), a, side="right") - 1  # last point reached, -1 below the first
        step_score = np.where(reached >= 0, ys[np.clip(reached, 0, None)], 0.0)
        interpolated = np.where(reached >= 0, np.interp(a, xs, ys), 0.0)
        score[mine] = np.where(method[mine] == "linear", interpolated, step_score)
        gate_at[mine] = xs[0]

    direct = method == "direct"
    score = np.where(direct, np.clip(actual, 0.0, ss), score)
    attainment = np.where(direct, np.nan, attainment)
    gate = rows["gate"].astype(str).str.lower().isin(["yes", "y", "true", "1"]).to_numpy()
    compared = np.where(direct, score, attainment)
    gate_at = np.where(direct, ts, gate_at)
    rows["score"] = score
    rows["weighted_score"] = rows["weight"].to_numpy(float) * score
    rows["gate_failed"] = gate & ~(compared >= _lowered(gate_at))

    # --- each employee: total score, gate, tier
    per_person = rows.groupby("employee_id", sort=False).agg(
        total_score=("weighted_score", "sum"), gate_failed=("gate_failed", "any")
    )
    people = employees.merge(per_person, left_on="employee_id", right_index=True, how="left")
    tiers = tables["Tiers"].copy()
    if "tier_table" not in tiers:
        tiers["tier_table"] = "default"
    tiers = tiers.sort_values(["tier_table", "min_score"], kind="mergesort")
    if "tier_table" not in people:
        people["tier_table"] = "default"
    multiplier = np.zeros(len(people))
    linear_tiers = str(settings.get("tier_mode", "step")).lower() == "linear"
    for table, rows_of_table in tiers.groupby("tier_table", sort=False):
        mins = rows_of_table["min_score"].to_numpy(float)
        mults = rows_of_table["multiplier"].to_numpy(float)
        mine = (people["tier_table"] == table).to_numpy()
        total = people["total_score"].to_numpy(float)[mine]
        reached = np.searchsorted(_lowered(mins), total, side="right") - 1
        value = mults[np.clip(reached, 0, None)]
        if linear_tiers:
            value = np.interp(total, mins, mults)
        multiplier[mine] = np.where(reached >= 0, value, 0.0)
    people["multiplier"] = multiplier

    # --- proration by days within the period, both ends counted
    if str(settings.get("proration", "none")).lower() == "days":
        start = pd.Timestamp(settings["period_start"])
        end = pd.Timestamp(settings["period_end"])
        hired = pd.to_datetime(people["hire_date"]).fillna(start).clip(lower=start)
        left = pd.to_datetime(people["termination_date"]).fillna(end).clip(upper=end)
        days = ((left - hired).dt.days + 1).clip(lower=0)
        people["proration"] = days / ((end - start).days + 1)
    else:
        people["proration"] = 1.0

    company = float(settings.get("company_multiplier", 1.0))
    eligible = people["eligible"].astype(str).str.lower().isin(["yes", "y", "true", "1"]) if "eligible" in people else True
    before = people["base_salary"] * people["target_bonus_pct"] * people["multiplier"] * company * people["proration"]
    people["payout_before_pool"] = before.where(eligible & ~people["gate_failed"], 0.0)

    # --- department pools
    pool_mode = str(settings.get("pool_mode", "none")).lower()
    digits = int(settings.get("rounding", 2))
    department_total = people.groupby("department", sort=False)["payout_before_pool"].transform("sum")
    pool = people["department"].map(tables["Pools"].set_index("department")["pool"]) if pool_mode != "none" else np.nan
    factor = pd.Series(1.0, index=people.index)
    if pool_mode == "cap":
        factor = factor.where(~(department_total > pool), pool / department_total)
    elif pool_mode == "scale":
        factor = factor.where(~(department_total >= 1e-8) | pd.isna(pool), pool / department_total)
    people["pool_factor"] = factor
    people["payout"] = _allocate(people, pool, digits)
    return people[
        ["employee_id", "department", "total_score", "multiplier", "gate_failed", "proration",
         "payout_before_pool", "pool_factor", "payout"]
    ]


def _shown(value: float) -> Decimal:
    """The value as Excel shows it: 15 significant digits."""
    return Decimal(f"{value:.15g}")


def _allocate(people: pd.DataFrame, pool, digits: int) -> pd.Series:
    """Excel's ROUND; where a pool factor is not 1, the cents left over go to the largest remainders."""
    unit = Decimal(1).scaleb(-digits)
    value = people["payout_before_pool"] * people["pool_factor"]
    rounded = value.map(lambda v: _shown(v).quantize(unit, ROUND_HALF_UP) if v else Decimal(0))
    pooled = (people["pool_factor"] != 1.0) & (people["payout_before_pool"] > 0)
    if not pooled.any():
        return rounded.astype(float)
    shared = pd.DataFrame({"department": people["department"], "value": value})[pooled]
    floors = shared["value"].map(lambda v: _shown(v).quantize(unit, ROUND_DOWN))
    shared["floor"] = floors
    shared["remainder"] = [float((_shown(v) - f) / unit) for v, f in zip(shared["value"], floors)]
    wanted = pd.Series(pool, index=people.index)[pooled].groupby(shared["department"], sort=False).first()
    wanted = wanted.map(lambda p: _shown(p).quantize(unit, ROUND_HALF_UP))
    have = shared.groupby("department", sort=False)["floor"].sum()
    leftover = ((wanted - have) / unit).astype(int)
    shared["order"] = np.arange(len(shared))
    shared = shared.sort_values(["department", "remainder", "order"], ascending=[True, False, True], kind="mergesort")
    rank = shared.groupby("department", sort=False).cumcount()
    gets_cent = rank < shared["department"].map(leftover)
    shared["floor"] = shared["floor"] + np.where(gets_cent, unit, Decimal(0))
    result = rounded.copy()
    result[shared.index] = shared["floor"]
    return result.astype(float)
