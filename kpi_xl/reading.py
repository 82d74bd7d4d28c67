"""Read a workbook (or in-memory tables) into raw tables that remember their cells.

Step 1 of the pipeline.  Nothing is interpreted here beyond finding the sheets
and columns the contract names: values stay as the workbook holds them, and
each record keeps its Excel row number so that validation can name the cell.

A file that cannot be read as a workbook at all raises ``WorkbookUnreadable``
with one sentence for the user (the CLI's exit status 2).
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from .problems import Problems, a1
from .schema import (
    INPUT_SHEETS,
    KPIS,
    SheetSpec,
    column_aliases,
    is_output_sheet_name,
    normalize,
    sheet_aliases,
)

# Guards against hostile or broken files (see docs/security.md).
MAX_UNCOMPRESSED_BYTES = 1 << 30  # 1 GiB of XML is far beyond any real scorecard
MAX_COMPRESSION_RATIO = 200  # typical xlsx parts compress 5-20x
MAX_ROWS = 1_048_576  # Excel's own limits
MAX_COLUMNS = 16_384
MAX_CELLS = 60_000_000  # the rectangle a value reader allocates, A1 to the last cell
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EXCEL_ERRORS = frozenset(
    {
        "#DIV/0!",
        "#N/A",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#NULL!",
        "#SPILL!",
        "#CALC!",
        "#GETTING_DATA",
        "#FIELD!",
        "#BLOCKED!",
        "#UNKNOWN!",
        "#BUSY!",
    }
)


class WorkbookUnreadable(Exception):
    """The file is not a workbook kpi_xl can read; the message says why in one line."""


@dataclass(frozen=True)
class CellError:
    """An Excel error value (#DIV/0!, #N/A, ...) found in an input cell."""

    code: str

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True)
class MissingCachedValue:
    """A formula cell saved without its computed value (never recalculated)."""

    formula: str

    def __str__(self) -> str:
        return self.formula


@dataclass
class RawTable:
    """One input sheet as records: values by canonical column, with their rows."""

    spec: SheetSpec
    title: str  # the sheet's name as the workbook spells it
    column_index: dict[str, int]  # canonical key -> 1-based column number
    rows: list[int] = field(default_factory=list)  # Excel row number of each record
    values: dict[str, list[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    def has(self, key: str) -> bool:
        return key in self.column_index

    def column(self, key: str) -> list[Any]:
        return self.values.get(key, [None] * len(self.rows))

    def cell(self, key: str, record: int) -> str:
        """A1 reference of a record's cell in a column (the header when absent)."""
        column = self.column_index.get(key)
        if column is None:
            return "A1"
        return a1(column, self.rows[record])


@dataclass
class RawBook:
    tables: dict[str, RawTable]  # spec key -> table (only sheets that exist)
    sheet_titles: list[str]  # every sheet of the workbook, in order
    language: str
    problems: Problems


# ------------------------------------------------------------------ file checks


def check_readable(path: Path) -> None:
    """Refuse, quickly and in one sentence, anything that is not a sane .xlsx."""
    name = path.name
    if not path.exists():
        raise WorkbookUnreadable(f"{name}: no such file")
    if path.is_dir():
        raise WorkbookUnreadable(f"{name} is a folder, not a workbook")
    size = path.stat().st_size
    if size == 0:
        raise WorkbookUnreadable(f"{name} is empty (0 bytes)")
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(OLE2_SIGNATURE):
        raise WorkbookUnreadable(
            f"{name} is password-protected or in the old .xls format: "
            "open it in Excel, remove the password and save it as .xlsx"
        )
    if not head.startswith(b"PK"):
        raise WorkbookUnreadable(f"{name} is not an Excel workbook (.xlsx)")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            if "mimetype" in names and "content.xml" in names:
                raise WorkbookUnreadable(
                    f"{name} is an OpenDocument spreadsheet (.ods): save it as .xlsx"
                )
            if "xl/workbook.bin" in names:
                raise WorkbookUnreadable(
                    f"{name} is a binary workbook (.xlsb): save it as .xlsx"
                )
            if "xl/workbook.xml" not in names:
                raise WorkbookUnreadable(f"{name} is a zip file but not an Excel workbook")
            total = sum(info.file_size for info in infos)
            packed = sum(info.compress_size for info in infos) or 1
            if total > MAX_UNCOMPRESSED_BYTES or (
                total > 50 * (1 << 20) and total / packed > MAX_COMPRESSION_RATIO
            ):
                raise WorkbookUnreadable(
                    f"{name} expands to {total / (1 << 20):,.0f} MB when unpacked: "
                    "refused as a possible zip bomb"
                )
            for info in infos:
                if info.flag_bits & 0x1:
                    raise WorkbookUnreadable(f"{name} has encrypted parts and cannot be read")
                if info.filename.endswith((".xml", ".rels")) and _declares_entities(archive, info):
                    raise WorkbookUnreadable(
                        f"{name}: the part {info.filename} declares XML entities, which Excel "
                        "never writes and attacks use: refused"
                    )
    except zipfile.BadZipFile:
        raise WorkbookUnreadable(
            f"{name} is damaged (incomplete or not a valid .xlsx): open and re-save it in Excel"
        ) from None


def _declares_entities(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """A DOCTYPE or ENTITY declaration near the start of an XML part."""
    with archive.open(info) as handle:
        head = handle.read(64 * 1024)
    return b"<!DOCTYPE" in head or b"<!ENTITY" in head


# ------------------------------------------------------------------ matching


def match_sheets(titles: list[str], problems: Problems) -> dict[str, str]:
    """Map spec key -> the workbook's sheet title, reporting ambiguous pairs."""
    found: dict[str, str] = {}
    for spec in INPUT_SHEETS:
        aliases = sheet_aliases(spec)
        hits = [t for t in titles if normalize(t) in aliases]
        if len(hits) > 1:
            problems.error(
                hits[1],
                "",
                f"two sheets are both the {spec.key} sheet ('{hits[0]}' and '{hits[1]}'): "
                "keep one",
            )
        if hits:
            found[spec.key] = hits[0]
    return found


def match_columns(spec: SheetSpec, title: str, header: list[Any], problems: Problems) -> dict[str, int]:
    """Map canonical column key -> 1-based column number from the header row."""
    by_alias: dict[str, str] = {}
    for column in spec.columns:
        for alias in column_aliases(column.key):
            by_alias.setdefault(alias, column.key)
    index: dict[str, int] = {}
    for position, text in enumerate(header, start=1):
        if text is None or str(text).strip() == "":
            continue
        key = by_alias.get(normalize(text))
        if key is None:
            continue  # a column the contract does not name: kept and ignored
        if key in index:
            problems.error(
                title,
                a1(position, 1),
                f"the column '{text}' appears twice (also {a1(index[key], 1)}): keep one",
            )
            continue
        index[key] = position
    return index


def detect_language(found: Mapping[str, str]) -> str:
    title = found.get(KPIS.key)
    if title is not None and normalize(title) == normalize(KPIS.zh):
        return "zh"
    return "en"


# ------------------------------------------------------------------ workbook


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        if value in EXCEL_ERRORS:
            return CellError(value)
        if value.strip() == "":
            return None
    return value


def _table_from_rows(
    spec: SheetSpec,
    title: str,
    rows: Any,
    problems: Problems,
    odd: dict[tuple[int, int], tuple[str, str]] | None = None,
) -> RawTable:
    """Build a RawTable from row sequences (header first, row 1 of the sheet).

    Works column by column (a column a list), so that a big sheet costs a few
    list passes per column rather than Python work per cell."""
    iterator = iter(rows)
    header = list(next(iterator, ()) or ())
    index = match_columns(spec, title, header, problems)
    table = RawTable(spec, title, index, [], {key: [] for key in index})
    if not index:
        return table
    body = list(iterator)
    columns: dict[str, list[Any]] = {}
    for key, col in index.items():
        position = col - 1
        values = [row[position] if row and position < len(row) else None for row in body]
        columns[key] = [_clean(v) if isinstance(v, str) else v for v in values]
    if odd:  # error values and formulas without a value that the value reader shows as blank
        for (row_number, col), found in odd.items():
            for key, column in index.items():
                if column == col and 0 <= row_number - 2 < len(body) and columns[key][row_number - 2] is None:
                    columns[key][row_number - 2] = _odd_value(found)
    width = len(columns)
    # a blank row, or only columns we do not read are filled: skipped
    try:
        keep = [i for i, record in enumerate(zip(*columns.values())) if record.count(None) != width]
    except (TypeError, ValueError):  # a value whose == None is not a bool (pandas.NA, arrays)
        keep = [i for i, record in enumerate(zip(*columns.values())) if any(v is not None for v in record)]
    if len(keep) == len(body):
        table.values = columns
        table.rows = list(range(2, len(body) + 2))
    else:
        table.values = {key: [values[i] for i in keep] for key, values in columns.items()}
        table.rows = [i + 2 for i in keep]
    return table


def _odd_value(odd: tuple[str, str] | None) -> Any:
    if odd is None:
        return None
    kind, text = odd
    return CellError(text) if kind == "error" else MissingCachedValue(text)


def read_workbook(path: str | os.PathLike[str]) -> RawBook:
    """Read the input sheets of a workbook file.  Raises WorkbookUnreadable."""
    from python_calamine import CalamineWorkbook  # deferred: keeps `kpi-xl --help` fast

    from .package import odd_cells, scan_sheet, sheet_parts

    path = Path(path)
    check_readable(path)
    problems = Problems()
    try:
        with zipfile.ZipFile(path) as archive:
            parts = sheet_parts(archive)
            workbook = CalamineWorkbook.from_path(str(path))
            try:
                titles = list(workbook.sheet_names)
                input_titles = [t for t in titles if not is_output_sheet_name(t)]
                found = match_sheets(input_titles, problems)
                tables: dict[str, RawTable] = {}
                for key, title in found.items():
                    spec = next(s for s in INPUT_SHEETS if s.key == key)
                    part = parts.get(title, "")
                    scan = scan_sheet(archive, part)
                    _refuse_absurd(path.name, title, scan)
                    odd = odd_cells(archive, part) if scan.formulas_or_errors else {}
                    rows = workbook.get_sheet_by_name(title).to_python(skip_empty_area=False)
                    tables[key] = _table_from_rows(spec, title, rows, problems, odd)
            finally:
                workbook.close()
    except WorkbookUnreadable:
        raise
    except Exception as exc:  # calamine, zip and XML errors of broken or hostile packages
        raise WorkbookUnreadable(
            f"{path.name} could not be read as a workbook ({_reason(exc)}): "
            "open and re-save it in Excel"
        ) from None
    return RawBook(tables, titles, detect_language(found), problems)


def _refuse_absurd(name: str, title: str, scan: Any) -> None:
    if scan.rows > MAX_ROWS or scan.columns > MAX_COLUMNS:
        raise WorkbookUnreadable(
            f"{name}: the sheet '{title}' has a cell beyond Excel's last row or column "
            f"(row {scan.rows:,}, column {scan.columns:,}): refused"
        )
    if scan.cells > MAX_CELLS:
        raise WorkbookUnreadable(
            f"{name}: the sheet '{title}' spans {scan.rows:,} rows × {scan.columns:,} columns, "
            f"more than kpi-xl reads ({MAX_CELLS:,} cells): delete the unused rows and columns"
        )


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"{name}: {text[:120]}" if text else name


# ------------------------------------------------------------------ in memory


def read_tables(tables: Mapping[str, Any]) -> RawBook:
    """Raw tables from in-memory pandas DataFrames keyed by sheet name (either language).

    Cells are reported as if each frame were a sheet with its header in row 1
    and its columns in frame order, which is what a user pasting them sees.
    """
    import pandas as pd

    problems = Problems()
    titles = list(tables)
    found = match_sheets([t for t in titles if not is_output_sheet_name(t)], problems)
    raw: dict[str, RawTable] = {}
    for key, title in found.items():
        spec = next(s for s in INPUT_SHEETS if s.key == key)
        frame = tables[title]
        if not isinstance(frame, pd.DataFrame):
            frame = pd.DataFrame(frame)
        records = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
        rows = [list(frame.columns), *records]
        raw[key] = _table_from_rows(spec, title, rows, problems)
    return RawBook(raw, titles, detect_language(found), problems)


def read_rows(sheets: Mapping[str, Sequence[Sequence[Any]]]) -> RawBook:
    """Raw tables from each sheet's values from A1 (header in row 1), keyed by sheet name.

    This is what Excel hands over for an open workbook (the Office.js client's
    ``getUsedRange().values``, or an xlwings Book): cells are reported exactly
    where they are on the sheet.  Error cells arrive as their text (``#DIV/0!``)
    and dates as Excel serial numbers; both are understood.
    """
    problems = Problems()
    titles = list(sheets)
    found = match_sheets([t for t in titles if not is_output_sheet_name(t)], problems)
    raw: dict[str, RawTable] = {}
    for key, title in found.items():
        spec = next(s for s in INPUT_SHEETS if s.key == key)
        raw[key] = _table_from_rows(spec, title, sheets[title], problems)
    return RawBook(raw, titles, detect_language(found), problems)
