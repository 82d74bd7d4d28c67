"""CSV export: the output tables as files payroll can import, never a formula."""

from __future__ import annotations

import csv

import kpi_xl
from kpi_xl.exporting import csv_cell, write_csv
from tests.conftest import SMOKE_SHEETS, write_sheets
from tests.workbook_factory import Text


def read(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: Excel opens UTF-8 (Chinese names) correctly
    return list(csv.reader(raw.decode("utf-8-sig").splitlines()))


def test_payouts_csv_holds_the_hand_worked_amounts(tmp_path):
    outcome = kpi_xl.score_workbook(write_sheets(tmp_path / "smoke.xlsx", SMOKE_SHEETS))
    paths = write_csv(outcome, tmp_path / "csv")
    assert [p.name for p in paths] == ["Results.csv", "Payouts.csv", "Departments.csv", "Bonus cost.csv"]
    rows = read(tmp_path / "csv" / "Payouts.csv")
    header = rows[0]
    assert header[:3] == ["employee_id", "name", "department"]
    payout = {r[0]: r[header.index("payout")] for r in rows[1:]}
    assert payout == {"1001": "7894.74", "1002": "2105.26", "1003": "0.0"}  # see tests/conftest.py
    results = read(tmp_path / "csv" / "Results.csv")
    assert len(results) == 1 + 8


def test_text_that_looks_like_a_formula_is_escaped(tmp_path):
    sheets = {k: [list(r) for r in v] for k, v in SMOKE_SHEETS.items()}
    sheets["Employees"][1][1] = Text("=cmd|' /C calc'!A0")  # typed as text in the workbook
    sheets["Employees"][2][1] = Text("@SUM(1+1)")
    sheets["Employees"][3][1] = Text("-2+3")
    outcome = kpi_xl.score_workbook(write_sheets(tmp_path / "evil.xlsx", sheets))
    write_csv(outcome, tmp_path / "csv")
    rows = read(tmp_path / "csv" / "Payouts.csv")
    names = [r[1] for r in rows[1:]]
    assert names == ["'=cmd|' /C calc'!A0", "'@SUM(1+1)", "'-2+3"]
    for row in rows:
        for value in row:
            assert not value.startswith(("=", "+", "@")), value


def test_problems_csv_and_chinese_names(tmp_path):
    sheets = {k: [list(r) for r in v] for k, v in SMOKE_SHEETS.items()}
    sheets["指标库"] = sheets.pop("KPIs")
    sheets["Scorecards"][1][4] = "abc"
    outcome = kpi_xl.score_workbook(write_sheets(tmp_path / "bad.xlsx", sheets))
    assert not outcome.ok
    paths = write_csv(outcome, tmp_path / "csv")
    assert [p.name for p in paths] == ["问题.csv"]
    rows = read(paths[0])
    assert rows[1][2] == "Scorecards!E2" and rows[1][0] == "错误"


def test_numbers_are_written_in_full():
    assert csv_cell(106.77083333333334) == "106.77083333333334"
    assert csv_cell(float("nan")) == ""
    assert csv_cell(3) == "3"


def test_cli_writes_csv_beside_the_workbook(tmp_path):
    from kpi_xl.cli import main

    book = write_sheets(tmp_path / "smoke.xlsx", SMOKE_SHEETS)
    assert main(["score", str(book), "--csv", str(tmp_path / "out"), "-q"]) == 0
    rows = read(tmp_path / "out" / "Departments.csv")
    assert rows[0][0] == "department" and {r[0] for r in rows[1:]} == {"Sales", "Ops"}
