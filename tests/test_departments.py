"""Department scorecards: split -> fill (unlocked cells only) -> collect -> score."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpi_xl.api import score_workbook
from kpi_xl.cli import main
from kpi_xl.departments.collect import collect
from kpi_xl.departments.common import canonical, safe_file_name
from kpi_xl.departments.split import split
from kpi_xl.templates import build_example_company, save_reproducibly
from tests.conftest import sha256

DEPARTMENTS = ("Sales", "Operations", "Finance", "People")


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> dict[str, Path]:
    """The example company (filled) and its master before the month (no actuals, no comments)."""
    folder = tmp_path_factory.mktemp("company")
    filled = save_reproducibly(build_example_company(), folder / "example_company.xlsx")
    book = openpyxl.load_workbook(filled)
    for row in book["Scorecards"].iter_rows(min_row=2):
        row[4].value = None
        row[5].value = None
    book.save(folder / "master.xlsx")
    return {"filled": filled, "master": folder / "master.xlsx"}


def fill(files: list[Path], filled: Path, author: str = "Department head") -> int:
    """Type the example company's actuals and comments, touching unlocked cells only."""
    source = openpyxl.load_workbook(filled)["Scorecards"]
    values = {(str(r[0]), r[1]): (r[4], r[5]) for r in source.iter_rows(min_row=2, values_only=True) if r[0]}
    written = 0
    for path in files:
        book = openpyxl.load_workbook(path)
        sheet = book["Scorecards"]
        header = [c.value for c in sheet[1]]
        actual, comment = header.index("actual"), header.index("comment")
        for row in sheet.iter_rows(min_row=2):
            a, c = values[(str(row[0].value), row[1].value)]
            for cell, value in ((row[actual], a), (row[comment], c)):
                assert cell.protection.locked is False, cell.coordinate
                cell.value = value
                written += 1
        book.properties.lastModifiedBy = author
        book.save(path)
    return written


@pytest.fixture(scope="module")
def returned(company, tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("split")
    result = split(company["master"], "department", folder)
    assert result.ok and [g.label for g in result.groups] == list(DEPARTMENTS)
    assert fill(result.files, company["filled"]) == 2 * 192
    return result.files


def test_split_files_hold_one_department_protected(company, returned) -> None:
    assert [p.name for p in returned] == [f"master - {d}.xlsx" for d in DEPARTMENTS]
    book = openpyxl.load_workbook(returned[0])
    assert book.sheetnames == ["Scorecards", "Summary", "Employees", "KPIs", "Curves", "Tiers", "_kpi_xl"]
    assert book["_kpi_xl"].sheet_state == "veryHidden"
    meta = {r[0]: r[1] for r in book["_kpi_xl"].iter_rows(max_row=15, values_only=True)}
    assert meta["group"] == "Sales" and meta["master"] == "master.xlsx"
    assert book.security.lockStructure
    people = [r[2] for r in book["Employees"].iter_rows(min_row=2, values_only=True)]
    assert set(people) == {"Sales"} and len(people) == 12
    sheet = book["Scorecards"]
    assert all(ws.protection.sheet for ws in book.worksheets)
    assert sheet["C2"].protection.locked and sheet["H2"].protection.locked  # weight, attainment
    assert not sheet["E2"].protection.locked and not sheet["F2"].protection.locked  # actual, comment
    checks = [dv for dv in sheet.data_validations.dataValidation if "E2" in str(dv.sqref)]
    assert checks[0].type == "decimal" and checks[0].showInputMessage and "CO_REV" in checks[0].prompt
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == set(range(1001, 1013))
    assert len(book["KPIs"]["A"]) - 1 == 22  # the whole library, for reference


def test_split_fill_collect_gives_the_numbers_of_the_filled_master(company, returned, tmp_path) -> None:
    before = sha256(company["master"])
    output = tmp_path / "collected.xlsx"
    result = collect(company["master"], [returned[0].parent], output, progress=False)
    assert result.ok, result.issues
    assert result.issues == []
    assert sha256(company["master"]) == before
    direct, merged = score_workbook(company["filled"]), score_workbook(output)
    assert merged.ok
    pd.testing.assert_frame_equal(merged.results, direct.results)
    pd.testing.assert_frame_equal(merged.payouts, direct.payouts)
    pd.testing.assert_frame_equal(merged.departments, direct.departments)
    rev = merged.results[(merged.results.employee_id == "1001") & (merged.results.kpi_id == "CO_REV")].iloc[0]
    assert rev.attainment == pytest.approx(49_300_000 / 48_000_000, abs=1e-12)  # 102.708%
    assert rev.score == pytest.approx(100 + (49.3 / 48 - 1) / 0.2 * 50, abs=1e-9)  # 106.77
    provenance = list(openpyxl.load_workbook(output)["Collection"].iter_rows(values_only=True))
    assert provenance[0][:9] == ("file", "sheet", "cell", "master cell", "employee_id", "kpi_id", "field",
                                 "old value", "new value")
    first = provenance[1]
    assert first[:9] == ("master - Sales.xlsx", "Scorecards", "E2", "Scorecards!E2", "1001", "CO_REV", "actual",
                         None, 49300000)
    assert first[9] == "Department head"
    # one provenance row per actual and per comment the example company has (rows whose
    # KPI takes its actual from the Budget sheet have none)
    rows = list(openpyxl.load_workbook(company["filled"])["Scorecards"].iter_rows(min_row=2, values_only=True))
    assert sum(1 for r in provenance[1:] if r[6] == "actual") == sum(1 for r in rows if r[4] is not None) == 187
    assert sum(1 for r in provenance[1:] if r[6] == "comment") == sum(1 for r in rows if r[5] is not None)


def test_collect_names_changed_locked_cells_missing_files_and_bad_rows(company, returned, tmp_path) -> None:
    folder = tmp_path / "back"
    folder.mkdir()
    for path in returned[:3]:  # People's file never came back
        shutil.copy(path, folder / path.name)
    sales, operations, finance = (folder / p.name for p in returned[:3])
    book = openpyxl.load_workbook(sales)
    book["Scorecards"]["C2"] = 0.35  # a weight edited
    book.save(sales)
    book = openpyxl.load_workbook(operations)
    sheet = book["Scorecards"]
    sheet["D2"] = "=E2*0.9"  # a formula typed over the target beside the actual
    last = sheet.max_row + 1
    sheet[f"A{last}"], sheet[f"B{last}"], sheet[f"E{last}"] = 9999, "CO_REV", 1  # a row for nobody
    book.save(operations)
    book = openpyxl.load_workbook(finance)
    book["Scorecards"]["E2"] = "about 5"  # not a number
    book.save(finance)
    duplicate = folder / "Finance again.xlsx"
    shutil.copy(returned[2], duplicate)
    book = openpyxl.load_workbook(duplicate)
    book["Scorecards"]["E3"] = 123  # the same row, another value
    book.save(duplicate)

    output = tmp_path / "out.xlsx"
    assert main(["collect", str(company["master"]), str(folder), "-o", str(output)]) == 1
    result = collect(company["master"], [folder], tmp_path / "again.xlsx", progress=False)
    said = [str(i) for i in result.issues]
    assert any(s.startswith("error: master - Sales.xlsx: Scorecards!C2: locked cell changed: was 0.3, now 0.35") for s in said)
    assert any(s.startswith("error: master - Operations.xlsx: Scorecards!D2: locked cell a formula was typed over it: "
                            "was (empty), now '=E2*0.9'") for s in said)
    assert any(s.startswith("error: master - Finance.xlsx: Scorecards!E2: actual 'about 5' is not a number")
               for s in said)
    assert any(s.startswith(f"error: master - Operations.xlsx: Scorecards!A{last}: locked cell changed") for s in said)
    assert f"error: master - Operations.xlsx: Scorecards!A{last}: unknown employee '9999' (not on the master's " \
        "Employees sheet)" in said
    assert any(s.startswith("error: master - Finance.xlsx: Scorecards!E3: employee '1025' KPI 'CO_AUDIT'")
               and "also returned by Finance again.xlsx (Scorecards!E3) with different values" in s for s in said)
    assert "warning: no file returned for department 'People' (8 people)" in said
    # Nothing of the tampered files is merged; the conflicting row neither.
    merged = openpyxl.load_workbook(output)["Scorecards"]
    rows = {(r[0].value, r[1].value): r for r in merged.iter_rows(min_row=2)}
    assert rows[(1001, "CO_REV")][4].value is None  # Sales: not merged
    assert rows[(1013, "CO_NPS")][4].value is None  # Operations: not merged
    assert rows[(1025, "CO_MARGIN")][4].value == 0.126  # Finance E2 is not a number; its twin file's is taken
    assert rows[(1025, "CO_AUDIT")][4].value is None  # Finance E3: conflicting returns
    assert rows[(1026, "IN_CLOSE_TASKS")][4].value == 0.97  # the rest of Finance is merged
    problems = list(openpyxl.load_workbook(output)["Collection problems"].iter_rows(values_only=True))
    assert problems[0] == ("severity", "file", "sheet", "cell", "message")
    assert ("error", "master - Sales.xlsx", "Scorecards", "C2") in [p[:4] for p in problems]


def test_collect_never_writes_over_the_master(company, capsys) -> None:
    master = str(company["master"])
    assert main(["collect", master, master, "-o", master]) == 2
    assert "never" not in capsys.readouterr().out


def test_windows_safe_file_names() -> None:
    assert safe_file_name('Sales/EMEA: "North"?') == "Sales_EMEA_ _North__"
    assert safe_file_name("销售部") == "销售部"
    assert safe_file_name("CON") == "_CON"
    assert safe_file_name("Ops. ") == "Ops"


def test_fingerprint_survives_excel_rewriting_formulas() -> None:
    assert canonical("=IF(H2>=(0.8-1E-12*1),1,0)") == canonical("=IF(H2>=(0.8-0.000000000001*1),1,0)")
    assert canonical("=LOOKUP(H4,'Curves'!$D$14:$D$18,'Curves'!$C$14:$C$18)") == canonical(
        "=LOOKUP(H4,Curves!$D$14:$D$18,Curves!$C$14:$C$18)")
    assert canonical(0.3) == canonical(0.29999999999999999) and canonical(100) == canonical(100.0)
    assert canonical('=IF(A1="a b","x","y")') != canonical('=IF(A1="ab","x","y")')


def test_split_by_manager_gives_each_manager_the_direct_reports(company, tmp_path) -> None:
    assert main(["split", str(company["master"]), "--by", "manager", "-o", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.glob("*.xlsx"))
    assert "master - Margaret Okafor (1001).xlsx" in names and "master - no manager.xlsx" in names
    book = openpyxl.load_workbook(tmp_path / "master - Margaret Okafor (1001).xlsx")
    reports = [r[0] for r in book["Employees"].iter_rows(min_row=2, values_only=True)]
    assert reports == list(range(1002, 1013))  # her 11 reports, not herself
    assert main(["split", str(company["master"]), "--by", "manager", "-o", str(tmp_path)]) == 2  # no overwrite
