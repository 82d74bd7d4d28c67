"""Writing keeps everything the user had: parts are copied, only sheet lists grow."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

import kpi_xl
from tests.conftest import SMOKE_SHEETS, write_sheets

CHANGED = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml"}


def rich_workbook(path: Path) -> Path:
    write_sheets(path, SMOKE_SHEETS)
    book = openpyxl.load_workbook(path)
    report = book.create_sheet("Report")
    for row in [["dept", "budget"], ["Sales", 10], ["Ops", 20]]:
        report.append(row)
    chart = BarChart()
    chart.add_data(Reference(report, min_col=2, min_row=1, max_row=3), titles_from_data=True)
    report.add_chart(chart, "D2")
    report["A1"].comment = Comment("kept", "HR")
    report["B4"] = "=SUM(B2:B3)"
    report.conditional_formatting.add("B2:B3", CellIsRule(operator="greaterThan", formula=["15"], fill=PatternFill("solid", fgColor="FF0000")))
    validation = DataValidation(type="whole", operator="between", formula1="0", formula2="100")
    report.add_data_validation(validation)
    validation.add("C2:C9")
    hidden = book.create_sheet("Hidden")
    hidden["A1"] = "secret"
    hidden.sheet_state = "hidden"
    book.defined_names["Budgets"] = DefinedName("Budgets", attr_text="Report!$B$2:$B$3")
    book.save(path)
    return path


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_every_user_part_is_copied_unchanged(tmp_path: Path) -> None:
    source = rich_workbook(tmp_path / "rich.xlsx")
    outcome = kpi_xl.score_workbook(source)
    assert outcome.ok
    output = kpi_xl.write_workbook(outcome, source, tmp_path / "rich.out.xlsx")
    before, after = parts(source), parts(output)
    assert any(n.startswith("xl/charts/") for n in before)  # the fixture really has a chart
    for name, data in before.items():
        assert name in after, f"{name} was lost"
        if name in CHANGED:
            continue
        if name.startswith("xl/worksheets/sheet"):
            # only the 'selected tab' mark may go, so that sheets are not grouped
            assert after[name].replace(b' tabSelected="1"', b"") == data.replace(b' tabSelected="1"', b"")
        else:
            assert after[name] == data, f"{name} changed"
    book = openpyxl.load_workbook(output)
    assert book.sheetnames == [*SMOKE_SHEETS, "Report", "Hidden", "Results", "Payouts", "Departments", "Bonus cost"]
    assert book["Hidden"].sheet_state == "hidden"
    assert book["Report"]["B4"].value == "=SUM(B2:B3)"
    assert book["Report"]["A1"].comment.text == "kept"
    assert "Budgets" in book.defined_names
    assert book.active.title == "Results"
    assert book["Payouts"]["K2"].value == 7894.74


def test_rescoring_replaces_output_sheets_and_keeps_styles_sane(tmp_path: Path) -> None:
    source = rich_workbook(tmp_path / "rich.xlsx")
    first = kpi_xl.write_workbook(kpi_xl.score_workbook(source), source, tmp_path / "one.xlsx")
    second = kpi_xl.write_workbook(kpi_xl.score_workbook(first), first, tmp_path / "two.xlsx")
    book = openpyxl.load_workbook(second)
    assert book.sheetnames.count("Results") == 1
    assert book.sheetnames[-4:] == ["Results", "Payouts", "Departments", "Bonus cost"]
    assert book["Results"]["F2"].number_format == "0.0%"
    # styles are appended once per run, not multiplied
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
        assert len(b.read("xl/styles.xml")) < 2 * len(a.read("xl/styles.xml"))
    # the removed sheets' parts are gone, not orphaned
    names = parts(second)
    assert sum(1 for n in names if n.startswith("xl/worksheets/kpixl")) == 4


def test_errors_replace_old_results_with_problems(tmp_path: Path) -> None:
    source = write_sheets(tmp_path / "plan.xlsx", SMOKE_SHEETS)
    scored = kpi_xl.write_workbook(kpi_xl.score_workbook(source), source, tmp_path / "scored.xlsx")
    book = openpyxl.load_workbook(scored)
    book["Scorecards"]["E2"] = "n/a"
    book.save(scored)
    outcome = kpi_xl.score_workbook(scored)
    assert not outcome.ok
    again = kpi_xl.write_workbook(outcome, scored, tmp_path / "again.xlsx")
    book = openpyxl.load_workbook(again)
    assert "Results" not in book.sheetnames and "Problems" in book.sheetnames
    assert book.active.title == "Problems"
    assert book["Problems"]["C2"].value == "Scorecards!E2"


PIVOT_PARTS = {
    "xl/pivotCache/pivotCacheDefinition1.xml": b'<?xml version="1.0" encoding="UTF-8"?><pivotCacheDefinition xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" recordCount="2"><cacheSource type="worksheet"><worksheetSource ref="A1:B3" sheet="Report"/></cacheSource><cacheFields count="2"><cacheField name="dept" numFmtId="0"><sharedItems/></cacheField><cacheField name="budget" numFmtId="0"><sharedItems containsNumber="1"/></cacheField></cacheFields></pivotCacheDefinition>',
    "xl/pivotTables/pivotTable1.xml": b'<?xml version="1.0" encoding="UTF-8"?><pivotTableDefinition xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" name="PivotTable1" cacheId="1" dataCaption="Values"><location ref="F2:G4" firstHeaderRow="1" firstDataRow="1" firstDataCol="1"/><pivotFields count="2"><pivotField axis="axisRow" showAll="0"/><pivotField dataField="1" showAll="0"/></pivotFields></pivotTableDefinition>',
}


def test_pictures_and_pivot_parts_survive(tmp_path: Path) -> None:
    from openpyxl.drawing.image import Image
    from PIL import Image as Picture

    source = rich_workbook(tmp_path / "pics.xlsx")
    Picture.new("RGB", (4, 4), "red").save(tmp_path / "logo.png")
    book = openpyxl.load_workbook(source)
    book["Report"].add_image(Image(str(tmp_path / "logo.png")), "H2")
    book.save(source)
    # A pivot table's parts, referenced the way Excel references them (openpyxl cannot make one).
    with_pivot = tmp_path / "pivot.xlsx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(with_pivot, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/pivotTables/pivotTable1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.pivotTable+xml"/><Override PartName="/xl/pivotCache/pivotCacheDefinition1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.pivotCacheDefinition+xml"/></Types>')
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdPc1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/pivotCacheDefinition" Target="pivotCache/pivotCacheDefinition1.xml"/></Relationships>')
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"</workbook>", b'<pivotCaches><pivotCache xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" cacheId="1" r:id="rIdPc1"/></pivotCaches></workbook>')
            zout.writestr(info, data)
        for name, data in PIVOT_PARTS.items():
            zout.writestr(name, data)
    outcome = kpi_xl.score_workbook(with_pivot)
    output = kpi_xl.write_workbook(outcome, with_pivot, tmp_path / "pivot.out.xlsx")
    before, after = parts(with_pivot), parts(output)
    assert any(n.startswith("xl/media/") for n in before)
    for name in [n for n in before if n.startswith(("xl/media/", "xl/drawings/", "xl/pivot"))]:
        assert after[name] == before[name], name
    assert b'cacheId="1" r:id="rIdPc1"' in after["xl/workbook.xml"]
    assert b"pivotCacheDefinition1.xml" in after["xl/_rels/workbook.xml.rels"]
    assert b"pivotTable1.xml" in after["[Content_Types].xml"]


def test_numbers_read_back_exactly(tmp_path: Path) -> None:
    """Every number of the output sheets reads back as the very double the engine computed."""
    import math

    from python_calamine import CalamineWorkbook

    source = write_sheets(tmp_path / "plan.xlsx", SMOKE_SHEETS)
    outcome = kpi_xl.score_workbook(source)
    output = kpi_xl.write_workbook(outcome, source, tmp_path / "out.xlsx")
    book = CalamineWorkbook.from_path(str(output))
    for title, frame in (("Results", outcome.results), ("Payouts", outcome.payouts), ("Departments", outcome.departments)):
        rows = book.get_sheet_by_name(title).to_python()
        for column, name in enumerate(rows[0]):
            if frame[name].dtype.kind not in "fi":
                continue
            for row, expected in zip(rows[1:], frame[name].tolist()):
                got = row[column]
                if isinstance(expected, float) and not math.isfinite(expected):
                    assert got == "", (title, name)
                else:
                    assert got == expected and math.copysign(1, got) == math.copysign(1, expected), (title, name, got, expected)
    # the smoke book has a score %.16g would round (132.49999999999997 written as 132.5)
    assert any(repr(v) != "%.16g" % v for v in outcome.results["score"].tolist())


def test_text_and_odd_values_are_written_as_openpyxl_writes_them(tmp_path: Path) -> None:
    source = write_sheets(tmp_path / "plan.xlsx", SMOKE_SHEETS)
    outcome = kpi_xl.score_workbook(source)
    texts = ["A & B <x> > y", " padded ", "=SUM(A1)", "+1", "#N/A", "", "line\r\nbreak", "x" * 40000, "普通"]
    numbers = [0.1 + 0.2, 1234.0, float("nan"), float("inf"), 1e16, -0.0, 1e-7, 123456789.125]
    results = outcome.results.iloc[[0] * len(texts)].reset_index(drop=True)
    results["note"] = texts
    results["attainment"] = (numbers + [0.5])[: len(texts)]
    outcome.results = results
    output = kpi_xl.write_workbook(outcome, source, tmp_path / "odd.xlsx")
    sheet = openpyxl.load_workbook(output)["Results"]
    notes = [sheet.cell(row=r, column=9) for r in range(2, len(texts) + 2)]
    assert [c.value for c in notes[:5]] == ["A & B <x> > y", " padded ", "=SUM(A1)", "+1", "#N/A"]
    assert [c.data_type for c in notes[:5]] == ["s", "s", "s", "s", "e"]  # text stays text; an error code is an error
    assert notes[5].value is None
    assert notes[6].value == "line\r\nbreak"
    assert notes[7].value == "x" * 32767  # Excel's longest text, cut as openpyxl cuts it
    assert notes[8].value == "普通"
    attainment = [sheet.cell(row=r, column=6).value for r in range(2, len(texts) + 2)]
    assert attainment[:2] == [0.30000000000000004, 1234] and isinstance(attainment[1], int)
    assert attainment[2] is None and attainment[3] is None  # NaN and infinity: blank cells
    assert attainment[4:8] == [1e16, 0, 1e-7, 123456789.125]
    assert sheet.cell(row=2, column=6).number_format == "0.0%"


def test_illegal_characters_are_refused_as_openpyxl_refuses_them(tmp_path: Path) -> None:
    from openpyxl.utils.exceptions import IllegalCharacterError

    source = write_sheets(tmp_path / "plan.xlsx", SMOKE_SHEETS)
    outcome = kpi_xl.score_workbook(source)
    outcome.results = outcome.results.assign(note="bell \x07")
    with pytest.raises(IllegalCharacterError):
        kpi_xl.write_workbook(outcome, source, tmp_path / "bad.xlsx")
    assert not (tmp_path / "bad.xlsx").exists()


def test_user_parts_are_copied_still_compressed(tmp_path: Path) -> None:
    source = rich_workbook(tmp_path / "rich.xlsx")
    output = kpi_xl.write_workbook(kpi_xl.score_workbook(source), source, tmp_path / "out.xlsx")
    with zipfile.ZipFile(source) as before, zipfile.ZipFile(output) as after:
        assert after.testzip() is None
        for info in before.infolist():
            if info.filename in CHANGED or info.filename.startswith("xl/worksheets/sheet"):
                continue
            copied = after.getinfo(info.filename)
            assert (copied.CRC, copied.compress_size, copied.compress_type) == (info.CRC, info.compress_size, info.compress_type)
