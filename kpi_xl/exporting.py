"""The output tables as CSV files, for payroll and HR systems that import CSV.

One file per output sheet (Results.csv, Payouts.csv, Departments.csv,
Problems.csv - Chinese names for a Chinese workbook), UTF-8 with a byte-order
mark so that Excel opens Chinese text correctly, headers as on the sheets.

Text that came from input cells and starts with ``=``, ``+``, ``-`` or ``@``
is written with a leading apostrophe, so that a spreadsheet opening the CSV
shows it as text and never runs it as a formula (CSV injection).  Numbers are
written in full (``repr``), money as the rounded amounts of the Payouts sheet.
Each file is written atomically, like the workbook.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from .api import Outcome

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        return repr(value)
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_text(columns: list[str], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(c) for c in columns])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return buffer.getvalue()


def write_csv(outcome: Outcome, directory: str | Path) -> list[Path]:
    """Write each output table of outcome as NAME.csv in directory; returns the paths."""
    from .writing import _atomic, output_frames

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for spec, frame in output_frames(outcome):
        keys = [c.key for c in spec.columns]
        header = [spec.column(k).label(outcome.language) for k in keys]
        rows = [list(r) for r in zip(*(frame[k].tolist() for k in keys))]
        data = ("\ufeff" + csv_text(header, rows)).encode("utf-8")
        path = folder / f"{spec.label(outcome.language)}.csv"
        written.append(_atomic(path, lambda temporary, data=data: Path(temporary).write_bytes(data)))
    return written
