"""kpi_xl: a rules engine for KPI scorecards and KPI-linked bonuses that lives in Excel.

The public API (the CLI, the Excel layer and the add-in server all call it)::

    import kpi_xl
    outcome = kpi_xl.score_workbook("plan.xlsx")   # read, validate, score
    outcome.ok, outcome.problems                   # errors and warnings, each with its cell
    outcome.results, outcome.payouts, outcome.departments   # pandas DataFrames
    outcome.rule_trace                             # one row a rule, when there is a Rules sheet
    kpi_xl.write_workbook(outcome, "plan.xlsx", "plan.scored.xlsx")

The pipeline, one module a step: reading -> validation -> compiling ->
kernels (numba; reference is the plain twin) -> assembling -> writing.
Names are imported lazily so that ``kpi-xl --help`` starts instantly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "Outcome",
    "Problem",
    "WorkbookUnreadable",
    "check_workbook",
    "score_tables",
    "score_workbook",
    "whatif_workbook",
    "write_workbook",
]

_HOMES = {
    "Outcome": "api",
    "WorkbookUnreadable": "reading",
    "check_workbook": "api",
    "score_tables": "api",
    "score_workbook": "api",
    "whatif_workbook": "api",
    "Problem": "problems",
}

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from .api import Outcome, check_workbook, score_tables, score_workbook, whatif_workbook
    from .problems import Problem
    from .reading import WorkbookUnreadable


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'kpi_xl' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{home}", __name__), name)


def main() -> None:
    """The classic add-in's button: check, then score the active workbook (``kpi_xl.xlam`` runs
    ``import kpi_xl; kpi_xl.main()``). xlwings is imported here, never when kpi_xl is."""
    from .excel.classic import main as _main

    _main()


def write_workbook(outcome: "Outcome", source: "str | Path", destination: "str | Path") -> "Path":
    """Write source's sheets plus the output sheets to destination, atomically."""
    from pathlib import Path

    from .writing import write_workbook as _write

    return _write(outcome, Path(source), Path(destination))
