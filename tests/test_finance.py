"""Finance: the Budget variance and Bonus cost sheets and the budget_tolerance check.

Every expected number is worked out by hand next to it.
"""

from __future__ import annotations

import copy
import math

import openpyxl
import pytest

import kpi_xl
from kpi_xl.cli import main as cli

from .conftest import SMOKE_SHEETS, sha256, write_sheets

FLAT_TIERS = [["min_score", "multiplier", "label"], [0, 1, "Flat"]]

# Three people; with one flat tier (multiplier 1 for any score) payout = salary x bonus %:
#   Ann Sales 100,000 x 10% = 10,000; Bob Sales 80,000 x 10% = 8,000; Cy Ops 50,000 x 20% = 10,000.
BUDGET_BOOK: dict[str, list[list]] = {
    "KPIs": [
        ["kpi_id", "name", "direction", "method", "threshold", "stretch", "budget_line"],
        ["OPEX", "Operating expenses", "lower", "linear", 0.9, 1.1, "OPEX"],
        ["BOOK", "Bookings", "higher", "linear", 0.8, 1.2, "BOOKINGS"],
    ],
    "Employees": [
        ["employee_id", "name", "department", "base_salary", "target_bonus_pct"],
        [1, "Ann", "Sales", 100000, 0.1],
        [2, "Bob", "Sales", 80000, 0.1],
        [3, "Cy", "Ops", 50000, 0.2],
    ],
    "Scorecards": [
        ["employee_id", "kpi_id", "weight", "target", "actual"],
        [1, "OPEX", 0.5, None, None],  # row 2: both from the OPEX line (Sales)
        [1, "BOOK", 0.5, None, None],  # row 3: both from the BOOKINGS line (Sales)
        [2, "OPEX", 1, 420000, 385000],  # row 4: own target and actual: 420,000 is +5.0% on 400,000, not more
        [3, "OPEX", 1, 700000, None],  # row 5: own target, +7.69% on 650,000: a warning; actual from the line
    ],
    "Tiers": FLAT_TIERS,
    "Budget": [
        ["line_id", "department", "account", "budget", "actual"],
        ["OPEX", "Sales", "6000 Opex", 400000, 385000],
        ["OPEX", "Ops", "6000 Opex", 650000, 671500],
        ["BOOKINGS", "Sales", "4000 Revenue", 1000000, 1100000],
        ["BONUS", "Ops", "6610 Bonus accrual", 30000, None],
    ],
}


def score(tmp_path, sheets, name="book.xlsx"):
    outcome = kpi_xl.score_workbook(write_sheets(tmp_path / name, sheets))
    assert outcome.ok, [str(p) for p in outcome.problems]
    return outcome


def records(frame) -> list[dict]:
    return frame.to_dict("records")


def test_budget_variance_by_line_and_department(tmp_path):
    outcome = score(tmp_path, BUDGET_BOOK)
    rows = records(outcome.variance)
    assert [(r["line_id"], r["department"]) for r in rows] == [
        ("OPEX", "Sales"), ("OPEX", "Ops"), ("BOOKINGS", "Sales"), ("BONUS", "Ops"),
    ]
    opex_sales, opex_ops, bookings, bonus = rows
    # OPEX Sales: 385,000 - 400,000 = -15,000 = -3.75%; a cost under budget is favourable;
    # people: Ann takes both numbers from the line, Bob typed both in (he does not depend on it)
    assert opex_sales["account"] == "6000 Opex"
    assert (opex_sales["budget"], opex_sales["actual"], opex_sales["variance"]) == (400000, 385000, -15000)
    assert opex_sales["variance_pct"] == pytest.approx(-0.0375, abs=1e-12)
    assert (opex_sales["assessment"], opex_sales["kpis"], opex_sales["people"]) == ("favourable", "OPEX", 1)
    # OPEX Ops: 671,500 - 650,000 = +21,500 = +3.3077%: over a cost budget, unfavourable; Cy takes the actual
    assert opex_ops["variance"] == 21500
    assert opex_ops["variance_pct"] == pytest.approx(21500 / 650000, abs=1e-12)
    assert (opex_ops["assessment"], opex_ops["people"]) == ("unfavourable", 1)
    # BOOKINGS Sales: +100,000 = +10%, above a higher-is-better budget: favourable; Ann
    assert (bookings["variance"], bookings["assessment"], bookings["kpis"], bookings["people"]) == (
        100000, "favourable", "BOOK", 1)
    assert bookings["variance_pct"] == pytest.approx(0.1, abs=1e-12)
    # BONUS: no actual yet, no KPI: no variance, nobody depends on it
    assert math.isnan(bonus["variance"]) and math.isnan(bonus["variance_pct"])
    assert (bonus["assessment"], bonus["kpis"], bonus["people"]) == ("", "", 0)


def test_a_target_off_its_budget_line_is_a_warning_with_its_cell(tmp_path):
    outcome = score(tmp_path, BUDGET_BOOK)
    warnings = [p for p in outcome.problems if p.severity == "warning"]
    assert [p.where for p in warnings] == ["Scorecards!D5"]  # row 4's +5.0% is within the default 5%
    assert "differs from its budget line 'OPEX' (Budget, Ops: 650,000) by +7.7%" in warnings[0].message
    assert "budget_tolerance of 0.05 (5.0%)" in warnings[0].message
    # kpi-xl check reports it too, and exits 0 (a warning)
    book = write_sheets(tmp_path / "check.xlsx", BUDGET_BOOK)
    assert [p.where for p in kpi_xl.check_workbook(book).problems] == ["Scorecards!D5"]
    # a wider tolerance (in Chinese, as a percent) silences it; a tighter one flags row 4 too
    sheets = copy.deepcopy(BUDGET_BOOK)
    sheets["Settings"] = [["key", "value"], ["预算容差", "8%"]]
    assert [p for p in score(tmp_path, sheets, "wide.xlsx").problems] == []
    sheets["Settings"] = [["key", "value"], ["budget_tolerance", 0.04]]
    assert [p.where for p in score(tmp_path, sheets, "tight.xlsx").problems] == ["Scorecards!D4", "Scorecards!D5"]


def test_check_command_prints_the_budget_warning(tmp_path, capsys):
    book = write_sheets(tmp_path / "plan.xlsx", BUDGET_BOOK)
    assert cli(["check", str(book)]) == 0
    said = capsys.readouterr()
    assert "warning: Scorecards!D5: target 700,000 for KPI 'OPEX' differs" in said.err


def test_bonus_cost_against_a_bonus_budget_line(tmp_path):
    # pool_mode none, no Pools sheet: Ops's bonus budget is its BONUS budget line (30,000); Sales has none
    rows = records(score(tmp_path, BUDGET_BOOK).cost)
    sales, ops, company = rows
    assert sales["department"] == "Sales"
    assert (sales["headcount"], sales["eligible_headcount"]) == (2, 2)
    assert sales["target_bonus"] == pytest.approx(18000)  # 10,000 + 8,000
    assert (sales["average_multiplier"], sales["payout_before_pool"], sales["payout"]) == (1, 18000, 18000)
    assert math.isnan(sales["bonus_budget"]) and sales["budget_source"] == ""
    assert math.isnan(sales["remaining_budget"]) and math.isnan(sales["budget_used"])
    assert sales["pool_needed"] == 18000  # pool_mode none: what the pool would have to be
    assert (ops["bonus_budget"], ops["budget_source"], ops["payout"]) == (30000, "Budget: BONUS", 10000)
    assert ops["remaining_budget"] == 20000 and ops["budget_used"] == pytest.approx(1 / 3)
    assert ops["pool_needed"] == 10000
    # the company: the budgets given, added up (30,000) against every payout (28,000)
    assert company["department"] == "Company total"
    assert (company["headcount"], company["target_bonus"], company["payout"]) == (3, 28000, 28000)
    assert (company["bonus_budget"], company["remaining_budget"], company["pool_needed"]) == (30000, 2000, 28000)
    assert company["budget_used"] == pytest.approx(28000 / 30000)


def test_bonus_cost_with_capped_pools(tmp_path):
    # the smoke book (tests/conftest.py): Sales capped at 10,000; Cy's gate fails
    sales, ops, company = records(score(tmp_path, SMOKE_SHEETS).cost)
    # Sales: target bonus 100,000 x 10% + 80,000 x 10% = 18,000; multipliers 1.5 and 0.5 -> average 1;
    # before pool 15,000 + 4,000 = 19,000; paid 10,000 (the pool); a pool of 19,000 would pay everyone in full
    assert (sales["target_bonus"], sales["average_multiplier"], sales["payout_before_pool"]) == (18000, 1, 19000)
    assert (sales["payout"], sales["bonus_budget"], sales["budget_source"]) == (10000, 10000, "Pools")
    assert (sales["remaining_budget"], sales["budget_used"], sales["pool_needed"]) == (0, 1, 19000)
    # Ops: Cy 50,000 x 20% = 10,000 on target; total 60 -> tier Low 0.5, but the gate failed: 0 paid
    assert (ops["target_bonus"], ops["average_multiplier"], ops["payout"], ops["pool_needed"]) == (10000, 0.5, 0, 0)
    assert (ops["bonus_budget"], ops["remaining_budget"], ops["budget_used"]) == (100000, 100000, 0)
    assert company["average_multiplier"] == pytest.approx((1.5 + 0.5 + 0.5) / 3)
    assert (company["payout"], company["bonus_budget"], company["remaining_budget"]) == (10000, 110000, 100000)
    assert company["budget_used"] == pytest.approx(10000 / 110000)
    assert company["pool_needed"] == 19000


def test_a_pool_comes_before_the_bonus_budget_line_and_the_line_name_is_a_setting(tmp_path):
    sheets = copy.deepcopy(BUDGET_BOOK)
    sheets["Settings"] = [["key", "value"], ["bonus_budget_line", "BONUS"]]
    sheets["Pools"] = [["department", "pool"], ["Ops", 12000]]  # pool_mode none: ignored for paying
    sheets["Budget"].append(["6610", "Sales", "6610 Bonus accrual", 17500, None])
    outcome = kpi_xl.score_workbook(write_sheets(tmp_path / "b.xlsx", sheets))
    sales, ops, _ = records(outcome.cost)
    assert (ops["bonus_budget"], ops["budget_source"]) == (12000, "Pools")
    assert math.isnan(sales["bonus_budget"])  # the line 6610 is not the bonus budget line
    sheets["Settings"] = [["key", "value"], ["奖金预算科目", 6610]]  # a numeric line id, in Chinese
    sales, ops, company = records(kpi_xl.score_workbook(write_sheets(tmp_path / "c.xlsx", sheets)).cost)
    assert (sales["bonus_budget"], sales["budget_source"], sales["remaining_budget"]) == (17500, "Budget: 6610", -500)
    assert (company["bonus_budget"], company["budget_source"]) == (29500, "Budget: 6610, Pools")


def test_score_writes_the_finance_sheets_and_keeps_the_input(tmp_path):
    book = write_sheets(tmp_path / "plan.xlsx", BUDGET_BOOK)
    before = sha256(book)
    out = tmp_path / "out.xlsx"
    assert cli(["score", str(book), "-o", str(out), "-q"]) == 0
    assert sha256(book) == before
    written = openpyxl.load_workbook(out)
    assert written.sheetnames[-6:] == [  # Problems: the budget_tolerance warning
        "Results", "Payouts", "Departments", "Bonus cost", "Budget variance", "Problems",
    ]
    cost = written["Bonus cost"]
    assert [c.value for c in cost[1]][:4] == ["department", "headcount", "eligible_headcount", "target_bonus"]
    assert cost["I3"].value == "Budget: BONUS" and cost["H3"].number_format == "#,##0.00"
    variance = written["Budget variance"]
    assert [variance.cell(2, c).value for c in range(1, 11)] == [
        "OPEX", "Sales", "6000 Opex", 400000, 385000, -15000, -0.0375, "favourable", "OPEX", 1,
    ]
    assert variance["G2"].number_format == "0.0%"
    # scoring the scored file again replaces them (they are never read as input)
    again = tmp_path / "again.xlsx"
    assert cli(["score", str(out), "-o", str(again), "-q"]) == 0
    assert openpyxl.load_workbook(again).sheetnames.count("Bonus cost") == 1


def test_chinese_workbook_gets_chinese_finance_sheets(tmp_path):
    sheets = {
        "指标库": [["指标编号", "名称", "指标方向", "门槛值", "挑战值", "预算科目"],
                 ["OPEX", "运营费用", "反向", 0.9, 1.1, "OPEX"]],
        "员工": [["工号", "姓名", "部门", "基本工资", "目标奖金比例"], [1, "张伟", "销售部", 100000, 0.1]],
        "考核表": [["工号", "指标编号", "权重", "目标值", "实际值"], [1, "OPEX", 1, None, None]],
        "奖金档位": [["最低分", "系数", "档位"], [0, 1, "统一"]],
        "预算": [["预算科目", "部门", "科目", "预算数", "实际值"], ["OPEX", "销售部", "6000", 400000, 420000],
               ["BONUS", "销售部", "6610", 12000, None]],
    }
    book = write_sheets(tmp_path / "方案.xlsx", sheets)
    out = tmp_path / "结果.xlsx"
    assert cli(["score", str(book), "-o", str(out), "-q"]) == 0
    written = openpyxl.load_workbook(out)
    assert written.sheetnames[-2:] == ["奖金成本", "预算差异"]
    cost = [[c.value for c in row] for row in written["奖金成本"].iter_rows()]
    assert cost[0][:3] == ["部门", "人数", "参与人数"] and cost[2][0] == "公司合计"
    assert cost[1][8] == "预算: BONUS"
    variance = [[c.value for c in row] for row in written["预算差异"].iter_rows()]
    assert variance[0] == ["预算科目", "部门", "科目", "预算数", "实际值", "差异", "差异率", "评价", "相关指标", "相关人数"]
    assert variance[1][5:8] == [20000, 0.05, "不利"]  # a cost 20,000 over budget
