"""The xlsx package (a zip of XML parts): which part holds which sheet, and the
cells whose value a plain value reader cannot show.

python-calamine reads cell values fast, but shows an error value (#DIV/0!) and
a formula that was saved without its computed value both as an empty cell.
kpi_xl must name those cells instead of treating them as blank, so this module
scans a sheet's XML for them - only when the part contains any formula or
error at all - with defusedxml's streaming parser (no entity expansion, no
external entities).  A first quick pass (``scan_sheet``) also measures how
big the sheet claims to be, so that absurd sheets are refused up front.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass

from defusedxml import ElementTree as SafeTree
from openpyxl.utils.cell import coordinate_from_string, column_index_from_string

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
C_TAG = f"{{{MAIN_NS}}}c"
F_TAG = f"{{{MAIN_NS}}}f"
V_TAG = f"{{{MAIN_NS}}}v"
ROW_TAG = f"{{{MAIN_NS}}}row"


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> the zip member that holds its cells (xl/worksheets/sheetN.xml)."""
    with archive.open("xl/workbook.xml") as handle:
        workbook = SafeTree.parse(handle).getroot()
    rels_name = "xl/_rels/workbook.xml.rels"
    targets: dict[str, str] = {}
    if rels_name in archive.namelist():
        with archive.open(rels_name) as handle:
            for rel in SafeTree.parse(handle).getroot():
                target = rel.get("Target", "")
                if target.startswith("/"):
                    path = target.lstrip("/")
                else:
                    path = posixpath.normpath(posixpath.join("xl", target))
                targets[rel.get("Id", "")] = path
    parts: dict[str, str] = {}
    sheets = workbook.find(f"{{{MAIN_NS}}}sheets")
    for sheet in sheets if sheets is not None else []:
        rid = sheet.get(f"{{{REL_NS}}}id", "")
        if rid in targets:
            parts[sheet.get("name", "")] = targets[rid]
    return parts


# A row or cell start tag with its reference: <row r="12" ...>, <c r="XFD12" ...>
REFERENCE = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?(row|c)\s[^>]{0,400}?\br="([A-Za-z]{0,3})(\d{1,12})"')
ROW_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")


@dataclass
class SheetScan:
    """What a quick pass over a sheet's XML found, before any value is parsed."""

    rows: int = 0  # the largest row number (or row count) a value reader would allocate
    columns: int = 0
    formulas_or_errors: bool = False

    @property
    def cells(self) -> int:
        return self.rows * max(self.columns, 1)


# A cell or row start tag: with r first and no namespace prefix (the form Excel,
# openpyxl, XlsxWriter and LibreOffice write), the group holds its reference;
# any other start matches with an empty group, and then the general REFERENCE
# pattern reads that window instead.
CELL_START = re.compile(rb'<c(?: r="([A-Za-z]{0,3})(\d{1,12})"|[\s/>])')
ROW_START_PLAIN = re.compile(rb'<row(?: r="(\d{1,12})"|[\s/>])')
PREFIXED_START = re.compile(rb":(?:c|row)[\s/>]")


def scan_sheet(archive: zipfile.ZipFile, part: str) -> SheetScan:
    """Extent of a sheet as its cells claim it, and whether it has formulas or errors.

    A value reader allocates the whole rectangle from A1 to the last cell, so
    one cell at XFD1048576 costs 16 billion slots: this pass lets kpi_xl refuse
    such a sheet before any allocation.
    """
    scan = SheetScan()
    if part not in archive.namelist():
        return scan
    carry = b""
    counted_rows = 0
    letters: set[bytes] = set()
    with archive.open(part) as handle:
        while True:
            chunk = handle.read(1 << 20)
            window = carry + chunk
            if chunk:  # keep an element start cut by the chunk's end for the next window
                cut = window.rfind(b"<")
                window, carry = (window[:cut], window[cut:]) if cut > 0 else (window, b"")
            else:
                carry = b""
            if not window:
                break
            rows = ROW_START_PLAIN.findall(window)
            counted_rows += len(rows)
            cells = CELL_START.findall(window)
            numbers = [number for _, number in cells]
            if b"" not in rows and b"" not in numbers and not PREFIXED_START.search(window):
                numbers += rows
                letters.update({letter for letter, _ in cells})
            else:
                found = REFERENCE.findall(window)
                counted_rows += len(ROW_START.findall(window)) - len(rows)
                numbers = [number for _, _, number in found]
                letters.update(letter for kind, letter, _ in found if kind == b"c")
            if numbers:  # the cells of a row repeat its number: each distinct one is read once
                scan.rows = max(scan.rows, max(map(int, set(numbers))))
            if not scan.formulas_or_errors and (b"<f" in window or b't="e"' in window):
                scan.formulas_or_errors = True
            if not chunk:
                break
    letters.discard(b"")
    if letters:
        scan.columns = max(column_index_from_string(letter.decode().upper()) for letter in letters)
    scan.rows = max(scan.rows, counted_rows)
    return scan


def odd_cells(archive: zipfile.ZipFile, part: str) -> dict[tuple[int, int], tuple[str, str]]:
    """(row, column) -> ("error", "#DIV/0!") or ("formula", "=A1*2") for cells
    holding an error value or a formula without a computed value.  Call it
    only when scan_sheet found formulas or errors."""
    if part not in archive.namelist():
        return {}
    found: dict[tuple[int, int], tuple[str, str]] = {}
    with archive.open(part) as handle:
        for _, element in SafeTree.iterparse(handle, events=("end",)):
            if element.tag == C_TAG:
                kind = element.get("t")
                value = element.find(V_TAG)
                formula = element.find(F_TAG)
                reference = element.get("r")
                # a formula's value is missing when there is no <v>, or an empty one that is not
                # an empty text result (t="str"): openpyxl, for one, writes <f>..</f><v></v>
                uncached = formula is not None and (
                    value is None or (not (value.text or "").strip() and kind not in ("str", "inlineStr"))
                )
                if reference and (kind == "e" or uncached):
                    letters, row = coordinate_from_string(reference)
                    key = (row, column_index_from_string(letters))
                    if kind == "e":
                        found[key] = ("error", (value.text if value is not None else None) or "#N/A")
                    else:
                        found[key] = ("formula", "=" + (formula.text or ""))
            elif element.tag == ROW_TAG:
                element.clear()  # keep memory flat on big sheets
    return found
