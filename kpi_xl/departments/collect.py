"""``kpi-xl collect``: merge returned split files into a new version of the master.

Each returned file is checked against the fingerprint written at split time;
its actuals and comments are merged into a copy of the master (never the
master itself), and every problem is reported with file, sheet and cell.  A
file whose locked content was changed contributes nothing (its numbers cannot
be trusted); a row returned twice with different values is not merged.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from .. import schema
from ..values import Invalid, parse_id, parse_number
from .common import (
    FORMAT,
    META_SHEET,
    Issue,
    canonical,
    cell_digest,
    locked_cells,
    say,
    shown,
    sheet_digest,
)
from .split import Master, build, groups_of, load_master

ERROR, WARNING = "error", "warning"


@dataclass
class Change:
    file: str
    sheet: str
    cell: str
    master_cell: str
    employee_id: str
    kpi_id: str
    field: str
    old: Any
    new: Any
    author: str
    modified: Any


@dataclass
class CollectResult:
    output: Path | None = None
    issues: list[Issue] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    files: int = 0

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Returned:
    """One returned row: where it came from and what it says."""

    file: str
    sheet: str
    row: int
    actual_cell: str
    comment_cell: str
    actual: Any  # a float, None (left empty)
    comment: Any
    author: str
    modified: Any


def expand(inputs: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in inputs:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() == ".xlsx"
                                and not p.name.startswith(("~$", "."))))
        else:
            files.append(path)
    return files


def _meta(wb: Any) -> tuple[dict[str, Any], dict[tuple[str, str], str]] | None:
    if META_SHEET not in wb.sheetnames:
        return None
    ws = wb[META_SHEET]
    meta: dict[str, Any] = {}
    prints: dict[tuple[str, str], str] = {}
    table = False
    for row in ws.iter_rows(values_only=True):
        key, value = (row + (None, None))[:2]
        if key is None:
            continue
        if key == "sheet" and value == "cell":
            table = True
            continue
        if table:
            prints[(str(key), str(value))] = str(row[2])
        else:
            meta[str(key)] = value
    return meta, prints


def _checks(name: str, wb: Any, meta: dict[str, Any], prints: dict[tuple[str, str], str],
            expected: Any, issues: list[Issue]) -> bool:
    """Compare the locked cells with the fingerprint; True when nothing changed."""
    unlocked = set()
    sc = meta["scorecards"]
    for r in range(int(meta["first_row"]), int(meta["last_row"]) + 1):
        unlocked.update({f"{meta['actual']}{r}", f"{meta['comment']}{r}"})
    clean = True
    sheets = sorted({s for s, _ in prints})
    for title in sheets:
        if title not in wb.sheetnames:
            issues.append(Issue(ERROR, name, title, "", "this sheet was deleted or renamed"))
            clean = False
            continue
        cells = locked_cells(wb[title], unlocked if title == sc else set())
        if sheet_digest(title, cells.items()) == prints.get((title, "*")):
            continue
        clean = False
        known = {c for s, c in prints if s == title and c != "*"}
        for cell in sorted(known | set(cells), key=_order):
            now = cells.get(cell)
            stored = prints.get((title, cell))
            if stored is not None and stored == cell_digest(title, cell, now):
                continue
            was = None
            if expected is not None and title in expected.sheetnames:
                candidate = expected[title][cell].value
                if stored is None or cell_digest(title, cell, candidate) == stored:
                    was = candidate
            what = "a formula was typed over it" if isinstance(now, str) and now.startswith("=") \
                and not (isinstance(was, str) and was.startswith("=")) else "changed"
            issues.append(Issue(
                ERROR, name, title, cell,
                f"locked cell {what}: was {shown(was)}, now {shown(now)} — only actual and comment may change; "
                "this file's values are not merged",
            ))
    return clean


def _order(cell: str) -> tuple[int, str]:
    letters = cell.rstrip("0123456789")
    return int(cell[len(letters):]), letters.rjust(3)


def collect(master_path: Path, inputs: list[Path], output: Path, *, progress: bool | None = None) -> CollectResult:
    from tqdm import tqdm

    from ..writing import save_atomically

    master, _ = load_master(master_path)
    result = CollectResult()
    files = expand(inputs)
    result.files = len(files)
    lang = master.language
    book = master.book
    scorecards = master.raw.tables["Scorecards"]
    pairs: dict[tuple[str, str], int] = {}
    for i, (e, k) in enumerate(zip(scorecards.column("employee_id"), scorecards.column("kpi_id"))):
        if e is not None and k is not None:
            pairs.setdefault((parse_id(e), parse_id(k)), i)
    returned: dict[tuple[str, str], list[Returned]] = {}
    seen: dict[tuple[str, str], str] = {}  # (by, group) -> file
    by_used: str | None = None
    expected_books: dict[tuple[str, str], Any] = {}
    groups_by: dict[str, dict[str, Any]] = {}
    for path in tqdm(files, desc="collect", unit="file", disable=None if progress is None else not progress,
                     file=sys.stderr):
        name = path.name
        try:
            wb = load_workbook(path)
        except Exception as exc:  # not a workbook: one line, go on
            result.issues.append(Issue(ERROR, name, "", "", f"not a readable workbook ({type(exc).__name__})"))
            continue
        found = _meta(wb)
        if found is None or found[0].get("format") != FORMAT:
            result.issues.append(Issue(ERROR, name, "", "", "not a file written by kpi-xl split (no _kpi_xl sheet)"))
            continue
        meta, prints = found
        by, key = str(meta.get("by")), "" if meta.get("group") is None else str(meta.get("group"))
        by_used = by_used or by
        if by != by_used:
            result.issues.append(Issue(ERROR, name, "", "", f"split by {by}, the other files by {by_used}"))
            continue
        if meta.get("master") != master.path.name:
            result.issues.append(Issue(WARNING, name, "", "",
                                       f"split from '{meta.get('master')}', collected into '{master.path.name}'"))
        if by not in groups_by:
            groups_by[by] = {g.key: g for g in groups_of(master, by)}
        group = groups_by[by].get(key)
        if group is None:
            result.issues.append(Issue(ERROR, name, "", "",
                                       f"{by} '{key}' is not in the master: were the files split from another master?"))
            continue
        if (by, key) in seen:
            result.issues.append(Issue(WARNING, name, "", "",
                                       f"a second file for {by} '{group.label}' (the first: {seen[(by, key)]})"))
        seen.setdefault((by, key), name)
        if (by, key) not in expected_books:
            expected_books[(by, key)] = build(master, by, group)[0]
        clean = _checks(name, wb, meta, prints, expected_books[(by, key)], result.issues)
        # rows are checked either way; a file with changed locked cells is not merged
        _rows(name, path, wb, meta, pairs, book, returned if clean else {}, result.issues)

    # Departments (or managers) with no returned file.
    by_used = by_used or "department"
    for group in groups_of(master, by_used):
        if (by_used, group.key) not in seen:
            result.issues.append(Issue(WARNING, "", "", "",
                                       f"no file returned for {by_used} '{group.label}' ({len(group.members)} people)"))

    # Merge into a copy of the master.
    wb = load_workbook(master_path)
    ws = wb[scorecards.title]
    actual_col = scorecards.column_index.get("actual")
    comment_col = scorecards.column_index.get("comment")
    for key_name in ("actual", "comment"):
        if scorecards.column_index.get(key_name) is None:
            column = ws.max_column + 1
            ws.cell(row=1, column=column, value=schema.SCORECARDS.column(key_name).label(lang))
            if key_name == "actual":
                actual_col = column
            else:
                comment_col = column
    for pair, rows in sorted(returned.items(), key=lambda item: pairs[item[0]]):  # master order
        values = {(r.actual, r.comment) for r in rows}
        if len(values) > 1:
            first = rows[0]
            for other in rows[1:]:
                if (other.actual, other.comment) != (first.actual, first.comment):
                    result.issues.append(Issue(
                        ERROR, other.file, other.sheet, other.actual_cell,
                        f"employee '{pair[0]}' KPI '{pair[1]}' was also returned by {first.file} "
                        f"({first.sheet}!{first.actual_cell}) with different values "
                        f"({shown(first.actual)} / {shown(other.actual)}): neither is merged",
                    ))
            continue
        r = rows[0]
        master_row = scorecards.rows[pairs[pair]]
        for field_name, column, value, cell in (("actual", actual_col, r.actual, r.actual_cell),
                                                ("comment", comment_col, r.comment, r.comment_cell)):
            target = ws.cell(row=master_row, column=column)
            if canonical(target.value) == canonical(value):
                continue
            if field_name == "actual" and value is None:
                continue  # an empty return never erases a value the master has
            result.changes.append(Change(r.file, r.sheet, cell, f"{ws.title}!{target.coordinate}", pair[0], pair[1],
                                         field_name, target.value, value, r.author, r.modified))
            target.value = value
    _write_sheets(wb, lang, result)
    result.output = save_atomically(wb, output)
    return result


def _rows(name: str, path: Path, wb: Any, meta: dict[str, Any], pairs: dict[tuple[str, str], int],
          book: Any, returned: dict[tuple[str, str], list[Returned]], issues: list[Issue]) -> None:
    sc = wb[meta["scorecards"]]
    author = wb.properties.lastModifiedBy or wb.properties.creator or ""
    modified = wb.properties.modified
    cached = None
    first, last = int(meta["first_row"]), int(meta["last_row"])
    for r in range(first, sc.max_row + 1):
        e_raw = sc[f"{meta['employee_id']}{r}"].value
        k_raw = sc[f"{meta['kpi_id']}{r}"].value
        if e_raw is None and k_raw is None:
            continue
        e, k = parse_id(e_raw) if e_raw is not None else "", parse_id(k_raw) if k_raw is not None else ""
        a_cell, c_cell = f"{meta['actual']}{r}", f"{meta['comment']}{r}"
        if e not in book.employees.index:
            issues.append(Issue(ERROR, name, sc.title, f"{meta['employee_id']}{r}",
                                f"unknown employee '{e}' (not on the master's Employees sheet)"))
            continue
        if k not in book.kpis.index:
            issues.append(Issue(ERROR, name, sc.title, f"{meta['kpi_id']}{r}",
                                f"unknown KPI '{k}' (not in the master's KPI library)"))
            continue
        if (e, k) not in pairs:
            issues.append(Issue(ERROR, name, sc.title, f"{meta['kpi_id']}{r}",
                                f"employee '{e}' has no row for KPI '{k}' on the master's Scorecards"))
            continue
        value = sc[a_cell].value
        if isinstance(value, str) and value.startswith("="):
            if cached is None:
                cached = load_workbook(path, data_only=True)[sc.title]
            computed = cached[a_cell].value
            if isinstance(computed, (int, float)) and not isinstance(computed, bool):
                issues.append(Issue(WARNING, name, sc.title, a_cell,
                                    f"the actual is a formula ({value}): its value {shown(computed)} is taken"))
                value = computed
            else:
                issues.append(Issue(ERROR, name, sc.title, a_cell,
                                    f"the actual is a formula ({value}) without a computed value: type the number"))
                continue
        if value is not None and not (isinstance(value, (int, float)) and not isinstance(value, bool)):
            if isinstance(value, str) and not value.strip():
                value = None
            else:
                try:
                    value = parse_number(value)
                except Invalid:
                    issues.append(Issue(ERROR, name, sc.title, a_cell,
                                        f"actual {shown(value)} is not a number: type the number only"))
                    continue
        comment = sc[c_cell].value
        returned.setdefault((e, k), []).append(
            Returned(name, sc.title, r, a_cell, c_cell, value, comment, str(author), modified))


def _write_sheets(wb: Any, lang: str, result: CollectResult) -> None:
    from ..templates import _set_widths, _style_header

    for key in ("Collection", "Collection problems"):
        for title in {say(key, "en"), say(key, "zh")}:
            if title in wb.sheetnames:
                del wb[title]
    ws = wb.create_sheet(say("Collection", lang))
    keys = ("file", "sheet", "cell", "master_cell", "employee_id", "kpi_id", "field", "old_value", "new_value",
            "author", "modified")
    labels = [say(k, lang) if k in ("file", "master_cell", "field", "old_value", "new_value", "author", "modified")
              else (schema.COLUMN_ZH[k] if lang == "zh" else k) for k in keys]
    _style_header(ws, labels)
    for c in result.changes:
        ws.append([c.file, c.sheet, c.cell, c.master_cell, c.employee_id, c.kpi_id, c.field, c.old, c.new,
                   c.author, c.modified])
        if isinstance(c.modified, dt.datetime):
            ws.cell(row=ws.max_row, column=11).number_format = "yyyy-mm-dd hh:mm"
    _set_widths(ws, [[label] for label in labels], 40)
    ws = wb.create_sheet(say("Collection problems", lang))
    labels = [schema.COLUMN_ZH[k] if lang == "zh" else k for k in ("severity", "sheet", "cell", "message")]
    labels.insert(1, say("file", lang))
    _style_header(ws, labels)
    for issue in result.issues:
        ws.append([schema.word(issue.severity, lang), issue.file, issue.sheet, issue.cell, issue.message])
    _set_widths(ws, [[label] for label in labels[:-1]] + [["x" * 90]], 100)
