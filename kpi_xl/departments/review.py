"""``kpi-xl review``: the monthly review pack, one sheet per department.

From a scored workbook (or any workbook without errors; it is scored again by
the same engine, period by period when Scorecards has a ``period`` column),
a new workbook with:

- **Review** (复盘汇总): each department's KPI rows met, average total score,
  the trend against the previous period and the year to date, and a chart
  comparing the departments (and, with periods, a trend table and chart);
- **Review - <department>** (复盘 - 部门): its KPIs (rows, met target, average
  attainment and score, previous period, change, year to date), the worst
  misses ranked by gap to target with the head's comment and empty cause and
  action columns, the distribution of total scores, and two charts
  (attainment by KPI, score distribution);
- **Alignment** (指标对齐): the cascade check (``alignment.py``).

Definitions (docs/workbook.md, "Monthly review"):

- a row *met target* when its attainment is >= 100% (within the engine's 1e-12),
  or, for a ``direct`` KPI (no attainment), when its score >= target_score;
- *gap to target* = 1 - attainment (``direct``: 1 - score / target_score);
- averages of attainment count an infinite attainment (actual 0 on a
  lower-is-better KPI) as the attainment where the KPI's score stops rising
  (stretch, the last curve point, or 100% for binary);
- *year to date* pools every row (or person) of the periods of the current
  period's year up to and including it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .. import schema
from ..kernels import TOLERANCE
from ..problems import ERROR, Problem
from ..reading import read_workbook
from ..templates import HEADER_FILL, HEADER_FONT, _display_width
from .periods import Scored, ScoredPeriods, score_periods, year_of

TITLE_FONT = Font(bold=True, size=14)
SECTION_FONT = Font(bold=True, size=12)
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")  # cause and action: to fill in the meeting
MISS_FILL = PatternFill("solid", fgColor="FCE4D6")
MISSES_SHOWN = 20
PERCENT, SCORE, POINTS = "0.0%", "0.0", "+0.0;-0.0;0.0"
CHART_WIDTH_CM = 16.0
ROW_CM = 0.53  # a default row (15 points)
CHAR_CM = 0.2  # a column width unit (one character of the default font), about
# Total score bins of the distribution: below 50, 10 points wide up to 150, 150 and above.
BIN_EDGES = [50.0 + 10.0 * i for i in range(11)]


@dataclass
class ReviewResult:
    problems: list[Problem] = field(default_factory=list)
    periods: list[str | None] = field(default_factory=list)
    not_reported: list[str] = field(default_factory=list)
    departments: list[str] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)
    output: Path | None = None

    @property
    def ok(self) -> bool:
        return not any(p.severity == ERROR for p in self.problems)


# ------------------------------------------------------------------ rows


def top_attainment(book: Any, k: int) -> float:
    """The attainment where KPI k's score stops rising."""
    kpis = book.kpis
    method, curve = kpis.method[k], kpis.curve[k]
    if method == "binary":
        return 1.0
    if curve is not None and curve in book.curves and book.curves[curve]:
        return float(book.curves[curve][-1][0])
    return float(kpis.stretch[k])


def met_target(attainment: float, score: float, target_score: float, direct: bool) -> bool:
    if direct:
        return score >= target_score - TOLERANCE * max(1.0, abs(target_score))
    return attainment >= 1.0 - TOLERANCE


def period_rows(scored: Scored) -> pd.DataFrame:
    """One row per scorecard row of a period: the engine's result with the
    person's department, the KPI's name and perspective, met and gap."""
    results, payouts, book = scored.outcome.results, scored.outcome.payouts, scored.book
    cards = scored.raw.tables["Scorecards"]
    assert len(results) == len(cards), "results follow the Scorecards rows"
    people = payouts.set_index("employee_id")
    kpis = book.kpis
    letter = get_column_letter(cards.column_index.get("actual", cards.column_index["kpi_id"]))
    comments = cards.column("comment")
    records = []
    for i, r in enumerate(results.itertuples(index=False)):
        k = kpis.index[r.kpi_id]
        direct = kpis.method[k] == "direct"
        ts = float(kpis.target_score[k])
        attainment = float(r.attainment)
        for_average = top_attainment(book, k) if math.isinf(attainment) else attainment
        if direct:
            gap = 1.0 - float(r.score) / ts if ts > 0 else math.nan
        else:
            gap = 1.0 - attainment
        comment = comments[i]
        records.append({
            "period": scored.label,
            "employee_id": r.employee_id,
            "employee": people.at[r.employee_id, "name"],
            "department": people.at[r.employee_id, "department"],
            "kpi_id": r.kpi_id,
            "kpi_name": kpis.names[k],
            "perspective": kpis.perspective[k],
            "weight": float(r.weight),
            "target": float(r.target),
            "actual": float(r.actual),
            "attainment": attainment,
            "attainment_for_average": math.nan if direct else for_average,
            "score": float(r.score),
            "met": met_target(attainment, float(r.score), ts, direct),
            "gap": gap,
            "comment": None if comment in (None, "") else str(comment),
            "source": f"{cards.title}!{letter}{cards.rows[i]}",
            "order": i,
        })
    return pd.DataFrame.from_records(records)


def person_rows(scored: Scored) -> pd.DataFrame:
    frame = scored.outcome.payouts[["employee_id", "name", "department", "total_score", "tier"]].copy()
    frame["period"] = scored.label
    return frame


# ------------------------------------------------------------------ summaries


def kpi_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per KPI (in order of first appearance): rows, met, averages."""
    grouped = rows.groupby("kpi_id", sort=False)
    out = pd.DataFrame({
        "kpi_name": grouped["kpi_name"].first(),
        "perspective": grouped["perspective"].first(),
        "kpi_rows": grouped.size(),
        "met": grouped["met"].sum().astype(int),
        "average_attainment": grouped["attainment_for_average"].mean(),
        "average_score": grouped["score"].mean(),
    })
    out["met_share"] = out["met"] / out["kpi_rows"]
    return out


@dataclass
class Department:
    name: str
    rows: pd.DataFrame  # current period
    people: pd.DataFrame  # current period
    kpis: pd.DataFrame
    previous_kpis: pd.DataFrame | None
    ytd_kpis: pd.DataFrame | None
    previous_people: pd.DataFrame | None
    ytd_people: pd.DataFrame | None
    history: list[tuple[str, pd.DataFrame, pd.DataFrame]]  # (period, rows, people) in order

    @property
    def headline(self) -> dict[str, Any]:
        return headline(self.rows, self.people, self.previous_people, self.ytd_people)


def headline(rows: pd.DataFrame, people: pd.DataFrame, previous: pd.DataFrame | None,
             ytd: pd.DataFrame | None) -> dict[str, Any]:
    out = {
        "people": len(people),
        "kpi_rows": len(rows),
        "met": int(rows["met"].sum()),
        "met_share": float(rows["met"].mean()) if len(rows) else math.nan,
        "average_total_score": float(people["total_score"].mean()) if len(people) else math.nan,
        "previous": math.nan,
        "change": math.nan,
        "year_to_date": math.nan,
    }
    if previous is not None and len(previous):
        out["previous"] = float(previous["total_score"].mean())
        out["change"] = out["average_total_score"] - out["previous"]
    if ytd is not None and len(ytd):
        out["year_to_date"] = float(ytd["total_score"].mean())
    return out


def departments_of(periods: list[Scored]) -> tuple[list[Department], dict[str, Any]]:
    """Each department of the current (latest reported) period, with its history."""
    all_rows = [period_rows(p) for p in periods]
    all_people = [person_rows(p) for p in periods]
    current = periods[-1].label
    previous_index = len(periods) - 2 if len(periods) > 1 else None
    year = year_of(current)
    ytd_indexes = [i for i, p in enumerate(periods) if current is not None and
                   (year is None or year_of(p.label) == year)]
    rows, people = all_rows[-1], all_people[-1]
    names = list(dict.fromkeys(people["department"]))
    out = []
    for name in names:
        mine = rows[rows.department == name]
        who = people[people.department == name]

        def part(frames: list[pd.DataFrame], indexes: list[int]) -> pd.DataFrame | None:
            chosen = [frames[i][frames[i].department == name] for i in indexes]
            return pd.concat(chosen, ignore_index=True) if chosen else None

        prev_rows = part(all_rows, [previous_index]) if previous_index is not None else None
        prev_people = part(all_people, [previous_index]) if previous_index is not None else None
        ytd_rows = part(all_rows, ytd_indexes) if len(ytd_indexes) > 1 else None
        ytd_people = part(all_people, ytd_indexes) if len(ytd_indexes) > 1 else None
        history = [(p.label, all_rows[i][all_rows[i].department == name], all_people[i][all_people[i].department == name])
                   for i, p in enumerate(periods)] if current is not None else []
        out.append(Department(
            name=name, rows=mine, people=who, kpis=kpi_summary(mine),
            previous_kpis=kpi_summary(prev_rows) if prev_rows is not None and len(prev_rows) else None,
            ytd_kpis=kpi_summary(ytd_rows) if ytd_rows is not None and len(ytd_rows) else None,
            previous_people=prev_people, ytd_people=ytd_people, history=history,
        ))
    company = {
        "rows": rows, "people": people,
        "previous": all_people[previous_index] if previous_index is not None else None,
        "ytd": pd.concat([all_people[i] for i in ytd_indexes], ignore_index=True) if len(ytd_indexes) > 1 else None,
        "history": [(p.label, all_rows[i], all_people[i]) for i, p in enumerate(periods)] if current is not None else [],
    }
    return out, company


def worst_misses(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows that missed target, the largest gap first (then sheet order)."""
    missed = rows[~rows["met"] & rows["gap"].notna()]
    return missed.sort_values(["gap", "order"], ascending=[False, True], kind="stable")


def distribution(people: pd.DataFrame, language: str) -> list[tuple[str, int]]:
    scores = people["total_score"].to_numpy(dtype=float)
    edges = BIN_EDGES
    zh = language == "zh"
    out = [((f"低于 {edges[0]:g}" if zh else f"below {edges[0]:g}"), int(np.sum(scores < edges[0])))]
    for low, high in zip(edges, edges[1:]):
        out.append((f"{low:g}–{high:g}", int(np.sum((scores >= low) & (scores < high)))))
    out.append(((f"{edges[-1]:g} 及以上" if zh else f"{edges[-1]:g} and above"), int(np.sum(scores >= edges[-1]))))
    return out


# ------------------------------------------------------------------ sheets


def safe_sheet_title(text: str, taken: set[str]) -> str:
    """A sheet name Excel accepts: no []:*?/\\, at most 31 characters, unique."""
    base = re.sub(r"[\[\]:*?/\\]", "_", text).strip("'")[:31] or "_"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


class SheetWriter:
    """Writes titled tables down a sheet and remembers where they went."""

    def __init__(self, ws: Worksheet, language: str):
        self.ws = ws
        self.language = language
        self.row = 1
        self.widths: dict[int, int] = {}

    def w(self, key: str) -> str:
        return schema.review_word(key, self.language)

    def title(self, text: str, font: Font = TITLE_FONT) -> None:
        self.ws.cell(row=self.row, column=1, value=text).font = font
        self.row += 1

    def line(self, text: str) -> None:
        self.ws.cell(row=self.row, column=1, value=text)
        self.row += 1

    def gap(self, n: int = 1) -> None:
        self.row += n

    def table(self, headers: list[str], rows: list[list[Any]], formats: dict[int, str] | None = None,
              fills: dict[int, PatternFill] | None = None) -> tuple[int, int]:
        """Header and rows from the current row; returns (header row, last row)."""
        top = self.row
        for c, text in enumerate(headers, start=1):
            cell = self.ws.cell(row=top, column=c, value=text)
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            self._measure(c, text)
        for r, values in enumerate(rows, start=top + 1):
            for c, value in enumerate(values, start=1):
                if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
                    value = None if math.isnan(value) else ("∞" if value > 0 else "-∞")
                cell = self.ws.cell(row=r, column=c, value=value)
                if formats and c in formats and isinstance(value, (int, float)):
                    cell.number_format = formats[c]
                if fills and c in fills:
                    cell.fill = fills[c]
                self._measure(c, value, formats.get(c) if formats else None)
        self.row = top + len(rows) + 1
        return top, top + len(rows)

    def _measure(self, column: int, value: Any, number_format: str | None = None) -> None:
        if value is None:
            return
        if isinstance(value, float):
            text = f"{value:,.1f}" + ("%" if number_format and "%" in number_format else "")
        else:
            text = str(value)
        self.widths[column] = max(self.widths.get(column, 0), _display_width(text))

    def fit(self, narrowest: int = 9, widest: int = 40) -> None:
        for column, width in self.widths.items():
            self.ws.column_dimensions[get_column_letter(column)].width = max(narrowest, min(widest, width + 2))


def _axes_on(chart: Any) -> None:
    # openpyxl 3.1 writes <c:delete val="1"/> on axes unless told: they would not show
    chart.x_axis.delete = False
    chart.y_axis.delete = False


def _print_setup(ws: Worksheet) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0


def _department_sheet(wb: Workbook, d: Department, period: str | None, title: str, language: str) -> Worksheet:
    ws = wb.create_sheet(title)
    out = SheetWriter(ws, language)
    w = out.w
    zh = language == "zh"
    h = d.headline
    when = (f"（{period}）" if zh else f" — {period}") if period else ""
    out.title(f"{d.name}{when}")
    if zh:
        sentence = (f"{h['people']} 人，{h['kpi_rows']} 个指标行，达标 {h['met']} 个（{h['met_share']:.1%}）；"
                    f"平均总分 {h['average_total_score']:.1f}")
    else:
        sentence = (f"{h['people']} people, {h['kpi_rows']} KPI rows: {h['met']} met target ({h['met_share']:.1%}); "
                    f"average total score {h['average_total_score']:.1f}")
    if not math.isnan(h["previous"]):
        sentence += (f"，上期 {h['previous']:.1f}（{h['change']:+.1f}）" if zh
                     else f" (previous period {h['previous']:.1f}, {h['change']:+.1f})")
    if not math.isnan(h["year_to_date"]):
        sentence += f"，本年累计 {h['year_to_date']:.1f}" if zh else f"; year to date {h['year_to_date']:.1f}"
    out.line(sentence + ("。" if zh else "."))
    out.gap()
    # the two charts go here, side by side above the tables they draw
    chart_row = out.row
    attainment_height = max(7.5, 0.7 * len(d.kpis) + 3.0)
    out.gap(math.ceil(max(attainment_height, 7.5) / ROW_CM) + 1)

    # KPIs
    out.title(w("kpis_title"), SECTION_FONT)
    headers = [w(k) for k in ("kpi_id", "name", "perspective", "kpi_rows", "met", "met_share",
                              "average_attainment", "average_score")]
    formats = {6: PERCENT, 7: PERCENT, 8: SCORE}
    trend = d.previous_kpis is not None or d.ytd_kpis is not None
    if trend:
        headers += [w("previous"), w("change"), w("year_to_date")]
        formats.update({9: PERCENT, 10: "+0.0%;-0.0%;0.0%", 11: PERCENT})
    rows = []
    for kpi_id, s in d.kpis.iterrows():
        values = [kpi_id, s.kpi_name, s.perspective, int(s.kpi_rows), int(s.met), float(s.met_share),
                  float(s.average_attainment), float(s.average_score)]
        if trend:
            prev = _lookup(d.previous_kpis, kpi_id)
            ytd = _lookup(d.ytd_kpis, kpi_id)
            values += [prev, float(s.average_attainment) - prev, ytd]
        rows.append(values)
    kpi_top, kpi_last = out.table(headers, rows, formats)
    out.gap()

    # Worst misses
    misses = worst_misses(d.rows)
    out.title(w("misses_title"), SECTION_FONT)
    shown = misses.head(MISSES_SHOWN)
    headers = [w(k) for k in ("rank", "employee_id", "employee", "kpi_id", "name", "target", "actual",
                              "attainment", "score", "gap", "comment", "cause", "action", "source")]
    rows = [[n, m.employee_id, m.employee, m.kpi_id, m.kpi_name, m.target, m.actual,
             m.attainment, m.score, m.gap, m.comment, None, None, m.source]
            for n, m in enumerate(shown.itertuples(index=False), start=1)]
    top, last = out.table(headers, rows, {6: "#,##0.####", 7: "#,##0.####", 8: PERCENT, 9: SCORE, 10: PERCENT},
                          {12: INPUT_FILL, 13: INPUT_FILL})
    for r in range(top + 1, last + 1):
        ws.cell(row=r, column=10).fill = MISS_FILL
    if not rows:
        out.line("没有未达标的指标。" if zh else "No KPI row missed its target.")
    elif len(misses) > MISSES_SHOWN:
        out.line(f"另有 {len(misses) - MISSES_SHOWN} 项未达标未列出。" if zh
                 else f"{len(misses) - MISSES_SHOWN} more rows missed their target (not shown).")
    out.widths[12] = out.widths[13] = 30  # room to write in
    out.gap()

    # Score distribution
    out.title(w("distribution_title"), SECTION_FONT)
    bins = distribution(d.people, language)
    dist_top, dist_last = out.table([w("score_from"), w("people")], [[label, n] for label, n in bins])
    out.gap()

    # By period
    if len(d.history) > 1:
        out.title(w("periods_title"), SECTION_FONT)
        rows = [[label, len(people), len(rows_), int(rows_["met"].sum()), float(rows_["met"].mean()),
                 float(people["total_score"].mean())]
                for label, rows_, people in d.history if len(people)]
        out.table([w(k) for k in ("period", "people", "kpi_rows", "met", "met_share", "average_total_score")],
                  rows, {5: PERCENT, 6: SCORE})
    out.fit()

    chart = BarChart()
    chart.type = "bar"
    chart.title = w("chart_attainment")
    chart.add_data(Reference(ws, min_col=7, min_row=kpi_top, max_row=kpi_last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=kpi_top + 1, max_row=kpi_last))
    chart.x_axis.scaling.orientation = "maxMin"  # first KPI on top, as in the table
    chart.y_axis.crosses = "max"  # and the percentages below
    chart.y_axis.numFmt = "0%"
    chart.y_axis.scaling.min = 0
    chart.legend = None
    chart.height, chart.width = attainment_height, CHART_WIDTH_CM
    _axes_on(chart)
    ws.add_chart(chart, f"A{chart_row}")

    chart = BarChart()
    chart.title = w("chart_distribution")
    chart.add_data(Reference(ws, min_col=2, min_row=dist_top, max_row=dist_last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=dist_top + 1, max_row=dist_last))
    chart.legend = None
    chart.gapWidth = 20
    chart.height, chart.width = 7.5, CHART_WIDTH_CM
    chart.y_axis.majorUnit = 1
    chart.y_axis.title = w("people")
    _axes_on(chart)
    ws.add_chart(chart, f"{column_after(ws, CHART_WIDTH_CM + 0.5)}{chart_row}")
    _print_setup(ws)
    return ws


def column_after(ws: Worksheet, cm: float) -> str:
    """The first column that starts at least ``cm`` from the sheet's left edge."""
    x, column = 0.0, 1
    while x < cm:
        width = ws.column_dimensions[get_column_letter(column)].width or 8.43
        x += width * CHAR_CM
        column += 1
    return get_column_letter(column)


def _lookup(frame: pd.DataFrame | None, kpi_id: str) -> float:
    if frame is None or kpi_id not in frame.index:
        return math.nan
    return float(frame.at[kpi_id, "average_attainment"])


def _overview_sheet(wb: Workbook, departments: list[Department], company: dict[str, Any], period: str | None,
                    not_reported: list[str], titles: dict[str, str], language: str) -> Worksheet:
    ws = wb.create_sheet(schema.REVIEW_SHEETS["overview"][1 if language == "zh" else 0], 0)
    out = SheetWriter(ws, language)
    w = out.w
    zh = language == "zh"
    out.title((f"月度复盘：{period}" if zh else f"Review of {period}") if period else ("复盘" if zh else "Review"))
    if not_reported:
        out.line((f"尚未填报的期间：{', '.join(not_reported)}" if zh
                  else f"Not reported yet: {', '.join(not_reported)}"))
    out.gap()
    trend = company["previous"] is not None or company["ytd"] is not None
    headers = [w(k) for k in ("department", "people", "kpi_rows", "met", "met_share", "average_total_score")]
    formats = {5: PERCENT, 6: SCORE}
    if trend:
        headers += [w("previous"), w("change"), w("year_to_date")]
        formats.update({7: SCORE, 8: POINTS, 9: SCORE})
    rows = []
    for d in departments:
        h = d.headline
        values = [d.name, h["people"], h["kpi_rows"], h["met"], h["met_share"], h["average_total_score"]]
        if trend:
            values += [h["previous"], h["change"], h["year_to_date"]]
        rows.append(values)
    h = headline(company["rows"], company["people"], company["previous"], company["ytd"])
    total = [w("company"), h["people"], h["kpi_rows"], h["met"], h["met_share"], h["average_total_score"]]
    if trend:
        total += [h["previous"], h["change"], h["year_to_date"]]
    rows.append(total)
    top, last = out.table(headers, rows, formats)
    for c in range(1, len(headers) + 1):
        ws.cell(row=last, column=c).font = Font(bold=True)
    for r, d in enumerate(departments, start=top + 1):  # each name links to its sheet
        cell = ws.cell(row=r, column=1)
        cell.hyperlink = f"#'{titles[d.name]}'!A1"
        cell.style = "Hyperlink"
    out.gap()
    chart_rows = (top, last - 1)  # departments, not the company line

    history = company["history"]
    trend_rows = None
    if len(history) > 1:
        out.title(w("periods_title"), SECTION_FONT)
        names = [d.name for d in departments]
        rows = []
        for label, _, people in history:
            means = people.groupby("department", sort=False)["total_score"].mean()
            rows.append([label, *[float(means.get(n, math.nan)) for n in names], float(people["total_score"].mean())])
        trend_rows = out.table([w("period"), *names, w("company")], rows, {c: SCORE for c in range(2, len(names) + 3)})
    out.fit()
    ws.column_dimensions["A"].width = max(ws.column_dimensions["A"].width, 16)

    chart = BarChart()
    chart.title = w("chart_departments")
    columns = [6, 7] if trend and company["previous"] is not None else [6]
    for column in columns:
        chart.add_data(Reference(ws, min_col=column, min_row=chart_rows[0], max_row=chart_rows[1]),
                       titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=chart_rows[0] + 1, max_row=chart_rows[1]))
    chart.y_axis.title = w("average_total_score")
    chart.y_axis.scaling.min = 0
    chart.height, chart.width = 8, 16
    if len(columns) == 1:
        chart.legend = None
    else:
        chart.legend.position = "b"
    _axes_on(chart)
    anchor = get_column_letter(len(headers) + 2)
    ws.add_chart(chart, f"{anchor}3")
    if trend_rows is not None:
        chart = LineChart()
        chart.title = w("periods_title")
        chart.add_data(Reference(ws, min_col=2, max_col=len(departments) + 2, min_row=trend_rows[0],
                                 max_row=trend_rows[1]), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=trend_rows[0] + 1, max_row=trend_rows[1]))
        chart.y_axis.title = w("average_total_score")
        chart.height, chart.width = 8, 16
        chart.legend.position = "b"
        for series in chart.series:
            series.smooth = False  # months are points, not a curve
        _axes_on(chart)
        ws.add_chart(chart, f"{anchor}20")
    _print_setup(ws)
    return ws


# ------------------------------------------------------------------ command


def build_review(scored: ScoredPeriods, language: str) -> tuple[Workbook, list[str], list[Department]]:
    from .alignment import alignment_sheet

    periods = scored.periods
    current = periods[-1]
    departments, company = departments_of(periods)
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    prefix = schema.REVIEW_SHEETS["department"][1 if language == "zh" else 0]
    overview_title = schema.REVIEW_SHEETS["overview"][1 if language == "zh" else 0]
    alignment_title = schema.REVIEW_SHEETS["alignment"][1 if language == "zh" else 0]
    taken.update({overview_title.lower(), alignment_title.lower()})
    titles = {d.name: safe_sheet_title(f"{prefix} - {d.name}", taken) for d in departments}
    for d in departments:
        _department_sheet(wb, d, current.label, titles[d.name], language)
    _overview_sheet(wb, departments, company, current.label, scored.not_reported, titles, language)
    alignment_sheet(wb, current, period_rows(current), alignment_title, language)
    wb.active = 0
    return wb, wb.sheetnames, departments


def review(path: Path, output: Path, *, engine: str | None = None) -> ReviewResult:
    from ..writing import save_atomically

    raw = read_workbook(path)
    scored = score_periods(raw, engine)
    result = ReviewResult(problems=list(scored.problems), not_reported=list(scored.not_reported))
    if not scored.ok:
        return result
    wb, sheets, departments = build_review(scored, raw.language)
    result.periods = [p.label for p in scored.periods]
    result.departments = [d.name for d in departments]
    result.sheets = sheets
    result.output = save_atomically(wb, output)
    return result
