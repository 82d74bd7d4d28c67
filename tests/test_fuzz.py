"""Fuzzing: random and almost-right workbooks never crash kpi-xl.

Every run must end with exit 0, 1 or 2 and a clear message - never a
traceback, never kpi-xl's "could not finish" (an internal error) - and must
leave the input byte-for-byte unchanged.  CI runs a short fuzz; the long run
(10,000 workbooks) is:

    KPI_XL_FUZZ_EXAMPLES=10000 .venv/bin/python -m pytest tests/test_fuzz.py -q

and its last result is recorded in docs/security.md.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpi_xl
from kpi_xl import schema
from kpi_xl.cli import main
from tests.conftest import SMOKE_SHEETS, sha256

EXAMPLES = int(os.environ.get("KPI_XL_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

ERRORS = ["#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"]
SHEET_NAMES = [s.key for s in schema.INPUT_SHEETS] + [s.zh for s in schema.INPUT_SHEETS] + ["Results", "问题", "Notes"]
HEADERS = sorted(set(schema.COLUMN_ZH) | set(schema.COLUMN_ZH.values())) + ["", "Employee ID", "kpi-id", "x"]


def safe_text(min_size: int = 0, max_size: int = 12):
    """Text Excel can hold: no control characters or lone surrogates."""
    return st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=min_size, max_size=max_size)


class ErrorValue(str):
    """A cell to be written as an Excel error value."""


cell_values = st.one_of(
    st.none(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.sampled_from([0, 0.0, 1, 100, 0.8, 1.2, -1, 1e-300, 1e300, 2.675]),
    safe_text(),
    st.sampled_from(["80%", "1,234.5", "yes", "否", "linear", "阶梯", "=1+1", "+1", "-x", "@x", "2026-01-31", "1001", " "]),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1)),
    st.booleans(),
    st.sampled_from(ERRORS).map(ErrorValue),
)


def _write(path: Path, sheets: dict[str, list[list]], hidden: set[str], merges: dict[str, str]) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                cell = sheet.cell(row=r, column=c)
                cell.value = str(value) if isinstance(value, ErrorValue) else value
                if isinstance(value, ErrorValue):
                    cell.data_type = "e"
                elif isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s" if c % 2 else "f"  # both a text and an uncalculated formula
        if title in hidden:
            sheet.sheet_state = "hidden"
        if title in merges:
            sheet.merge_cells(merges[title])
    if not book.worksheets:
        book.create_sheet("Empty")
    if all(s.sheet_state == "hidden" for s in book.worksheets):
        book.worksheets[0].sheet_state = "visible"
    book.save(path)


@st.composite
def random_workbooks(draw):
    names = draw(st.lists(st.one_of(st.sampled_from(SHEET_NAMES), safe_text(1, 10)), min_size=1, max_size=6, unique_by=lambda n: n.lower()))
    names = [n for n in names if not any(ch in n for ch in "[]:*?/\\") and n.strip("'")][:6] or ["KPIs"]
    sheets = {}
    for name in names:
        header = draw(st.lists(st.sampled_from(HEADERS), max_size=8))
        width = max(len(header), 1)
        rows = draw(st.lists(st.lists(cell_values, min_size=0, max_size=width), max_size=8))
        sheets[name] = [header, *rows]
    hidden = set(draw(st.lists(st.sampled_from(names), max_size=2)))
    merges = {names[0]: "A2:B3"} if draw(st.booleans()) else {}
    return sheets, hidden, merges


@st.composite
def almost_right_workbooks(draw):
    """The smoke workbook with a few cells, rows or headers changed at random."""
    sheets = {k: [list(r) for r in v] for k, v in SMOKE_SHEETS.items()}
    for _ in range(draw(st.integers(1, 6))):
        title = draw(st.sampled_from(sorted(sheets)))
        rows = sheets[title]
        action = draw(st.sampled_from(["cell", "cell", "cell", "drop_row", "dup_row", "header", "drop_sheet"]))
        if action == "drop_sheet" and len(sheets) > 1:
            del sheets[title]
            continue
        r = draw(st.integers(0, len(rows) - 1))
        if action == "cell":
            c = draw(st.integers(0, max(len(rows[r]) - 1, 0)))
            if rows[r]:
                rows[r][c] = draw(cell_values)
        elif action == "drop_row" and len(rows) > 1:
            del rows[r]
        elif action == "dup_row":
            rows.append(list(rows[r]))
        elif action == "header":
            c = draw(st.integers(0, max(len(rows[0]) - 1, 0)))
            if rows[0]:
                rows[0][c] = draw(st.sampled_from(HEADERS))
    return sheets, set(), {}


def _run_one(sheets, hidden, merges, capsys) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.xlsx"
        _write(path, sheets, hidden, merges)
        before = sha256(path)
        code = main(["score", str(path), "-o", str(Path(folder) / "out.xlsx")])
        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert code in (0, 1, 2)
        assert "Traceback" not in text
        assert "could not finish" not in text, text  # an internal error, not a user problem
        assert text.strip(), "every run says something"
        assert sha256(path) == before
        if code in (0, 1):
            out = openpyxl.load_workbook(Path(folder) / "out.xlsx", read_only=True)
            assert ("Payouts" in out.sheetnames or "奖金结果" in out.sheetnames) == (code == 0)
            out.close()
        try:
            outcome = kpi_xl.score_workbook(path)
        except kpi_xl.WorkbookUnreadable as unreadable:
            assert code == 2 and str(unreadable)
        else:
            assert outcome.ok == (code == 0)


@FUZZ
@given(book=random_workbooks())
def test_random_workbooks_never_crash(book, capsys) -> None:
    _run_one(*book, capsys)


@FUZZ
@given(book=almost_right_workbooks())
def test_almost_right_workbooks_never_crash(book, capsys) -> None:
    _run_one(*book, capsys)


@pytest.mark.parametrize("engine", ["numba", "reference"])
def test_fuzz_engines_agree_on_the_smoke_book(engine: str, smoke_book: Path) -> None:
    outcome = kpi_xl.score_workbook(smoke_book, engine=engine)
    assert outcome.payouts["payout"].tolist() == [7894.74, 2105.26, 0.0]
