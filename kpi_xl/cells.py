"""Loose values scored by the engine: what the custom functions call.

A workbook is read, validated and compiled into a Plan; a custom function such
as ``=KPI_SCORE(B2, C2, "linear", 0.8, 1.2)`` has no workbook, only values.
This module turns such values - one cell or whole ranges, already parsed into
arrays - into the same arrays a Plan holds (every value its own one-row
scorecard of its own KPI) and runs them through the same kernels (or the
reference twin, see kpi_xl.engine), so a cell and ``kpi-xl score`` give the
same number.  Values are checked by the contract's rules first; a value that
breaks one gets a message instead of a number (``Checked.problems``).

Arrays in, arrays out: this module knows nothing of Excel.  The Excel layer
(kpi_xl.excel.functions) parses cell values and ranges into these arrays and
shows the messages as error values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import schema
from .engine import kernels_for
from .kernels import TOLERANCE

DEFAULT_SCORES = (50.0, 100.0, 150.0)  # threshold_score, target_score, stretch_score (contract)
METHOD_CODES = {
    "linear": schema.METHOD_LINEAR,
    "step": schema.METHOD_STEP,
    "binary": schema.METHOD_BINARY,
    "direct": schema.METHOD_DIRECT,
}


@dataclass
class Checked:
    """Values computed for every element, and a message for each element that broke a rule."""

    values: np.ndarray
    problems: dict[int, str] = field(default_factory=dict)  # flat index -> message
    labels: list[str] | None = None  # KPI_TIER's labels, when asked for

    def problem(self, i: int, message: str) -> None:
        self.problems.setdefault(i, message)


@dataclass(frozen=True)
class Curve:
    """A scoring curve: attainment points ascending, each with its score."""

    attainment: np.ndarray
    score: np.ndarray


@dataclass(frozen=True)
class TierTable:
    """One tier table: min_score ascending, multiplier and label for each row."""

    min_score: np.ndarray
    multiplier: np.ndarray
    labels: tuple[str, ...]


def make_curve(points: list[tuple[float, float]]) -> Curve:
    """Sort points by attainment; two points at the same attainment are an error."""
    if not points:
        raise ValueError("the curve has no points: give at least one (attainment, score) row")
    ordered = sorted(points)
    for (x1, _), (x2, _) in zip(ordered, ordered[1:]):
        if x1 == x2:
            raise ValueError(f"the curve has two points at attainment {x1:g}: keep one")
    return Curve(np.array([p[0] for p in ordered]), np.array([p[1] for p in ordered]))


def make_tiers(rows: list[tuple[float, float, str | None]]) -> TierTable:
    """Sort tier rows by min_score; repeated min_score or a negative multiplier is an error."""
    if not rows:
        raise ValueError("the tier table has no rows: give at least one (min_score, multiplier) row")
    ordered = sorted(rows, key=lambda r: r[0])
    for a, b in zip(ordered, ordered[1:]):
        if a[0] == b[0]:
            raise ValueError(f"the tier table has two rows with min_score {a[0]:g}: keep one")
    for _, multiplier, _ in ordered:
        if multiplier < 0:
            raise ValueError(f"the tier table has a negative multiplier ({multiplier:g})")
    return TierTable(
        np.array([r[0] for r in ordered], dtype=float),
        np.array([r[1] for r in ordered], dtype=float),
        tuple(r[2] if r[2] else f"{r[1]:g}x" for r in ordered),
    )


# ------------------------------------------------------------------ attainment and score


def attainment(actual: np.ndarray, target: np.ndarray, lower: np.ndarray, engine: str | None = None) -> Checked:
    """actual / target (target / actual for lower-is-better), element by element."""
    n = actual.shape[0]
    method = np.full(n, schema.METHOD_BINARY, dtype=np.int64)  # any target-based method: attainment is the same
    return _score(actual, target, method, lower, np.full(n, np.nan), np.full(n, np.nan), None, engine, "attainment")


def score(
    actual: np.ndarray,
    target: np.ndarray,
    method: np.ndarray,
    lower: np.ndarray,
    threshold: np.ndarray,
    stretch: np.ndarray,
    curve: Curve | None,
    engine: str | None = None,
) -> Checked:
    """The score of each element, as a scorecard row of a KPI with those settings scores."""
    return _score(actual, target, method, lower, threshold, stretch, curve, engine, "score")


def _score(actual, target, method, lower, threshold, stretch, curve, engine, what) -> Checked:
    n = actual.shape[0]
    checked = Checked(np.full(n, np.nan))
    _check_rows(checked, actual, target, method, lower, threshold, stretch, curve)
    usable = np.ones(n, dtype=bool)
    usable[list(checked.problems)] = False
    rows = np.flatnonzero(usable)
    if rows.size == 0:
        return checked
    m = rows.size
    codes = method[rows].astype(np.int64)
    curve_index = np.full(m, -1, dtype=np.int64)
    if curve is not None:
        # A curve given to the function replaces threshold/stretch, as on the KPIs sheet.
        curve_index[:] = 0
        codes = np.where(codes == schema.METHOD_LINEAR, schema.METHOD_LINEAR_CURVE, codes)
        offsets = np.array([0, curve.attainment.shape[0]], dtype=np.int64)
        xs, ys = curve.attainment, curve.score
    else:
        offsets, xs, ys = np.zeros(1, dtype=np.int64), np.zeros(0), np.zeros(0)
    t_score, m_score, s_score = DEFAULT_SCORES
    k = kernels_for(engine)
    att, sc, _ = k.score_rows(
        np.arange(m, dtype=np.int64),
        target[rows].astype(float),
        actual[rows].astype(float),
        codes,
        lower[rows].astype(bool),
        np.nan_to_num(threshold[rows], nan=0.0).astype(float),
        np.nan_to_num(stretch[rows], nan=1.0).astype(float),
        np.full(m, t_score),
        np.full(m, m_score),
        np.full(m, s_score),
        np.zeros(m, dtype=bool),
        curve_index,
        offsets,
        xs,
        ys,
    )
    checked.values[rows] = att if what == "attainment" else sc
    if what == "attainment":
        for i in rows[codes == schema.METHOD_DIRECT]:
            checked.problem(int(i), "a 'direct' KPI has no attainment: its actual is the score")
            checked.values[i] = np.nan
    return checked


def _check_rows(checked: Checked, actual, target, method, lower, threshold, stretch, curve) -> None:
    """The contract's rules for a scorecard row and its KPI, over whole arrays; first broken rule wins."""
    direct = method == schema.METHOD_DIRECT
    linear_plain = (method == schema.METHOD_LINEAR) & (curve is None)
    with np.errstate(invalid="ignore"):
        rules = [
            (np.isnan(actual), lambda i: "no actual yet"),
            (~direct & np.isnan(target), lambda i: "no target"),
            (~direct & (target <= 0), lambda i: f"target {target[i]:g} must be above 0"),
            (~direct & lower & (actual < 0),
             lambda i: f"actual {actual[i]:g} is below 0, which a lower-is-better KPI cannot have"),
            ((method == schema.METHOD_STEP) & (curve is None),
             lambda i: "'step' scoring needs a curve range (attainment, score)"),
            (linear_plain & (np.isnan(threshold) | np.isnan(stretch)),
             lambda i: "'linear' scoring needs a threshold and a stretch (e.g. 0.8 and 1.2), or a curve range"),
            (linear_plain & (threshold > 1), lambda i: f"threshold {threshold[i]:g} is above 1 (100%)"),
            (linear_plain & (stretch < 1), lambda i: f"stretch {stretch[i]:g} is below 1 (100%)"),
        ]
    for mask, message in rules:
        for i in np.flatnonzero(mask):
            checked.problem(int(i), message(i))


# ------------------------------------------------------------------ totals, tiers, payouts


def total(scores: np.ndarray, weights: np.ndarray, engine: str | None = None) -> Checked:
    """One employee's total score: the weighted sum, weights adding up to 1 (or to 100 points)."""
    checked = Checked(np.full(1, np.nan))
    weight_sum = float(weights.sum())
    if abs(weight_sum - 100.0) <= 0.01:
        weights = weights / 100.0
    elif abs(weight_sum - 1.0) > 0.0005:
        checked.problem(0, f"the weights add up to {weight_sum:.4g}, not 1 (100%)")
        return checked
    if (weights < 0).any():
        checked.problem(0, "a weight is below 0")
        return checked
    k = kernels_for(engine)
    n = scores.shape[0]
    _, totals, _ = k.employee_totals(
        np.zeros(n, dtype=np.int64), weights.astype(float), scores.astype(float), np.zeros(n, dtype=bool), 1
    )
    checked.values[:] = totals
    return checked


def tier(scores: np.ndarray, table: TierTable, linear: bool, engine: str | None = None, language: str = "en") -> Checked:
    """Multiplier (and label) of each total score on one tier table."""
    multiplier, row = _tier_lookup(scores, table, linear, engine)
    labels = [table.labels[r] if r >= 0 else schema.word("no_bonus", language) for r in row]
    return Checked(multiplier, labels=labels)


def _tier_lookup(scores: np.ndarray, table: TierTable, linear: bool, engine: str | None):
    k = kernels_for(engine)
    n = scores.shape[0]
    return k.tier_lookup(
        scores.astype(float),
        np.zeros(n, dtype=np.int64),
        np.array([0, table.min_score.shape[0]], dtype=np.int64),
        table.min_score,
        table.multiplier,
        linear,
    )


def payout(
    salary: np.ndarray,
    bonus_pct: np.ndarray,
    scores: np.ndarray,
    table: TierTable,
    company_multiplier: float,
    proration: np.ndarray,
    linear: bool,
    rounding: int,
    engine: str | None = None,
) -> Checked:
    """Each payout without pools: salary x bonus % x tier multiplier x company x proration, rounded as ROUND."""
    n = salary.shape[0]
    checked = Checked(np.full(n, np.nan))
    for i in range(n):
        for name, value in (("salary", salary[i]), ("bonus %", bonus_pct[i]), ("score", scores[i])):
            if math.isnan(value):
                checked.problem(i, f"no {name}")
        for name, value in (("salary", salary[i]), ("bonus %", bonus_pct[i]), ("company multiplier", company_multiplier)):
            if value < 0:
                checked.problem(i, f"{name} {value:g} is below 0")
        if not (0 <= proration[i] <= 1 + TOLERANCE):
            checked.problem(i, f"proration {proration[i]:g} is not between 0 and 1")
    rows = np.array([i for i in range(n) if i not in checked.problems], dtype=np.int64)
    if rows.size == 0:
        return checked
    k = kernels_for(engine)
    multiplier, _ = _tier_lookup(scores[rows], table, linear, engine)
    m = rows.size
    before = k.payouts_before_pool(
        salary[rows].astype(float),
        bonus_pct[rows].astype(float),
        multiplier,
        float(company_multiplier),
        proration[rows].astype(float),
        np.ones(m, dtype=bool),
        np.zeros(m, dtype=bool),
    )
    checked.values[rows] = k.excel_round(before, rounding)
    return checked
