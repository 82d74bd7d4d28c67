"""The one Python API that the CLI, the Excel buttons, the custom functions and
the add-in server all call.  Nothing else in kpi_xl strings the pipeline
together.

    read -> validate -> compile -> run kernels -> assemble -> (write)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from .problems import ERROR, WARNING, Problem
from .reading import RawBook, WorkbookUnreadable, read_rows, read_tables, read_workbook

__all__ = [
    "Outcome",
    "WorkbookUnreadable",
    "check_workbook",
    "score_book",
    "score_sheets",
    "score_tables",
    "score_workbook",
    "whatif_workbook",
]


@dataclass
class Outcome:
    """What scoring a workbook produced: problems, and the result tables when clean."""

    language: str
    problems: list[Problem] = field(default_factory=list)
    results: pd.DataFrame | None = None
    payouts: pd.DataFrame | None = None
    departments: pd.DataFrame | None = None
    rule_trace: pd.DataFrame | None = None  # one row a rule, when the workbook has rules
    cost: pd.DataFrame | None = None  # Bonus cost: per department against the bonus budget
    variance: pd.DataFrame | None = None  # Budget variance: per budget line and department
    sheet_titles: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def scored(self) -> bool:
        return self.payouts is not None


def score_book(raw: RawBook, *, check_only: bool = False, engine: str | None = None) -> Outcome:
    """Validate and (unless check_only or there are errors) score raw tables."""
    from .validation import validate

    book = validate(raw)
    if raw.tables.get("Scenarios") is not None:
        # what-if lines never stop scoring: their problems are warnings here, errors for kpi-xl whatif
        from .whatif import scenario_warnings

        book.problems.extend(scenario_warnings(raw, book))
    problems = sorted(book.problems, key=_reading_order(raw.sheet_titles))
    outcome = Outcome(raw.language, problems, sheet_titles=list(raw.sheet_titles))
    if check_only or book.problems.has_errors:
        return outcome
    from .assembling import departments_table, payouts_table, results_table, rule_trace_table
    from .compiling import compile_plan
    from .engine import run_plan
    from .finance import cost_table, variance_table

    plan = compile_plan(book)
    scores = run_plan(plan, engine)
    if scores.rules is not None and scores.rules.problems:
        # a rule whose computed value is impossible for someone (a negative multiplier):
        # found only while scoring, and like any error it stops the payouts
        outcome.problems = sorted([*problems, *scores.rules.problems], key=_reading_order(raw.sheet_titles))
        if any(p.severity == ERROR for p in scores.rules.problems):
            return outcome
    outcome.results = results_table(book, plan, scores)
    outcome.payouts = payouts_table(book, plan, scores)
    outcome.departments = departments_table(book, plan, scores)
    outcome.cost = cost_table(book, plan, scores)
    outcome.variance = variance_table(book, plan)
    if scores.rules is not None:
        outcome.rule_trace = rule_trace_table(book, plan, scores)
    return outcome


def _reading_order(titles: list[str]):
    """Sort key: problems top to bottom, sheet by sheet as the workbook orders them."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    position = {title: i for i, title in enumerate(titles)}

    def key(problem: Problem) -> tuple[int, int, int]:
        if not problem.cell:
            return position.get(problem.sheet, -1), 0, 0
        letters, row = coordinate_from_string(problem.cell)
        return position.get(problem.sheet, -1), row, column_index_from_string(letters)

    return key


def score_workbook(path: str | os.PathLike[str], *, engine: str | None = None) -> Outcome:
    """Score a workbook file.  Raises WorkbookUnreadable when it is not a workbook."""
    return score_book(read_workbook(Path(path)), engine=engine)


def check_workbook(path: str | os.PathLike[str]) -> Outcome:
    """Validate a workbook file without scoring it."""
    return score_book(read_workbook(Path(path)), check_only=True)


def whatif_workbook(path: str | os.PathLike[str], *, engine: str | None = None) -> Any:
    """Score the Scenarios sheet's scenarios side by side (``kpi-xl whatif``).

    Returns a ``kpi_xl.whatif.WhatIfResult`` (``.sheet()``, ``.long_table()``,
    ``.totals()``), or the list of problems when the workbook cannot be scored.
    """
    from .whatif import whatif_book

    return whatif_book(read_workbook(Path(path)), engine)


def score_tables(tables: Mapping[str, Any], *, engine: str | None = None) -> Outcome:
    """Score in-memory tables: {sheet name: DataFrame}, names in English or Chinese."""
    return score_book(read_tables(tables), engine=engine)


def score_sheets(sheets: Mapping[str, Any], *, check_only: bool = False, engine: str | None = None) -> Outcome:
    """Score an open workbook's sheets: {sheet name: rows of values from A1}.

    What the Excel buttons call: problems name the cells exactly as the user
    sees them (``Scorecards!E7``).
    """
    return score_book(read_rows(sheets), check_only=check_only, engine=engine)
