"""The cascade check: the Alignment sheet (指标对齐) of ``kpi-xl review``.

Using the KPI library's ``level`` (company / department / individual, 公司 /
部门 / 个人) and ``parent_kpi``:

1. individual KPIs that do not link to a department or company KPI: no
   parent_kpi, a parent not in the library, a parent that is itself an
   individual KPI (or has no level), or a parent chain that loops; a KPI
   carried on a scorecard without any level is listed too (its cascade
   cannot be checked), and so is a level kpi_xl does not know;
2. company KPIs and who carries them: on scorecards directly, or through
   the KPIs that cascade from them (at any depth); "nobody carries it" when
   neither;
3. weights by perspective per department: the average over the
   department's people of the share of their weight on each perspective
   (each person's weights add up to 100%, so each department's row does);
4. the cascade of every KPI (its chain up to the top).

Each finding names the KPIs sheet cell to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from .. import schema
from .periods import Scored
from .review import PERCENT, SECTION_FONT, TITLE_FONT, SheetWriter, _print_setup

FLAG_FILL = PatternFill("solid", fgColor="FCE4D6")


@dataclass
class Finding:
    kpi_id: str
    name: str
    level: str
    parent: str
    problem: str
    cell: str  # KPIs!P7
    rows: int
    people: int
    departments: str


def levels(book: Any) -> list[str | None]:
    """Each KPI's level: company, department, individual, or None (blank or unknown)."""
    return [schema.LEVEL.parse(text) if text else None for text in book.kpis.level]


def chain(book: Any, k: int) -> tuple[list[str], bool]:
    """The KPI ids from k up its parent_kpi chain, and whether it loops."""
    kpis = book.kpis
    ids = [kpis.ids[k]]
    seen = {k}
    while True:
        parent = kpis.parent_kpi[k]
        if parent is None:
            return ids, False
        ids.append(parent)
        if parent not in kpis.index:
            return ids, False
        k = kpis.index[parent]
        if k in seen:
            return ids, True
        seen.add(k)


def _cell(scored: Scored, k: int, column: str) -> str:
    table = scored.raw.tables["KPIs"]
    if column not in table.column_index:
        return f"{table.title}!A1"
    return f"{table.title}!{table.cell(column, k)}"


def unlinked(scored: Scored, rows: pd.DataFrame, language: str) -> list[Finding]:
    book = scored.book
    kpis = book.kpis
    level = levels(book)
    zh = language == "zh"
    carried = rows.groupby("kpi_id")
    out = []
    for k, kpi_id in enumerate(kpis.ids):
        mine = carried.get_group(kpi_id) if kpi_id in carried.groups else rows.iloc[0:0]
        raw_level = kpis.level[k] or ""
        parent = kpis.parent_kpi[k] or ""
        problem, column = None, "parent_kpi"
        if raw_level and level[k] is None:
            problem = (f"层级“{raw_level}”无法识别：应为 公司、部门 或 个人" if zh else
                       f"level '{raw_level}' is not company, department or individual")
            column = "level"
        elif level[k] is None:
            if len(mine):
                problem = ("未填层级，无法检查对齐" if zh else "no level: its cascade cannot be checked")
                column = "level"
        elif level[k] == "individual":
            ids, loops = chain(book, k)
            if not parent:
                problem = "未填上级指标" if zh else "no parent_kpi: it links to nothing"
            elif parent not in kpis.index:
                problem = (f"上级指标“{parent}”不在指标库中" if zh else
                           f"parent '{parent}' is not in the KPI library")
            elif loops:
                problem = (f"对齐链循环：{' → '.join(ids)}" if zh else f"the cascade loops: {' → '.join(ids)}")
            elif level[kpis.index[parent]] not in ("department", "company"):
                shown = kpis.level[kpis.index[parent]] or ("未填" if zh else "no level")
                problem = (f"上级指标“{parent}”不是部门或公司指标（层级：{shown}）" if zh else
                           f"parent '{parent}' is not a department or company KPI (level: {shown})")
        if problem is None:
            continue
        out.append(Finding(
            kpi_id, kpis.names[k], raw_level, parent, problem, _cell(scored, k, column),
            len(mine), mine["employee_id"].nunique() if len(mine) else 0,
            ", ".join(dict.fromkeys(mine["department"])) if len(mine) else "",
        ))
    return out


def company_kpis(scored: Scored, rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Each company KPI: rows and people carrying it directly, and through its cascade."""
    book = scored.book
    kpis = book.kpis
    level = levels(book)
    below: dict[str, list[str]] = {kpi_id: [] for kpi_id in kpis.ids}
    for k, kpi_id in enumerate(kpis.ids):
        ids, _ = chain(book, k)
        for ancestor in dict.fromkeys(ids[1:]):
            if ancestor in below and ancestor != kpi_id:
                below[ancestor].append(kpi_id)
    out = []
    for k, kpi_id in enumerate(kpis.ids):
        if level[k] != "company":
            continue
        direct = rows[rows.kpi_id == kpi_id]
        cascade = rows[rows.kpi_id.isin(below[kpi_id])]
        out.append({
            "kpi_id": kpi_id, "name": kpis.names[k],
            "direct_rows": len(direct), "direct_people": direct["employee_id"].nunique(),
            "cascade_kpis": ", ".join(below[kpi_id]), "cascade_rows": len(cascade),
            "people": pd.concat([direct, cascade])["employee_id"].nunique(),
            "carried": bool(len(direct) or len(cascade)),
            "cell": _cell(scored, k, "level"),
        })
    return out


def perspective_weights(scored: Scored, rows: pd.DataFrame, language: str) -> tuple[list[str], pd.DataFrame]:
    """Department x perspective: the average share of a person's weight (plus a company line)."""
    none = schema.review_word("none", language)
    order = list(dict.fromkeys(p for p in scored.book.kpis.perspective if p))
    frame = rows.assign(perspective=rows["perspective"].fillna(none))
    if (frame["perspective"] == none).any():
        order.append(none)
    order = [p for p in order if (frame["perspective"] == p).any()]
    people = frame.groupby("department", sort=False)["employee_id"].nunique()
    sums = frame.pivot_table(index="department", columns="perspective", values="weight", aggfunc="sum",
                             fill_value=0.0, sort=False)
    table = sums.reindex(index=people.index, columns=order, fill_value=0.0).div(people, axis=0)
    company = frame.groupby("perspective")["weight"].sum().reindex(order, fill_value=0.0) / frame["employee_id"].nunique()
    table.loc[schema.review_word("company", language)] = company
    table.insert(0, "people", list(people) + [frame["employee_id"].nunique()])
    return order, table


def alignment_sheet(wb: Workbook, scored: Scored, rows: pd.DataFrame, title: str, language: str) -> Worksheet:
    ws = wb.create_sheet(title)
    out = SheetWriter(ws, language)
    w = out.w
    zh = language == "zh"
    out.title(w("unlinked_title"))
    findings = unlinked(scored, rows, language)
    out.table([w(k) for k in ("kpi_id", "name", "level", "parent_kpi", "problem", "cell", "carried_rows",
                              "carried_people", "department")],
              [[f.kpi_id, f.name, f.level, f.parent, f.problem, f.cell, f.rows, f.people, f.departments]
               for f in findings])
    if not findings:
        out.line("每个个人指标都对齐到部门或公司指标。" if zh else
                 "Every individual KPI links to a department or company KPI.")
    out.gap()

    out.title(w("uncarried_title"), SECTION_FONT)
    found = company_kpis(scored, rows)
    top, last = out.table(
        [w(k) for k in ("kpi_id", "name", "direct_rows", "cascade_kpis", "cascade_rows", "carried_people",
                        "status", "cell")],
        [[c["kpi_id"], c["name"], c["direct_rows"], c["cascade_kpis"], c["cascade_rows"], c["people"],
          w("carried") if c["carried"] else w("nobody"), c["cell"]] for c in found])
    for r, c in enumerate(found, start=top + 1):
        if not c["carried"]:
            for column in range(1, 9):
                ws.cell(row=r, column=column).fill = FLAG_FILL
    if not found:
        out.line("指标库中没有公司层级的指标。" if zh else "The KPI library has no company-level KPI.")
    out.gap()

    out.title(w("weights_title"), SECTION_FONT)
    order, table = perspective_weights(scored, rows, language)
    body = [[department, int(s["people"]), *[float(s[p]) for p in order], float(sum(s[p] for p in order))]
            for department, s in table.iterrows()]
    top, last = out.table([w("department"), w("people"), *order, w("total")], body,
                          {c: PERCENT for c in range(3, len(order) + 4)})
    for column in range(1, len(order) + 4):
        ws.cell(row=last, column=column).font = Font(bold=True)
    out.gap()

    out.title(w("cascade_title"), SECTION_FONT)
    kpis = scored.book.kpis
    carried = rows.groupby("kpi_id").size()
    lines = []
    for k, kpi_id in enumerate(kpis.ids):
        ids, loops = chain(scored.book, k)
        lines.append([kpi_id, kpis.names[k], kpis.level[k], kpis.perspective[k], kpis.parent_kpi[k],
                      " → ".join(ids) + (" …" if loops else ""), int(carried.get(kpi_id, 0))])
    out.table([w(k) for k in ("kpi_id", "name", "level", "perspective", "parent_kpi", "chain", "carried_rows")],
              lines)
    out.fit(widest=45)
    _print_setup(ws)
    return ws
