"""The classic xlwings add-in (desktop Excel: functions on Windows, the button on Windows and Mac).

Custom functions as classic xlwings UDFs (``=KPI_SCORE(...)``, not namespaced)
and the ribbon button's entry points, thin wrappers over
``kpi_xl.excel.functions`` and ``kpi_xl.excel.actions``: nothing is computed
here. ``addin/classic/kpi_xl.xlam`` is xlwings' own ribbon add-in with its
configuration pointing here (``UDF Modules`` = ``kpi_xl.excel.classic``);
Excel's "Import Functions" (the VBA macro ``ImportPythonUDFsToAddin``) turns
each ``@xw.func`` below into a VBA function that calls xlwings' UDF server.

Decisions (docs/install-classic.md says the same for users):

- **Arguments.** Every argument is read as a 2-D list (``ndim=2``), so a cell,
  a row, a column and a block all arrive alike; and with ``err_to_str=True``,
  so an error cell in an argument arrives as its code (``"#N/A"``) and comes
  back out as the same code, instead of being read as a blank.
- **Spilling.** No ``@xw.ret(expand=...)``: that is xlwings' emulation for
  Excel without dynamic arrays, which xlwings' docs say not to use where
  Excel has them (Microsoft 365, Excel 2021+). A range in gives a list of rows
  back, which such Excel spills by itself.
- **Error cells are text.** A classic UDF's value reaches the cell through the
  VBA wrapper xlwings generates, and a VBA function cannot hand Excel an
  error value made in Python: a returned ``"#N/A"`` is the text "#N/A", a
  ``VARIANT(VT_ERROR, ...)`` does not survive the trip either, and an
  exception becomes the text of its message (xlwings' generated wrapper
  assigns ``Err.Description``; xlwings issue #776 is the same question, open).
  So each ``CellError`` becomes the text ``"#VALUE! target 0 must be above 0"``:
  the code first (test it with ``LEFT(x, 1) = "#"``; ``ISERROR`` is FALSE for
  it), then the reason. The Office.js add-in and xlwings Lite return real
  error values.
- **One button.** The stock add-in's only ribbon callback,
  ``RibbonMyAddin.RunMain``, runs ``import kpi_xl; kpi_xl.main()`` and does
  not pass on which control was pressed (its VBA cannot be changed without
  Excel), so the KPI tab has one button: :func:`main`, which checks and,
  when the workbook has no errors, scores. :func:`check`, :func:`score` and
  :func:`new_template` are there for a workbook's own buttons
  (``RunPython "import kpi_xl.excel.classic as c; c.check()"``).
- **Never a traceback.** A button reports through the status bar and the
  Problems sheet. Should even writing the Problems sheet fail, one sentence
  goes to stderr and Python exits with status 1, which xlwings' VBA shows in
  a message box.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from typing import Any, Callable

import xlwings as xw

from .. import schema
from . import functions
from .actions import Report, XlwingsBook, run

CATEGORY = "KPI"  # the function wizard's category for the KPI_... functions


def help_text(name: str) -> str:
    """A function's Excel help text (the function wizard shows at most 255 characters)."""
    spec = functions.FUNCTIONS[name]
    return f"{spec.description} {spec.description_zh}"


def _described(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give the function its Excel help text and its arguments' help, the way xlwings reads them:
    the docstring when the first xlwings decorator sees the function, ``doc=`` for each argument."""
    spec = functions.FUNCTIONS[name]

    def decorate(udf: Callable[..., Any]) -> Callable[..., Any]:
        udf.__doc__ = help_text(name)
        for parameter in reversed(spec.parameters):
            udf = xw.arg(parameter.name, ndim=2, err_to_str=True, doc=parameter.description)(udf)
        return udf

    return decorate


def _cells(name: str, *args: Any) -> Any:
    """Call the Excel layer's function and give its rows as a classic UDF returns them."""
    return functions.with_text_errors(functions.call(name, args))


# ------------------------------------------------------------------ custom functions


@xw.func(category=CATEGORY)
@_described("KPI_ATTAINMENT")
def KPI_ATTAINMENT(actual, target, direction=None):
    return _cells("KPI_ATTAINMENT", actual, target, direction)


@xw.func(category=CATEGORY)
@_described("KPI_SCORE")
def KPI_SCORE(actual, target, method=None, threshold=None, stretch=None, curve=None, direction=None):
    return _cells("KPI_SCORE", actual, target, method, threshold, stretch, curve, direction)


@xw.func(category=CATEGORY)
@_described("KPI_TOTAL")
def KPI_TOTAL(scores, weights):
    return _cells("KPI_TOTAL", scores, weights)


@xw.func(category=CATEGORY)
@_described("KPI_TIER")
def KPI_TIER(score, tiers, mode=None, result=None):
    return _cells("KPI_TIER", score, tiers, mode, result)


@xw.func(category=CATEGORY)
@_described("KPI_PAYOUT")
def KPI_PAYOUT(salary, bonus_pct, score, tiers, company_multiplier=None, proration=None, mode=None, rounding=None):
    return _cells("KPI_PAYOUT", salary, bonus_pct, score, tiers, company_multiplier, proration, mode, rounding)


@xw.func(category=CATEGORY, call_in_wizard=False)  # a whole scorecard: not on every keystroke in the wizard
@_described("KPI_SCORECARD")
def KPI_SCORECARD(scorecard, kpis, curves=None, tiers=None, employees=None, budget=None):
    return _cells("KPI_SCORECARD", scorecard, kpis, curves, tiers, employees, budget)


UDFS: dict[str, Callable[..., Any]] = {
    udf.__name__: udf for udf in (KPI_ATTAINMENT, KPI_SCORE, KPI_TOTAL, KPI_TIER, KPI_PAYOUT, KPI_SCORECARD)
}


# ------------------------------------------------------------------ the buttons


def main(book: Any = None) -> Report:
    """The KPI tab's button (``import kpi_xl; kpi_xl.main()``): check the active workbook and,
    if it has no errors, score it. One pass does both: scoring validates first and, with any
    error, writes only the Problems sheet (activated) and no results - never partial payouts."""
    return _press("score", book)


def check(book: Any = None) -> Report:
    """Check only: every problem with its cell on the Problems sheet."""
    return _press("check", book)


def score(book: Any = None) -> Report:
    """Check and score: Results, Payouts and Departments, or the Problems sheet."""
    return _press("score", book)


def new_template(book: Any = None) -> Report:
    """Open a new KPI template workbook, in the active workbook's language."""
    return _press("new_template", book)


def language_of(book: Any) -> str:
    """Chinese messages for a workbook with Chinese sheet names, English otherwise."""
    names = "".join(book.sheet_names())
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in names) else "en"


FAILED = {
    "en": "kpi_xl could not {action} this workbook: {reason}. Your sheets were not changed.",
    "zh": "kpi_xl 无法{action}此工作簿：{reason}。您的工作表未被更改。",
}
ACTION_WORDS = {
    "check": {"en": "check", "zh": "检查"},
    "score": {"en": "score", "zh": "计分"},
    "new_template": {"en": "open a template for", "zh": "为其打开模板"},
}


def _press(action: str, book: Any) -> Report:
    """Run a button on the calling workbook (xlwings passes the active workbook as the caller)."""
    target = XlwingsBook(book if book is not None else xw.Book.caller())
    language = language_of(target)
    try:
        with _quiet():
            return run(action, target, language)
    except Exception as error:  # noqa: BLE001 - whatever went wrong is said in the workbook
        return _failed(target, action, language, error)


@contextlib.contextmanager
def _quiet():
    """Nothing on stderr while a button runs: on a Mac, xlwings shows anything written
    there in an error box when Python ends, even after a success."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stderr(io.StringIO()):
            yield


def _failed(book: XlwingsBook, action: str, language: str, error: Exception) -> Report:
    lang = "zh" if language == "zh" else "en"
    reason = str(error) or type(error).__name__
    sentence = FAILED[lang].format(action=ACTION_WORDS[action][lang], reason=reason)
    problems = schema.PROBLEMS
    rows = [
        [problems.column(key).label(lang) for key in ("severity", "sheet", "cell", "message")],
        [schema.word("error", lang), "", "", sentence],
    ]
    title = problems.label(lang)
    try:
        with _quiet():
            for name in book.sheet_names():
                if schema.is_output_sheet_name(name):  # no stale or half-written results stay behind
                    book.delete_sheet(name)
            book.add_sheet(title, rows, {})
            book.activate(title)
            book.status(sentence)
    except Exception:  # noqa: BLE001 - the workbook cannot even take the Problems sheet
        print(sentence, file=sys.stderr)  # xlwings' VBA shows this in a message box
        raise SystemExit(1) from None
    return Report(False, sentence)


__all__ = ["UDFS", "check", "help_text", "language_of", "main", "new_template", "score", *UDFS]
