"""Result tables -> formatted sheets in a workbook file, written atomically.

Step 6 of the pipeline.  The input workbook is opened with openpyxl, the
sheets kpi_xl owns (Results, Payouts, Departments, Problems in either
language) are replaced, and the file is saved to a temporary file beside the
destination, flushed to disk, then moved into place in one step - so a crash
at any moment leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from . import schema
from .api import Outcome
from .assembling import problems_table

MONEY = "#,##0.00"
PERCENT = "0.0%"
FORMATS: dict[str, str] = {
    "weight": PERCENT,
    "target": "#,##0.####",
    "actual": "#,##0.####",
    "attainment": PERCENT,
    "score": "0.0",
    "weighted_score": "0.00",
    "total_score": "0.0",
    "multiplier": "0.00",
    "proration": PERCENT,
    "payout_before_pool": MONEY,
    "payout": MONEY,
    "pool": MONEY,
    "pool_factor": "0.0000",
    "average_total_score": "0.0",
    "headcount": "0",
    "eligible_headcount": "0",
    "matched": "0",
    "changed": "0",
    "payout_effect": MONEY,
    "target_bonus": MONEY,
    "average_multiplier": "0.00",
    "bonus_budget": MONEY,
    "remaining_budget": MONEY,
    "budget_used": PERCENT,
    "pool_needed": MONEY,
    "budget": MONEY,
    "variance": MONEY,
    "variance_pct": PERCENT,
    "people": "0",
}
FORMULA_STARTS = ("=", "+", "-", "@")
WIDTHS: dict[str, int] = {"note": 80, "message": 100, "condition": 60}  # the widest a column may grow


class OutputRefused(Exception):
    """The output cannot be written as asked; the message says why and what to do."""


def output_frames(outcome: Outcome) -> list[tuple[schema.SheetSpec, pd.DataFrame]]:
    frames: list[tuple[schema.SheetSpec, pd.DataFrame]] = []
    if outcome.scored and outcome.ok:
        assert outcome.results is not None and outcome.payouts is not None
        assert outcome.departments is not None
        frames += [
            (schema.RESULTS, outcome.results),
            (schema.output_columns(schema.PAYOUTS, outcome.payouts.columns), outcome.payouts),
            (schema.DEPARTMENTS, outcome.departments),
        ]
        if outcome.cost is not None:
            frames.append((schema.COST, outcome.cost))
        if outcome.variance is not None:
            frames.append((schema.VARIANCE, outcome.variance))
        if outcome.rule_trace is not None:
            frames.append((schema.RULE_TRACE, outcome.rule_trace))
    if outcome.problems:
        frames.append((schema.PROBLEMS, problems_table(outcome.problems, outcome.language)))
    return frames


def write_workbook(outcome: Outcome, source: Path, destination: Path) -> Path:
    """Write the input's package plus the output sheets to destination, atomically.

    The input's parts are copied unchanged (charts, pictures, pivot tables,
    macros and all); only the output sheets are replaced.
    """
    frames = output_frames(outcome)
    titles = [spec.label(outcome.language) for spec, _ in frames]
    activate = (
        schema.PROBLEMS.label(outcome.language) if not outcome.ok else (titles[0] if titles else None)
    )
    return write_frames(frames, outcome.language, source, destination, schema.is_output_sheet_name, activate)


def write_frames(
    frames: list[tuple[schema.SheetSpec, pd.DataFrame]],
    language: str,
    source: Path,
    destination: Path,
    replace: Callable[[str], bool],
    activate: str | None,
) -> Path:
    """A copy of source's package with the sheets for which replace(title) is true
    removed and the frames added as formatted sheets, written atomically."""
    from .grafting import Package, graft, write_package

    titles = [spec.label(language) for spec, _ in frames]
    scratch_bytes, bodies = _scratch_book(frames, language)
    scratch = Package.read(io.BytesIO(scratch_bytes))
    with Package.open(str(source)) as source_package:
        parts = graft(source_package, scratch, titles, replace, activate, bodies)

        def write(temporary: str) -> None:
            try:
                write_package(source_package, parts, temporary)
            finally:
                source_package.close()  # before the move: Windows cannot replace an open file

        return _atomic(destination, write)


def _scratch_book(
    frames: list[tuple[schema.SheetSpec, pd.DataFrame]], language: str
) -> tuple[bytes, dict[str, "SheetBody"]]:
    """The output sheets as a package of their own, written by openpyxl (write-only):
    everything but the data rows, which ``SheetBody`` writes into the grafted sheet."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    bodies: dict[str, SheetBody] = {}
    for spec, frame in frames:
        title = spec.label(language)
        bodies[title] = _fill_sheet(book.create_sheet(title), spec, frame, language)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), bodies


def save_atomically(book: Any, destination: Path) -> Path:
    """Save an openpyxl workbook to destination atomically."""
    return _atomic(destination, book.save)


def save_bytes_atomically(data: bytes, destination: Path) -> Path:
    """Write bytes to destination atomically (the add-in files, exports)."""
    return _atomic(destination, lambda temporary: Path(temporary).write_bytes(data))


def _atomic(destination: Path, write: Callable[[str], Any]) -> Path:
    """Run write(temporary path) beside destination, flush it, then move it into place."""
    destination = Path(destination)
    directory = destination.parent if str(destination.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(
        prefix=f".{destination.stem}.", suffix=".kpi-xl-tmp" + destination.suffix, dir=directory
    )
    os.close(handle)
    try:
        write(temporary)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, destination)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)
    return destination


def backup_path(source: Path, now: dt.datetime | None = None) -> Path:
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return source.with_name(f"{source.stem}.backup-{stamp}{source.suffix}")


def excel_lock_file(source: Path) -> Path | None:
    """Excel's owner file (~$Name.xlsx) beside an open workbook, if present."""
    for candidate in (source.with_name("~$" + source.name), source.with_name("~$" + source.name[2:])):
        if candidate.exists() and candidate != source:
            return candidate
    return None


def write_in_place(outcome: Outcome, source: Path) -> tuple[Path, Path]:
    """Back the input up, then replace it atomically.  Returns (written, backup)."""
    lock = excel_lock_file(source)
    if lock is not None:
        raise OutputRefused(
            f"{source.name} is open in Excel ({lock.name} exists): close it there first, "
            "or write a separate file with -o"
        )
    backup = backup_path(source)
    shutil.copy2(source, backup)
    write_workbook(outcome, source, source)
    return source, backup


# ------------------------------------------------------------------ formatting


def _cell_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if hasattr(value, "item"):  # numpy scalars
        return _cell_value(value.item())
    return value


def _fill_sheet(sheet: Any, spec: schema.SheetSpec, frame: pd.DataFrame, language: str) -> "SheetBody":
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    columns = [c.key for c in spec.columns]
    rows = len(frame) + 1
    for position, key in enumerate(columns, start=1):
        width = _column_width(spec.column(key).label(language), frame[key], WIDTHS.get(key, 40))
        sheet.column_dimensions[get_column_letter(position)].width = width
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{rows}"
    _conditional_formats(sheet, spec, columns, rows, language)

    header_font = Font(name="Calibri", size=11, bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    header = []
    for key in columns:
        cell = WriteOnlyCell(sheet, value=spec.column(key).label(language))
        cell.font, cell.fill, cell.alignment = header_font, header_fill, Alignment(vertical="center")
        header.append(cell)
    sheet.append(header)

    # One styled template per formatted column; data cells share its style.
    styles: list[int | None] = []
    for key in columns:
        number_format = FORMATS.get(key) or getattr(spec.column(key), "number_format", None)
        if number_format is None:
            styles.append(None)
            continue
        template = WriteOnlyCell(sheet, value=0)
        template.number_format = number_format
        styles.append(template.style_id)  # registers the style in the scratch book's styles
    return SheetBody([frame[c] for c in columns], styles)


# ------------------------------------------------------------------ data rows

ROWS_PER_CHUNK = 2000


class SheetBody:
    """The data rows of an output sheet (row 2 on) as worksheet XML, written
    directly instead of cell by cell through openpyxl, with the same cells
    openpyxl writes: numbers with their column's style, text as inline
    strings (text that looks like a formula stays text), booleans, Excel
    error codes; blanks, NaN and infinities as empty cells.

    Numbers are written with Python's ``repr``, the shortest text that reads
    back as exactly the same double (openpyxl's ``%.16g`` can lose the last
    bit); a whole number is written without ``.0``, as openpyxl does.
    """

    def __init__(self, columns: list[pd.Series], styles: list[int | None]):
        self.columns = columns
        self.styles = styles

    def chunks(self, xf_map: dict[int, int]) -> Iterator[bytes]:
        """The <row> elements, in chunks of bytes; xf_map maps the scratch book's
        style indexes to the target workbook's."""
        from openpyxl.utils import get_column_letter

        n = len(self.columns[0]) if self.columns else 0
        letters = [get_column_letter(i + 1) for i in range(len(self.columns))]
        # the fast row template: numbers go between <v> and </v>, other cells after their reference
        numeric = [column.dtype.kind in "fiu" for column in self.columns]
        styled = [
            "" if style is None else f' s="{xf_map.get(style, 0)}"' for style in self.styles
        ]
        row_format = (
            '<row r="{0}">'
            + "".join(
                f'<c r="{letter}{{0}}"{style}><v>{{{j + 1}}}</v></c>' if is_number else f'<c r="{letter}{{0}}"{{{j + 1}}}'
                for j, (letter, style, is_number) in enumerate(zip(letters, styled, numeric))
            )
            + "</row>"
        )
        for first in range(0, n, ROWS_PER_CHUNK):
            last = min(n, first + ROWS_PER_CHUNK)
            cells = [
                _number_texts(column.iloc[first:last]) if is_number else _cell_texts(column.iloc[first:last], style)
                for column, style, is_number in zip(self.columns, styled, numeric)
            ]
            lines = []
            for number, record in enumerate(zip(*cells), start=first + 2):
                if None in record:  # a blank cell: no element for it
                    lines.append(
                        f'<row r="{number}">'
                        + "".join(
                            (f'<c r="{letter}{number}"{style}><v>{text}</v></c>' if is_number else f'<c r="{letter}{number}"{text}')
                            for letter, style, is_number, text in zip(letters, styled, numeric, record)
                            if text is not None
                        )
                        + "</row>"
                    )
                else:
                    lines.append(row_format.format(number, *record))
            yield "".join(lines).encode("utf-8")


def _number_texts(column: pd.Series) -> list[str | None]:
    """Each number as the shortest text that reads back as the same double; None when blank."""
    values = column.to_numpy(dtype=float)
    texts: list[str | None] = list(map(repr, values.tolist()))
    finite = np.isfinite(values)
    whole = np.flatnonzero(finite & (values == np.trunc(values)) & (np.abs(values) < 1e16))
    for i in whole.tolist():  # 1234.0 -> 1234, as openpyxl writes whole numbers
        texts[i] = texts[i][:-2]  # type: ignore[index]
    if not finite.all():
        for i in np.flatnonzero(~finite).tolist():
            texts[i] = None
    return texts


def _cell_texts(column: pd.Series, styled: str) -> list[str | None]:
    """Each value's cell XML after its reference (``' t="inlineStr"><is>...'``), None when blank."""
    if column.dtype.kind == "b":
        return [f'{styled} t="b"><v>{int(v)}</v></c>' for v in column.tolist()]
    values = column.tolist()
    if pd.api.types.infer_dtype(column, skipna=True) == "string" and len(values) > 64:
        codes, uniques = pd.factorize(column)  # repeated text (ids, departments) is escaped once
        texts = [_string_cell(u) for u in uniques.tolist()]
        return [texts[c] if c >= 0 else None for c in codes.tolist()]
    return [_cell_text(v, styled) for v in values]


def _number(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") and abs(value) < 1e16 else text


def _cell_text(value: Any, styled: str) -> str | None:
    value = _cell_value(value)
    if value is None:
        return None
    if isinstance(value, str):
        return _string_cell(value)
    if isinstance(value, bool):
        return f'{styled} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, float):
        return f"{styled}><v>{_number(value)}</v></c>"
    if isinstance(value, int):
        return f"{styled}><v>{value}</v></c>"
    raise TypeError(f"kpi_xl cannot write a {type(value).__name__} into an output sheet")


ERROR_CODES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))  # openpyxl's
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")  # openpyxl's
NEEDS_ESCAPE = re.compile("[&<>\r]")


def _string_cell(value: str) -> str | None:
    """A text cell as openpyxl writes it: an inline string (an Excel error code
    such as #N/A as an error value), cut at Excel's 32,767 characters."""
    value = value[:32767]
    if value == "":
        return None
    if ILLEGAL_CHARACTERS.search(value):
        from openpyxl.utils.exceptions import IllegalCharacterError

        raise IllegalCharacterError(f"{value} cannot be used in worksheets.")
    if value in ERROR_CODES:
        return f' t="e"><v>{value}</v></c>'
    text = value
    if NEEDS_ESCAPE.search(value):
        text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    if value != value.strip():
        return f' t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    return f' t="inlineStr"><is><t>{text}</t></is></c>'


def _column_width(header: str, values: pd.Series, widest: int) -> int:
    """Wide enough for the header and the text of the first rows, within bounds."""
    sample = values.iloc[:2000]
    longest = len(header) + 3  # room for the filter button
    if len(sample) and not pd.api.types.is_numeric_dtype(sample):
        longest = max(longest, int(sample.astype(str).str.len().max()) + 2)
    elif len(sample):
        longest = max(longest, 12)
    wide_characters = any(ord(ch) > 0x2E80 for ch in header)  # CJK headers need twice the room
    return int(min(widest, max(8, longest * (2 if wide_characters else 1))))


def _conditional_formats(sheet: Any, spec: schema.SheetSpec, columns: list[str], rows: int, language: str) -> None:
    from openpyxl.formatting.rule import CellIsRule, FormulaRule
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    if rows < 2:
        return
    green = PatternFill("solid", fgColor="C6EFCE")
    red = PatternFill("solid", fgColor="FFC7CE")
    green_font = Font(color="006100")
    red_font = Font(color="9C0006")

    def column_range(key: str) -> str:
        letter = get_column_letter(columns.index(key) + 1)
        return f"{letter}2:{letter}{rows}"

    def first(key: str) -> str:
        return f"{get_column_letter(columns.index(key) + 1)}2"

    if spec.key == "Results":
        # attainment at or above target: green; a score of 0 (below threshold): red
        sheet.conditional_formatting.add(
            column_range("attainment"),
            CellIsRule(operator="greaterThanOrEqual", formula=["1"], fill=green, font=green_font),
        )
        sheet.conditional_formatting.add(
            column_range("score"),
            FormulaRule(formula=[f"AND(ISNUMBER({first('score')}),{first('score')}=0)"], fill=red, font=red_font),
        )
        sheet.conditional_formatting.add(
            column_range("attainment"),
            FormulaRule(formula=[f"AND(ISNUMBER({first('score')}),{first('score')}=0)"], fill=red, font=red_font),
        )
    elif spec.key == "Payouts":
        failed = schema.word("failed", language)
        sheet.conditional_formatting.add(
            column_range("gate"),
            FormulaRule(formula=[f'LEFT({first("gate")},{len(failed)})="{failed}"'], fill=red, font=red_font),
        )
        sheet.conditional_formatting.add(
            column_range("multiplier"),
            CellIsRule(operator="greaterThanOrEqual", formula=["1"], fill=green, font=green_font),
        )
        sheet.conditional_formatting.add(
            column_range("multiplier"),
            CellIsRule(operator="equal", formula=["0"], fill=red, font=red_font),
        )
    elif spec.key == "Departments":
        sheet.conditional_formatting.add(
            column_range("pool_factor"),
            CellIsRule(operator="lessThan", formula=["1"], fill=red, font=red_font),
        )
    elif spec.key == "Bonus cost":
        sheet.conditional_formatting.add(  # over the bonus budget
            column_range("remaining_budget"),
            CellIsRule(operator="lessThan", formula=["0"], fill=red, font=red_font),
        )
    elif spec.key == "Budget variance":
        for word, fill, font in (("unfavourable", red, red_font), ("favourable", green, green_font)):
            sheet.conditional_formatting.add(
                column_range("assessment"),
                CellIsRule(operator="equal", formula=[f'"{schema.word(word, language)}"'], fill=fill, font=font),
            )
    elif spec.key == "Problems":
        word = schema.word("error", language)
        sheet.conditional_formatting.add(
            column_range("severity"),
            CellIsRule(operator="equal", formula=[f'"{word}"'], fill=red, font=red_font),
        )


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
