"""kpi_xl in xlwings Lite: paste this file into xlwings Lite's main.py editor.

Custom functions (=KPI_SCORE(...), ...) and scripts (buttons) that call
kpi_xl's Excel layer — the same code as the other hosts. numba does not exist
in Lite's Pyodide, so kpi_xl computes with its NumPy reference twin, which
gives identical numbers (tests/test_addin_lite.py). Errors in a cell come back
as text, e.g. "#VALUE! target must be above 0".
"""

import xlwings as xw
from xlwings import func, script

from kpi_xl.excel import functions
from kpi_xl.excel.actions import XlwingsBook, run


@func
def KPI_ATTAINMENT(actual, target, direction=None):
    """Attainment of actual against target (lower-is-better KPIs: target / actual)."""
    return functions.with_text_errors(functions.kpi_attainment(actual, target, direction))


@func
def KPI_SCORE(actual, target, method=None, threshold=None, stretch=None, curve=None, direction=None):
    """A KPI's score from its actual and target, as the KPIs sheet scores it."""
    return functions.with_text_errors(
        functions.kpi_score(actual, target, method, threshold, stretch, curve, direction)
    )


@func
def KPI_TOTAL(scores, weights):
    """Weighted total score: the sum of score x weight over the weights' sum."""
    return functions.with_text_errors(functions.kpi_total(scores, weights))


@func
def KPI_TIER(score, tiers, mode=None, result=None):
    """The bonus multiplier (or the tier's label) for a total score."""
    return functions.with_text_errors(functions.kpi_tier(score, tiers, mode, result))


@func
def KPI_PAYOUT(salary, bonus_pct, score, tiers, company_multiplier=None, proration=None, mode=None, rounding=None):
    """The payout: salary x target bonus % x tier multiplier x company multiplier x proration, rounded."""
    return functions.with_text_errors(
        functions.kpi_payout(salary, bonus_pct, score, tiers, company_multiplier, proration, mode, rounding)
    )


@func
def KPI_SCORECARD(scorecard, kpis, curves=None, tiers=None, employees=None, budget=None):
    """A whole scorecard range in, its scored rows out (spills)."""
    return functions.with_text_errors(functions.kpi_scorecard(scorecard, kpis, curves, tiers, employees, budget))


def _language(book):
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in "".join(book.sheet_names())) else "en"


@script
def check(book: xw.Book):
    """Check the workbook: every problem with its cell, on a Problems sheet."""
    target = XlwingsBook(book)
    run("check", target, _language(target))


@script
def score(book: xw.Book):
    """Score everyone: Results, Payouts and Departments sheets (or Problems)."""
    target = XlwingsBook(book)
    run("score", target, _language(target))
