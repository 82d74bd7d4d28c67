"""Bad workbooks: each problem must be reported on the exact cell a workbook
author would look at, computed from how the sheet is laid out here (header in
row 1, records from row 2, columns A, B, C... in the order written).

The base workbook (clean) is laid out as:

  Settings   A key | B value                     row 2: company_multiplier 1
  KPIs       A kpi_id | B name | C direction | D method | E threshold |
             F stretch | G curve | H gate        rows 2 REV, 3 COST (lower), 4 NPS (step BAND)
  Curves     A curve_id | B attainment | C score rows 2..4: BAND 0/.95/1.05
  Employees  A employee_id | B name | C department | D base_salary |
             E target_bonus_pct                  rows 2 1001 Ann Sales, 3 1002 Bob Ops
  Scorecards A employee_id | B kpi_id | C weight | D target | E actual
             rows 2 1001 REV, 3 1001 COST, 4 1002 REV, 5 1002 NPS
  Tiers      A min_score | B multiplier | C label  row 2: 0 1 Flat
"""

from __future__ import annotations

import copy
import hashlib
import re
import zipfile
from datetime import date

import pytest

import kpi_xl
from tests.workbook_factory import Error, Formula, Text, write_workbook

BASE = {
    "Settings": [["key", "value"], ["company_multiplier", 1]],
    "KPIs": [
        ["kpi_id", "name", "direction", "method", "threshold", "stretch", "curve", "gate"],
        ["REV", "Revenue", "higher", "linear", 0.8, 1.2, None, "no"],
        ["COST", "Cost", "lower", "linear", 0.8, 1.2, None, "no"],
        ["NPS", "NPS", "higher", "step", None, None, "BAND", "no"],
    ],
    "Curves": [["curve_id", "attainment", "score"], ["BAND", 0, 0], ["BAND", 0.95, 100], ["BAND", 1.05, 0]],
    "Employees": [
        ["employee_id", "name", "department", "base_salary", "target_bonus_pct"],
        [1001, "Ann", "Sales", 50000, 0.1],
        [1002, "Bob", "Ops", 40000, 0.1],
    ],
    "Scorecards": [
        ["employee_id", "kpi_id", "weight", "target", "actual"],
        [1001, "REV", 0.5, 100, 110],
        [1001, "COST", 0.5, 100, 90],
        [1002, "REV", 0.5, 100, 95],
        [1002, "NPS", 0.5, 1, 0.97],
    ],
    "Tiers": [["min_score", "multiplier", "label"], [0, 1, "Flat"]],
}


def base() -> dict[str, list[list]]:
    return copy.deepcopy(BASE)


def describe(outcome) -> str:
    return "\n".join(f"  {p.severity} {p.where!r} (sheet={p.sheet!r}, cell={p.cell!r}): {p.message}"
                     for p in outcome.problems) or "  (no problems)"


def run(tmp_path, sheets, name="book.xlsx"):
    path = write_workbook(tmp_path / name, sheets)
    return kpi_xl.score_workbook(path)


def expect(outcome, where, *words, severity="error"):
    """A problem of ``severity`` at ``where`` (or one of a set of cells) whose
    message contains every word (case-insensitive)."""
    wheres = {where} if isinstance(where, str) else set(where)
    hits = [p for p in outcome.problems if p.where in wheres and p.severity == severity]
    assert hits, f"expected a {severity} at {sorted(wheres)}; got:\n{describe(outcome)}"
    assert any(all(w.lower() in p.message.lower() for w in words) for p in hits), (
        f"no {severity} at {sorted(wheres)} mentions {words}; got:\n{describe(outcome)}")
    if severity == "error":
        assert outcome.ok is False
        assert outcome.results is None and outcome.payouts is None  # no partial payouts
    return hits


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- sanity


def test_base_workbook_is_clean(tmp_path):
    outcome = run(tmp_path, base())
    assert outcome.ok, describe(outcome)
    assert not list(outcome.problems), describe(outcome)
    assert outcome.results is not None and len(outcome.results) == 4


# --------------------------------------------------------------------------- sheets, columns


def test_missing_required_sheet(tmp_path):
    sheets = base()
    del sheets["Tiers"]
    outcome = run(tmp_path, sheets)
    assert outcome.ok is False
    hits = [p for p in outcome.problems if p.severity == "error" and p.sheet == "Tiers"]
    assert hits, describe(outcome)
    assert any(p.cell == "" for p in hits), describe(outcome)
    assert outcome.payouts is None


def test_missing_required_column(tmp_path):
    sheets = base()
    sheets["Employees"] = [row[:3] + row[4:] for row in sheets["Employees"]]  # drop D base_salary
    outcome = run(tmp_path, sheets)
    assert outcome.ok is False
    hits = [p for p in outcome.problems
            if p.severity == "error" and p.sheet == "Employees" and "base_salary" in p.message]
    assert hits, describe(outcome)
    # No data cell holds the missing column: the sheet itself ('') or a header-row cell.
    assert any(re.fullmatch(r"([A-Z]+1)?", p.cell) for p in hits), describe(outcome)


# --------------------------------------------------------------------------- ids


def test_unknown_employee_in_scorecards(tmp_path):
    sheets = base()
    sheets["Scorecards"][3][0] = 1009  # row 4, column A
    outcome = run(tmp_path, sheets)
    expect(outcome, "Scorecards!A4", "1009")


def test_unknown_kpi_did_you_mean(tmp_path):
    sheets = base()
    sheets["Scorecards"][1][1] = "REVV"  # row 2, column B
    outcome = run(tmp_path, sheets)
    expect(outcome, "Scorecards!B2", "REVV", "did you mean 'REV'")


def test_duplicate_kpi_id(tmp_path):
    sheets = base()
    sheets["KPIs"].append(["REV", "Revenue again", "higher", "linear", 0.8, 1.2, None, "no"])  # row 5
    outcome = run(tmp_path, sheets)
    expect(outcome, "KPIs!A5", "REV")


def test_duplicate_employee_id_number_and_text(tmp_path):
    sheets = base()
    sheets["Employees"].append([Text("1001"), "Ann again", "Sales", 1, 0.1])  # row 4: '1001' == 1001
    outcome = run(tmp_path, sheets)
    expect(outcome, "Employees!A4", "1001")


def test_duplicate_scorecard_row(tmp_path):
    sheets = base()
    sheets["Scorecards"].append([Text("1002"), "NPS", 0.5, 1, 0.97])  # row 6 repeats row 5
    outcome = run(tmp_path, sheets)
    # The pair (employee_id, kpi_id) is the duplicate: either of its cells on the second row.
    expect(outcome, {"Scorecards!A6", "Scorecards!B6"}, "1002", "NPS")


def test_unknown_curve_did_you_mean(tmp_path):
    sheets = base()
    sheets["KPIs"][3][6] = "BANDD"  # row 4, column G
    outcome = run(tmp_path, sheets)
    expect(outcome, "KPIs!G4", "BANDD")


def test_unknown_tier_table(tmp_path):
    sheets = base()
    sheets["Employees"][0].append("tier_table")  # column F
    sheets["Employees"][1].append("exec")  # row 2: no such table on Tiers
    outcome = run(tmp_path, sheets)
    expect(outcome, "Employees!F2", "exec")


# --------------------------------------------------------------------------- weights


def test_weights_not_summing_to_one(tmp_path):
    sheets = base()
    sheets["Scorecards"][2][2] = 0.3  # 1001: .5 + .3 = .8
    outcome = run(tmp_path, sheets)
    # reported on the weights of employee 1001 (rows 2-3, column C)
    expect(outcome, {"Scorecards!C2", "Scorecards!C3"}, "weight")


def test_weights_within_tolerance_pass(tmp_path):
    sheets = base()
    sheets["Scorecards"][2][2] = 0.4996  # .5 + .4996 = .9996: within 1 +- .0005
    outcome = run(tmp_path, sheets)
    assert outcome.ok, describe(outcome)


def test_weights_just_outside_tolerance_fail(tmp_path):
    sheets = base()
    sheets["Scorecards"][2][2] = 0.4994  # .5 + .4994 = .9994: off by .0006 > .0005
    outcome = run(tmp_path, sheets)
    expect(outcome, {"Scorecards!C2", "Scorecards!C3"}, "weight")


# --------------------------------------------------------------------------- values


def test_non_numeric_actual(tmp_path):
    sheets = base()
    sheets["Scorecards"][1][4] = "abc"  # row 2, column E
    outcome = run(tmp_path, sheets)
    expect(outcome, "Scorecards!E2", "abc")


def test_blank_actual_is_an_error(tmp_path):
    sheets = base()
    sheets["Scorecards"][3][4] = None  # row 4, column E (decisions: blank actual is an error)
    outcome = run(tmp_path, sheets)
    expect(outcome, "Scorecards!E4")


def test_no_target_anywhere(tmp_path):
    sheets = base()
    sheets["Scorecards"][1][3] = None  # row 2, D; REV has no default target, no budget line
    outcome = run(tmp_path, sheets)
    expect(outcome, "Scorecards!D2", "target")


def test_negative_actual_with_direction_lower(tmp_path):
    sheets = base()
    sheets["Scorecards"][2][4] = -5  # row 3 (COST, lower), column E
    outcome = run(tmp_path, sheets)
    expect(outcome, "Scorecards!E3", "-5")


def test_negative_base_salary(tmp_path):
    sheets = base()
    sheets["Employees"][1][3] = -5000  # row 2, column D
    outcome = run(tmp_path, sheets)
    hits = expect(outcome, "Employees!D2")
    assert any("-5000" in p.message.replace(",", "") for p in hits), describe(outcome)


def test_negative_target_bonus_pct(tmp_path):
    sheets = base()
    sheets["Employees"][2][4] = -0.1  # row 3, column E
    outcome = run(tmp_path, sheets)
    expect(outcome, "Employees!E3")


@pytest.mark.parametrize("row,value", [(1, 0), (2, -100)])
def test_target_not_positive(tmp_path, row, value):
    sheets = base()
    sheets["Scorecards"][row][3] = value  # column D, row 2 or 3
    outcome = run(tmp_path, sheets)
    expect(outcome, f"Scorecards!D{row + 1}", "target")


def test_threshold_above_one(tmp_path):
    sheets = base()
    sheets["KPIs"][1][4] = 1.1  # row 2, column E
    outcome = run(tmp_path, sheets)
    expect(outcome, "KPIs!E2", "1.1")


def test_threshold_in_percent_points(tmp_path):
    sheets = base()
    sheets["KPIs"][2][4] = 80  # row 3, column E: decisions say error "write 0.8 or 80%"
    outcome = run(tmp_path, sheets)
    expect(outcome, "KPIs!E3", "80", "0.8")


def test_stretch_below_one(tmp_path):
    sheets = base()
    sheets["KPIs"][1][5] = 0.9  # row 2, column F
    outcome = run(tmp_path, sheets)
    expect(outcome, "KPIs!F2", "0.9")


def test_unknown_direction(tmp_path):
    sheets = base()
    sheets["KPIs"][1][2] = "sideways"  # row 2, column C
    outcome = run(tmp_path, sheets)
    expect(outcome, "KPIs!C2", "sideways")


def test_curve_with_repeated_attainment(tmp_path):
    sheets = base()
    sheets["Curves"].append(["BAND", 0.95, 90])  # row 5 repeats .95 of row 3
    outcome = run(tmp_path, sheets)
    hits = expect(outcome, "Curves!B5")
    assert any("0.95" in p.message or "95%" in p.message for p in hits), describe(outcome)


def test_step_kpi_without_curve(tmp_path):
    sheets = base()
    sheets["KPIs"][3][6] = None  # row 4 (NPS, step), column G curve left blank
    outcome = run(tmp_path, sheets)
    # the missing value (G4) or the method that needs it (D4)
    expect(outcome, {"KPIs!G4", "KPIs!D4"}, "curve")


def test_duplicate_tier_min_score(tmp_path):
    sheets = base()
    sheets["Tiers"].append([0, 1.5, "Dup"])  # row 3: min_score 0 again
    outcome = run(tmp_path, sheets)
    expect(outcome, "Tiers!A3")


def test_negative_tier_multiplier(tmp_path):
    sheets = base()
    sheets["Tiers"][1][1] = -1  # row 2, column B
    outcome = run(tmp_path, sheets)
    expect(outcome, "Tiers!B2")


def test_rounding_out_of_range(tmp_path):
    sheets = base()
    sheets["Settings"].append(["rounding", 7])  # row 3; 0..6 allowed
    outcome = run(tmp_path, sheets)
    expect(outcome, "Settings!B3", "7")


# --------------------------------------------------------------------------- coverage


def test_employee_without_scorecard_rows(tmp_path):
    sheets = base()
    del sheets["Scorecards"][3:5]  # drop both rows of 1002
    outcome = run(tmp_path, sheets)
    expect(outcome, "Employees!A3", "1002")


def test_department_without_pool(tmp_path):
    sheets = base()
    sheets["Settings"].append(["pool_mode", "cap"])  # row 3
    sheets["Pools"] = [["department", "pool"], ["Sales", 100000]]  # no Ops
    outcome = run(tmp_path, sheets)
    # Ops first appears at Employees!C3 (Bob); the pool_mode setting is the other
    # defensible place.
    expect(outcome, {"Employees!C3", "Settings!B3"}, "Ops")


def test_proration_days_without_period(tmp_path):
    sheets = base()
    sheets["Settings"].append(["proration", "days"])  # row 3, no period_start / period_end
    outcome = run(tmp_path, sheets)
    expect(outcome, {"Settings!B3", "Settings!A3"}, "period")


def test_termination_before_hire(tmp_path):
    sheets = base()
    sheets["Settings"] += [["period_start", "2026-01-01"], ["period_end", "2026-12-31"], ["proration", "days"]]
    sheets["Employees"][0] += ["hire_date", "termination_date"]  # F, G
    sheets["Employees"][1] += [date(2026, 5, 1), date(2026, 4, 1)]  # row 2
    sheets["Employees"][2] += [None, None]
    outcome = run(tmp_path, sheets)
    expect(outcome, {"Employees!G2", "Employees!F2"})


def test_budget_line_missing_for_department(tmp_path):
    sheets = base()
    sheets["KPIs"][0].append("budget_line")  # column I
    for row in sheets["KPIs"][1:]:
        row.append(None)
    sheets["KPIs"].append(["OPEX", "Opex", "lower", "linear", 0.8, 1.2, None, "no", "L1"])  # row 5
    sheets["Budget"] = [["line_id", "department", "budget", "actual"], ["L1", "Sales", 1000, 900]]
    sheets["Scorecards"][3] = [1002, "OPEX", 0.5, None, None]  # row 4: Bob is in Ops, no L1/Ops line
    outcome = run(tmp_path, sheets)
    # no target (and no actual) from anywhere: reported on the row's target cell,
    # naming the line and the department that has no Budget row
    expect(outcome, "Scorecards!D4", "L1", "Ops")


def test_duplicate_budget_line(tmp_path):
    sheets = base()
    sheets["Budget"] = [["line_id", "department", "budget", "actual"],
                        ["L1", "Sales", 1000, 900], ["L1", "Sales", 1000, 950]]  # row 3 repeats the pair
    outcome = run(tmp_path, sheets)
    expect(outcome, {"Budget!A3", "Budget!B3"}, "L1")


# --------------------------------------------------------------------------- error values, formulas


def test_error_value_in_actual(tmp_path):
    sheets = base()
    sheets["Scorecards"][1][4] = Error("#DIV/0!")  # row 2, column E, stored t="e"
    path = write_workbook(tmp_path / "book.xlsx", sheets)
    # make sure the fixture really is an error cell
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet5.xml").decode()
    assert '<c r="E2" t="e"><v>#DIV/0!</v></c>' in xml
    outcome = kpi_xl.score_workbook(path)
    expect(outcome, "Scorecards!E2", "#DIV/0!")


def test_error_value_in_base_salary(tmp_path):
    sheets = base()
    sheets["Employees"][2][3] = Error("#N/A")  # row 3, column D
    outcome = run(tmp_path, sheets)
    expect(outcome, "Employees!D3", "#N/A")


@pytest.mark.parametrize("cached", ["empty <v/> (as openpyxl writes it)", "no <v> at all"])
def test_formula_without_cached_value(tmp_path, cached):
    sheets = base()
    sheets["Scorecards"][2][4] = Formula("=2*45")  # row 3, column E; openpyxl stores no value
    path = write_workbook(tmp_path / "book.xlsx", sheets)
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet5.xml")
    assert b'<c r="E3"><f>2*45</f><v></v></c>' in xml  # openpyxl: formula, empty cached value
    if cached.startswith("no"):
        rewritten = tmp_path / "book-no-v.xlsx"
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                data = src.read(info.filename)
                if info.filename == "xl/worksheets/sheet5.xml":
                    data = data.replace(b"<f>2*45</f><v></v>", b"<f>2*45</f>")
                dst.writestr(info, data)
        path = rewritten
    outcome = kpi_xl.score_workbook(path)
    hits = expect(outcome, "Scorecards!E3")
    assert any(any(w in p.message.lower() for w in ("formula", "calculat", "recalc"))
               for p in hits), describe(outcome)


# --------------------------------------------------------------------------- warnings


def test_unknown_setting_is_a_warning(tmp_path):
    sheets = base()
    sheets["Settings"].append(["pool_mod", "cap"])  # row 3: typo
    outcome = run(tmp_path, sheets)
    assert outcome.ok, describe(outcome)
    expect(outcome, "Settings!A3", "pool_mod", "pool_mode", severity="warning")
    assert outcome.payouts is not None


def test_pools_with_pool_mode_none_is_a_warning(tmp_path):
    sheets = base()
    sheets["Pools"] = [["department", "pool"], ["Sales", 1], ["Ops", 1]]
    outcome = run(tmp_path, sheets)
    assert outcome.ok, describe(outcome)
    assert any(p.severity == "warning" and p.sheet == "Pools" for p in outcome.problems), describe(outcome)
    # ignored: Ann 50000*.1*1 = 5000.00 is not capped to 1
    pay = {r["employee_id"]: r for r in outcome.payouts.to_dict("records")}
    assert round(pay["1001"]["payout"], 2) == 5000.00


def test_pool_for_unknown_department_is_a_warning(tmp_path):
    sheets = base()
    sheets["Settings"].append(["pool_mode", "cap"])
    sheets["Pools"] = [["department", "pool"], ["Sales", 100000], ["Ops", 100000], ["Legal", 5]]  # row 4
    outcome = run(tmp_path, sheets)
    assert outcome.ok, describe(outcome)
    expect(outcome, "Pools!A4", "Legal", severity="warning")


def test_normalized_weights_warning(tmp_path):
    sheets = base()
    sheets["Settings"].append(["normalize_weights", "yes"])
    sheets["Scorecards"][2][2] = 0.3  # 1001: .5 + .3 = .8 -> rescaled, warned
    outcome = run(tmp_path, sheets)
    assert outcome.ok, describe(outcome)
    assert any(p.severity == "warning" and p.sheet == "Scorecards" for p in outcome.problems), describe(outcome)


# --------------------------------------------------------------------------- names as spelled


def test_sheet_named_as_the_workbook_spells_it(tmp_path):
    sheets = base()
    sheets["SCORECARDS"] = sheets.pop("Scorecards")
    sheets["SCORECARDS"][1][4] = "abc"
    outcome = run(tmp_path, sheets)
    expect(outcome, "SCORECARDS!E2", "abc")


def test_chinese_sheet_cell(tmp_path):
    sheets = {
        "指标库": [["指标编号", "名称", "指标方向", "计分方式", "门槛值", "挑战值"],
                ["REV", "收入", "正向", "线性", 0.8, 1.2]],
        "员工": [["工号", "名称", "部门", "基本工资", "目标奖金比例"], [1001, "张三", "销售部", 50000, 0.1]],
        "考核表": [["工号", "指标编号", "权重", "目标值", "实际值"], [1001, "REV", 1, 100, "abc"]],
        "奖金档位": [["最低分", "系数", "档位"], [0, 1, "基本"]],
    }
    outcome = run(tmp_path, sheets)
    assert outcome.language == "zh"
    expect(outcome, "考核表!E2", "abc")


# --------------------------------------------------------------------------- no side effects


def test_scoring_a_bad_workbook_leaves_it_unchanged(tmp_path):
    sheets = base()
    sheets["Scorecards"][1][1] = "REVV"
    sheets["Scorecards"][2][4] = "abc"
    path = write_workbook(tmp_path / "bad.xlsx", sheets)
    before = sha256(path)
    outcome = kpi_xl.score_workbook(path)
    assert outcome.ok is False
    assert sha256(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.xlsx"]  # nothing written beside it


def test_scoring_a_good_workbook_leaves_it_unchanged(tmp_path):
    path = write_workbook(tmp_path / "good.xlsx", base())
    before = sha256(path)
    outcome = kpi_xl.score_workbook(path)
    assert outcome.ok, describe(outcome)
    assert sha256(path) == before


def test_check_workbook_reports_the_same_problems(tmp_path):
    sheets = base()
    sheets["Scorecards"][1][1] = "REVV"
    sheets["KPIs"][1][5] = 0.9
    path = write_workbook(tmp_path / "bad.xlsx", sheets)
    scored = kpi_xl.score_workbook(path)
    checked = kpi_xl.check_workbook(path)
    checked = getattr(checked, "problems", checked)  # an outcome or the list itself

    def key(p):
        return (p.severity, p.where, p.message)

    assert [key(p) for p in checked] == [key(p) for p in scored.problems]
    assert "Scorecards!B2" in {p.where for p in checked}
    assert "KPIs!F2" in {p.where for p in checked}
