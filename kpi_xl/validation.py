"""Raw tables -> typed, cross-checked tables, and every problem with its cell.

Step 2 of the pipeline.  Each sheet is read column by column into typed
arrays; every cell that is wrong becomes a Problem (sheet, A1 cell, message),
and validation goes on so that one run reports everything.  Cross-sheet
checks (unknown ids, budget lines, weights, pools) come after the sheets.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import schema
from .problems import Problems, did_you_mean
from .reading import RawBook, RawTable
from .rules.sheet import read_rules
from .schema import Enumeration, SheetSpec
from .values import Invalid, describe, parse_date, parse_enum, parse_id, parse_numbers, parse_period

WEIGHT_TOLERANCE = 0.0005
PERCENT_POINT_TOLERANCE = 0.01


# ------------------------------------------------------------------ typed tables


@dataclass
class Settings:
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    proration: str = "none"
    company_multiplier: float = 1.0
    rounding: int = 2
    pool_mode: str = "none"
    tier_mode: str = "step"
    normalize_weights: str = "no"
    rule_policy: str = "all"
    budget_tolerance: float = 0.05
    bonus_budget_line: str = "BONUS"
    cells: dict[str, str] = field(default_factory=dict)  # key -> A1 of its value


@dataclass
class KpiLibrary:
    ids: list[str]
    rows: list[int]
    names: list[str]
    lower: np.ndarray
    method: list[str]
    threshold: np.ndarray
    stretch: np.ndarray
    threshold_score: np.ndarray
    target_score: np.ndarray
    stretch_score: np.ndarray
    curve: list[str | None]
    gate: np.ndarray
    target: np.ndarray
    budget_line: list[str | None]
    perspective: list[str | None]
    level: list[str | None]
    parent_kpi: list[str | None]
    unit: list[str | None]
    index: dict[str, int] = field(default_factory=dict)


@dataclass
class Employees:
    ids: list[str]
    rows: list[int]
    names: list[str]
    department: list[str]
    base_salary: np.ndarray
    target_bonus_pct: np.ndarray
    hire_date: list[dt.date | None]
    termination_date: list[dt.date | None]
    eligible: np.ndarray
    tier_table: list[str]
    manager: list[str | None]
    grade: list[str | None]
    currency: list[str | None]
    index: dict[str, int] = field(default_factory=dict)


@dataclass
class Scorecards:
    rows: list[int]
    employee: np.ndarray  # index into Employees
    kpi: np.ndarray  # index into KpiLibrary
    weight: np.ndarray  # effective fraction (after percent points / normalisation)
    target: np.ndarray
    actual: np.ndarray
    comment: list[str | None]
    period: list[str | None]
    # the row filled in its own target / actual (else they came from a budget line or the KPI)
    target_given: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    actual_given: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


@dataclass
class TierRow:
    min_score: float
    multiplier: float
    label: str
    row: int


@dataclass
class ValidatedBook:
    language: str
    titles: dict[str, str]  # spec key -> sheet title in the workbook
    settings: Settings
    kpis: KpiLibrary
    curves: dict[str, list[tuple[float, float]]]  # sorted by attainment
    employees: Employees
    scorecards: Scorecards
    tiers: dict[str, list[TierRow]]  # sorted by min_score
    pools: dict[str, float]
    budget: dict[tuple[str, str], tuple[float, float]]
    problems: Problems
    rules: list[Any] = field(default_factory=list)  # kpi_xl.rules.sheet.Rule, in sheet order
    budget_accounts: dict[tuple[str, str], str | None] = field(default_factory=dict)  # (line, department) -> account


# ------------------------------------------------------------------ sheet reader


class SheetReader:
    """Reads typed columns from one raw table, reporting bad cells."""

    def __init__(self, table: RawTable | None, spec: SheetSpec, problems: Problems, language: str):
        self.table = table
        self.spec = spec
        self.problems = problems
        self.language = language
        self.title = table.title if table is not None else spec.label(language)
        self.n = len(table) if table is not None else 0

    def label(self, key: str) -> str:
        if self.language == "zh":
            return f"{schema.COLUMN_ZH[key]} ({key})"
        return key

    def cell(self, key: str, i: int) -> str:
        assert self.table is not None
        return self.table.cell(key, i)

    def row(self, i: int) -> int:
        assert self.table is not None
        return self.table.rows[i]

    def error(self, key: str, i: int, message: str) -> None:
        self.problems.error(self.title, self.cell(key, i), message)

    def warning(self, key: str, i: int, message: str) -> None:
        self.problems.warning(self.title, self.cell(key, i), message)

    def has(self, key: str) -> bool:
        return self.table is not None and self.table.has(key)

    def require(self) -> bool:
        """Report a missing sheet or missing required columns; True when usable."""
        if self.table is None:
            if self.spec.required:
                alias = f" ({self.spec.zh})" if self.language == "en" else f" ({self.spec.key})"
                self.problems.error(
                    self.title,
                    "",
                    f"the workbook has no '{self.title}' sheet{alias}: add it, "
                    "with its header row in row 1",
                )
            return False
        missing = [k for k in self.spec.required_columns if not self.table.has(k)]
        for key in missing:
            self.problems.error(
                self.title,
                "A1",
                f"the column '{self.label(key)}' is missing from the header row (row 1)",
            )
        if missing:  # the sheet cannot be read: treat it as having no records
            self.table = RawTable(self.spec, self.title, {}, [], {})
            self.n = 0
        return not missing

    def raw(self, key: str) -> list[Any]:
        return self.table.column(key) if self.table is not None else []

    def numbers(
        self,
        key: str,
        *,
        required: bool = False,
        minimum: float | None = None,
        strictly_above: float | None = None,
        default: float = math.nan,
    ) -> np.ndarray:
        raw = self.raw(key)
        if not self.has(key):
            return np.full(self.n, default)
        values, bad = parse_numbers(raw)
        for i, reason in bad:
            self.error(key, i, f"{self.label(key)} {reason}")
        blank = np.array([v is None for v in raw], dtype=bool)
        if required:
            for i in np.flatnonzero(blank):
                self.error(key, int(i), f"{self.label(key)} is empty: a number is needed")
        values[blank] = default
        if minimum is not None:
            for i in np.flatnonzero(values < minimum):
                self.error(
                    key, int(i), f"{self.label(key)} {describe(raw[i])} is negative: it must be ≥ {minimum:g}"
                )
                values[i] = math.nan
        if strictly_above is not None:
            for i in np.flatnonzero(values <= strictly_above):
                self.error(
                    key, int(i), f"{self.label(key)} {describe(raw[i])} must be greater than {strictly_above:g}"
                )
                values[i] = math.nan
        return values

    def ids(self, key: str, *, required: bool = False) -> list[str | None]:
        out: list[str | None] = []
        for i, value in enumerate(self.raw(key)):
            if value is None:
                if required:
                    self.error(key, i, f"{self.label(key)} is empty")
                out.append(None)
                continue
            try:
                out.append(parse_id(value) or None)
            except Invalid as reason:
                self.error(key, i, f"{self.label(key)} {reason}")
                out.append(None)
        if not self.has(key):
            return [None] * self.n
        return out

    def texts(self, key: str, *, required: bool = False) -> list[str | None]:
        return self.ids(key, required=required)

    def enums(self, key: str, enumeration: Enumeration, default: str) -> list[str]:
        if not self.has(key):
            return [default] * self.n
        out: list[str] = []
        for i, value in enumerate(self.raw(key)):
            if value is None:
                out.append(default)
                continue
            try:
                out.append(parse_enum(value, enumeration))
            except Invalid as reason:
                self.error(key, i, f"{self.label(key)} {reason}")
                out.append(default)
        return out

    def dates(self, key: str) -> list[dt.date | None]:
        if not self.has(key):
            return [None] * self.n
        out: list[dt.date | None] = []
        for i, value in enumerate(self.raw(key)):
            if value is None:
                out.append(None)
                continue
            try:
                out.append(parse_date(value))
            except Invalid as reason:
                self.error(key, i, f"{self.label(key)} {reason}")
                out.append(None)
        return out

    def unique(self, key: str, ids: list[str | None], what: str) -> dict[str, int]:
        """Index of first occurrence; duplicates reported on the later row."""
        index: dict[str, int] = {}
        for i, value in enumerate(ids):
            if value is None:
                continue
            if value in index:
                self.error(
                    key,
                    i,
                    f"{what} '{value}' appears twice (first at {self.cell(key, index[value])}): "
                    "each must be listed once",
                )
                continue
            index[value] = i
        return index


# ------------------------------------------------------------------ sheets


def _settings(reader: SheetReader) -> Settings:
    settings = Settings()
    if reader.table is None or not reader.require():
        return settings
    seen: dict[str, int] = {}
    keys = reader.raw("key")
    values = reader.raw("value")
    for i, raw_key in enumerate(keys):
        if raw_key is None:
            if values[i] is not None:
                reader.error("key", i, "this setting has a value but no key")
            continue
        setting = schema.SETTINGS_BY_ALIAS.get(schema.normalize(raw_key))
        if setting is None:
            known = [s.key for s in schema.SETTINGS_KEYS]
            reader.warning(
                "key",
                i,
                f"unknown setting '{raw_key}' is ignored{did_you_mean(str(raw_key), known)}",
            )
            continue
        if setting.key in seen:
            reader.error(
                "key",
                i,
                f"the setting '{setting.key}' appears twice (first at {reader.cell('key', seen[setting.key])})",
            )
            continue
        seen[setting.key] = i
        settings.cells[setting.key] = reader.cell("value", i)
        value = values[i]
        if value is None:
            continue  # blank value: the default applies
        try:
            parsed = _setting_value(setting, value)
        except Invalid as reason:
            reader.error("value", i, f"{setting.key} {reason}")
            continue
        setattr(settings, setting.key, parsed)
    return settings


def _setting_value(setting: schema.Setting, value: Any) -> Any:
    if setting.kind == "date":
        return parse_date(value)
    if setting.kind == "enum":
        assert setting.enumeration is not None
        return parse_enum(value, setting.enumeration)
    if setting.kind == "text":
        text = parse_id(value)
        if not text:
            raise Invalid("is empty")
        return text
    numbers, bad = parse_numbers([value])
    if bad:
        raise Invalid(bad[0][1])
    number = float(numbers[0])
    if setting.kind == "int":
        if not number.is_integer() or not 0 <= number <= 6:
            raise Invalid(f"{describe(value)} must be a whole number from 0 to 6")
        return int(number)
    if number < 0:
        raise Invalid(f"{describe(value)} must not be negative")
    return number


def _kpis(reader: SheetReader) -> KpiLibrary:
    reader.require()
    n = reader.n
    ids = reader.ids("kpi_id", required=True)
    library = KpiLibrary(
        ids=[i or "" for i in ids],
        rows=list(reader.table.rows) if reader.table else [],
        names=[v or "" for v in reader.texts("name", required=True)],
        lower=np.array([d == "lower" for d in reader.enums("direction", schema.DIRECTION, "higher")], dtype=bool),
        method=reader.enums("method", schema.METHOD, "linear"),
        threshold=reader.numbers("threshold", minimum=0.0),
        stretch=reader.numbers("stretch", minimum=0.0),
        threshold_score=reader.numbers("threshold_score", default=50.0),
        target_score=reader.numbers("target_score", default=100.0),
        stretch_score=reader.numbers("stretch_score", default=150.0),
        curve=reader.ids("curve"),
        gate=np.array([g == "yes" for g in reader.enums("gate", schema.YES_NO, "no")], dtype=bool),
        target=reader.numbers("target", strictly_above=0.0),
        budget_line=reader.ids("budget_line"),
        perspective=reader.texts("perspective"),
        level=reader.texts("level"),
        parent_kpi=reader.ids("parent_kpi"),
        unit=reader.texts("unit"),
    )
    assert len(library.ids) == n
    library.index = reader.unique("kpi_id", ids, "KPI")
    return library


def _check_kpi_rules(reader: SheetReader, kpis: KpiLibrary, curves: dict[str, Any], budget_lines: set[str]) -> None:
    for i, kpi_id in enumerate(kpis.ids):
        method = kpis.method[i]
        curve = kpis.curve[i]
        if curve is not None and curve not in curves:
            reader.error(
                "curve",
                i,
                f"KPI '{kpi_id}' uses the curve '{curve}', which is not on the Curves sheet"
                + did_you_mean(curve, curves),
            )
        if method == "step" and curve is None:
            reader.error(
                "method" if reader.has("method") else "kpi_id",
                i,
                f"KPI '{kpi_id}' is scored 'step' but names no curve: add its curve id in the curve column",
            )
        if method == "linear" and curve is None:
            for key, value in (("threshold", kpis.threshold[i]), ("stretch", kpis.stretch[i])):
                if math.isnan(value) and not _has_bad_cell(reader, key, i):
                    reader.error(
                        key if reader.has(key) else "kpi_id",
                        i,
                        f"KPI '{kpi_id}' is scored 'linear' without a curve, so it needs a {key} "
                        "(e.g. threshold 0.8, stretch 1.2)",
                    )
            threshold, stretch = kpis.threshold[i], kpis.stretch[i]
            if threshold > 1:
                hint = f" — write {threshold / 100:g} or {threshold:g}%" if threshold > 1.5 else ""
                reader.error(
                    "threshold", i, f"KPI '{kpi_id}': threshold {threshold:g} is above 1 (100%){hint}"
                )
            if stretch < 1:
                reader.error(
                    "stretch", i, f"KPI '{kpi_id}': stretch {stretch:g} is below 1 (100%)"
                )
        budget_line = kpis.budget_line[i]
        if budget_line is not None and budget_line not in budget_lines:
            reader.error(
                "budget_line",
                i,
                f"KPI '{kpi_id}' takes its numbers from budget line '{budget_line}', "
                "which is not on the Budget sheet" + did_you_mean(budget_line, budget_lines),
            )
        parent = kpis.parent_kpi[i]
        if parent is not None and parent not in kpis.index:
            reader.warning(
                "parent_kpi",
                i,
                f"KPI '{kpi_id}' cascades from '{parent}', which is not in the KPI library"
                + did_you_mean(parent, kpis.index),
            )


def _has_bad_cell(reader: SheetReader, key: str, i: int) -> bool:
    if not reader.has(key):
        return False
    return reader.raw(key)[i] is not None


def _curves(reader: SheetReader) -> dict[str, list[tuple[float, float]]]:
    if reader.table is None or not reader.require():
        return {}
    ids = reader.ids("curve_id", required=True)
    xs = reader.numbers("attainment", required=True)
    ys = reader.numbers("score", required=True)
    points: dict[str, dict[float, int]] = defaultdict(dict)
    curves: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for i, curve in enumerate(ids):
        if curve is None or math.isnan(xs[i]) or math.isnan(ys[i]):
            continue
        seen = points[curve]
        if xs[i] in seen:
            reader.error(
                "attainment",
                i,
                f"curve '{curve}' has two points at attainment {xs[i]:g} "
                f"(also {reader.cell('attainment', seen[xs[i]])}): keep one",
            )
            continue
        seen[xs[i]] = i
        curves[curve].append((float(xs[i]), float(ys[i])))
    return {k: sorted(v) for k, v in curves.items()}


def _employees(reader: SheetReader) -> Employees:
    reader.require()
    ids = reader.ids("employee_id", required=True)
    employees = Employees(
        ids=[i or "" for i in ids],
        rows=list(reader.table.rows) if reader.table else [],
        names=[v or "" for v in reader.texts("name", required=True)],
        department=[v or "" for v in reader.texts("department", required=True)],
        base_salary=reader.numbers("base_salary", required=True, minimum=0.0),
        target_bonus_pct=reader.numbers("target_bonus_pct", required=True, minimum=0.0),
        hire_date=reader.dates("hire_date"),
        termination_date=reader.dates("termination_date"),
        eligible=np.array([e == "yes" for e in reader.enums("eligible", schema.YES_NO, "yes")], dtype=bool),
        tier_table=[t or schema.DEFAULT_TIER_TABLE for t in reader.ids("tier_table")],
        manager=reader.ids("manager"),
        grade=reader.texts("grade"),
        currency=reader.texts("currency"),
    )
    employees.index = reader.unique("employee_id", ids, "employee")
    for i in range(reader.n):
        hire, leave = employees.hire_date[i], employees.termination_date[i]
        if hire is not None and leave is not None and leave < hire:
            reader.error(
                "termination_date",
                i,
                f"employee '{employees.ids[i]}' leaves ({leave}) before being hired ({hire})",
            )
        pct = employees.target_bonus_pct[i]
        if pct > 1:
            reader.warning(
                "target_bonus_pct",
                i,
                f"target bonus {pct:g} is {pct * 100:g}% of salary — if you meant {pct:g}%, write {pct / 100:g} or {pct:g}%",
            )
    return employees


def _tiers(reader: SheetReader) -> dict[str, list[TierRow]]:
    if not reader.require():
        return {}
    tables = [t or schema.DEFAULT_TIER_TABLE for t in reader.ids("tier_table")]
    mins = reader.numbers("min_score", required=True)
    multipliers = reader.numbers("multiplier", required=True, minimum=0.0)
    labels = reader.texts("label")
    out: dict[str, list[TierRow]] = defaultdict(list)
    seen: dict[tuple[str, float], int] = {}
    for i, table in enumerate(tables):
        if math.isnan(mins[i]) or math.isnan(multipliers[i]):
            continue
        key = (table, float(mins[i]))
        if key in seen:
            reader.error(
                "min_score",
                i,
                f"tier table '{table}' has two rows with min_score {mins[i]:g} "
                f"(also {reader.cell('min_score', seen[key])}): keep one",
            )
            continue
        seen[key] = i
        label = labels[i] or f"{multipliers[i]:g}x"
        out[table].append(TierRow(float(mins[i]), float(multipliers[i]), label, reader.row(i)))
    return {k: sorted(v, key=lambda r: r.min_score) for k, v in out.items()}


def _pools(reader: SheetReader) -> tuple[dict[str, float], dict[str, int]]:
    if reader.table is None or not reader.require():
        return {}, {}
    departments = reader.texts("department", required=True)
    amounts = reader.numbers("pool", required=True, minimum=0.0)
    index = reader.unique("department", departments, "the pool of department")
    return {d: float(amounts[i]) for d, i in index.items() if not math.isnan(amounts[i])}, index


def _budget(
    reader: SheetReader, accounts: dict[tuple[str, str], str | None] | None = None
) -> dict[tuple[str, str], tuple[float, float]]:
    if reader.table is None or not reader.require():
        return {}
    lines = reader.ids("line_id", required=True)
    departments = reader.texts("department", required=True)
    budgets = reader.numbers("budget", required=True)
    actuals = reader.numbers("actual")
    account_names = reader.texts("account")
    out: dict[tuple[str, str], tuple[float, float]] = {}
    first: dict[tuple[str, str], int] = {}
    for i, (line, department) in enumerate(zip(lines, departments)):
        if line is None or department is None:
            continue
        key = (line, department)
        if key in first:
            reader.error(
                "line_id",
                i,
                f"budget line '{line}' for department '{department}' appears twice "
                f"(first at {reader.cell('line_id', first[key])})",
            )
            continue
        first[key] = i
        out[key] = (float(budgets[i]), float(actuals[i]))
        if accounts is not None:
            accounts[key] = account_names[i]
    return out


def _scorecards(
    reader: SheetReader,
    kpis: KpiLibrary,
    employees: Employees,
    budget: dict[tuple[str, str], tuple[float, float]],
    settings: Settings,
    budget_title: str,
) -> Scorecards:
    reader.require()
    n = reader.n
    employee_ids = reader.ids("employee_id", required=True)
    kpi_ids = reader.ids("kpi_id", required=True)
    weights = reader.numbers("weight", required=True, minimum=0.0)
    targets = reader.numbers("target")
    actuals = reader.numbers("actual")
    raw_targets = reader.raw("target") if reader.has("target") else [None] * n
    raw_actuals = reader.raw("actual") if reader.has("actual") else [None] * n
    employee = np.full(n, -1, dtype=np.int64)
    kpi = np.full(n, -1, dtype=np.int64)
    pairs: dict[tuple[str, str], int] = {}
    periods = [parse_period(v) for v in reader.raw("period")] if reader.has("period") else [None] * n
    for i in range(n):
        e_id, k_id = employee_ids[i], kpi_ids[i]
        if e_id is not None and employees.index:
            if e_id in employees.index:
                employee[i] = employees.index[e_id]
            else:
                reader.error(
                    "employee_id",
                    i,
                    f"unknown employee '{e_id}' (not on the Employees sheet)"
                    + did_you_mean(e_id, employees.index),
                )
        if k_id is not None and kpis.index:
            if k_id in kpis.index:
                kpi[i] = kpis.index[k_id]
            else:
                reader.error(
                    "kpi_id",
                    i,
                    f"unknown KPI '{k_id}' (not in the KPI library)" + did_you_mean(k_id, kpis.index),
                )
        if e_id is not None and k_id is not None:
            pair = (e_id, k_id)
            if pair in pairs:
                first = pairs[pair]
                if periods[i] is not None and periods[first] is not None and periods[i] != periods[first]:
                    # a year workbook: kpi-xl review scores it period by period
                    reader.error(
                        "kpi_id",
                        i,
                        f"employee '{e_id}' has KPI '{k_id}' in two periods ('{periods[first]}' at "
                        f"{reader.cell('kpi_id', first)}, '{periods[i]}' here): a workbook is scored one period "
                        "at a time; kpi-xl review reviews several",
                    )
                else:
                    reader.error(
                        "kpi_id",
                        i,
                        f"employee '{e_id}' has KPI '{k_id}' twice (first at {reader.cell('kpi_id', first)}): "
                        "keep one row",
                    )
            else:
                pairs[pair] = i
    # Targets and actuals: the row's own, else the budget line's, else the KPI's default target.
    known_lines = {line for line, _ in budget}
    for i in range(n):
        k, e = kpi[i], employee[i]
        if k < 0:
            continue
        kpi_id = kpis.ids[k]
        line = kpis.budget_line[k]
        target_given = raw_targets[i] is not None
        actual_given = raw_actuals[i] is not None
        entry = None
        unresolved = False  # the budget line cannot supply numbers (already reported)
        if line is not None and not (target_given and actual_given):
            if line not in known_lines or e < 0:
                unresolved = True
            else:
                department = employees.department[e]
                entry = budget.get((line, department))
                if entry is None:
                    unresolved = True
                    reader.error(
                        "actual" if target_given else "target",
                        i,
                        f"KPI '{kpi_id}' takes its numbers from budget line '{line}', but the "
                        f"{budget_title} sheet has no row for department '{department}'",
                    )
        if not target_given:
            if entry is not None:
                targets[i] = entry[0]
            elif line is None:
                targets[i] = kpis.target[k]
        if not actual_given and entry is not None:
            actuals[i] = entry[1]
        if target_given and line is not None and e >= 0 and not math.isnan(targets[i]):
            _check_budget_alignment(
                reader, i, kpi_id, line, employees.department[e], float(targets[i]),
                budget.get((line, employees.department[e])), settings.budget_tolerance, budget_title,
            )
        if kpis.method[k] != "direct" and not unresolved:
            if not target_given and math.isnan(targets[i]):
                reader.error(
                    "target",
                    i,
                    f"KPI '{kpi_id}' has no target for this row: fill it in here, or give the KPI a "
                    "default target on the KPIs sheet",
                )
            elif targets[i] <= 0:
                reader.error(
                    "target", i, f"target {targets[i]:g} for KPI '{kpi_id}' must be greater than 0"
                )
        if not actual_given and math.isnan(actuals[i]) and not unresolved:
            reader.error(
                "actual",
                i,
                f"the actual for KPI '{kpi_id}' is empty: enter the result (0 if it was zero)",
            )
        if kpis.lower[k] and actuals[i] < 0:
            reader.error(
                "actual",
                i,
                f"actual {actuals[i]:g} for KPI '{kpi_id}' is negative, which a lower-is-better KPI cannot have",
            )
    effective = _weights(reader, employee, weights, employees, settings)
    given = np.array([v is not None for v in raw_targets], dtype=bool)
    return Scorecards(
        rows=list(reader.table.rows) if reader.table else [],
        employee=employee,
        kpi=kpi,
        weight=effective,
        target=targets,
        actual=actuals,
        comment=reader.texts("comment"),
        period=reader.ids("period"),
        target_given=given,
        actual_given=np.array([v is not None for v in raw_actuals], dtype=bool),
    )


def _check_budget_alignment(
    reader: SheetReader,
    i: int,
    kpi_id: str,
    line: str,
    department: str,
    target: float,
    entry: tuple[float, float] | None,
    tolerance: float,
    budget_title: str,
) -> None:
    """A target typed on the scorecard that strays from its KPI's budget line: a warning."""
    if entry is None or math.isnan(entry[0]):
        return
    budget = entry[0]
    difference = target - budget
    if abs(difference) <= tolerance * abs(budget) * (1 + 1e-12):
        return
    how = f"{difference / abs(budget):+.1%}" if budget != 0 else "while the budget is 0"
    reader.warning(
        "target",
        i,
        f"target {target:,.10g} for KPI '{kpi_id}' differs from its budget line '{line}' "
        f"({budget_title}, {department}: {budget:,.10g}) by {how}, more than the budget_tolerance of "
        f"{tolerance:.10g} ({tolerance:.1%}): align the target with the budget, or leave it blank to take the budget",
    )


def _weights(
    reader: SheetReader,
    employee: np.ndarray,
    weights: np.ndarray,
    employees: Employees,
    settings: Settings,
) -> np.ndarray:
    """Per-employee weight check: fractions, percent points, or normalised."""
    effective = weights.copy()
    groups: dict[int, list[int]] = defaultdict(list)
    for i, e in enumerate(employee):
        if e >= 0:
            groups[int(e)].append(i)
    for e, members in groups.items():
        values = weights[members]
        if np.isnan(values).any():
            continue  # the bad cell is already reported
        total = math.fsum(values)
        who = employees.ids[e]
        if abs(total - 1.0) <= WEIGHT_TOLERANCE:
            continue
        if abs(total - 100.0) <= PERCENT_POINT_TOLERANCE:
            effective[members] = values / 100.0
            continue
        if settings.normalize_weights == "yes" and total > 0:
            effective[members] = values / total
            reader.warning(
                "weight",
                members[0],
                f"the weights of employee '{who}' add up to {total:g}, not 1 (100%): "
                "rescaled to 100% because normalize_weights is yes",
            )
            continue
        rows = [reader.row(i) for i in members]
        reader.error(
            "weight",
            members[0],
            f"the weights of employee '{who}' add up to {total:g} ({total * 100:g}%), not 1 (100%) "
            f"(rows {_row_list(rows)}); fix them, or set normalize_weights to yes",
        )
    return effective


def _row_list(rows: list[int]) -> str:
    if len(rows) > 1 and rows == list(range(rows[0], rows[0] + len(rows))):
        return f"{rows[0]}–{rows[-1]}"
    return ", ".join(str(r) for r in rows)


# ------------------------------------------------------------------ whole book


def validate(book: RawBook) -> ValidatedBook:
    problems = book.problems
    language = book.language
    titles: dict[str, str] = {}

    def reader(spec: SheetSpec) -> SheetReader:
        r = SheetReader(book.tables.get(spec.key), spec, problems, language)
        titles[spec.key] = r.title
        return r

    settings_reader = reader(schema.SETTINGS)
    settings = _settings(settings_reader)
    curves_reader = reader(schema.CURVES)
    curves = _curves(curves_reader)
    budget_reader = reader(schema.BUDGET)
    budget_accounts: dict[tuple[str, str], str | None] = {}
    budget = _budget(budget_reader, budget_accounts)
    kpi_reader = reader(schema.KPIS)
    kpis = _kpis(kpi_reader)
    _check_kpi_rules(kpi_reader, kpis, curves, {line for line, _ in budget})
    employee_reader = reader(schema.EMPLOYEES)
    employees = _employees(employee_reader)
    tier_reader = reader(schema.TIERS)
    tiers = _tiers(tier_reader)
    pool_reader = reader(schema.POOLS)
    pools, pool_index = _pools(pool_reader)
    score_reader = reader(schema.SCORECARDS)
    scorecards = _scorecards(score_reader, kpis, employees, budget, settings, titles[schema.BUDGET.key])

    for r, what in ((kpi_reader, "KPIs"), (employee_reader, "employees"), (score_reader, "scorecard rows"), (tier_reader, "tiers")):
        if r.table is not None and r.table.column_index and r.n == 0:
            problems.error(r.title, "A2", f"the {r.title} sheet has no {what}: fill in at least one row below the header")
    _check_settings(settings_reader, settings)
    _check_employee_links(employee_reader, employees, scorecards, tiers, pools, settings)
    _check_pools(pool_reader, pools, pool_index, employees, settings)
    rules_reader = reader(schema.RULES)
    rules = read_rules(rules_reader, kpis, employees, tiers, settings)

    return ValidatedBook(
        language=language,
        titles=titles,
        settings=settings,
        kpis=kpis,
        curves=curves,
        employees=employees,
        scorecards=scorecards,
        tiers=tiers,
        pools=pools,
        budget=budget,
        problems=problems,
        rules=rules,
        budget_accounts=budget_accounts,
    )


def _check_settings(reader: SheetReader, settings: Settings) -> None:
    def settings_error(key: str, message: str) -> None:
        reader.problems.error(reader.title, settings.cells.get(key, "A1" if reader.table else ""), message)

    if settings.proration == "days":
        for key in ("period_start", "period_end"):
            if getattr(settings, key) is None:
                settings_error(
                    "proration",
                    f"proration is 'days' but {key} is not set: add a {key} row with a date",
                )
    if settings.period_start and settings.period_end and settings.period_end < settings.period_start:
        settings_error(
            "period_end",
            f"period_end {settings.period_end} is before period_start {settings.period_start}",
        )


def _check_employee_links(
    reader: SheetReader,
    employees: Employees,
    scorecards: Scorecards,
    tiers: dict[str, list[TierRow]],
    pools: dict[str, float],
    settings: Settings,
) -> None:
    if reader.table is None:
        return
    carried = set(int(e) for e in scorecards.employee if e >= 0)
    pool_departments_reported: set[str] = set()
    for i, employee_id in enumerate(employees.ids):
        if not employee_id or employees.index.get(employee_id) != i:
            continue
        if i not in carried and reader.problems is not None:
            reader.error(
                "employee_id",
                i,
                f"employee '{employee_id}' has no rows on the Scorecards sheet: give them at least one KPI",
            )
        table = employees.tier_table[i]
        if tiers and table not in tiers:
            reader.error(
                "tier_table" if reader.has("tier_table") else "employee_id",
                i,
                f"tier table '{table}' is not on the Tiers sheet" + did_you_mean(table, tiers),
            )
        department = employees.department[i]
        if (
            settings.pool_mode != "none"
            and department
            and department not in pools
            and department not in pool_departments_reported
        ):
            pool_departments_reported.add(department)
            reader.error(
                "department",
                i,
                f"department '{department}' has no row on the Pools sheet, which pool_mode "
                f"'{settings.pool_mode}' needs" + did_you_mean(department, pools),
            )


def _check_pools(
    reader: SheetReader,
    pools: dict[str, float],
    pool_index: dict[str, int],
    employees: Employees,
    settings: Settings,
) -> None:
    if reader.table is None or not len(reader.table):
        return
    if settings.pool_mode == "none":
        reader.problems.warning(
            reader.title,
            "A1",
            "the Pools sheet is ignored because pool_mode is 'none' (set pool_mode to cap or scale to use it)",
        )
        return
    departments = set(employees.department)
    if not departments:
        return  # the Employees sheet is unusable, which is reported already
    for department, i in pool_index.items():
        if department not in departments:
            reader.warning(
                "department",
                i,
                f"nobody works in department '{department}': its pool is not used"
                + did_you_mean(department, departments),
            )

