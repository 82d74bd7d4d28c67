"""``kpi-xl split``: one protected scorecard workbook per department or manager.

Each file holds the group's people (Employees) and their Scorecards rows, the
KPI library, Curves and Tiers for reference, live formulas (attainment, score,
weighted score per row; total, tier, multiplier and gate per person on a
Summary sheet), and a veryHidden ``_kpi_xl`` sheet with the group, the
master's name and a fingerprint of every locked cell.  Only the actual and
comment cells of the scorecard rows are unlocked.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from .. import schema
from ..problems import ERROR, Problem
from ..reading import RawBook, read_workbook
from ..templates import _input_message, _set_widths, _style_header
from ..validation import ValidatedBook, validate
from ..values import parse_id
from .common import FORMAT, META_SHEET, TOLERANCE, cell_digest, locked_cells, safe_file_name, say, sheet_digest

BY = ("department", "manager")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")  # the cells a department head fills
LIVE_FILL = PatternFill("solid", fgColor="E2EFDA")  # live formulas
FORMATS = {"attainment": "0.0%", "score": "0.0", "weighted_score": "0.00", "total_score": "0.0",
           "multiplier": "0.00", "target_used": "#,##0.####"}


@dataclass
class Master:
    path: Path
    raw: RawBook
    book: ValidatedBook
    values: Any  # openpyxl workbook, cached values (data_only)
    sha256: str

    @property
    def language(self) -> str:
        return self.raw.language


@dataclass
class Group:
    key: str  # department name, or the manager's employee id ("" for no manager)
    label: str  # what the file is called after
    members: list[int]  # employee indexes, sheet order


@dataclass
class SplitResult:
    files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == ERROR for p in self.problems)


# ------------------------------------------------------------------ master


def load_master(path: Path) -> tuple[Master, list[Problem]]:
    """Read and validate the master.  Empty actuals are expected here; every
    other error is returned (a master with errors is not split)."""
    raw = read_workbook(path)
    book = validate(raw)
    scorecards = raw.tables.get("Scorecards")
    actual_column = scorecards.column_index.get("actual") if scorecards else None
    letter = get_column_letter(actual_column) if actual_column else None
    blocking = []
    for problem in book.problems:
        if problem.severity != ERROR:
            continue
        if (scorecards and problem.sheet == scorecards.title and letter
                and problem.cell.rstrip("0123456789") == letter and "is empty" in problem.message):
            continue
        blocking.append(problem)
    values = load_workbook(path, data_only=True)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return Master(Path(path), raw, book, values, digest), blocking


def groups_of(master: Master, by: str) -> list[Group]:
    employees = master.book.employees
    found: dict[str, Group] = {}
    for e in range(len(employees.ids)):
        if by == "department":
            key = employees.department[e]
            label = key
        else:
            key = employees.manager[e] or ""
            if key and key in employees.index:
                label = f"{employees.names[employees.index[key]]} ({key})"
            elif key:
                label = key
            else:
                label = "无直属上级" if master.language == "zh" else "no manager"
        found.setdefault(key, Group(key, label, [])).members.append(e)
    return list(found.values())


def file_names(master: Master, groups: list[Group]) -> list[str]:
    names: list[str] = []
    taken: set[str] = set()
    for group in groups:
        base = safe_file_name(f"{master.path.stem} - {group.label}")
        name, n = base, 2
        while name.lower() in taken:
            name, n = f"{base} ({n})", n + 1
        taken.add(name.lower())
        names.append(name + ".xlsx")
    return names


# ------------------------------------------------------------------ formulas


def num(x: float) -> str:
    """A number as a formula literal."""
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x).upper()


def lowered(boundary: float) -> str:
    """The engine's boundary less its tolerance (kernels.lowered), as a formula."""
    return f"({num(boundary)}-{TOLERANCE}*{num(max(1.0, abs(boundary)))})"


def quote(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


@dataclass
class Ranges:
    """Absolute references of one curve's (or tier table's) rows on its sheet."""

    sheet: str
    first: int
    last: int

    def col(self, letter: str) -> str:
        return f"{quote(self.sheet)}!${letter}${self.first}:${letter}${self.last}"

    def cell(self, letter: str, row: int | None = None) -> str:
        return f"{quote(self.sheet)}!${letter}${self.first if row is None else row}"

    @property
    def count(self) -> int:
        return self.last - self.first + 1


def interpolation(x: str, r: Ranges, xs: str, ys: str, lows: str, last_value: str) -> str:
    """Linear interpolation between the rows of r (columns xs, ys; lows = lowered xs)."""
    m = f"MATCH({x},{r.col(lows)},1)"
    X, Y = r.col(xs), r.col(ys)
    return (
        f"IF({m}={r.count},{last_value},INDEX({Y},{m})+({x}-INDEX({X},{m}))*"
        f"(INDEX({Y},{m}+1)-INDEX({Y},{m}))/(INDEX({X},{m}+1)-INDEX({X},{m})))"
    )


# ------------------------------------------------------------------ building


def _copy(src: Any, src_row: int, dst: Any, dst_row: int, columns: int) -> None:
    for c in range(1, columns + 1):
        cell = src.cell(row=src_row, column=c)
        if cell.value is None:
            continue
        target = dst.cell(row=dst_row, column=c, value=cell.value)
        target.number_format = cell.number_format


def _width(ws: Any) -> int:
    last = 0
    for c in range(1, ws.max_column + 1):
        if ws.cell(row=1, column=c).value not in (None, ""):
            last = c
    return last


def _copy_sheet(master: Master, key: str, wb: Workbook, records: list[int] | None) -> Any:
    """A reference copy of a master sheet: its header and the chosen records."""
    table = master.raw.tables[key]
    src = master.values[table.title]
    ws = wb.create_sheet(table.title)
    columns = _width(src)
    _style_header(ws, [src.cell(row=1, column=c).value for c in range(1, columns + 1)])
    for n, i in enumerate(range(len(table)) if records is None else records, start=2):
        _copy(src, table.rows[i], ws, n, columns)
    _fit(ws)
    return ws


def _fit(ws: Any) -> None:
    texts = [[str(c.value) for c in col if c.value is not None and not str(c.value).startswith("=")]
             for col in ws.iter_cols()]
    _set_widths(ws, [t or [""] for t in texts])


def _curves_sheet(master: Master, wb: Workbook) -> dict[str, Ranges]:
    lang = master.language
    ws = wb.create_sheet(master.book.titles.get("Curves", schema.CURVES.label(lang)))
    _style_header(ws, [schema.CURVES.column(k).label(lang) for k in ("curve_id", "attainment", "score")]
                  + [say("lookup_from", lang)])
    ranges: dict[str, Ranges] = {}
    row = 2
    for curve, points in master.book.curves.items():
        first = row
        for x, y in points:
            ws.cell(row=row, column=1, value=curve)
            ws.cell(row=row, column=2, value=x).number_format = "0.0##%"
            ws.cell(row=row, column=3, value=y)
            ws.cell(row=row, column=4, value=f"=B{row}-{TOLERANCE}*MAX(1,ABS(B{row}))")
            row += 1
        ranges[curve] = Ranges(ws.title, first, row - 1)
    _fit(ws)
    ws.column_dimensions["D"].hidden = True
    return ranges


def _tiers_sheet(master: Master, wb: Workbook) -> dict[str, Ranges]:
    lang = master.language
    ws = wb.create_sheet(master.book.titles.get("Tiers", schema.TIERS.label(lang)))
    _style_header(ws, [schema.TIERS.column(k).label(lang) for k in ("tier_table", "min_score", "multiplier", "label")]
                  + [say("lookup_from", lang)])
    ranges: dict[str, Ranges] = {}
    row = 2
    for table, tiers in master.book.tiers.items():
        first = row
        for tier in tiers:
            ws.cell(row=row, column=1, value=table)
            ws.cell(row=row, column=2, value=tier.min_score)
            ws.cell(row=row, column=3, value=tier.multiplier).number_format = "0.00"
            ws.cell(row=row, column=4, value=tier.label)
            ws.cell(row=row, column=5, value=f"=B{row}-{TOLERANCE}*MAX(1,ABS(B{row}))")
            row += 1
        ranges[table] = Ranges(ws.title, first, row - 1)
    _fit(ws)
    ws.column_dimensions["E"].hidden = True
    return ranges


def build(master: Master, by: str, group: Group) -> tuple[Workbook, dict[str, Any]]:
    """The split workbook of one group, and what its _kpi_xl sheet records."""
    lang = master.language
    book = master.book
    kpis, cards = book.kpis, book.scorecards
    members = set(group.members)
    records = [i for i in range(len(cards.rows)) if int(cards.employee[i]) in members]
    wb = Workbook()
    wb.remove(wb.active)

    # Scorecards: the master's columns, then the live ones.
    table = master.raw.tables["Scorecards"]
    src = master.values[table.title]
    sc = wb.create_sheet(table.title)
    columns = _width(src)
    headers = [src.cell(row=1, column=c).value for c in range(1, columns + 1)]
    col = dict(table.column_index)
    for key in ("actual", "comment"):
        if key not in col:
            columns += 1
            col[key] = columns
            headers.append(schema.SCORECARDS.column(key).label(lang))
    live = {}
    for key in ("target_used", "attainment", "score", "weighted_score", "gate"):
        columns += 1
        live[key] = columns
        label = say(key, lang) if key in ("target_used", "gate") else schema.COLUMN_ZH[key] if lang == "zh" else key
        headers.append(label)
    _style_header(sc, headers)
    L = {k: get_column_letter(v) for k, v in {**col, **live}.items()}
    for n, i in enumerate(records, start=2):
        _copy(src, table.rows[i], sc, n, _width(src))
    employees_sheet = _copy_sheet(master, "Employees", wb, group.members)
    _copy_sheet(master, "KPIs", wb, None)
    curves = _curves_sheet(master, wb)
    tiers = _tiers_sheet(master, wb)

    passed, failed = schema.word("passed", lang), schema.word("failed", lang)
    raw_target = table.values.get("target", [None] * len(table))
    comment_check = _input_message(
        schema.SCORECARDS.column("comment").label(lang),
        "写明偏差原因与改进措施（可选）。" if lang == "zh" else "Optional: the reason for a miss and the action taken.",
    )
    sc.add_data_validation(comment_check)
    unlocked: set[str] = set()
    for n, i in enumerate(records, start=2):
        k = int(cards.kpi[i])
        e = int(cards.employee[i])
        method, curve = kpis.method[k], kpis.curve[k]
        E, T, A, S = f"{L['actual']}{n}", f"{L['target_used']}{n}", f"{L['attainment']}{n}", f"{L['score']}{n}"
        line = kpis.budget_line[k]
        entry = book.budget.get((line, book.employees.department[e])) if line else None
        # target used: the row's own, else the budget line's or the KPI's default
        if raw_target[i] is not None and L.get("target"):
            sc[T] = f"={L['target']}{n}"
        elif not math.isnan(cards.target[i]):
            sc[T] = float(cards.target[i])
        if entry is not None:
            act, pending = f'IF({E}="",{num(entry[1])},{E})', None
        else:
            act, pending = E, f'{E}=""'

        def wrap(core: str) -> str:
            return f'=IF({pending},"",{core})' if pending else f"={core}"

        ss, ts, th_s = (float(kpis.stretch_score[k]), float(kpis.target_score[k]), float(kpis.threshold_score[k]))
        gate_low = None
        if method == "direct":
            sc[S] = wrap(f"MIN(MAX({act},0),{num(ss)})")
            gate_low = lowered(th_s)
        else:
            core = f'IF({act}=0,"∞",{T}/{act})' if kpis.lower[k] else f"{act}/{T}"
            sc[A] = wrap(core)
            th, st = float(kpis.threshold[k]), float(kpis.stretch[k])
            if method == "linear" and curve is None:
                body = (
                    f"IF(NOT({A}>={lowered(th)}),0,IF({A}>={lowered(st)},{num(ss)},"
                    f"IF(NOT({A}>={lowered(1.0)}),{num(th_s)}+({A}-{num(th)})*({num(ts)}-{num(th_s)})/(1-{num(th)}),"
                    f"{num(ts)}+({A}-1)*({num(ss)}-{num(ts)})/({num(st)}-1))))"
                )
                top, gate_low = num(ss), lowered(th)
            elif method == "binary":
                body, top, gate_low = f"IF({A}>={lowered(1.0)},{num(ts)},0)", num(ts), lowered(1.0)
            else:
                r = curves[curve]
                last = r.cell("C", r.last)
                first_low = r.cell("D")
                if method == "step":
                    rest = f"LOOKUP({A},{r.col('D')},{r.col('C')})"
                else:
                    rest = interpolation(A, r, "B", "C", "D", last)
                body, top, gate_low = f"IF(NOT({A}>={first_low}),0,{rest})", last, first_low
            sc[S] = f'=IF({A}="","",IF(ISNUMBER({A}),{body},{top}))'
        weight_cell = f"{L['weight']}{n}"
        raw_weight = table.values["weight"][i]
        try:
            raw_weight = float(raw_weight)
        except (TypeError, ValueError):
            raw_weight = math.nan
        if cards.weight[i] == raw_weight:
            w = weight_cell
        elif cards.weight[i] == raw_weight / 100.0:
            w = f"{weight_cell}/100"
        else:
            w = num(cards.weight[i])
        sc[f"{L['weighted_score']}{n}"] = f'=IF({S}="","",{w}*{S})'
        if kpis.gate[k]:
            G = f"{L['gate']}{n}"
            if method == "direct":
                sc[G] = f'=IF({S}="","",IF({S}>={gate_low},"{passed}","{failed}"))'
            else:
                sc[G] = f'=IF({A}="","",IF(ISNUMBER({A}),IF({A}>={gate_low},"{passed}","{failed}"),"{passed}"))'
        for key in ("target_used", "attainment", "score", "weighted_score", "gate"):
            cell = sc[f"{L[key]}{n}"]
            cell.fill = LIVE_FILL
            if key in FORMATS:
                cell.number_format = FORMATS[key]
        # the two input cells
        for key in ("actual", "comment"):
            cell = sc[f"{L[key]}{n}"]
            cell.protection = Protection(locked=False)
            cell.fill = INPUT_FILL
            unlocked.add(cell.coordinate)
        comment_check.add(f"{L['comment']}{n}")
        sc.add_data_validation(_actual_check(master, k, entry, sc[T].value, E))
    _fit(sc)

    summary = _summary(master, wb, group, records, L, len(records) + 1, tiers)
    wb.move_sheet(summary, offset=-(len(wb.sheetnames) - 2))
    wb.active = 0

    # Protection, then the fingerprint of everything locked.
    fingerprint: list[tuple[str, str, str]] = []
    for ws in wb.worksheets:
        ws.protection.sheet = True
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
        cells = locked_cells(ws, unlocked if ws is sc else set())
        fingerprint.append((ws.title, "*", sheet_digest(ws.title, cells.items())))
        fingerprint.extend((ws.title, c, cell_digest(ws.title, c, v)) for c, v in cells.items())
    meta = {
        "format": FORMAT,
        "by": by,
        "group": group.key,
        "label": group.label,
        "master": master.path.name,
        "master_sha256": master.sha256,
        "language": lang,
        "scorecards": sc.title,
        "employees": employees_sheet.title,
        "employee_id": L["employee_id"],
        "kpi_id": L["kpi_id"],
        "actual": L["actual"],
        "comment": L["comment"],
        "first_row": 2,
        "last_row": len(records) + 1,
    }
    ws = wb.create_sheet(META_SHEET)
    for r, (key, value) in enumerate(meta.items(), start=1):
        ws.cell(row=r, column=1, value=key)
        ws.cell(row=r, column=2, value=value)
    start = len(meta) + 2
    for c, text in enumerate(("sheet", "cell", "sha256"), start=1):
        ws.cell(row=start, column=c, value=text)
    for r, entry in enumerate(fingerprint, start=start + 1):
        for c, value in enumerate(entry, start=1):
            ws.cell(row=r, column=c, value=value)
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True
    wb.security = WorkbookProtection(lockStructure=True)
    return wb, meta


def _actual_check(master: Master, k: int, entry: Any, target: Any, cell: str) -> DataValidation:
    lang = master.language
    kpis = master.book.kpis
    name, unit = kpis.names[k], kpis.unit[k] or ""
    lower = bool(kpis.lower[k])
    if lang == "zh":
        lines = [f"{kpis.ids[k]} {name}" + (f"（{unit}）" if unit else "")]
        if kpis.method[k] == "direct":
            lines.append("直接填写得分（0 至挑战分）。")
        else:
            lines.append(("越低越好" if lower else "越高越好") + (f"；目标 {target:g}" if isinstance(target, float) else ""))
        if entry is not None:
            lines.append(f"留空则取预算表实际数 {entry[1]:g}。")
        error = "请输入数字" + ("（不小于 0）" if lower else "") + "。"
    else:
        lines = [f"{kpis.ids[k]} {name}" + (f" ({unit})" if unit else "")]
        if kpis.method[k] == "direct":
            lines.append("Type the score itself (0 to the stretch score).")
        else:
            lines.append(("Lower is better" if lower else "Higher is better")
                         + (f"; target {target:g}" if isinstance(target, float) else ""))
        if entry is not None:
            lines.append(f"Leave empty to use the Budget sheet's actual, {entry[1]:g}.")
        error = "Type a number" + (" (0 or more)" if lower else "") + "."
    check = DataValidation(
        type="decimal",
        operator="greaterThanOrEqual" if lower else "between",
        formula1="0" if lower else "-1E+300",
        formula2=None if lower else "1E+300",
        allow_blank=True,
        showInputMessage=True,
        promptTitle=(name or kpis.ids[k])[:32],
        prompt="\n".join(lines)[:255],
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle=(name or kpis.ids[k])[:32],
        error=error,
    )
    check.add(cell)
    return check


def _summary(master: Master, wb: Workbook, group: Group, records: list[int], L: dict[str, str],
             last: int, tiers: dict[str, Ranges]) -> Any:
    lang = master.language
    book = master.book
    sc_title = master.raw.tables["Scorecards"].title
    ws = wb.create_sheet(say("Summary", lang))
    keys = ("employee_id", "name", "kpi_rows", "filled", "total_score", "tier", "multiplier", "gate")
    _style_header(ws, [say(k, lang) if k in ("kpi_rows", "filled", "gate") else
                       (schema.COLUMN_ZH[k] if lang == "zh" else k) for k in keys])

    def rng(key: str) -> str:
        return f"{quote(sc_title)}!${L[key]}$2:${L[key]}${max(last, 2)}"

    ids = rng("employee_id")
    first_cell: dict[int, Any] = {}
    src = wb[sc_title]
    for n, i in enumerate(records, start=2):
        first_cell.setdefault(int(book.scorecards.employee[i]), src[f"{L['employee_id']}{n}"].value)
    passed, failed = schema.word("passed", lang), schema.word("failed", lang)
    no_bonus = schema.word("no_bonus", lang)
    linear = book.settings.tier_mode == "linear"
    for r, e in enumerate(group.members, start=2):
        ws.cell(row=r, column=1, value=first_cell.get(e, book.employees.ids[e]))
        ws.cell(row=r, column=2, value=book.employees.names[e])
        ws.cell(row=r, column=3, value=f"=COUNTIF({ids},A{r})")
        ws.cell(row=r, column=4, value=f"=SUMPRODUCT(({ids}=A{r})*ISNUMBER({rng('score')}))")
        ws.cell(row=r, column=5, value=f"=SUMIF({ids},A{r},{rng('weighted_score')})").number_format = "0.0"
        t = tiers.get(book.employees.tier_table[e])
        if t is not None:
            below = f"NOT(E{r}>={t.cell('E')})"
            ws.cell(row=r, column=6, value=f'=IF(D{r}<C{r},"",IF({below},"{no_bonus}",LOOKUP(E{r},{t.col("E")},{t.col("D")})))')
            if linear:
                mult = interpolation(f"E{r}", t, "B", "C", "E", t.cell("C", t.last))
            else:
                mult = f"LOOKUP(E{r},{t.col('E')},{t.col('C')})"
            ws.cell(row=r, column=7, value=f'=IF(D{r}<C{r},"",IF({below},0,{mult}))').number_format = "0.00"
        ws.cell(row=r, column=8, value=(
            f'=IF(D{r}<C{r},"",IF(COUNTIFS({ids},A{r},{rng("gate")},"{failed}")>0,"{failed}","{passed}"))'))
        for c in range(3, 9):
            ws.cell(row=r, column=c).fill = LIVE_FILL
    _fit(ws)
    for letter in "CDEFGH":
        ws.column_dimensions[letter].width = 14
    return ws


# ------------------------------------------------------------------ command


def split(master_path: Path, by: str, out_dir: Path, *, force: bool = False, progress: bool = False) -> SplitResult:
    from ..writing import save_atomically

    master, blocking = load_master(master_path)
    result = SplitResult(problems=list(blocking))
    if blocking:
        return result
    result.groups = groups_of(master, by)
    names = file_names(master, result.groups)
    out_dir.mkdir(parents=True, exist_ok=True)
    existing = [n for n in names if (out_dir / n).exists()]
    if existing and not force:
        raise FileExistsError(
            f"{out_dir / existing[0]} already exists (and {len(existing) - 1} more): "
            "choose another folder with -o, or use --force to replace them"
        )
    for group, name in zip(result.groups, names):
        wb, _ = build(master, by, group)
        result.files.append(save_atomically(wb, out_dir / name))
    return result


def group_ids(master: Master, group: Group) -> list[str]:
    return [parse_id(master.book.employees.ids[e]) for e in group.members]
