"""Score a workbook period by period, for ``kpi-xl review``.

The contract scores one period: (employee_id, kpi_id) is unique on
Scorecards.  A workbook kept for the whole year has a ``period`` column
(``2026-01`` ... ``2026-12``) and one row per person, KPI and period.  Here
its Scorecards (and Employees, to those with rows in the period) are cut into
one raw book per period and each is scored by the engine exactly as
``kpi-xl score`` scores a one-period workbook; problems keep their cells,
because the cut tables keep their Excel row numbers.

A period none of whose actual cells is filled is *not reported yet* (a year
workbook prepared in January holds December's empty rows): it is skipped and
named, not an error.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ..api import Outcome, score_book
from ..problems import ERROR, Problem, Problems
from ..reading import RawBook, RawTable
from ..validation import ValidatedBook, validate
from ..values import Invalid, parse_id, parse_period


@dataclass
class Scored:
    """One period, scored: its label (None without a period column), its cut raw
    book, the engine's outcome and the validated book (KPI library, curves)."""

    label: str | None
    raw: RawBook
    outcome: Outcome
    book: ValidatedBook


@dataclass
class ScoredPeriods:
    periods: list[Scored] = field(default_factory=list)  # reported, in order
    not_reported: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.periods) and not any(p.severity == ERROR for p in self.problems)


period_label = parse_period


def period_order(label: str) -> tuple:
    """Periods sort as text (ISO ``2026-01`` sorts right), numbers as numbers."""
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


def year_of(label: str | None) -> str | None:
    """The year of a period such as ``2026-03`` or ``2026Q1``; None when it has none."""
    if label and len(label) >= 4 and label[:4].isdigit() and (len(label) == 4 or not label[4].isdigit()):
        return label[:4]
    return None


def _subset(table: RawTable, keep: list[int]) -> RawTable:
    return RawTable(
        spec=table.spec,
        title=table.title,
        column_index=dict(table.column_index),
        rows=[table.rows[i] for i in keep],
        values={key: [column[i] for i in keep] for key, column in table.values.items()},
    )


def _id(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return parse_id(value)
    except Invalid:
        return None


def _fresh(raw: RawBook, tables: dict[str, RawTable]) -> RawBook:
    """A raw book with its own Problems (validation appends to them)."""
    return RawBook(tables=tables, sheet_titles=list(raw.sheet_titles), language=raw.language,
                   problems=Problems(list(copy.copy(raw.problems.items))))


def cut(raw: RawBook) -> tuple[list[tuple[str | None, RawBook]], list[str], list[Problem]]:
    """The raw book of each reported period, the periods not reported yet, and
    the problems of the period column itself."""
    cards = raw.tables.get("Scorecards")
    if cards is None or not cards.has("period"):
        return [(None, _fresh(raw, dict(raw.tables)))], [], []
    labels = [period_label(v) for v in cards.column("period")]
    if all(label is None for label in labels):
        return [(None, _fresh(raw, dict(raw.tables)))], [], []
    problems = [
        Problem(ERROR, cards.title, cards.cell("period", i),
                "the period is empty while other rows have one: fill it in (e.g. 2026-03)")
        for i, label in enumerate(labels) if label is None
    ]
    members: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        if label is not None:
            members.setdefault(label, []).append(i)
    actuals = cards.column("actual")
    reported, waiting = [], []
    for label in sorted(members, key=period_order):
        rows = members[label]
        if any(actuals[i] not in (None, "") for i in rows):
            reported.append(label)
        else:
            waiting.append(label)
    employees = raw.tables.get("Employees")
    books: list[tuple[str | None, RawBook]] = []
    for label in reported:
        rows = members[label]
        tables = dict(raw.tables)
        tables["Scorecards"] = _subset(cards, rows)
        if employees is not None:
            present = {_id(cards.column("employee_id")[i]) for i in rows}
            keep = [e for e, value in enumerate(employees.column("employee_id"))
                    if _id(value) is None or _id(value) in present]
            tables["Employees"] = _subset(employees, keep)
        books.append((label, _fresh(raw, tables)))
    return books, waiting, problems


def score_periods(raw: RawBook, engine: str | None = None) -> ScoredPeriods:
    """Score every reported period; problems of all periods, each said once."""
    books, waiting, problems = cut(raw)
    result = ScoredPeriods(not_reported=waiting)
    seen: set[tuple[str, str, str, str]] = set()

    def add(problem: Problem, label: str | None) -> None:
        key = (problem.severity, problem.sheet, problem.cell, problem.message)
        if key in seen:
            return
        seen.add(key)
        if label is not None and problem.sheet == raw.tables["Scorecards"].title:
            problem = Problem(problem.severity, problem.sheet, problem.cell, f"{problem.message} (period {label})")
        result.problems.append(problem)

    for problem in problems:
        add(problem, None)
    for label, book in books:
        metadata = validate(_fresh(book, dict(book.tables)))
        outcome = score_book(book, engine=engine)
        for problem in outcome.problems:
            add(problem, label)
        if outcome.ok:
            result.periods.append(Scored(label, book, outcome, metadata))
    if not books or not result.periods and not result.problems:
        cards = raw.tables.get("Scorecards")
        result.problems.append(Problem(ERROR, cards.title if cards else "", "",
                                       "no period has any actual yet: nothing to review"))
    return result
