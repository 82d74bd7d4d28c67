"""The buttons: Check, Score and New template, over any open book.

A button reads the open workbook's sheets, calls the public API
(``kpi_xl.api.score_sheets``) and writes the output sheets back - the same
sheets, with the same numbers, that ``kpi-xl score`` writes to a file.  Input
sheets are never touched: only kpi_xl's own output sheets (Results, Payouts,
Departments, Problems, in either language) are deleted and added.

The book is anything with the small ``Book`` interface below: an xlwings Book
(classic desktop Excel, or xlwings' remote book) through ``XlwingsBook``, or
the Office.js client's JSON payload through ``kpi_xl.excel.payload.PayloadBook``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from .. import schema
from ..problems import Problem

FORMULA_STARTS = ("=", "+", "-", "@")


class Book(Protocol):
    """What a button needs of an open workbook."""

    name: str

    def sheet_names(self) -> list[str]: ...

    def values(self, sheet: str) -> list[list[Any]]:
        """The sheet's values from A1 to its last used cell; empty cells None or ""."""
        ...

    def delete_sheet(self, name: str) -> None: ...

    def add_sheet(self, name: str, rows: list[list[Any]], number_formats: dict[int, str]) -> None:
        """Add a sheet after the last one, holding rows from A1: a bold, frozen header row,
        number formats by 0-based column, widths fitted."""
        ...

    def activate(self, name: str) -> None: ...

    def open_workbook(self, data: bytes, name: str) -> None:
        """Open a new workbook from an .xlsx file's bytes."""
        ...

    def status(self, message: str) -> None: ...


@dataclass
class Report:
    """What a button did, for the status line and the task pane."""

    ok: bool
    status: str
    problems: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "status": self.status,
            "problems": [
                {"severity": p.severity, "sheet": p.sheet, "cell": p.cell, "where": p.where, "message": p.message}
                for p in self.problems
            ],
        }


@dataclass(frozen=True)
class ActionSpec:
    name: str
    label: dict[str, str]
    description: dict[str, str]
    run: Callable[[Book, str], Report]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "description": self.description}


MESSAGES = {
    "reading": {"en": "kpi_xl: reading the workbook…", "zh": "kpi_xl：正在读取工作簿…"},
    "clean": {"en": "No problems found: the workbook is ready to score.", "zh": "未发现问题，可以计分。"},
    "warnings_only": {
        "en": "No errors; {warnings} warning(s): see the Problems sheet.",
        "zh": "没有错误；{warnings} 条警告，见“问题”工作表。",
    },
    "errors": {
        "en": "{errors} error(s), {warnings} warning(s): see the Problems sheet. Nothing was scored.",
        "zh": "{errors} 个错误，{warnings} 条警告，见“问题”工作表。未计分。",
    },
    "scored": {
        "en": "Scored {people} people: payouts total {total}.",
        "zh": "已为 {people} 人计分：奖金合计 {total}。",
    },
    "scored_warnings": {
        "en": "Scored {people} people: payouts total {total}. {warnings} warning(s): see the Problems sheet.",
        "zh": "已为 {people} 人计分：奖金合计 {total}。{warnings} 条警告，见“问题”工作表。",
    },
    "template": {"en": "Opened a new KPI template workbook.", "zh": "已打开新的 KPI 模板工作簿。"},
    "whatif": {
        "en": "What-if: {scenarios} scenario(s) against payouts of {base} today; see the Scenario results sheet.",
        "zh": "情景分析：{scenarios} 个情景，当前奖金合计 {base}；见“情景结果”工作表。",
    },
    "whatif_errors": {
        "en": "{errors} error(s): see the Problems sheet. No scenario was scored.",
        "zh": "{errors} 个错误，见“问题”工作表。未分析任何情景。",
    },
}


def message(key: str, language: str, **values: Any) -> str:
    return MESSAGES[key]["zh" if language == "zh" else "en"].format(**values)


# ------------------------------------------------------------------ the actions


def check(book: Book, language: str = "en") -> Report:
    """Validate the open workbook; list every problem on the Problems sheet."""
    return _run(book, language, check_only=True)


def score(book: Book, language: str = "en") -> Report:
    """Score the open workbook and write Results, Payouts, Departments (and Problems)."""
    return _run(book, language, check_only=False)


def new_template(book: Book, language: str = "en") -> Report:
    """Open a new workbook from the KPI template, in the user's language."""
    from ..templates import build_template, reproducible_bytes

    lang = "zh" if language == "zh" else "en"
    book.open_workbook(reproducible_bytes(build_template(lang)), f"kpi_template_{lang}.xlsx")
    status = message("template", language)
    book.status(status)
    return Report(True, status)


def whatif(book: Book, language: str = "en") -> Report:
    """Score every row of the Scenarios sheet on the same plan: the Scenario results sheet
    (departments down, scenarios side by side), as ``kpi-xl whatif`` writes it."""
    from ..api import Outcome
    from ..reading import read_rows
    from ..whatif import WhatIfResult, whatif_book

    book.status(message("reading", language))
    titles = book.sheet_names()
    raw = read_rows({title: book.values(title) for title in titles if not schema.is_output_sheet_name(title)})
    result = whatif_book(raw)
    replaced = {schema.normalize(schema.SCENARIO_RESULTS.key), schema.normalize(schema.SCENARIO_RESULTS.zh),
                schema.normalize(schema.PROBLEMS.key), schema.normalize(schema.PROBLEMS.zh)}
    for title in titles:
        if schema.normalize(title) in replaced:
            book.delete_sheet(title)
    if not isinstance(result, WhatIfResult):
        for title, rows, formats in output_sheets(Outcome(raw.language, list(result))):
            book.add_sheet(title, rows, formats)
        errors = sum(1 for p in result if p.severity == "error")
        status = message("whatif_errors", language, errors=errors)
        book.activate(schema.PROBLEMS.label(raw.language))
        book.status(status)
        return Report(False, status, list(result))
    spec, frame = result.sheet()
    keys = [c.key for c in spec.columns]
    rows: list[list[Any]] = [[c.label(result.language) for c in spec.columns]]
    rows += [[cell_value(v) for v in record] for record in zip(*(frame[k].tolist() for k in keys))]
    formats = {i: c.number_format for i, c in enumerate(spec.columns)
               if getattr(c, "number_format", None)}
    title = spec.label(result.language)
    book.add_sheet(title, rows, formats)
    if result.problems:
        for name, problem_rows, problem_formats in output_sheets(Outcome(raw.language, list(result.problems))):
            book.add_sheet(name, problem_rows, problem_formats)
    book.activate(title)
    status = message("whatif", language, scenarios=len(result.scenarios), base=f"{result.base_total:,.2f}")
    book.status(status)
    return Report(True, status, list(result.problems))


def _run(book: Book, language: str, check_only: bool) -> Report:
    from ..api import score_sheets

    book.status(message("reading", language))
    titles = book.sheet_names()
    inputs = {title: book.values(title) for title in titles if not schema.is_output_sheet_name(title)}
    outcome = score_sheets(inputs, check_only=check_only)
    for title in titles:
        if schema.is_output_sheet_name(title):
            book.delete_sheet(title)
    for title, rows, formats in output_sheets(outcome):
        book.add_sheet(title, rows, formats)
    errors, warnings = len(outcome.errors), len(outcome.warnings)
    if errors:
        status = message("errors", language, errors=errors, warnings=warnings)
    elif check_only:
        status = message("warnings_only", language, warnings=warnings) if warnings else message("clean", language)
    else:
        assert outcome.payouts is not None
        total = f"{float(outcome.payouts['payout'].sum()):,.2f}"
        people = len(outcome.payouts)
        key = "scored_warnings" if warnings else "scored"
        status = message(key, language, people=people, total=total, warnings=warnings)
    if errors or (check_only and warnings):
        book.activate(schema.PROBLEMS.label(outcome.language))
    elif not check_only:
        book.activate(schema.RESULTS.label(outcome.language))
    book.status(status)
    return Report(not errors, status, list(outcome.problems))


def output_sheets(outcome: Any) -> list[tuple[str, list[list[Any]], dict[int, str]]]:
    """The output sheets as (title, rows with the header first, number formats by column)."""
    from ..writing import FORMATS, output_frames

    sheets = []
    for spec, frame in output_frames(outcome):
        keys = [c.key for c in spec.columns]
        rows: list[list[Any]] = [[spec.column(k).label(outcome.language) for k in keys]]
        columns = [frame[k].tolist() for k in keys]
        rows += [[cell_value(v) for v in record] for record in zip(*columns)]
        formats = {i: FORMATS[k] for i, k in enumerate(keys) if k in FORMATS}
        sheets.append((spec.label(outcome.language), rows, formats))
    return sheets


def cell_value(value: Any) -> Any:
    """A value as a cell takes it: no NaN, numpy scalars as Python, formula-like text kept as text."""
    if value is None:
        return ""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return ""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value  # Excel stores a leading apostrophe as "this is text", not as part of the value
    return value


ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "check",
            {"en": "Check", "zh": "检查"},
            {"en": "Check the workbook and list every problem with its cell.", "zh": "检查工作簿，列出每个问题及其单元格。"},
            check,
        ),
        ActionSpec(
            "score",
            {"en": "Score", "zh": "计分"},
            {"en": "Score everyone and write Results, Payouts and Departments.", "zh": "为所有人计分，写入结果、奖金和部门工作表。"},
            score,
        ),
        ActionSpec(
            "whatif",
            {"en": "What-if", "zh": "情景分析"},
            {"en": "Score every scenario of the Scenarios sheet side by side with today's payouts.",
             "zh": "按“情景”工作表逐一测算，与当前奖金并列对比。"},
            whatif,
        ),
        ActionSpec(
            "new_template",
            {"en": "New template", "zh": "新建模板"},
            {"en": "Open a new, empty KPI workbook to fill in.", "zh": "打开一个新的空白 KPI 工作簿。"},
            new_template,
        ),
    )
}


def run(name: str, book: Book, language: str = "en") -> Report:
    """Run the button called name on book.  KeyError for an unknown button."""
    return ACTIONS[name].run(book, language)


def run_payload(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The server's button call: the Office.js book payload in, status, problems and actions out."""
    from .payload import PayloadBook

    if name not in ACTIONS:
        raise KeyError(name)
    book = PayloadBook.from_payload(payload)
    report = run(name, book, book.language)
    return {**report.to_json(), "actions": book.actions}


# ------------------------------------------------------------------ xlwings


class XlwingsBook:
    """An xlwings Book as the Book the buttons take (classic desktop Excel, or xlwings' remote book)."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self.name = book.name

    def sheet_names(self) -> list[str]:
        return [sheet.name for sheet in self.book.sheets]

    def values(self, sheet: str) -> list[list[Any]]:
        target = self.book.sheets[sheet]
        last = target.used_range.last_cell
        values = target.range((1, 1), (last.row, last.column)).options(ndim=2).value
        return values or [[None]]

    def delete_sheet(self, name: str) -> None:
        self.book.sheets[name].delete()

    def add_sheet(self, name: str, rows: list[list[Any]], number_formats: dict[int, str]) -> None:
        sheet = self.book.sheets.add(name, after=self.book.sheets[len(self.book.sheets) - 1])
        sheet.range((1, 1)).value = rows
        width = len(rows[0])
        sheet.range((1, 1), (1, width)).font.bold = True
        if len(rows) > 1:
            for column, number_format in number_formats.items():
                sheet.range((2, column + 1), (len(rows), column + 1)).number_format = number_format
        sheet.autofit("columns")

    def activate(self, name: str) -> None:
        self.book.sheets[name].activate()

    def open_workbook(self, data: bytes, name: str) -> None:
        import tempfile
        from pathlib import Path

        folder = Path(tempfile.mkdtemp(prefix="kpi_xl_"))
        path = folder / name
        path.write_bytes(data)
        self.book.app.books.open(str(path))

    def status(self, message: str) -> None:
        try:
            self.book.app.status_bar = message
        except Exception:  # the remote book and some hosts have no status bar
            pass
