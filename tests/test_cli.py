"""The kpi-xl command line end to end: exit codes, files written, input untouched."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kpi_xl.cli import main
from tests.conftest import SMOKE_SHEETS, sha256, write_sheets


def sheet_rows(path: Path, title: str) -> list[tuple]:
    book = openpyxl.load_workbook(path, data_only=True)
    return [tuple(r) for r in book[title].iter_rows(values_only=True)]


def test_score_writes_results_and_keeps_the_input(smoke_book: Path, capsys) -> None:
    before = sha256(smoke_book)
    assert main(["score", str(smoke_book)]) == 0
    output = smoke_book.with_name("smoke.scored.xlsx")
    assert sha256(smoke_book) == before
    book = openpyxl.load_workbook(output)
    assert book.sheetnames == [*SMOKE_SHEETS, "Results", "Payouts", "Departments", "Bonus cost"]
    payouts = sheet_rows(output, "Payouts")
    assert payouts[0][:3] == ("employee_id", "name", "department")
    by_id = {row[0]: row for row in payouts[1:]}
    assert by_id["1001"][10] == 7894.74  # see the worked numbers in conftest
    assert by_id["1002"][10] == 2105.26
    assert by_id["1003"][10] == 0
    assert by_id["1003"][6] == "failed: AUDIT"
    assert by_id["1001"][3] == pytest.approx(125.25, abs=1e-9)
    departments = {row[0]: row for row in sheet_rows(output, "Departments")[1:]}
    assert departments["Sales"][4] == 10000.00
    out = capsys.readouterr().out
    assert "Scored 3 employees (8 KPI rows) in 2 departments; total payout 10,000.00" in out


def test_output_sheets_are_formatted(smoke_book: Path) -> None:
    output = smoke_book.with_name("out.xlsx")
    assert main(["score", str(smoke_book), "-o", str(output)]) == 0
    book = openpyxl.load_workbook(output)
    results = book["Results"]
    assert results.freeze_panes == "A2"
    assert results.auto_filter.ref == "A1:I9"
    assert results["F2"].number_format == "0.0%"  # attainment
    assert book["Payouts"]["K2"].number_format == "#,##0.00"  # payout
    assert results.conditional_formatting  # red/green rules exist
    assert results["I2"].value == "attainment 113.0% → score 132.5 (linear, target 100% → stretch 120%)"
    assert book.active.title == "Results"


def test_bad_workbook_exits_1_names_cells_and_writes_only_problems(bad_book: Path, capsys) -> None:
    before = sha256(bad_book)
    assert main(["score", str(bad_book)]) == 1
    err = capsys.readouterr().err
    assert "Scorecards!E2: actual 'abc' is not a number" in err
    assert "Scorecards!B3: unknown KPI 'COSTT' (not in the KPI library) — did you mean 'COST'?" in err
    assert sha256(bad_book) == before
    output = bad_book.with_name("bad.scored.xlsx")
    book = openpyxl.load_workbook(output)
    assert "Problems" in book.sheetnames
    assert not {"Results", "Payouts", "Departments"} & set(book.sheetnames)
    problems = sheet_rows(output, "Problems")
    assert problems[0] == ("severity", "sheet", "cell", "message")
    assert ("error", "Scorecards", "Scorecards!E2", "actual 'abc' is not a number") in problems
    assert book.active.title == "Problems"


def test_check_prints_problems_and_writes_nothing(bad_book: Path, capsys) -> None:
    assert main(["check", str(bad_book)]) == 1
    assert "Scorecards!E2" in capsys.readouterr().err
    assert not bad_book.with_name("bad.scored.xlsx").exists()


def test_check_clean_book(smoke_book: Path, capsys) -> None:
    assert main(["check", str(smoke_book)]) == 0
    assert "no errors" in capsys.readouterr().out


def test_in_place_keeps_a_backup_and_replaces_atomically(smoke_book: Path) -> None:
    original = smoke_book.read_bytes()
    assert main(["score", str(smoke_book), "--in-place"]) == 0
    backups = list(smoke_book.parent.glob("smoke.backup-*.xlsx"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    book = openpyxl.load_workbook(smoke_book)
    assert book.sheetnames[-4:] == ["Results", "Payouts", "Departments", "Bonus cost"]
    assert not list(smoke_book.parent.glob(".*kpi-xl-tmp*"))  # no temporary left behind
    # a second run replaces the output sheets instead of adding more
    assert main(["score", str(smoke_book), "--in-place"]) == 0
    assert openpyxl.load_workbook(smoke_book).sheetnames.count("Results") == 1


def test_in_place_with_errors_leaves_the_input_alone(bad_book: Path) -> None:
    before = sha256(bad_book)
    assert main(["score", str(bad_book), "--in-place"]) == 1
    assert sha256(bad_book) == before
    assert bad_book.with_name("bad.scored.xlsx").exists()


def test_in_place_refused_while_open_in_excel(smoke_book: Path, capsys) -> None:
    lock = smoke_book.with_name("~$smoke.xlsx")
    lock.write_bytes(b"owner")
    before = sha256(smoke_book)
    assert main(["score", str(smoke_book), "--in-place"]) == 2
    assert "open in Excel" in capsys.readouterr().err
    assert sha256(smoke_book) == before


def test_user_content_survives(tmp_path: Path) -> None:
    path = write_sheets(tmp_path / "kept.xlsx", SMOKE_SHEETS)
    book = openpyxl.load_workbook(path)
    notes = book.create_sheet("My notes")
    notes["A1"] = 5
    notes["A2"] = "=A1*2"
    notes["A1"].number_format = "0.000"
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    book.defined_names["Budget_Total"] = DefinedName("Budget_Total", attr_text="'My notes'!$A$1")
    validation = DataValidation(type="list", formula1='"a,b"')
    notes.add_data_validation(validation)
    validation.add("B1:B5")
    book.save(path)
    output = tmp_path / "kept.out.xlsx"
    assert main(["score", str(path), "-o", str(output)]) == 0
    kept = openpyxl.load_workbook(output)
    assert kept["My notes"]["A2"].value == "=A1*2"
    assert kept["My notes"]["A1"].number_format == "0.000"
    assert "Budget_Total" in kept.defined_names
    assert kept["My notes"].data_validations.dataValidation[0].formula1 == '"a,b"'


def test_formula_like_text_is_written_as_text(tmp_path: Path) -> None:
    sheets = {k: [list(r) for r in v] for k, v in SMOKE_SHEETS.items()}
    sheets["Employees"][1][1] = "=HYPERLINK(\"http://x\")"
    path = write_sheets(tmp_path / "inj.xlsx", sheets)
    # openpyxl stored the name as a formula in the input; make it a text cell as a user would type it
    book = openpyxl.load_workbook(path)
    book["Employees"]["B2"].data_type = "s"
    book.save(path)
    output = tmp_path / "inj.out.xlsx"
    assert main(["score", str(path), "-o", str(output)]) == 0
    with zipfile.ZipFile(output) as archive:
        payouts_xml = next(
            archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/sheet")
            and "HYPERLINK" in archive.read(n).decode() and "<f>" not in archive.read(n).decode()
        )
    assert "<f>" not in payouts_xml
    assert openpyxl.load_workbook(output)["Payouts"]["B2"].data_type == "s"


def test_chinese_workbook_gets_chinese_sheets(tmp_path: Path) -> None:
    zh_names = {"Settings": "设置", "KPIs": "指标库", "Curves": "评分曲线", "Employees": "员工",
                "Scorecards": "考核表", "Tiers": "奖金档位", "Pools": "奖金池"}
    path = write_sheets(tmp_path / "zh.xlsx", {zh_names[k]: v for k, v in SMOKE_SHEETS.items()})
    output = tmp_path / "zh.out.xlsx"
    assert main(["score", str(path), "-o", str(output)]) == 0
    book = openpyxl.load_workbook(output)
    assert book.sheetnames[-4:] == ["评分结果", "奖金结果", "部门汇总", "奖金成本"]
    header = [c.value for c in book["奖金结果"][1]]
    assert header[:4] == ["工号", "名称", "部门", "总分"]
    assert book["奖金结果"]["G4"].value == "未通过: AUDIT"


# ------------------------------------------------------------------ unreadable files


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


UNREADABLE = {
    "empty": (lambda p: p.write_bytes(b"") or p, "is empty"),
    "text": (lambda p: p.write_text("employee,kpi\n1,REV\n") or p, "is not an Excel workbook"),
    "legacy_or_encrypted": (
        lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600) or p,
        "password-protected or in the old .xls format",
    ),
    "truncated": (None, "is damaged"),
    "other_zip": (lambda p: _zip(p, {"hello.txt": b"hi"}), "not an Excel workbook"),
    "ods": (lambda p: _zip(p, {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}), ".ods"),
    "xlsb": (lambda p: _zip(p, {"[Content_Types].xml": b"<x/>", "xl/workbook.bin": b"\0"}), ".xlsb"),
    "zip_bomb": (
        lambda p: _zip(p, {"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>", "xl/worksheets/sheet1.xml": b"\0" * (80 << 20)}),
        "zip bomb",
    ),
}


@pytest.mark.parametrize("kind", sorted(UNREADABLE))
def test_unreadable_files_exit_2_with_one_line(kind: str, tmp_path: Path, smoke_book: Path, capsys) -> None:
    make, expected = UNREADABLE[kind]
    path = tmp_path / f"{kind}.xlsx"
    if make is None:  # a real workbook cut in half
        path.write_bytes(smoke_book.read_bytes()[: smoke_book.stat().st_size // 2])
    else:
        make(path)
    before = sha256(path)
    assert main(["score", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert sha256(path) == before
    assert not path.with_name(f"{kind}.scored.xlsx").exists()


def test_missing_file_and_misuse(tmp_path: Path, capsys) -> None:
    assert main(["score", str(tmp_path / "nope.xlsx")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["score"]) == 2
    assert main([]) == 2
    assert main(["--help"]) == 0


def test_console_script_runs_in_a_fresh_process(bad_book: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kpi_xl", "score", str(bad_book)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "Scorecards!E2" in done.stderr


def test_in_memory_tables_and_the_reference_engine_give_the_same_numbers() -> None:
    import pandas as pd

    import kpi_xl

    frames = {name: pd.DataFrame(rows[1:], columns=rows[0]) for name, rows in SMOKE_SHEETS.items()}
    fast = kpi_xl.score_tables(frames)
    slow = kpi_xl.score_tables(frames, engine="reference")
    assert fast.ok and slow.ok
    assert fast.payouts["payout"].tolist() == [7894.74, 2105.26, 0.0]
    pd.testing.assert_frame_equal(fast.payouts, slow.payouts)
    pd.testing.assert_frame_equal(fast.results, slow.results)


def test_a_sheet_missing_a_column_is_reported_once(tmp_path: Path) -> None:
    import kpi_xl

    sheets = {k: [list(r) for r in v] for k, v in SMOKE_SHEETS.items()}
    sheets["Employees"] = [row[:1] + row[2:] for row in sheets["Employees"]]  # no name column
    outcome = kpi_xl.score_workbook(write_sheets(tmp_path / "noname.xlsx", sheets))
    assert [str(p) for p in outcome.problems] == [
        "error: Employees!A1: the column 'name' is missing from the header row (row 1)"
    ]


def test_output_folder_must_exist_and_output_must_not_be_open(smoke_book: Path, capsys) -> None:
    assert main(["score", str(smoke_book), "-o", str(smoke_book.parent / "missing" / "out.xlsx")]) == 2
    assert "does not exist" in capsys.readouterr().err
    target = smoke_book.with_name("busy.xlsx")
    target.write_bytes(b"old")
    smoke_book.with_name("~$busy.xlsx").write_bytes(b"owner")
    assert main(["score", str(smoke_book), "-o", str(target)]) == 2
    assert "open in Excel" in capsys.readouterr().err
    assert target.read_bytes() == b"old"
