"""Turn any .xlsx into the JSON book payload that the Office.js client sends.

The client reads each sheet's used range from A1 with ``getUsedRange().values``:
numbers, text and booleans as they are, empty cells as ``""``, dates as Excel
serial numbers, error cells as their text.  This builds the same from a file,
so tests can send realistic payloads (see docs/addin-protocol.md).  The extra
keys that the xlwings client also sends (pictures, tables, ...) are included,
so ``xlwings.Book(json=payload)`` accepts the payload too.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.datetime import to_excel

XLWINGS_SHEET_KEYS = {
    "pictures": [],
    "shapes": [],
    "charts": [],
    "notes": [],
    "tables": [],
    "pivot_tables": [],
    "print_area": None,
    "show_gridlines": True,
    "visibility": "Visible",
}


def cell_json(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dt.datetime, dt.date)):
        return float(to_excel(value))
    if isinstance(value, dt.time):
        return float(to_excel(value))
    return value


def sheet_values(rows: list[list[Any]]) -> list[list[Any]]:
    """The used range from A1, trimmed of empty trailing rows and columns."""
    rows = [[cell_json(v) for v in row] for row in rows]
    while rows and all(v == "" for v in rows[-1]):
        rows.pop()
    width = max((max((i + 1 for i, v in enumerate(r) if v != ""), default=0) for r in rows), default=0)
    return [r[:width] + [""] * (width - len(r[:width])) for r in rows] or [[""]]


def payload_from_sheets(name: str, sheets: dict[str, list[list[Any]]], language: str = "en") -> dict[str, Any]:
    return {
        "client": "Office.js",
        "version": "0.1.0",
        "language": language,
        "book": {"name": name, "active_sheet_index": 0, "selection": "A1"},
        "names": [],
        "sheets": [
            {"name": title, "values": sheet_values([list(r) for r in rows]), **XLWINGS_SHEET_KEYS}
            for title, rows in sheets.items()
        ],
    }


def payload_from_xlsx(path: str | Path, language: str = "en") -> dict[str, Any]:
    """The payload of a workbook file, cached values for formulas (as Excel shows them)."""
    path = Path(path)
    book = load_workbook(path, data_only=True)
    try:
        sheets = {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}
    finally:
        book.close()
    return payload_from_sheets(path.name, sheets, language)
