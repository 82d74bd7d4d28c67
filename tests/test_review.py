"""kpi-xl review: department review sheets, trend by period, the cascade check, charts."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from kpi_xl.api import score_workbook
from kpi_xl.cli import main
from kpi_xl.departments.review import review
from kpi_xl.templates import build_example_company, save_reproducibly
from tests.conftest import sha256
from tests.test_live_formulas import soffice

MONTHS = {"2026-01": 0.9, "2026-02": 0.95, "2026-03": 1.0}  # the example's actuals, scaled
REV = 49_300_000 / 48_000_000  # 1001 CO_REV in March: 102.708%


def rows_of(sheet) -> list[tuple]:
    return [r for r in sheet.iter_rows(values_only=True)]


def table(sheet, title: str) -> list[tuple]:
    """The rows of the table under a section title, header first, up to the next blank row or sentence."""
    rows = rows_of(sheet)
    start = next(i for i, r in enumerate(rows) if r[0] == title) + 1
    while sum(v is not None for v in rows[start]) < 2:  # a sentence or a blank row before the header
        start += 1
    out = []
    for r in rows[start:]:
        if sum(v is not None for v in r) < 2:  # a blank row or a sentence ends it
            break
        out.append(r)
    return out


def as_dict(rows: list[tuple]) -> list[dict]:
    header = rows[0]
    return [dict(zip(header, r)) for r in rows[1:]]


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Path:
    return save_reproducibly(build_example_company(), tmp_path_factory.mktemp("review") / "example_company.xlsx")


@pytest.fixture(scope="module")
def reviewed(company, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("reviewed") / "example_company.review.xlsx"
    before = sha256(company)
    assert main(["review", str(company), "-o", str(output)]) == 0
    assert sha256(company) == before  # the input is untouched
    return output


def month_book(company: Path, factor: float) -> openpyxl.Workbook:
    book = openpyxl.load_workbook(company)
    for row in book["Scorecards"].iter_rows(min_row=2):
        if isinstance(row[4].value, (int, float)):
            row[4].value = row[4].value * factor
    return book


@pytest.fixture(scope="module")
def year(company, tmp_path_factory) -> dict[str, Path]:
    """A year workbook: January to March reported (the example's actuals x 0.9, x 0.95, x 1),
    April prepared with empty actuals; and each month as a workbook of its own."""
    folder = tmp_path_factory.mktemp("year")
    book = openpyxl.load_workbook(company)
    sheet = book["Scorecards"]
    original = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    sheet.delete_rows(2, sheet.max_row)
    sheet.cell(row=1, column=7, value="period")
    months = {}
    for month, factor in MONTHS.items():
        for values in original:
            actual = values[4] * factor if isinstance(values[4], (int, float)) else values[4]
            sheet.append([*values[:4], actual, values[5], month])
        months[month] = month_book(company, factor)
        months[month].save(folder / f"{month}.xlsx")
    for values in original:
        sheet.append([*values[:4], None, None, "2026-04"])
    book.save(folder / "year.xlsx")
    return {"year": folder / "year.xlsx", **{m: folder / f"{m}.xlsx" for m in MONTHS}}


def test_department_sheets_count_met_targets_and_rank_the_worst_misses(company, reviewed) -> None:
    book = openpyxl.load_workbook(reviewed)
    assert book.sheetnames == ["Review", "Review - Sales", "Review - Operations", "Review - Finance",
                               "Review - People", "Alignment"]
    engine = score_workbook(company)
    overview = {r["department"]: r for r in as_dict(table(book["Review"], "Review"))}
    for d in engine.departments.itertuples():
        assert overview[d.department]["people"] == d.headcount
        assert overview[d.department]["average total score"] == pytest.approx(d.average_total_score, abs=1e-12)
    # met target: attainment >= 100% (direct KPIs: score >= 100), counted by hand from Results
    met = {name: 0 for name in overview if name != "Company"}
    people = dict(zip(engine.payouts.employee_id, engine.payouts.department))
    for r in engine.results.itertuples():
        met[people[r.employee_id]] += (r.score >= 100) if math.isnan(r.attainment) else (r.attainment >= 1)
    assert {n: overview[n]["met target"] for n in met} == met == {
        "Sales": 44, "Operations": 35, "Finance": 28, "People": 17}
    assert overview["Company"]["met target"] == 124
    assert overview["Company"]["KPI rows"] == 192

    sales = book["Review - Sales"]
    assert sales["A2"].value == "12 people, 60 KPI rows: 44 met target (73.3%); average total score 94.0."
    kpis = {r["kpi_id"]: r for r in as_dict(table(sales, "KPIs"))}
    assert kpis["CO_REV"]["average attainment"] == pytest.approx(REV, abs=1e-12)
    assert kpis["IN_COMPLIANCE"]["KPI rows"] == kpis["IN_COMPLIANCE"]["met target"] == 11
    assert kpis["IN_ASSESSMENT"]["average attainment"] is None  # direct: the actual is the score
    misses = as_dict(table(sales, "Worst misses (ranked by gap to target)"))
    assert len(misses) == 60 - 44
    first = misses[0]  # Emily Clarke won 5 new customers of 12: 41.7%, gap 58.3%
    assert (first["rank"], first["employee_id"], first["kpi_id"], first["source"]) == (
        1, "1009", "IN_NEWLOGOS", "Scorecards!E43")
    assert first["attainment"] == pytest.approx(5 / 12, abs=1e-12)
    assert first["gap to target"] == pytest.approx(7 / 12, abs=1e-12)
    assert first["cause"] is None and first["action"] is None
    gaps = [m["gap to target"] for m in misses]
    assert gaps == sorted(gaps, reverse=True)
    # a direct KPI misses by its score: Nadia Rahman's assessment 60 of 100 is People's worst
    people_misses = as_dict(table(book["Review - People"], "Worst misses (ranked by gap to target)"))
    assert (people_misses[0]["employee_id"], people_misses[0]["kpi_id"]) == ("1036", "IN_ASSESSMENT")
    assert people_misses[0]["gap to target"] == pytest.approx(0.4, abs=1e-12)
    # Operations has 25 misses: 20 shown, and a line says so
    operations = book["Review - Operations"]
    assert len(as_dict(table(operations, "Worst misses (ranked by gap to target)"))) == 20
    assert "5 more rows missed their target (not shown)." in [r[0] for r in rows_of(operations)]
    # the head's comment comes with the miss
    compliance = as_dict(table(operations, "Worst misses (ranked by gap to target)"))[0]
    assert (compliance["employee"], compliance["gap to target"], compliance["comment"]) == (
        "Jonas Berg", 1, "failed the data-protection audit")
    distribution = dict(r[:2] for r in table(sales, "Score distribution")[1:])
    assert sum(distribution.values()) == 12 and distribution["90–100"] == 4
    # three native charts: attainment by KPI and the distribution per department, the comparison
    assert len(sales._charts) == 2 and len(book["Review"]._charts) == 1


def test_trend_against_the_previous_period_and_year_to_date(year, tmp_path) -> None:
    output = tmp_path / "review.xlsx"
    result = review(year["year"], output)
    assert result.ok, result.problems
    assert result.periods == list(MONTHS) and result.not_reported == ["2026-04"]
    book = openpyxl.load_workbook(output)
    assert book["Review"]["A1"].value == "Review of 2026-03"
    assert book["Review"]["A2"].value == "Not reported yet: 2026-04"
    sales = {r["kpi_id"]: r for r in as_dict(table(book["Review - Sales"], "KPIs"))}
    rev = sales["CO_REV"]  # one row: 49.3M in March, 95% of it in February, 90% in January
    assert rev["average attainment"] == pytest.approx(REV, abs=1e-12)
    assert rev["previous period"] == pytest.approx(0.95 * REV, abs=1e-12)
    assert rev["change"] == pytest.approx(0.05 * REV, abs=1e-12)
    assert rev["year to date"] == pytest.approx((0.9 + 0.95 + 1.0) / 3 * REV, abs=1e-12)
    # every period's numbers are those of scoring that month's workbook on its own
    alone = {m: score_workbook(year[m]).departments.set_index("department") for m in MONTHS}
    overview = {r["department"]: r for r in as_dict(table(book["Review"], "Review of 2026-03"))}
    for department in ("Sales", "Operations", "Finance", "People"):
        now, before = (alone[m].at[department, "average_total_score"] for m in ("2026-03", "2026-02"))
        row = overview[department]
        assert row["average total score"] == pytest.approx(now, abs=1e-12)
        assert row["previous period"] == pytest.approx(before, abs=1e-12)
        assert row["change"] == pytest.approx(now - before, abs=1e-12)
        heads = [alone[m].at[department, "headcount"] for m in MONTHS]
        ytd = sum(alone[m].at[department, "average_total_score"] * h for m, h in zip(MONTHS, heads)) / sum(heads)
        assert row["year to date"] == pytest.approx(ytd, abs=1e-9)
    trend = as_dict(table(book["Review"], "By period"))
    assert [t["period"] for t in trend] == list(MONTHS)
    assert trend[0]["Sales"] == pytest.approx(alone["2026-01"].at["Sales", "average_total_score"], abs=1e-12)
    assert len(book["Review"]._charts) == 2  # the comparison and the trend
    by_period = as_dict(table(book["Review - Finance"], "By period"))
    assert [b["people"] for b in by_period] == [8, 8, 8]


def test_a_year_workbook_is_scored_one_period_at_a_time(year, capsys) -> None:
    outcome = score_workbook(year["year"])
    messages = [str(p) for p in outcome.errors]
    assert ("error: Scorecards!B194: employee '1001' has KPI 'CO_REV' in two periods ('2026-01' "
                           "at B2, '2026-02' here): a workbook is scored one period at a time; kpi-xl review "
                           "reviews several") in messages


def test_period_problems_name_their_cell(year, tmp_path) -> None:
    book = openpyxl.load_workbook(year["year"])
    book["Scorecards"]["G5"] = None
    book["Scorecards"]["E200"] = "n/a"
    book.save(tmp_path / "broken.xlsx")
    output = tmp_path / "review.xlsx"
    assert main(["review", str(tmp_path / "broken.xlsx"), "-o", str(output)]) == 1
    assert not output.exists()
    result = review(tmp_path / "broken.xlsx", output)
    said = [str(p) for p in result.problems]
    assert "error: Scorecards!G5: the period is empty while other rows have one: fill it in (e.g. 2026-03)" in said
    assert any(s.startswith("error: Scorecards!E200: ") and s.endswith("(period 2026-02)") for s in said)


def test_alignment_finds_unlinked_kpis_uncarried_company_kpis_and_weights(company, reviewed, tmp_path) -> None:
    sheet = openpyxl.load_workbook(reviewed)["Alignment"]
    assert sheet["A3"].value == "Every individual KPI links to a department or company KPI."
    carried = {r["kpi_id"]: r for r in as_dict(table(sheet, "Company KPIs and who carries them"))}
    assert carried["CO_AUDIT"]["rows carrying it"] == 1 and carried["CO_AUDIT"]["rows below it"] == 36
    assert {r["status"] for r in carried.values()} == {"carried"}
    weights = {r["department"]: r for r in as_dict(table(
        sheet, "Weights by perspective (average share of each person's weight)"))}
    # Finance: only Catherine Walsh (1025) has Financial KPIs, CO_MARGIN 30% + DP_OPEX 20%, over 8 people
    assert weights["Finance"]["Financial"] == pytest.approx(0.5 / 8, abs=1e-12)
    assert weights["Finance"]["Customer"] == 0
    # the same shares, summed independently from the sheets
    source = openpyxl.load_workbook(company)
    perspective = {r[0]: r[13] for r in source["KPIs"].iter_rows(min_row=2, values_only=True)}
    department = {r[0]: r[2] for r in source["Employees"].iter_rows(min_row=2, values_only=True)}
    sums: dict[tuple[str, str], float] = {}
    heads: dict[str, set] = {}
    for e, k, w, *_ in source["Scorecards"].iter_rows(min_row=2, values_only=True):
        key = (department[e], perspective[k])
        sums[key] = sums.get(key, 0.0) + w
        heads.setdefault(department[e], set()).add(e)
    for (d, p), total in sums.items():
        assert weights[d][p] == pytest.approx(total / len(heads[d]), abs=1e-12)
    for d in ("Sales", "Operations", "Finance", "People", "Company"):
        assert weights[d]["total"] == pytest.approx(1.0, abs=1e-12)

    # Break the cascade: an unlinked KPI, an unknown parent, a parent at the wrong level,
    # a loop, an unknown level, and a company KPI nobody carries.
    book = openpyxl.load_workbook(company)
    kpis = book["KPIs"]
    kpis["P21"] = None  # IN_TRAINING: no parent
    kpis["P15"] = "CO_NPSS"  # IN_CSAT: a typo
    kpis["P16"] = "IN_DEFECTS"  # IN_ORDERS under another individual KPI
    kpis["P11"] = "IN_TIME_TO_FILL"  # DP_ATTRITION under its own child: a loop
    kpis["O22"] = "squad"  # IN_COMPLIANCE: a level kpi_xl does not know
    kpis.append(["CO_CASH", "Free cash flow", "higher", "linear", 0.8, 1.2, None, None, None, None, "no", 1,
                 None, "Financial", "company", None, "USD"])
    book.save(tmp_path / "broken.xlsx")
    output = tmp_path / "review.xlsx"
    assert review(tmp_path / "broken.xlsx", output).ok
    sheet = openpyxl.load_workbook(output)["Alignment"]
    found = {r["kpi_id"]: r for r in as_dict(table(sheet, "KPIs that do not link to a department or company KPI"))}
    assert {k: (r["problem"], r["cell"]) for k, r in found.items()} == {
        "IN_CSAT": ("parent 'CO_NPSS' is not in the KPI library", "KPIs!P15"),
        "IN_ORDERS": ("parent 'IN_DEFECTS' is not a department or company KPI (level: individual)", "KPIs!P16"),
        "IN_TIME_TO_FILL": ("the cascade loops: IN_TIME_TO_FILL → DP_ATTRITION → IN_TIME_TO_FILL", "KPIs!P20"),
        "IN_TRAINING": ("no parent_kpi: it links to nothing", "KPIs!P21"),
        "IN_COMPLIANCE": ("level 'squad' is not company, department or individual", "KPIs!O22"),
    }
    assert (found["IN_TRAINING"]["scorecard rows"], found["IN_TRAINING"]["people"]) == (25, 25)
    assert found["IN_TRAINING"]["department"] == "Operations, Finance, People"
    carried = {r["kpi_id"]: r for r in as_dict(table(sheet, "Company KPIs and who carries them"))}
    assert carried["CO_CASH"]["status"] == "nobody carries it" and carried["CO_CASH"]["cell"] == "KPIs!O24"
    assert carried["CO_ENGAGE"]["KPIs below it"] == "IN_ASSESSMENT"  # IN_TRAINING no longer links


def test_chinese_workbook_gets_chinese_review_sheets(tmp_path) -> None:
    from kpi_xl.templates import build_template

    source = save_reproducibly(build_template("zh"), tmp_path / "方案.xlsx")
    assert main(["review", str(source)]) == 0
    book = openpyxl.load_workbook(tmp_path / "方案.review.xlsx")
    assert book.sheetnames == ["复盘汇总", "复盘 - 销售部", "复盘 - 运营部", "指标对齐"]
    assert book["复盘 - 销售部"]["A2"].value.startswith("2 人，6 个指标行，达标 5 个（83.3%）")
    assert rows_of(book["复盘汇总"])[2][:6] == ("部门", "人数", "指标行数", "达标数", "达标率", "平均总分")


def test_review_refuses_to_write_over_its_input(company, capsys) -> None:
    assert main(["review", str(company), "-o", str(company)]) == 2
    assert "new file" in capsys.readouterr().err


def test_review_charts_render_with_libreoffice(reviewed, tmp_path) -> None:
    """Render the Sales review page to PNG, as docs/workbook.md shows how to do by hand
    (and as was done, and looked at, when the layout was made)."""
    from PIL import Image

    office = soffice()
    if shutil.which("pdftoppm") is None:
        message = "pdftoppm is missing: scripts/test installs poppler-utils when run as root"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    subprocess.run([office, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(reviewed)],
                   check=True, capture_output=True, timeout=300)
    pdf = tmp_path / f"{reviewed.stem}.pdf"
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "2", "-l", "2", str(pdf), str(tmp_path / "sales")],
                   check=True, capture_output=True, timeout=120)
    [png] = tmp_path.glob("sales*.png")
    r, g, b = np.asarray(Image.open(png).convert("RGB"), dtype=int).transpose(2, 0, 1)
    bars = int(((b > r + 60) & (b > g + 30)).sum())  # the charts' blue bars
    assert bars > 500, f"no chart bars drawn on {png}"
