"""The benchmark suite (benchmarks/, run with scripts/bench) works, at tiny sizes.

Nothing here asserts a time: machines are noisy, the benchmark prints and
docs/performance.md records.  What is checked is that every section runs and
that the contenders the kernels are timed against give the engine's numbers.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import analyst, data, spreadsheet, suite
from kpi_xl.engine import run_plan


def quiet(message: str) -> None:
    pass


def test_the_generated_company_exercises_the_contract_and_pandas_agrees() -> None:
    tables = data.company(1200)
    plan, _ = data.plan_of(tables)
    scores = run_plan(plan, "numba")
    suite.check_agreement(plan, scores, tables, run_plan(plan, "reference"))  # raises when they differ
    assert (scores.department_factor != 1.0).any()  # a pool binds: the cent allocation runs
    assert scores.gate_failed.any() and not plan.eligible.all() and (plan.proration < 1).any()
    assert set(plan.kpi_method.tolist()) == {0, 1, 2, 3, 4}  # every scoring method


def test_the_pandas_version_is_checked_for_real() -> None:
    tables = data.company(600)
    plan, _ = data.plan_of(tables)
    scores = run_plan(plan)
    scores.payout = scores.payout.copy()
    scores.payout[3] += 0.01
    with pytest.raises(AssertionError, match="pandas payout"):
        suite.check_agreement(plan, scores, tables)
    assert len(analyst.score_company(tables)) == plan.n_employees


def test_kernel_section() -> None:
    rows = suite.kernels([600], repeats=1, log=quiet)
    whats = [row.what for row in rows]
    assert whats[0].startswith("kpi_xl kernels")
    assert any("pandas" in w for w in whats) and any("floor" in w for w in whats)
    assert all(row.seconds and row.seconds > 0 for row in rows)


def test_end_to_end_section(tmp_path: Path) -> None:
    rows = suite.end_to_end(600, 1, tmp_path, writers=["openpyxl"], libreoffice=False, log=quiet)
    assert rows[0].what.startswith("kpi-xl score") and rows[0].ratio and rows[0].ratio > 0
    assert any(row.what.startswith("I/O floor") for row in rows)
    table = suite.format_table(rows)
    assert "kpi-xl score" in table and table.count("\n") == len(rows) + 1


def test_import_time_and_peak_memory_probes() -> None:
    assert suite.import_time("kpi_xl") > 0
    peak, seconds = suite.peak_rss([sys.executable, "-c", "x = bytearray(60_000_000)"])
    assert peak >= 60e6 and seconds > 0


def test_the_formula_workbook_has_the_analysts_formulas(tmp_path: Path) -> None:
    from python_calamine import CalamineWorkbook

    path = spreadsheet.write_formula_book(data.company(60), tmp_path / "formulas.xlsx")
    sheets = CalamineWorkbook.from_path(str(path)).sheet_names
    assert sheets == ["Settings", "KPIs", "Curves", "Tiers", "Scorecards", "Employees", "Departments"]
    import openpyxl

    employees = openpyxl.load_workbook(path)["Employees"]
    assert employees["J2"].value.startswith("=SUMIFS(") and employees["P2"].value.startswith("=ROUND(")


@pytest.mark.skipif(spreadsheet.soffice() is None, reason="LibreOffice is not installed")
def test_libreoffice_recalculates_the_engines_numbers(tmp_path: Path) -> None:
    rows = suite._libreoffice(60, 1, tmp_path, wall=1.0, log=quiet)  # raises when the numbers differ
    assert rows[0].seconds is not None and np.isfinite(rows[0].seconds)
