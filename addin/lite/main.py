"""kpi_xl in xlwings Lite: paste this file into xlwings Lite's main.py tab.

The functions =KPI_ATTAINMENT, =KPI_SCORE, =KPI_TOTAL, =KPI_TIER, =KPI_PAYOUT,
=KPI_SCORECARD and the scripts check and score call kpi_xl's Excel layer, the
same code as the desktop add-in and `kpi-xl score`. numba does not exist in
Lite's Pyodide: kpi_xl computes with its NumPy reference twin, which gives the
same numbers (tests/test_addin_lite.py). A bad argument gives a real Excel
error in its cell (#VALUE!, #N/A, #NUM!), which SUM and IFERROR treat as such.
"""

import xlwings as xw
from xlwings import arg, func, script

from kpi_xl.excel.actions import XlwingsBook, run
from kpi_xl.excel.functions import FUNCTIONS, CellError, call


def kpi(name):
    """@func with kpi_xl's help text; every argument read as rows, error cells as their code."""

    def decorate(function):
        function.__doc__ = FUNCTIONS[name].description
        for parameter in reversed(FUNCTIONS[name].parameters):
            function = arg(parameter.name, ndim=2, err_to_str=True, doc=parameter.description)(function)
        return func(function)

    return decorate


def cells(name, *args):
    """The function's rows (a range spills), an error cell as its code ("#VALUE!"), which
    xlwings hands Excel as an error value."""
    return [[v.code if isinstance(v, CellError) else v for v in row] for row in call(name, args)]


@kpi("KPI_ATTAINMENT")
def KPI_ATTAINMENT(actual, target, direction=None):
    return cells("KPI_ATTAINMENT", actual, target, direction)


@kpi("KPI_SCORE")
def KPI_SCORE(actual, target, method=None, threshold=None, stretch=None, curve=None, direction=None):
    return cells("KPI_SCORE", actual, target, method, threshold, stretch, curve, direction)


@kpi("KPI_TOTAL")
def KPI_TOTAL(scores, weights):
    return cells("KPI_TOTAL", scores, weights)


@kpi("KPI_TIER")
def KPI_TIER(score, tiers, mode=None, result=None):
    return cells("KPI_TIER", score, tiers, mode, result)


@kpi("KPI_PAYOUT")
def KPI_PAYOUT(salary, bonus_pct, score, tiers, company_multiplier=None, proration=None, mode=None, rounding=None):
    return cells("KPI_PAYOUT", salary, bonus_pct, score, tiers, company_multiplier, proration, mode, rounding)


@kpi("KPI_SCORECARD")
def KPI_SCORECARD(scorecard, kpis, curves=None, tiers=None, employees=None, budget=None):
    return cells("KPI_SCORECARD", scorecard, kpis, curves, tiers, employees, budget)


def _press(action, book):
    target = XlwingsBook(book)
    chinese = any("\u4e00" <= ch <= "\u9fff" for ch in "".join(target.sheet_names()))
    report = run(action, target, "zh" if chinese else "en")
    print(report.status)  # Lite's output pane
    for problem in report.problems:
        print(f"{problem.severity}: {problem.where}: {problem.message}")


@script
def check(book: xw.Book):
    """Check the workbook: every problem with its cell, on a Problems sheet."""
    _press("check", book)


@script
def score(book: xw.Book):
    """Check, then score everyone: Results, Payouts and Departments (or only Problems)."""
    _press("score", book)
