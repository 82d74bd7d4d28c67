"""The custom functions, as plain Python, with their Excel help text.

Every host registers these same functions: the classic xlwings add-in as
=KPI_SCORE(...), the Office.js add-in as =KPI.SCORE(...) (namespace KPI), and
xlwings Lite.  Each takes what Excel passes - a single value, or a range as a
list of rows - and returns a list of rows (a range in gives a spilled range
out).  A bad argument never raises: its cell gets a ``CellError`` with a short
message, which each host shows as an Excel error value.

Parsing cell values is done here; every number comes from kpi_xl.cells or
kpi_xl.api, i.e. from the engine's kernels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .. import cells, schema
from ..values import Invalid, describe, parse_enum, parse_number

ERROR_CODES = ("#VALUE!", "#NUM!", "#N/A", "#DIV/0!", "#NAME?", "#REF!", "#NULL!")
HELP_URL = "https://github.com/kpi-xl/kpi_xl/blob/main/docs/functions.md"


@dataclass(frozen=True)
class CellError:
    """An Excel error value with the reason, e.g. #VALUE! 'target 0 must be above 0'."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code} {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


class ArgumentError(Exception):
    """A whole argument is unusable (wrong shape, bad range); the call returns one error cell."""


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    optional: bool = False
    matrix: bool = True  # accepts a range (vectorised) as well as a single cell
    kind: str = "any"  # Office.js type: number, string, boolean or any


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # Python and classic Excel name, e.g. KPI_SCORE
    office_name: str  # Office.js name under the KPI namespace: =KPI.SCORE
    description: str
    description_zh: str
    parameters: tuple[Parameter, ...]
    impl: Callable[..., list[list[Any]]]

    def metadata(self) -> dict[str, Any]:
        """This function's entry in Office.js functions.json."""
        return {
            "id": self.name,
            "name": self.office_name,
            "description": self.description,
            "helpUrl": f"{HELP_URL}#{self.name.lower()}",
            "parameters": [
                {
                    "name": p.name,
                    "description": p.description,
                    "type": p.kind,
                    "dimensionality": "matrix" if p.matrix else "scalar",
                    **({"optional": True} if p.optional else {}),
                }
                for p in self.parameters
            ],
            "result": {"type": "any", "dimensionality": "matrix"},
        }


# ------------------------------------------------------------------ argument parsing


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "") or (
        isinstance(value, float) and math.isnan(value)
    )


def _grid(value: Any) -> list[list[Any]]:
    """A value or a range as a rectangular list of rows."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if not value:
            return [[None]]
        if not isinstance(value[0], (list, tuple)):
            return [list(value)]  # one row (xlwings gives 1-D lists for a row or column without ndim=2)
        width = max(len(r) for r in value)
        return [list(r) + [None] * (width - len(r)) for r in value]
    return [[value]]


def _cell_text(value: Any) -> str:
    from ..reading import EXCEL_ERRORS

    if isinstance(value, str) and value in EXCEL_ERRORS:
        return value
    return ""


class Arguments:
    """Parses a call's arguments to arrays of one broadcast shape, collecting per-cell problems."""

    def __init__(self) -> None:
        self.shape: tuple[int, int] = (1, 1)
        self.problems: dict[tuple[int, int], CellError] = {}
        self._grids: list[tuple[str, np.ndarray]] = []

    def _adopt(self, name: str, grid: list[list[Any]]) -> np.ndarray:
        array = np.empty((len(grid), len(grid[0])), dtype=object)
        for r, row in enumerate(grid):
            for c, value in enumerate(row):
                array[r, c] = value
        shape = array.shape
        if shape != (1, 1):
            if self.shape == (1, 1):
                self.shape = shape
            elif shape != self.shape:
                raise ArgumentError(
                    f"{name} is a {shape[0]}×{shape[1]} range but another argument is "
                    f"{self.shape[0]}×{self.shape[1]}: give ranges of the same size, or single cells"
                )
        self._grids.append((name, array))
        return array

    def _each(self, array: np.ndarray):
        rows, cols = self.shape
        for r in range(rows):
            for c in range(cols):
                yield (r, c), array[r if array.shape[0] > 1 else 0, c if array.shape[1] > 1 else 0]

    def numbers(self, name: str, value: Any, default: float = math.nan) -> np.ndarray:
        array = self._adopt(name, _grid(value))
        out = np.full(self.shape, default, dtype=float)
        for (r, c), cell in self._each(array):
            if _is_blank(cell):
                continue
            error = _cell_text(cell)
            if error:
                self._problem((r, c), error, f"{name} is {error}")
                continue
            try:
                out[r, c] = parse_number(cell)
            except Invalid as problem:
                self._problem((r, c), "#VALUE!", f"{name}: {problem}")
        return out

    def enums(self, name: str, value: Any, enumeration: schema.Enumeration, default: str) -> np.ndarray:
        array = self._adopt(name, _grid(value))
        out = np.full(self.shape, default, dtype=object)
        for (r, c), cell in self._each(array):
            if _is_blank(cell):
                continue
            try:
                out[r, c] = parse_enum(cell, enumeration)
            except Invalid as problem:
                self._problem((r, c), "#VALUE!", f"{name}: {problem}")
        return out

    def _problem(self, at: tuple[int, int], code: str, message: str) -> None:
        self.problems.setdefault(at, CellError(code, message))

    def result(self, checked: cells.Checked, values: np.ndarray | None = None) -> list[list[Any]]:
        """Rows of the broadcast shape: numbers, labels, or the first problem of each cell."""
        rows, cols = self.shape
        flat = checked.values if values is None else values
        out: list[list[Any]] = []
        for r in range(rows):
            row: list[Any] = []
            for c in range(cols):
                i = r * cols + c
                if (r, c) in self.problems:
                    row.append(self.problems[(r, c)])
                elif i in checked.problems:
                    code = "#N/A" if checked.problems[i] == "no actual yet" else "#VALUE!"
                    row.append(CellError(code, checked.problems[i]))
                else:
                    value = flat[i]
                    row.append(_plain(value))
            out.append(row)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        number = float(value)
        if math.isinf(number):
            return CellError("#NUM!", "infinite (an actual of 0 on a lower-is-better KPI)")
        return number
    if isinstance(value, np.integer):
        return int(value)
    return value


def _single(name: str, value: Any, default: Any) -> Any:
    grid = _grid(value)
    if len(grid) != 1 or len(grid[0]) != 1:
        raise ArgumentError(f"{name} must be a single cell")
    cell = grid[0][0]
    return default if _is_blank(cell) else cell


def _table_rows(name: str, value: Any) -> list[list[Any]]:
    """The non-blank rows of a range, without a header row of text."""
    grid = _grid(value)
    rows = [row for row in grid if not all(_is_blank(v) for v in row)]
    if rows and any(isinstance(v, str) and not _numeric_text(v) for v in rows[0][:2]):
        rows = rows[1:]  # a header row
    if not rows:
        raise ArgumentError(f"{name} is empty")
    return rows


def _numeric_text(text: str) -> bool:
    try:
        parse_number(text)
        return True
    except Invalid:
        return False


def _number_in(name: str, row_number: int, value: Any) -> float:
    if _is_blank(value):
        raise ArgumentError(f"{name}, row {row_number}: a number is missing")
    try:
        return parse_number(value)
    except Invalid as problem:
        raise ArgumentError(f"{name}, row {row_number}: {problem}") from None


def _curve(value: Any) -> cells.Curve | None:
    if _is_blank_argument(value):
        return None
    rows = _table_rows("curve", value)
    if len(rows[0]) < 2:
        raise ArgumentError("curve must be a range of two columns: attainment and score")
    points = [(_number_in("curve", i, r[0]), _number_in("curve", i, r[1])) for i, r in enumerate(rows, 1)]
    try:
        return cells.make_curve(points)
    except ValueError as problem:
        raise ArgumentError(str(problem)) from None


def _tiers(value: Any) -> cells.TierTable:
    if _is_blank_argument(value):
        raise ArgumentError("tiers is missing: give the tier table range (min_score, multiplier, label)")
    rows = _table_rows("tiers", value)
    if len(rows[0]) < 2:
        raise ArgumentError("tiers must be a range of two or three columns: min_score, multiplier, label")
    table = []
    for i, r in enumerate(rows, 1):
        label = r[2] if len(r) > 2 and not _is_blank(r[2]) else None
        table.append((_number_in("tiers", i, r[0]), _number_in("tiers", i, r[1]), None if label is None else str(label)))
    try:
        return cells.make_tiers(table)
    except ValueError as problem:
        raise ArgumentError(str(problem)) from None


def _is_blank_argument(value: Any) -> bool:
    return all(_is_blank(v) for row in _grid(value) for v in row)


def _tier_mode(value: Any) -> bool:
    mode = _single("mode", value, "step")
    try:
        return parse_enum(mode, schema.TIER_MODE) == "linear"
    except Invalid as problem:
        raise ArgumentError(f"mode: {problem}") from None


def _guarded(function: Callable[..., list[list[Any]]]) -> Callable[..., list[list[Any]]]:
    """Bad arguments give one error cell, never an exception in Excel."""

    def call(*args: Any, **kwargs: Any) -> list[list[Any]]:
        try:
            return function(*args, **kwargs)
        except ArgumentError as problem:
            return [[CellError("#VALUE!", str(problem))]]

    call.__name__ = function.__name__
    call.__doc__ = function.__doc__
    call.__wrapped__ = function  # type: ignore[attr-defined]
    return call


# ------------------------------------------------------------------ the functions


@_guarded
def kpi_attainment(actual: Any, target: Any, direction: Any = None) -> list[list[Any]]:
    """Attainment: actual ÷ target, or target ÷ actual when lower is better (1 = 100%)."""
    args = Arguments()
    a = args.numbers("actual", actual)
    t = args.numbers("target", target)
    d = args.enums("direction", direction, schema.DIRECTION, "higher")
    n = int(np.prod(args.shape))
    checked = cells.attainment(_flat(a, args, n), _flat(t, args, n), _flat(d, args, n) == "lower")
    return args.result(checked)


@_guarded
def kpi_score(
    actual: Any,
    target: Any,
    method: Any = None,
    threshold: Any = None,
    stretch: Any = None,
    curve: Any = None,
    direction: Any = None,
) -> list[list[Any]]:
    """The KPI score of an actual against its target, as the KPI library scores it."""
    the_curve = _curve(curve)
    args = Arguments()
    a = args.numbers("actual", actual)
    t = args.numbers("target", target)
    m = args.enums("method", method, schema.METHOD, "linear")
    th = args.numbers("threshold", threshold)
    st = args.numbers("stretch", stretch)
    d = args.enums("direction", direction, schema.DIRECTION, "higher")
    n = int(np.prod(args.shape))
    codes = np.array([cells.METHOD_CODES[x] for x in _flat(m, args, n)], dtype=np.int64)
    checked = cells.score(
        _flat(a, args, n), _flat(t, args, n), codes, _flat(d, args, n) == "lower",
        _flat(th, args, n), _flat(st, args, n), the_curve,
    )
    return args.result(checked)


@_guarded
def kpi_total(scores: Any, weights: Any) -> list[list[Any]]:
    """An employee's total score: the sum of score × weight; weights add up to 1 (or 100)."""
    args = Arguments()
    s = args.numbers("scores", scores)
    w = args.numbers("weights", weights)
    if args.problems:
        first = min(args.problems)
        return [[args.problems[first]]]
    s, w = np.broadcast_to(s, args.shape).ravel(), np.broadcast_to(w, args.shape).ravel()
    filled = ~(np.isnan(s) & np.isnan(w))
    s, w = s[filled], w[filled]
    if np.isnan(s).any():
        return [[CellError("#N/A", "a score is blank where its weight is filled")]]
    if np.isnan(w).any():
        return [[CellError("#VALUE!", "a weight is blank where its score is filled")]]
    checked = cells.total(s, w)
    if checked.problems:
        return [[CellError("#VALUE!", checked.problems[0])]]
    return [[_plain(checked.values[0])]]


@_guarded
def kpi_tier(score: Any, tiers: Any, mode: Any = None, result: Any = None) -> list[list[Any]]:
    """The bonus tier of a total score: its multiplier, or its label with result "label"."""
    table = _tiers(tiers)
    linear = _tier_mode(mode)
    what = str(_single("result", result, "multiplier")).strip().lower()
    if what not in ("multiplier", "label", "系数", "档位"):
        raise ArgumentError(f"result: {describe(what)} is not one of: multiplier (系数), label (档位)")
    args = Arguments()
    s = args.numbers("score", score)
    n = int(np.prod(args.shape))
    flat = _flat(s, args, n)
    checked = cells.tier(np.nan_to_num(flat, nan=0.0), table, linear)
    for i in np.flatnonzero(np.isnan(flat)):
        checked.problem(int(i), "no score yet")
    if what in ("label", "档位"):
        return args.result(checked, np.array(checked.labels, dtype=object))
    return args.result(checked)


@_guarded
def kpi_payout(
    salary: Any,
    bonus_pct: Any,
    score: Any,
    tiers: Any,
    company_multiplier: Any = None,
    proration: Any = None,
    mode: Any = None,
    rounding: Any = None,
) -> list[list[Any]]:
    """Bonus payout: salary × bonus % × tier multiplier × company multiplier × proration, rounded as ROUND."""
    table = _tiers(tiers)
    linear = _tier_mode(mode)
    company = _single("company_multiplier", company_multiplier, 1.0)
    digits = _single("rounding", rounding, 2)
    try:
        company = parse_number(company)
        digits_value = parse_number(digits)
    except Invalid as problem:
        raise ArgumentError(str(problem)) from None
    if not float(digits_value).is_integer() or not 0 <= digits_value <= 6:
        raise ArgumentError(f"rounding {digits_value:g} must be a whole number of decimals from 0 to 6")
    args = Arguments()
    sal = args.numbers("salary", salary)
    pct = args.numbers("bonus_pct", bonus_pct)
    sc = args.numbers("score", score)
    pr = args.numbers("proration", proration, default=1.0)
    n = int(np.prod(args.shape))
    checked = cells.payout(
        _flat(sal, args, n), _flat(pct, args, n), _flat(sc, args, n), table,
        company, _flat(pr, args, n), linear, int(digits_value),
    )
    return args.result(checked)


def _flat(array: np.ndarray, args: Arguments, n: int) -> np.ndarray:
    return np.broadcast_to(array, args.shape).reshape(n).copy()


# ------------------------------------------------------------------ the scorecard, spilled

SCORECARD_COLUMNS = ("employee_id", "kpi_id", "attainment", "score", "weighted_score", "total_score")
TIER_COLUMNS = ("tier", "multiplier")
RANGE_NAMES = {
    "Scorecards": "scorecard", "KPIs": "kpis", "Curves": "curves", "Tiers": "tiers",
    "Employees": "employees", "Budget": "budget",
}


@_guarded
def kpi_scorecard(
    scorecard: Any, kpis: Any, curves: Any = None, tiers: Any = None, employees: Any = None, budget: Any = None
) -> list[list[Any]]:
    """Scores a whole scorecard range (with its header) against a KPI library range; spills one row per KPI row."""
    import pandas as pd

    from ..api import score_tables

    tables: dict[str, Any] = {}
    ranges = (("Scorecards", scorecard), ("KPIs", kpis), ("Curves", curves), ("Tiers", tiers),
              ("Employees", employees), ("Budget", budget))
    for sheet, value in ranges:
        if value is None or _is_blank_argument(value):
            continue
        grid = _grid(value)
        header = ["" if _is_blank(h) else str(h) for h in grid[0]]
        body = [[None if _is_blank(v) else v for v in row] for row in grid[1:]]
        tables[sheet] = pd.DataFrame(body, columns=_unique(header), dtype=object)
    if "Scorecards" not in tables or "KPIs" not in tables:
        raise ArgumentError("give the scorecard range and the KPI library range, each with its header row")
    with_tiers = "Tiers" in tables
    if not with_tiers:
        tables["Tiers"] = pd.DataFrame({"min_score": [0.0], "multiplier": [0.0]})
    if "Employees" not in tables:  # scores need no people's details: stand-ins with no pay
        ids = _employee_ids(tables["Scorecards"])
        tables["Employees"] = pd.DataFrame(
            {"employee_id": ids, "name": ids, "department": ["—"] * len(ids),
             "base_salary": [0.0] * len(ids), "target_bonus_pct": [0.0] * len(ids)}
        )
    outcome = score_tables(tables)
    if not outcome.ok:
        first = outcome.errors[0]
        where = RANGE_NAMES.get(first.sheet, first.sheet)
        place = f"{where} range {first.cell}" if first.cell else f"{where} range"
        return [[CellError("#VALUE!", f"{place}: {first.message}")]]
    assert outcome.results is not None and outcome.payouts is not None
    language = "zh" if any(_is_cjk(str(h)) for h in tables["Scorecards"].columns) else "en"
    payouts = outcome.payouts.set_index("employee_id")
    columns = SCORECARD_COLUMNS + (TIER_COLUMNS if with_tiers else ())
    header = [_label(c, language) for c in columns]
    rows: list[list[Any]] = [header]
    for record in outcome.results.itertuples(index=False):
        person = payouts.loc[record.employee_id]
        row = [record.employee_id, record.kpi_id, record.attainment, record.score,
               record.weighted_score, person["total_score"]]
        if with_tiers:
            row += [person["tier"], person["multiplier"]]
        rows.append([_spill_value(v) for v in row])
    return rows


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in header:
        count = seen.get(h, 0)
        seen[h] = count + 1
        out.append(h if count == 0 else f"{h} ({count + 1})")
    return out


def _employee_ids(frame: Any) -> list[str]:
    from ..reading import match_columns
    from ..problems import Problems
    from ..values import parse_id

    spec = next(s for s in schema.INPUT_SHEETS if s.key == "Scorecards")
    index = match_columns(spec, "Scorecards", list(frame.columns), Problems())
    if "employee_id" not in index:
        return []
    seen: dict[str, None] = {}
    for value in frame.iloc[:, index["employee_id"] - 1]:
        if value is None:
            continue
        try:
            seen.setdefault(parse_id(value), None)
        except Invalid:
            continue
    return list(seen)


def _is_cjk(text: str) -> bool:
    return any(ord(ch) > 0x2E80 for ch in text)


def _label(key: str, language: str) -> str:
    for spec in schema.OUTPUT_SHEETS:
        for column in spec.columns:
            if column.key == key:
                return column.label(language)
    return key


def _spill_value(value: Any) -> Any:
    if isinstance(value, (float, np.floating)) and math.isnan(float(value)):
        return ""
    return _plain(value)


# ------------------------------------------------------------------ the registry

ACTUAL = Parameter("actual", "The actual result: a cell or a range of actuals.")
TARGET = Parameter("target", "The target: a cell, or a range the size of actual.")
DIRECTION_P = Parameter(
    "direction", 'Optional. "higher" (default) if more is better, "lower" for costs, defects, cycle time.',
    optional=True,
)

FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec(
            "KPI_ATTAINMENT", "ATTAINMENT",
            "Attainment of a KPI: actual ÷ target (target ÷ actual when lower is better); 1 means 100%.",
            "指标达成率：实际值 ÷ 目标值（反向指标为 目标值 ÷ 实际值），1 即 100%。",
            (ACTUAL, TARGET, DIRECTION_P),
            kpi_attainment,
        ),
        FunctionSpec(
            "KPI_SCORE", "SCORE",
            "KPI score of an actual against its target: linear between threshold (50) and target (100) "
            "up to stretch (150), or on a curve; step, binary and direct methods as in the KPI library.",
            "指标得分：按门槛（50分）、目标（100分）、挑战值（150分）线性计分，或按曲线、阶梯、达标制、直接评分计分。",
            (
                ACTUAL,
                TARGET,
                Parameter("method", 'Optional. "linear" (default), "step", "binary" or "direct".', optional=True),
                Parameter("threshold", "Optional. Attainment where scoring starts, e.g. 0.8 (needed for linear without a curve).", optional=True),
                Parameter("stretch", "Optional. Attainment where the score stops rising, e.g. 1.2.", optional=True),
                Parameter("curve", "Optional. A two-column range of (attainment, score) points; replaces threshold and stretch.", optional=True),
                DIRECTION_P,
            ),
            kpi_score,
        ),
        FunctionSpec(
            "KPI_TOTAL", "TOTAL",
            "Total score of one employee: the sum of score × weight; weights add up to 1 (or to 100 points).",
            "员工总分：各指标 得分 × 权重 之和；权重之和为 1（或 100）。",
            (
                Parameter("scores", "The scores of the employee's KPIs (a range)."),
                Parameter("weights", "Their weights (a range of the same size), adding up to 1 or 100."),
            ),
            kpi_total,
        ),
        FunctionSpec(
            "KPI_TIER", "TIER",
            'Bonus tier of a total score on a tier table: its multiplier, or its label with result "label".',
            "总分对应的奖金档位：返回系数，或在 result 为 \"label\" 时返回档位名称。",
            (
                Parameter("score", "A total score, or a range of them."),
                Parameter("tiers", "The tier table: a range of min_score, multiplier and (optional) label columns."),
                Parameter("mode", 'Optional. "step" (default) or "linear" (interpolate between tiers).', optional=True, matrix=False),
                Parameter("result", 'Optional. "multiplier" (default) or "label".', optional=True, matrix=False),
            ),
            kpi_tier,
        ),
        FunctionSpec(
            "KPI_PAYOUT", "PAYOUT",
            "Bonus payout: salary × target bonus % × tier multiplier × company multiplier × proration, "
            "rounded like ROUND (no pools).",
            "奖金：基本工资 × 目标奖金比例 × 档位系数 × 公司系数 × 折算比例，按 ROUND 规则舍入（不含奖金池）。",
            (
                Parameter("salary", "Base salary for the period: a cell or a range."),
                Parameter("bonus_pct", "Target bonus as a fraction of salary, e.g. 0.15."),
                Parameter("score", "The total score."),
                Parameter("tiers", "The tier table: min_score, multiplier and (optional) label columns."),
                Parameter("company_multiplier", "Optional. Company performance factor, 1 by default.", optional=True, matrix=False),
                Parameter("proration", "Optional. Share of the period employed, 1 by default.", optional=True),
                Parameter("mode", 'Optional. "step" (default) or "linear" tiers.', optional=True, matrix=False),
                Parameter("rounding", "Optional. Decimals of the amount, 2 by default.", optional=True, matrix=False),
            ),
            kpi_payout,
        ),
        FunctionSpec(
            "KPI_SCORECARD", "SCORECARD",
            "Scores a whole scorecard range against the KPI library and spills one row per KPI row: "
            "attainment, score, weighted score, total score (and tier with a tier table).",
            "按指标库为整张考核表计分并溢出结果：达成率、得分、加权得分、总分（给出档位表时含档位）。",
            (
                Parameter("scorecard", "The scorecard range with its header: employee_id, kpi_id, weight, target, actual."),
                Parameter("kpis", "The KPI library range with its header (the KPIs sheet)."),
                Parameter("curves", "Optional. The Curves range with its header.", optional=True),
                Parameter("tiers", "Optional. The Tiers range with its header.", optional=True),
                Parameter("employees", "Optional. The Employees range with its header (for tier tables and budget lines by department).", optional=True),
                Parameter("budget", "Optional. The Budget range with its header (for KPIs with a budget_line).", optional=True),
            ),
            kpi_scorecard,
        ),
    )
}


# ------------------------------------------------------------------ entry points for the hosts


def call(name: str, args: Sequence[Any]) -> list[list[Any]]:
    """Call a function by name with Excel's arguments (omitted trailing ones may be left out)."""
    spec = FUNCTIONS[name]
    if len(args) > len(spec.parameters):
        raise ValueError(f"{name} takes at most {len(spec.parameters)} arguments, got {len(args)}")
    required = sum(1 for p in spec.parameters if not p.optional)
    if len(args) < required:
        missing = ", ".join(p.name for p in spec.parameters[len(args):required])
        raise ValueError(f"{name} needs {missing}")
    return spec.impl(*args)


def call_json(name: str, body: dict[str, Any]) -> dict[str, Any]:
    """The server's function call: {"args": [...]} -> {"result": rows}, errors as {"error", "message"}."""
    if name not in FUNCTIONS:
        raise KeyError(name)
    if not isinstance(body, dict) or not isinstance(body.get("args"), list):
        raise ValueError('the request needs "args": a list with one entry per argument')
    rows = call(name, body["args"])
    return {"result": [[to_json(v) for v in row] for row in rows]}


def with_text_errors(rows: list[list[Any]]) -> Any:
    """A result for hosts that cannot return Excel error values (classic xlwings UDFs, xlwings
    Lite): an error cell becomes its text ("#VALUE! target must be above 0"); one cell comes
    back as a value, a range as rows (spilled)."""
    out = [[f"{v.code} {v.message}" if isinstance(v, CellError) else v for v in row] for row in rows]
    if len(out) == 1 and len(out[0]) == 1:
        return out[0][0]
    return out


def to_json(value: Any) -> Any:
    if isinstance(value, CellError):
        return value.to_json()
    return value


def office_metadata() -> dict[str, Any]:
    """functions.json for the Office.js add-in (namespace KPI, set in its manifest)."""
    return {"functions": [spec.metadata() for spec in FUNCTIONS.values()]}
