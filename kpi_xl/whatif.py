"""What-if scenarios: ``kpi-xl whatif``.

The Scenarios sheet (情景) names changes, one a row, grouped by scenario:

* ``kpi`` (指标) — what: a KPI id. A factor is a change in performance: the
  attainment of every scorecard row of the KPI × factor (a higher-is-better
  actual × factor, a lower-is-better actual ÷ factor, a direct score ×
  factor). A new value replaces the actual of every row of the KPI (a
  company or department result that everyone shares).
* ``department`` (部门) — what: a department. A factor changes the attainment
  of its people's measured results, as for a KPI: every scorecard row but
  those of ``binary`` KPIs (met or not is not a matter of degree) and
  ``direct`` ones (a manager's assessment); change those with a ``kpi`` row.
* ``company_multiplier`` (公司系数) — factor × the company multiplier, or a new one.
* ``tier`` (档位) — what: a tier label (``sales: On plan`` when two tables have
  it). Factor × that row's multiplier, or a new multiplier.

Every scenario is scored on the same compiled plan: the changes are applied
to copies of the Plan's arrays and ``engine.run_plan`` runs again — the
workbook is read, validated and compiled once. The Rules sheet applies in
every scenario, as in ``kpi-xl score``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import schema
from .compiling import Plan
from .problems import WARNING, Problem, Problems, did_you_mean
from .reading import RawBook
from .validation import SheetReader, ValidatedBook
from .values import Invalid, parse_enum

KPI, DEPARTMENT, COMPANY_MULTIPLIER, TIER = "kpi", "department", "company_multiplier", "tier"


@dataclass(frozen=True)
class Change:
    kind: str  # KPI, DEPARTMENT, COMPANY_MULTIPLIER or TIER
    index: int  # KPI index, department index, global tier row; -1 for the company multiplier
    what: str  # as the sheet names it
    factor: float | None  # exactly one of factor and value
    value: float | None
    row: int  # the Scenarios sheet's row

    def describe(self, language: str) -> str:
        target = {
            KPI: self.what,
            DEPARTMENT: self.what,
            COMPANY_MULTIPLIER: schema.APPLIES_TO.label(COMPANY_MULTIPLIER, language),
            TIER: self.what,
        }[self.kind]
        if self.factor is not None:
            return f"{target} ×{self.factor:g}"
        return f"{target} = {self.value:,.10g}"


@dataclass
class Scenario:
    name: str
    changes: list[Change] = field(default_factory=list)

    def describe(self, language: str) -> str:
        return ("；" if language == "zh" else "; ").join(c.describe(language) for c in self.changes)


@dataclass
class WhatIfResult:
    """Payouts by department for the base plan and for every scenario."""

    language: str
    department_names: list[str]
    headcount: np.ndarray  # [d]
    base: np.ndarray  # [d] payout (rounded payouts added up)
    scenarios: list[Scenario]
    payouts: np.ndarray  # [s, d]
    rounding: int = 2
    problems: list[Problem] = field(default_factory=list)

    @property
    def base_total(self) -> float:
        return float(_cents(np.array([self.base.sum()]), self.rounding)[0])

    def totals(self) -> list[float]:
        return _cents(self.payouts.sum(axis=1), self.rounding).tolist()

    def long_table(self) -> pd.DataFrame:
        """One row per scenario and department (the company total last in each): for the API."""
        rows = []
        for s, scenario in enumerate(self.scenarios):
            for d, name in enumerate(self.department_names):
                rows.append((scenario.name, name, self.base[d], self.payouts[s, d]))
            rows.append((scenario.name, schema.word("company_total", self.language), self.base_total,
                         self.totals()[s]))
        frame = pd.DataFrame(rows, columns=["scenario", "department", "base", "payout"])
        frame["difference"] = _cents(frame["payout"].to_numpy() - frame["base"].to_numpy(), self.rounding)
        return frame

    def sheet(self) -> tuple[schema.SheetSpec, pd.DataFrame]:
        """The Scenario results sheet: departments down, scenarios side by side (payout, difference to base)."""
        language = self.language
        columns: list[schema.Column] = [
            schema.Column("department"),
            schema.NamedColumn("headcount", en="headcount", zh_label="人数", number_format="0"),
            schema.NamedColumn("base", en=schema.word("base", "en"), zh_label=schema.word("base", "zh"),
                               number_format="#,##0.00"),
        ]
        data: dict[str, Any] = {
            "department": [*self.department_names, schema.word("company_total", language)],
            "headcount": [*self.headcount.tolist(), int(self.headcount.sum())],
            "base": [*self.base.tolist(), self.base_total],
        }
        totals = self.totals()
        for s, scenario in enumerate(self.scenarios):
            payout_key, difference_key = f"s{s}_payout", f"s{s}_difference"
            columns.append(schema.NamedColumn(payout_key, en=scenario.name, zh_label=scenario.name,
                                              number_format="#,##0.00"))
            columns.append(schema.NamedColumn(
                difference_key, en=f"{scenario.name} {schema.word('difference', 'en')}",
                zh_label=f"{scenario.name} {schema.word('difference', 'zh')}", number_format="+#,##0.00;-#,##0.00;0.00",
            ))
            payout = [*self.payouts[s].tolist(), totals[s]]
            data[payout_key] = payout
            data[difference_key] = _cents(np.array(payout) - np.array(data["base"]), self.rounding).tolist()
        spec = schema.SheetSpec(schema.SCENARIO_RESULTS.key, schema.SCENARIO_RESULTS.zh, tuple(columns))
        frame = pd.DataFrame(data)
        frame["headcount"] = frame["headcount"].astype(np.int64)
        return spec, frame


def _cents(values: Any, digits: int) -> np.ndarray:
    """Sums and differences of rounded money amounts, without float noise."""
    from .finance import _cents as cents

    return cents(np.asarray(values, dtype=float), digits)


# ------------------------------------------------------------------ the Scenarios sheet


def read_scenarios(
    raw: RawBook, book: ValidatedBook, problems: Problems, *, need_rows: bool = True
) -> list[Scenario] | None:
    """The Scenarios sheet as scenarios in sheet order; problems with their cells. None without a sheet.

    need_rows: an empty sheet is a problem (for kpi-xl whatif; kpi-xl score does not mind)."""
    reader = SheetReader(raw.tables.get(schema.SCENARIOS.key), schema.SCENARIOS, problems, raw.language)
    if reader.table is None:
        problems.error(
            reader.title, "",
            "kpi-xl whatif needs a Scenarios sheet (情景): one change a row — scenario, applies_to "
            "(kpi, department, company_multiplier or tier), what, and a factor or a new value "
            "(see docs/workbook.md, 'Scenarios sheet')",
        )
        return None
    if not reader.require():
        return []
    names = reader.texts("scenario")
    whats = reader.texts("what")
    factors = reader.numbers("factor")
    values = reader.numbers("new_value")
    raw_kinds = reader.raw("applies_to")
    raw_factors = reader.raw("factor") if reader.has("factor") else [None] * reader.n
    raw_values = reader.raw("new_value") if reader.has("new_value") else [None] * reader.n
    departments = {name: d for d, name in enumerate(dict.fromkeys(book.employees.department))}
    tier_rows = _tier_rows(book)
    scenarios: dict[str, Scenario] = {}
    for i in range(reader.n):
        name, what = names[i], whats[i]
        if name is None and raw_kinds[i] is None and what is None and raw_factors[i] is None and raw_values[i] is None:
            continue  # a comment line
        if name is None:
            reader.error("scenario", i, "this change has no scenario name: name the scenario it belongs to")
            continue
        if raw_kinds[i] is None:
            reader.error("applies_to", i, "applies_to is empty: kpi, department, company_multiplier or tier")
            continue
        try:
            kind = parse_enum(raw_kinds[i], schema.APPLIES_TO)
        except Invalid as reason:
            reader.error("applies_to", i, f"applies_to {reason}")
            continue
        if (raw_factors[i] is not None and math.isnan(factors[i])) or (
            raw_values[i] is not None and math.isnan(values[i])
        ):
            continue  # a factor or value that is not a number: reported already
        factor = None if raw_factors[i] is None else float(factors[i])
        value = None if raw_values[i] is None else float(values[i])
        index = _target(reader, i, kind, what, book, departments, tier_rows)
        if index is None:
            continue
        if not _change_is_valid(reader, i, kind, factor, value, book, index):
            continue
        scenario = scenarios.setdefault(name, Scenario(name))
        scenario.changes.append(Change(kind, index, what or "", factor, value, reader.row(i)))
    if need_rows and not scenarios and not problems.has_errors:
        problems.error(reader.title, "A2", "the Scenarios sheet has no changes: add at least one row")
    return list(scenarios.values())


def _tier_rows(book: ValidatedBook) -> dict[tuple[str, str], int]:
    """(tier table, label) -> the global row of the compiled plan (tables in order, rows by min_score)."""
    out: dict[tuple[str, str], int] = {}
    offset = 0
    for table, rows in book.tiers.items():
        for j, row in enumerate(rows):
            out.setdefault((table, row.label), offset + j)
        offset += len(rows)
    return out


def _target(
    reader: SheetReader,
    i: int,
    kind: str,
    what: str | None,
    book: ValidatedBook,
    departments: dict[str, int],
    tier_rows: dict[tuple[str, str], int],
) -> int | None:
    """The index a change applies to, or None (reported)."""
    if kind == COMPANY_MULTIPLIER:
        return -1
    where = "what" if reader.has("what") else "applies_to"
    if what is None:
        example = {KPI: "a KPI id such as REV", DEPARTMENT: "a department", TIER: "a tier label"}[kind]
        reader.error(where, i, f"a {kind} change needs what it changes: {example}")
        return None
    if kind == KPI:
        if what not in book.kpis.index:
            reader.error(where, i, f"'{what}' is not a KPI of the KPIs sheet" + did_you_mean(what, book.kpis.index))
            return None
        return book.kpis.index[what]
    if kind == DEPARTMENT:
        if what not in departments:
            reader.error(where, i, f"nobody works in department '{what}'" + did_you_mean(what, departments))
            return None
        return departments[what]
    table, _, label = what.partition(":")
    if label:  # "sales: On plan"
        key = (table.strip(), label.strip())
        if key not in tier_rows:
            reader.error(where, i, f"tier table '{key[0]}' has no tier labelled '{key[1]}'"
                         + did_you_mean(what, [f"{t}: {lab}" for t, lab in tier_rows]))
            return None
        return tier_rows[key]
    found = [(t, lab) for t, lab in tier_rows if lab == what]
    if not found:
        reader.error(where, i, f"no tier is labelled '{what}'" + did_you_mean(what, [lab for _, lab in tier_rows]))
        return None
    if len(found) > 1:
        tables = " or ".join(f"'{t}: {what}'" for t, _ in found)
        reader.error(where, i, f"the tier label '{what}' is in {len(found)} tier tables: write {tables}")
        return None
    return tier_rows[found[0]]


def _change_is_valid(
    reader: SheetReader, i: int, kind: str, factor: float | None, value: float | None, book: ValidatedBook, index: int
) -> bool:
    if factor is None and value is None:
        reader.error(
            "factor" if reader.has("factor") else "applies_to", i,
            "give a factor (1.1 = 10% better) or a new value",
        )
        return False
    if factor is not None and value is not None:
        reader.error("new_value", i, "give a factor or a new value, not both")
        return False
    if factor is not None:
        if kind in (KPI, DEPARTMENT) and not factor > 0:
            reader.error("factor", i, f"factor {factor:g} must be greater than 0 (1 = no change, 1.1 = 10% better)")
            return False
        if factor < 0:
            reader.error("factor", i, f"factor {factor:g} must not be negative")
            return False
        return True
    assert value is not None
    if kind == DEPARTMENT:
        reader.error("new_value", i, "a department takes a factor (its people's attainment × factor), not a new value")
        return False
    if kind == KPI and book.kpis.lower[index] and value < 0:
        reader.error("new_value", i, f"new value {value:g} is negative, which a lower-is-better KPI cannot have")
        return False
    if kind in (COMPANY_MULTIPLIER, TIER) and value < 0:
        reader.error("new_value", i, f"a multiplier cannot be negative ({value:g})")
        return False
    return True


def scenario_warnings(raw: RawBook, book: ValidatedBook) -> list[Problem]:
    """The Scenarios sheet's problems as warnings: what-if lines never stop ``kpi-xl score``."""
    found = Problems()
    read_scenarios(raw, book, found, need_rows=False)
    return [
        Problem(WARNING, p.sheet, p.cell, f"{p.message} (kpi-xl whatif refuses the Scenarios sheet until it is fixed)")
        for p in found
    ]


# ------------------------------------------------------------------ scoring the scenarios


def apply(plan: Plan, scenario: Scenario) -> Plan:
    """A copy of the plan with the scenario's changes, in sheet order (factors compound)."""
    actual = plan.actual.copy()
    tier_multiplier = plan.tier_multiplier.copy()
    company_multiplier = plan.company_multiplier
    row_department = plan.employee_department[plan.row_employee]
    row_method = plan.kpi_method[plan.row_kpi]
    divide = plan.kpi_lower[plan.row_kpi] & (row_method != schema.METHOD_DIRECT)
    measured = (row_method != schema.METHOD_BINARY) & (row_method != schema.METHOD_DIRECT)
    for change in scenario.changes:
        if change.kind in (KPI, DEPARTMENT):
            if change.kind == KPI:
                rows = plan.row_kpi == change.index
            else:  # a department's measured results: not its pass/fail (binary) or assessed (direct) KPIs
                rows = (row_department == change.index) & measured
            if change.value is not None:
                actual[rows] = change.value
            else:
                assert change.factor is not None
                actual[rows & divide] /= change.factor  # lower is better: attainment = target / actual
                actual[rows & ~divide] *= change.factor
        elif change.kind == COMPANY_MULTIPLIER:
            company_multiplier = company_multiplier * change.factor if change.factor is not None else change.value
        else:
            if change.factor is not None:
                tier_multiplier[change.index] *= change.factor
            else:
                tier_multiplier[change.index] = change.value
    return dataclasses.replace(
        plan, actual=actual, tier_multiplier=tier_multiplier, company_multiplier=float(company_multiplier)
    )


def department_payouts(plan: Plan, payout: np.ndarray) -> np.ndarray:
    """Each department's payout: its rounded payouts added up, without float noise."""
    sums = np.bincount(plan.employee_department, weights=payout, minlength=plan.n_departments)
    return _cents(sums, plan.rounding)


def whatif_book(raw: RawBook, engine: str | None = None) -> WhatIfResult | list[Problem]:
    """Validate and compile once, then score the base and every scenario. Problems when it cannot."""
    from .api import _reading_order
    from .compiling import compile_plan
    from .engine import run_plan
    from .validation import validate

    book = validate(raw)
    problems = book.problems
    scenarios = read_scenarios(raw, book, problems)
    if problems.has_errors or scenarios is None:
        return sorted(problems, key=_reading_order(raw.sheet_titles))
    plan = compile_plan(book)
    base = run_plan(plan, engine)
    payouts = np.empty((len(scenarios), plan.n_departments))
    found: list[Problem] = []
    for s, scenario in enumerate([None, *scenarios]):
        scores = base if scenario is None else run_plan(apply(plan, scenario), engine)
        if scores.rules is not None and scores.rules.problems:
            # a rule whose value is impossible for someone: in the base plan or in a scenario
            prefix = "" if scenario is None else f"scenario '{scenario.name}': "
            found += [Problem(p.severity, p.sheet, p.cell, prefix + p.message) for p in scores.rules.problems]
        if scenario is not None:
            payouts[s - 1] = department_payouts(plan, scores.payout)
    problems.extend(found)
    if problems.has_errors:
        return sorted(problems, key=_reading_order(raw.sheet_titles))
    return WhatIfResult(
        language=raw.language,
        department_names=list(plan.department_names),
        headcount=np.bincount(plan.employee_department, minlength=plan.n_departments),
        base=department_payouts(plan, base.payout),
        scenarios=scenarios,
        payouts=payouts,
        rounding=plan.rounding,
        problems=sorted(problems, key=_reading_order(raw.sheet_titles)),
    )


def write_whatif(result: WhatIfResult, source: Any, destination: Any) -> Any:
    """A copy of the workbook with the Scenario results sheet (replacing an earlier one), atomically."""
    from pathlib import Path

    from .writing import write_frames

    spec, frame = result.sheet()
    aliases = schema.sheet_aliases(schema.SCENARIO_RESULTS)
    return write_frames(
        [(spec, frame)], result.language, Path(source), Path(destination),
        lambda title: schema.normalize(title) in aliases, spec.label(result.language),
    )
