"""kpi-xl whatif: scenarios scored on one compiled plan, with hand-computed payouts; problems with cells."""

from __future__ import annotations

import copy

import numpy as np
import openpyxl
import pytest

import kpi_xl
from kpi_xl import engine
from kpi_xl.cli import main as cli
from kpi_xl.reading import read_workbook
from kpi_xl.whatif import WhatIfResult, whatif_book

from .conftest import sha256, write_sheets

# pool_mode none, step tiers 0 -> 0.5 Low, 80 -> 1 Meets, 110 -> 1.5 Exceeds.
#   Ann (Sales, 100,000 x 10%): REV 100/100 -> 100 x .6 = 60; COST lower 100/100 -> 100 x .4 = 40;
#        total 100 -> Meets 1 -> 10,000
#   Bob (Sales, 60,000 x 10%): REV 90/100 = .9 -> 50 + .1/.2 x 50 = 75 -> Low .5 -> 3,000
#   Cy  (Ops, 50,000 x 20%): COST lower 100/110 = .90909 -> 50 + .10909/.2 x 50 = 77.27 x .5 = 38.64;
#        AUDIT binary 1/1 -> 100 x .5 = 50 (gate passed); total 88.64 -> Meets 1 -> 10,000
#   Base: Sales 13,000, Ops 10,000, total 23,000.
BOOK: dict[str, list[list]] = {
    "KPIs": [
        ["kpi_id", "name", "direction", "method", "threshold", "stretch", "gate"],
        ["REV", "Revenue", "higher", "linear", 0.8, 1.2, "no"],
        ["COST", "Cost", "lower", "linear", 0.8, 1.2, "no"],
        ["AUDIT", "Audit", "higher", "binary", None, None, "yes"],
    ],
    "Employees": [
        ["employee_id", "name", "department", "base_salary", "target_bonus_pct"],
        [1, "Ann", "Sales", 100000, 0.1],
        [2, "Bob", "Sales", 60000, 0.1],
        [3, "Cy", "Ops", 50000, 0.2],
    ],
    "Scorecards": [
        ["employee_id", "kpi_id", "weight", "target", "actual"],
        [1, "REV", 0.6, 100, 100],
        [1, "COST", 0.4, 100, 100],
        [2, "REV", 1, 100, 90],
        [3, "COST", 0.5, 100, 110],
        [3, "AUDIT", 0.5, 1, 1],
    ],
    "Tiers": [["min_score", "multiplier", "label"], [0, 0.5, "Low"], [80, 1, "Meets"], [110, 1.5, "Exceeds"]],
    "Scenarios": [
        ["scenario", "applies_to", "what", "factor", "new_value", "comment"],
        # REV x 1.1: Ann 110 -> 125 x .6 = 75 + 40 = 115 -> Exceeds 1.5 -> 15,000;
        #            Bob 99 -> 50 + .19/.2 x 50 = 97.5 -> Meets -> 6,000.  Sales 21,000, total 31,000
        ["Revenue +10%", "kpi", "REV", 1.1, None, None],
        # Ops 25% better: Cy's cost 110 / 1.25 = 88 -> 100/88 = 1.13636 -> 100 + .13636/.2 x 50 = 134.09 x .5
        #   = 67.05, AUDIT (binary) untouched 50 -> 117.05 -> Exceeds 1.5 -> 15,000.  Total 28,000
        ["Ops better", "department", "Ops", 1.25, None, None],
        # company multiplier 0.9: 9,000 + 2,700 + 9,000 = 20,700
        ["Weak year", "company_multiplier", None, None, 0.9, None],
        # AUDIT actual 0: Cy's gate fails -> 0; Low x 1.2 = 0.6: Bob 60,000 x 10% x .6 = 3,600.  Total 13,600
        ["Audit fails", "kpi", "AUDIT", None, 0, None],
        ["Audit fails", "tier", "Low", 1.2, None, "richer Low tier"],
        # factors compound: REV x 1.1 x 1.1 = 1.21: Ann 121 -> 150 x .6 = 90 + 40 = 130 -> 15,000;
        #   Bob 108.9 -> 100 + .089/.2 x 50 = 122.25 -> Exceeds -> 9,000.  Sales 24,000, total 34,000
        ["Twice", "kpi", "REV", 1.1, None, None],
        ["Twice", "kpi", "REV", 1.1, None, None],
    ],
}
EXPECTED = {  # scenario -> (Sales, Ops)
    "Revenue +10%": (21000, 10000),
    "Ops better": (13000, 15000),
    "Weak year": (11700, 9000),
    "Audit fails": (13600, 0),
    "Twice": (24000, 10000),
}


def run(tmp_path, sheets, engine_name=None, name="book.xlsx"):
    return whatif_book(read_workbook(write_sheets(tmp_path / name, sheets)), engine_name)


@pytest.mark.parametrize("engine_name", ["numba", "reference"])
def test_scenarios_hand_computed(tmp_path, engine_name):
    result = run(tmp_path, BOOK, engine_name)
    assert isinstance(result, WhatIfResult), result
    assert result.department_names == ["Sales", "Ops"] and list(result.headcount) == [2, 1]
    assert list(result.base) == [13000, 10000] and result.base_total == 23000
    assert [s.name for s in result.scenarios] == list(EXPECTED)
    for s, (name, expected) in enumerate(EXPECTED.items()):
        assert tuple(result.payouts[s]) == expected, name
    assert result.totals() == [31000, 28000, 20700, 13600, 34000]
    # the base is exactly what kpi-xl score pays
    scored = kpi_xl.score_workbook(tmp_path / "book.xlsx")
    assert list(scored.departments["payout"]) == [13000, 10000]


def test_scenarios_run_on_the_same_compiled_plan(tmp_path, monkeypatch):
    """The workbook is compiled once; every scenario is a run_plan on modified arrays."""
    from kpi_xl import compiling

    compiled, runs = [], []
    original_compile, original_run = compiling.compile_plan, engine.run_plan
    monkeypatch.setattr(compiling, "compile_plan", lambda book: compiled.append(1) or original_compile(book))
    monkeypatch.setattr(engine, "run_plan", lambda plan, e=None: runs.append(plan) or original_run(plan, e))
    result = run(tmp_path, BOOK)
    assert isinstance(result, WhatIfResult)
    assert len(compiled) == 1 and len(runs) == 1 + 5
    base = runs[0]
    assert base.actual.tolist() == [100, 100, 90, 110, 1]  # the base plan is left as it was
    assert all(plan.row_kpi is base.row_kpi for plan in runs)  # unchanged arrays are shared, not copied
    assert runs[2].actual[3] == pytest.approx(88) and runs[2].actual[4] == 1  # Ops x 1.25: not the binary AUDIT


def test_whatif_cli_writes_scenario_results_side_by_side(tmp_path, capsys):
    book = write_sheets(tmp_path / "plan.xlsx", BOOK)
    before = sha256(book)
    assert cli(["whatif", str(book)]) == 0
    assert sha256(book) == before
    said = capsys.readouterr().out
    assert "(base)" in said and "Revenue +10%" in said and "+8,000.00" in said and "Weak year" in said
    written = openpyxl.load_workbook(tmp_path / "plan.whatif.xlsx")
    assert written.sheetnames == [*BOOK, "Scenario results"]
    sheet = written["Scenario results"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:7] == ["department", "headcount", "Base", "Revenue +10%", "Revenue +10% difference",
                           "Ops better", "Ops better difference"]
    assert rows[1][:5] == ["Sales", 2, 13000, 21000, 8000]
    assert rows[2][:7] == ["Ops", 1, 10000, 10000, 0, 15000, 5000]
    assert rows[3][0] == "Company total" and rows[3][1:] == [
        3, 23000, 31000, 8000, 28000, 5000, 20700, -2300, 13600, -9400, 34000, 11000,
    ]
    assert sheet["D2"].number_format == "#,##0.00"
    # again, into the same output: the sheet is replaced, not added twice
    assert cli(["whatif", str(book), "-o", str(tmp_path / "plan.whatif.xlsx")]) == 0
    assert openpyxl.load_workbook(tmp_path / "plan.whatif.xlsx").sheetnames.count("Scenario results") == 1


def test_chinese_scenarios(tmp_path):
    sheets = {
        "指标库": [["指标编号", "名称", "门槛值", "挑战值"], ["REV", "收入", 0.8, 1.2]],
        "员工": [["工号", "姓名", "部门", "基本工资", "目标奖金比例"], [1, "张伟", "销售部", 100000, 0.1]],
        "考核表": [["工号", "指标编号", "权重", "目标值", "实际值"], [1, "REV", 1, 100, 100]],
        "奖金档位": [["档位表", "最低分", "系数", "档位"], ["default", 0, 0.5, "未达标"], ["default", 110, 1.5, "超出预期"]],
        # REV x 1.1 -> 125 -> 超出预期 1.5 -> 15,000; then 公司系数 = 1.2 -> 18,000
        "情景": [["情景", "调整对象", "调整项", "调整系数", "新值"],
               ["乐观", "指标", "REV", 1.1, None], ["乐观", "公司系数", None, None, 1.2],
               ["档位", "档位", "default: 未达标", None, 0.8]],  # 100 -> 0.8 x 10,000 = 8,000
    }
    book = write_sheets(tmp_path / "方案.xlsx", sheets)
    result = whatif_book(read_workbook(book))
    assert isinstance(result, WhatIfResult), result
    assert result.totals() == [18000, 8000] and result.base_total == 5000
    out = tmp_path / "情景.xlsx"
    assert cli(["whatif", str(book), "-o", str(out)]) == 0
    sheet = openpyxl.load_workbook(out)["情景结果"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["部门", "人数", "基准", "乐观", "乐观 差额", "档位", "档位 差额"]
    assert rows[2] == ["公司合计", 1, 5000, 18000, 13000, 8000, 3000]


HEADER = ["scenario", "applies_to", "what", "factor", "new_value"]


@pytest.mark.parametrize(
    "line, cell, words",
    [
        (["S", "kpi", "REVV", 1.1, None], "C2", "'REVV' is not a KPI of the KPIs sheet — did you mean 'REV'?"),
        (["S", "department", "Marketing", 1.1, None], "C2", "nobody works in department 'Marketing'"),
        (["S", "tier", "Top", 1.1, None], "C2", "no tier is labelled 'Top'"),
        (["S", "tier", "default: Top", 1.1, None], "C2", "tier table 'default' has no tier labelled 'Top'"),
        (["S", "kpi", None, 1.1, None], "C2", "a kpi change needs what it changes"),
        (["S", "bonus", "REV", 1.1, None], "B2", "applies_to 'bonus' is not one of"),
        (["S", None, "REV", 1.1, None], "B2", "applies_to is empty"),
        ([None, "kpi", "REV", 1.1, None], "A2", "no scenario name"),
        (["S", "kpi", "REV", None, None], "D2", "give a factor (1.1 = 10% better) or a new value"),
        (["S", "kpi", "REV", 1.1, 120], "E2", "not both"),
        (["S", "kpi", "REV", 0, None], "D2", "factor 0 must be greater than 0"),
        (["S", "company_multiplier", None, -1, None], "D2", "must not be negative"),
        (["S", "department", "Ops", None, 5], "E2", "a department takes a factor"),
        (["S", "kpi", "COST", None, -5], "E2", "negative, which a lower-is-better KPI cannot have"),
        (["S", "tier", "Low", None, -0.5], "E2", "a multiplier cannot be negative"),
        (["S", "kpi", "REV", "abc", None], "D2", "'abc' is not a number"),
    ],
)
def test_scenario_problems_name_their_cell(tmp_path, line, cell, words):
    sheets = copy.deepcopy(BOOK)
    sheets["Scenarios"] = [HEADER, line]
    problems = run(tmp_path, sheets)
    assert isinstance(problems, list)
    found = [p for p in problems if p.sheet == "Scenarios"]
    assert [p.cell for p in found] == [cell] and found[0].severity == "error" and words in found[0].message, found
    # kpi-xl score and check go on: for them it is a warning about the Scenarios sheet
    scored = kpi_xl.score_workbook(tmp_path / "book.xlsx")
    assert scored.ok and scored.payouts is not None
    [warning] = [p for p in scored.problems if p.sheet == "Scenarios"]
    assert warning.severity == "warning" and warning.cell == cell and "kpi-xl whatif refuses" in warning.message


def test_ambiguous_tier_label_and_missing_sheet(tmp_path, capsys):
    sheets = copy.deepcopy(BOOK)
    sheets["Tiers"] = [["tier_table", "min_score", "multiplier", "label"],
                       ["default", 0, 0.5, "Low"], ["sales", 0, 0.4, "Low"]]
    sheets["Scenarios"] = [HEADER, ["S", "tier", "Low", 1.1, None], ["T", "tier", "sales: Low", 1.1, None]]
    problems = run(tmp_path, sheets)
    assert [(p.cell, p.message) for p in problems if p.sheet == "Scenarios"] == [
        ("C2", "the tier label 'Low' is in 2 tier tables: write 'default: Low' or 'sales: Low'"),
    ]
    bare = copy.deepcopy(BOOK)
    del bare["Scenarios"]
    book = write_sheets(tmp_path / "bare.xlsx", bare)
    assert cli(["whatif", str(book)]) == 1
    said = capsys.readouterr().err
    assert "kpi-xl whatif needs a Scenarios sheet" in said and "nothing written" in said
    assert not (tmp_path / "bare.whatif.xlsx").exists()


def test_whatif_on_the_example_company(tmp_path):
    from kpi_xl.templates import build_example_company, save_reproducibly

    book = save_reproducibly(build_example_company(), tmp_path / "example.xlsx")
    result = whatif_book(read_workbook(book))
    assert isinstance(result, WhatIfResult), result
    assert result.base_total == pytest.approx(471814.17, abs=1e-6)  # what kpi-xl score pays
    assert [s.name for s in result.scenarios] == [
        "Orders +5%", "Sales 10% lower", "No company uplift", "Richer Exceeds tier", "Downside",
    ]
    totals = dict(zip([s.name for s in result.scenarios], result.totals()))
    # company multiplier 1.05 -> 1: every payout / 1.05, except Sales, which its pool (140,000) still caps
    assert totals["No company uplift"] < result.base_total
    assert result.payouts[2][0] == 140000
    assert np.all(result.payouts[:, 0] <= 140000)  # the Sales pool caps every scenario


def test_an_empty_scenarios_sheet_is_a_problem_for_whatif_only(tmp_path):
    sheets = copy.deepcopy(BOOK)
    sheets["Scenarios"] = [HEADER]
    problems = run(tmp_path, sheets)
    assert [(p.where, p.severity) for p in problems] == [("Scenarios!A2", "error")]
    assert "has no changes" in problems[0].message
    scored = kpi_xl.score_workbook(tmp_path / "book.xlsx")
    assert scored.ok and scored.problems == []
