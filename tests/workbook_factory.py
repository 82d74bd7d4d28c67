"""Write small test workbooks with openpyxl, the way a workbook author would.

``write_workbook(path, {"Sheet": [[header...], [row...], ...]})`` writes one
sheet per entry, the first list being row 1.  A plain value is written as is
(numbers, text, ``datetime``/``date`` with openpyxl's date format, ``None`` for
an empty cell).  Wrap a value to control how the cell is stored:

- ``Pct(0.8)``            0.8 formatted as a percentage (Excel shows 80%)
- ``Fmt(1234.5, "#,##0.00")`` any number format
- ``Formula("=1/0")``     a formula; openpyxl stores no cached value for it
- ``Error("#DIV/0!")``    an error *value* (``t="e"``), as Excel caches it
- ``Text("=not a formula")`` / ``Text(1001)``  forced text (inline string)
- ``Fmt(None, "0%")``     a styled but empty cell (still a blank cell)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import openpyxl

__all__ = ["Cell", "Error", "Fmt", "Formula", "Pct", "Text", "write_workbook"]


@dataclass(frozen=True)
class Cell:
    value: object = None
    number_format: str | None = None
    data_type: str | None = None  # force openpyxl's data type: "s", "e", "n", "f"


def Pct(value: float, number_format: str = "0.00%") -> Cell:
    return Cell(value, number_format)


def Fmt(value: object, number_format: str) -> Cell:
    return Cell(value, number_format)


def Formula(text: str) -> Cell:
    return Cell(text if text.startswith("=") else "=" + text, data_type="f")


def Error(code: str = "#DIV/0!") -> Cell:
    return Cell(code, data_type="e")


def Text(value: object) -> Cell:
    return Cell(str(value), "@", data_type="s")


def write_workbook(path: str | Path, sheets: dict[str, list[list]]) -> Path:
    """Write ``sheets`` (in order) to ``path``; return the path."""
    path = Path(path)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, item in enumerate(row, start=1):
                spec = item if isinstance(item, Cell) else Cell(item)
                if spec.value is None and spec.number_format is None:
                    continue  # leave the cell absent: blank
                cell = ws.cell(row=r, column=c)
                if spec.value is not None:
                    cell.value = spec.value
                if spec.data_type is not None:
                    cell.data_type = spec.data_type
                if spec.number_format is not None:
                    cell.number_format = spec.number_format
    wb.save(path)
    return path
