"""package.scan_sheet: the extent a sheet's cells claim, in every form a writer may use."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from kpi_xl.package import scan_sheet

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def sheet_zip(tmp_path: Path, cells: str, prefix: str = "") -> zipfile.ZipFile:
    declaration = f'xmlns:{prefix[:-1]}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    xml = f'<?xml version="1.0"?><{prefix}worksheet {declaration}><{prefix}sheetData>{cells}</{prefix}sheetData></{prefix}worksheet>'
    path = tmp_path / "sheet.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", xml)
    return zipfile.ZipFile(path)


@pytest.mark.parametrize(
    "cells, prefix, rows, columns",
    [
        # the plain form: r first, no prefix
        ('<row r="1"><c r="A1"><v>1</v></c><c r="C1"><v>2</v></c></row><row r="7"><c r="B7"/></row>', "", 7, 3),
        # a cell claiming a row beyond its row element, and a far column
        ('<row r="1"><c r="A1"/></row><row r="2"><c r="AB900"/></row>', "", 900, 28),
        # r not the first attribute: the general pattern reads it
        ('<row spans="1:2" r="3"><c s="1" r="D3"><v>1</v></c></row>', "", 3, 4),
        # a namespace prefix
        ('<x:row r="5"><x:c r="XFD5"><x:v>1</x:v></x:c></x:row>', "x:", 5, 16384),
        # rows without r count by their number
        ("<row><c><v>1</v></c></row><row/><row/>", "", 3, 0),
        # a formula and an error value
        ('<row r="1"><c r="A1"><f>1/0</f></c><c r="B1" t="e"><v>#DIV/0!</v></c></row>', "", 1, 2),
    ],
)
def test_scan_finds_the_extent(tmp_path: Path, cells: str, prefix: str, rows: int, columns: int) -> None:
    with sheet_zip(tmp_path, cells, prefix) as archive:
        scan = scan_sheet(archive, "xl/worksheets/sheet1.xml")
    assert (scan.rows, scan.columns) == (rows, columns)
    assert scan.formulas_or_errors == ("<f>" in cells or 't="e"' in cells)


def test_scan_sees_cells_across_chunk_boundaries(tmp_path: Path) -> None:
    # about 3 MB of rows: element starts fall on the 1 MB chunk edges somewhere
    cells = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="E{r}"><v>1</v></c></row>' for r in range(1, 60001))
    with sheet_zip(tmp_path, cells + '<row r="60001"><c r="G60001"/></row>') as archive:
        scan = scan_sheet(archive, "xl/worksheets/sheet1.xml")
    assert (scan.rows, scan.columns) == (60001, 7)


def test_a_zero_padded_reference_hides_no_row(tmp_path: Path) -> None:
    cells = '<row r="1"><c r="A000000001"/></row><row r="2"><c r="A2000000"/></row>'
    with sheet_zip(tmp_path, cells) as archive:
        assert scan_sheet(archive, "xl/worksheets/sheet1.xml").rows == 2000000
