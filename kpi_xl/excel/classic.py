"""The classic xlwings add-in (desktop Excel on Windows, buttons also on Mac).

Custom functions as classic xlwings UDFs (``=KPI_SCORE(...)``) and the ribbon
button's entry point, both thin wrappers over ``kpi_xl.excel.functions`` and
``kpi_xl.excel.actions``: nothing is computed here.

The add-in file ``addin/classic/kpi_xl.xlam`` is xlwings' own ribbon add-in
(BSD) with its configuration pointing here (``UDF Modules`` =
``kpi_xl.excel.classic``); its button runs ``import kpi_xl; kpi_xl.main()``.

Two decisions (docs/install-classic.md):

- **Error cells are text.** A classic UDF's return value goes through COM as a
  plain value; xlwings has no documented way to return an Excel error value
  from Python, so a bad argument shows as the text ``#VALUE! target must be
  above 0`` in its cell (the Office.js add-in returns real error values). Use
  ``ISTEXT`` instead of ``ISERROR`` to test for it.
- **One button: Score.** The stock VBA callback does not tell Python which
  ribbon control was pressed, and VBA cannot be changed without Excel, so the
  add-in has one button. Scoring checks first: with any error, the Problems
  sheet lists each with its cell and nothing is scored. New template is ``kpi-xl new`` (or the
  Office.js add-in's button).
"""

from __future__ import annotations

from typing import Any

import xlwings as xw

from . import functions
from .actions import XlwingsBook, run
from .functions import with_text_errors as classic


def _doc(name: str) -> str:
    spec = functions.FUNCTIONS[name]
    return f"{spec.description}\n\n{spec.description_zh}"


def _arg_doc(name: str, parameter: str) -> str:
    for p in functions.FUNCTIONS[name].parameters:
        if p.name == parameter:
            return p.description
    raise KeyError(parameter)


# ------------------------------------------------------------------ custom functions


@xw.func
@xw.arg("actual", ndim=2, doc=_arg_doc("KPI_ATTAINMENT", "actual"))
@xw.arg("target", ndim=2, doc=_arg_doc("KPI_ATTAINMENT", "target"))
@xw.arg("direction", ndim=2, doc=_arg_doc("KPI_ATTAINMENT", "direction"))
def KPI_ATTAINMENT(actual, target, direction=None):
    return classic(functions.kpi_attainment(actual, target, direction))


@xw.func
@xw.arg("actual", ndim=2, doc=_arg_doc("KPI_SCORE", "actual"))
@xw.arg("target", ndim=2, doc=_arg_doc("KPI_SCORE", "target"))
@xw.arg("method", ndim=2, doc=_arg_doc("KPI_SCORE", "method"))
@xw.arg("threshold", ndim=2, doc=_arg_doc("KPI_SCORE", "threshold"))
@xw.arg("stretch", ndim=2, doc=_arg_doc("KPI_SCORE", "stretch"))
@xw.arg("curve", ndim=2, doc=_arg_doc("KPI_SCORE", "curve"))
@xw.arg("direction", ndim=2, doc=_arg_doc("KPI_SCORE", "direction"))
def KPI_SCORE(actual, target, method=None, threshold=None, stretch=None, curve=None, direction=None):
    return classic(functions.kpi_score(actual, target, method, threshold, stretch, curve, direction))


@xw.func
@xw.arg("scores", ndim=2, doc=_arg_doc("KPI_TOTAL", "scores"))
@xw.arg("weights", ndim=2, doc=_arg_doc("KPI_TOTAL", "weights"))
def KPI_TOTAL(scores, weights):
    return classic(functions.kpi_total(scores, weights))


@xw.func
@xw.arg("score", ndim=2, doc=_arg_doc("KPI_TIER", "score"))
@xw.arg("tiers", ndim=2, doc=_arg_doc("KPI_TIER", "tiers"))
@xw.arg("mode", ndim=2, doc=_arg_doc("KPI_TIER", "mode"))
@xw.arg("result", ndim=2, doc=_arg_doc("KPI_TIER", "result"))
def KPI_TIER(score, tiers, mode=None, result=None):
    return classic(functions.kpi_tier(score, tiers, mode, result))


@xw.func
@xw.arg("salary", ndim=2, doc=_arg_doc("KPI_PAYOUT", "salary"))
@xw.arg("bonus_pct", ndim=2, doc=_arg_doc("KPI_PAYOUT", "bonus_pct"))
@xw.arg("score", ndim=2, doc=_arg_doc("KPI_PAYOUT", "score"))
@xw.arg("tiers", ndim=2, doc=_arg_doc("KPI_PAYOUT", "tiers"))
@xw.arg("company_multiplier", ndim=2, doc=_arg_doc("KPI_PAYOUT", "company_multiplier"))
@xw.arg("proration", ndim=2, doc=_arg_doc("KPI_PAYOUT", "proration"))
@xw.arg("mode", ndim=2, doc=_arg_doc("KPI_PAYOUT", "mode"))
@xw.arg("rounding", ndim=2, doc=_arg_doc("KPI_PAYOUT", "rounding"))
def KPI_PAYOUT(salary, bonus_pct, score, tiers, company_multiplier=None, proration=None, mode=None, rounding=None):
    return classic(
        functions.kpi_payout(salary, bonus_pct, score, tiers, company_multiplier, proration, mode, rounding)
    )


@xw.func
@xw.arg("scorecard", ndim=2, doc=_arg_doc("KPI_SCORECARD", "scorecard"))
@xw.arg("kpis", ndim=2, doc=_arg_doc("KPI_SCORECARD", "kpis"))
@xw.arg("curves", ndim=2, doc=_arg_doc("KPI_SCORECARD", "curves"))
@xw.arg("tiers", ndim=2, doc=_arg_doc("KPI_SCORECARD", "tiers"))
@xw.arg("employees", ndim=2, doc=_arg_doc("KPI_SCORECARD", "employees"))
@xw.arg("budget", ndim=2, doc=_arg_doc("KPI_SCORECARD", "budget"))
def KPI_SCORECARD(scorecard, kpis, curves=None, tiers=None, employees=None, budget=None):
    return classic(functions.kpi_scorecard(scorecard, kpis, curves, tiers, employees, budget))


UDFS = {f.__name__: f for f in (KPI_ATTAINMENT, KPI_SCORE, KPI_TOTAL, KPI_TIER, KPI_PAYOUT, KPI_SCORECARD)}
for _name, _udf in UDFS.items():
    _udf.__doc__ = _doc(_name)


# ------------------------------------------------------------------ the ribbon button


def active_book() -> Any:
    """The workbook the user is looking at. The caller is the add-in itself, so take the
    active workbook of the same Excel instance."""
    return xw.Book.caller().app.books.active


def language_of(book: XlwingsBook) -> str:
    """Chinese messages for a workbook with Chinese sheet names, English otherwise."""
    names = "".join(book.sheet_names())
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in names) else "en"


def main(book: Any = None) -> None:
    """The KPI button: score the active workbook. Scoring checks first: a workbook with
    errors gets the Problems sheet (activated) and no results, never partial payouts."""
    score(book)


def check(book: Any = None) -> None:
    """Check only (for a workbook's own button: RunPython "import kpi_xl.excel.classic as k; k.check()")."""
    target = XlwingsBook(book if book is not None else active_book())
    run("check", target, language_of(target))


def score(book: Any = None) -> None:
    """Check and score (RunPython "import kpi_xl.excel.classic as k; k.score()")."""
    target = XlwingsBook(book if book is not None else active_book())
    run("score", target, language_of(target))
