"""The Rules sheet: each action at its stage with hand-computed numbers, both hit
policies, rule order, every problem with its cell (and column in the text), the
Chinese workbook, the example company's rules, and the command line end to end.

The base workbook (columns A, B, C ... in the order written; records from row 2):

  Settings   period_start 2026-01-01, period_end 2026-12-31 (proration none)
  KPIs       REV linear .8/1.2 (50/100/150), NPS direct
  Employees  1001 Ann   Sales 100,000 × 10%  grade P2  hired 2020-01-01
             1002 Bob   Sales  80,000 × 10%  grade P1  hired 2026-11-01 (61 days by Dec 31)
             1003 Cy    Ops    50,000 × 20%  grade P3  (no hire date)
  Scorecards Ann REV 113/100 -> 100 + .13/.2 × 50 = 132.5
             Bob REV  90/100 ->  50 + .1/.2 × 50 =  75
             Cy  NPS direct 85 -> 85 (Cy has no REV row)
  Tiers      0 -> 0.5 Low, 80 -> 1 Meets, 120 -> 1.5 Exceeds

So without rules: Ann 132.5 Exceeds 1.5 -> 100,000 × .1 × 1.5 = 15,000
                  Bob 75    Low     0.5 ->  80,000 × .1 × .5  =  4,000
                  Cy  85    Meets   1   ->  50,000 × .2 × 1   = 10,000
The Rules sheet is A rule_id | B condition | C action | D value | E note.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest

import kpi_xl
from kpi_xl import schema
from kpi_xl.cli import main
from kpi_xl.rules import vocabulary
from kpi_xl.rules.language import ExpressionError, parse, tokenize
from tests.workbook_factory import Error, Pct, write_workbook

RULES_HEADER = ["rule_id", "condition", "action", "value", "note"]

BASE = {
    "Settings": [["key", "value"], ["period_start", date(2026, 1, 1)], ["period_end", date(2026, 12, 31)]],
    "KPIs": [
        ["kpi_id", "name", "method", "threshold", "stretch"],
        ["REV", "Revenue", "linear", 0.8, 1.2],
        ["NPS", "Manager NPS", "direct", None, None],
    ],
    "Employees": [
        ["employee_id", "name", "department", "base_salary", "target_bonus_pct", "grade", "hire_date"],
        [1001, "Ann", "Sales", 100000, 0.1, "P2", date(2020, 1, 1)],
        [1002, "Bob", "Sales", 80000, 0.1, "P1", date(2026, 11, 1)],
        [1003, "Cy", "Ops", 50000, 0.2, "P3", None],
    ],
    "Scorecards": [
        ["employee_id", "kpi_id", "weight", "target", "actual"],
        [1001, "REV", 1, 100, 113],
        [1002, "REV", 1, 100, 90],
        [1003, "NPS", 1, None, 85],
    ],
    "Tiers": [["min_score", "multiplier", "label"], [0, 0.5, "Low"], [80, 1, "Meets"], [120, 1.5, "Exceeds"]],
}


def sheets_with(*rules, settings=(), **replace):
    sheets = copy.deepcopy(BASE)
    sheets["Settings"] += [list(s) for s in settings]
    sheets.update(copy.deepcopy(replace))
    sheets["Rules"] = [RULES_HEADER, *[list(r) + [None] * (5 - len(r)) for r in rules]]
    return sheets


def describe(outcome) -> str:
    return "\n".join(str(p) for p in outcome.problems)


def score(tmp_path, sheets, name="rules.xlsx"):
    outcome = kpi_xl.score_workbook(write_workbook(tmp_path / name, sheets))
    assert outcome.ok, describe(outcome)
    return outcome


def people(outcome) -> dict[str, dict]:
    return {r["employee_id"]: r for r in outcome.payouts.to_dict("records")}


def payouts(outcome) -> dict[str, float]:
    return {k: v["payout"] for k, v in people(outcome).items()}


def trace(outcome) -> dict[str, dict]:
    return {r["rule_id"]: r for r in outcome.rule_trace.to_dict("records")}


# ---------------------------------------------------------------- without rules nothing changes


def test_base_workbook_without_rules(tmp_path):
    outcome = score(tmp_path, copy.deepcopy(BASE))
    assert payouts(outcome) == {"1001": 15000, "1002": 4000, "1003": 10000}
    assert "rules_fired" not in outcome.payouts.columns and outcome.rule_trace is None


def test_empty_rules_sheet_changes_nothing(tmp_path):
    outcome = score(tmp_path, sheets_with())
    assert payouts(outcome) == {"1001": 15000, "1002": 4000, "1003": 10000}
    assert outcome.rule_trace is None and "rules_fired" not in outcome.payouts.columns


# ---------------------------------------------------------------- each action at its stage


def test_add_score_acts_before_the_tier_lookup(tmp_path):
    outcome = score(tmp_path, sheets_with(["R1", 'department = "Ops"', "add_score", 40]))
    cy = people(outcome)["1003"]
    # 85 + 40 = 125 >= 120 -> Exceeds 1.5 -> 50,000 × .2 × 1.5 = 15,000
    assert cy["total_score"] == 125 and cy["tier"] == "Exceeds" and cy["multiplier"] == 1.5
    assert cy["payout"] == 15000
    assert cy["rules_fired"] == "R1"
    assert cy["note"].startswith("total score 125 (85 before rules); tier 'Exceeds' (from 120) → multiplier 1.5; "
                                 "rules: R1 (+40 score)")
    assert payouts(outcome)["1001"] == 15000 and people(outcome)["1001"]["rules_fired"] == ""
    # Results keep the scorecard's own scores
    assert outcome.results.score.tolist() == pytest.approx([132.5, 75, 85])
    # Departments average the totals after rules: Ops (125)
    assert outcome.departments.set_index("department").loc["Ops", "average_total_score"] == 125
    # effect on payout: 10,000 -> 15,000
    assert trace(outcome)["R1"]["payout_effect"] == 5000


def test_negative_add_score_deducts(tmp_path):
    outcome = score(tmp_path, sheets_with(["R1", "grade = 'P2'", "add_score", -20]))
    ann = people(outcome)["1001"]
    # 132.5 - 20 = 112.5 -> Meets 1 -> 10,000
    assert ann["total_score"] == pytest.approx(112.5) and ann["tier"] == "Meets" and ann["payout"] == 10000
    assert "R1 (−20 score)" in ann["note"]


def test_cap_score(tmp_path):
    outcome = score(tmp_path, sheets_with(["R1", None, "cap_score", 110]))
    # Ann 132.5 -> 110 -> Meets -> 10,000; Bob (75) and Cy (85) are under the cap: matched, not changed
    assert payouts(outcome) == {"1001": 10000, "1002": 4000, "1003": 10000}
    assert people(outcome)["1001"]["total_score"] == 110
    assert [p["rules_fired"] for p in people(outcome).values()] == ["R1", "", ""]
    row = trace(outcome)["R1"]
    assert (row["matched"], row["changed"], row["payout_effect"]) == (3, 1, -5000)


def test_force_tier_acts_after_the_lookup(tmp_path):
    outcome = score(tmp_path, sheets_with(["R1", 'grade = "P2"', "force_tier", "Meets"]))
    ann = people(outcome)["1001"]
    assert ann["tier"] == "Meets" and ann["multiplier"] == 1 and ann["payout"] == 10000
    assert ann["total_score"] == pytest.approx(132.5)  # the score is not touched
    assert "tier 'Exceeds' (from 120) → multiplier 1.5; rules: R1 (tier 'Meets')" in ann["note"]


def test_force_tier_no_bonus_and_case_insensitive_label(tmp_path):
    outcome = score(tmp_path, sheets_with(["R1", "grade = 'p1'", "force_tier", "no bonus"],
                                          ["R2", "grade = 'P3'", "force_tier", "exceeds"]))
    bob, cy = people(outcome)["1002"], people(outcome)["1003"]
    assert bob["tier"] == "No bonus" and bob["multiplier"] == 0 and bob["payout"] == 0
    assert cy["tier"] == "Exceeds" and cy["payout"] == 15000


def test_set_multiplier(tmp_path):
    outcome = score(tmp_path, sheets_with(["R1", 'department = "Sales"', "set_multiplier", 2]))
    # Ann 100,000 × .1 × 2 = 20,000; Bob 80,000 × .1 × 2 = 16,000; the tier label stays
    assert payouts(outcome) == {"1001": 20000, "1002": 16000, "1003": 10000}
    assert people(outcome)["1002"]["tier"] == "Low"
    assert "R1 (multiplier 2)" in people(outcome)["1002"]["note"]


def test_scale_multiplier_and_unknown_attainment(tmp_path):
    outcome = score(tmp_path, sheets_with(["R1", 'attainment("REV") >= 110%', "scale_multiplier", Pct(1.1)]))
    # Ann 113% -> 1.5 × 1.1 = 1.65 -> 16,500; Bob 90% no; Cy has no REV row: unknown, no
    assert payouts(outcome) == {"1001": 16500, "1002": 4000, "1003": 10000}
    assert people(outcome)["1001"]["multiplier"] == pytest.approx(1.65)
    assert "rules: R1 (×1.1)" in people(outcome)["1001"]["note"]
    # the negation leaves Cy alone too: a condition that ends unknown does not apply
    outcome = score(tmp_path, sheets_with(["R1", 'not attainment("REV") >= 110%', "scale_multiplier", 2]), "b.xlsx")
    assert payouts(outcome) == {"1001": 15000, "1002": 8000, "1003": 10000}
    # ... but "true or unknown" is true
    outcome = score(tmp_path, sheets_with(["R1", 'attainment("REV") > 2 or grade = "P3"', "scale_multiplier", 2]),
                    "c.xlsx")
    assert payouts(outcome) == {"1001": 15000, "1002": 4000, "1003": 20000}


def test_cap_payout(tmp_path):
    outcome = score(tmp_path, sheets_with(["R1", None, "cap_payout", 12000]))
    assert payouts(outcome) == {"1001": 12000, "1002": 4000, "1003": 10000}
    assert people(outcome)["1001"]["payout_before_pool"] == 12000
    assert "R1 (cap 12,000.00)" in people(outcome)["1001"]["note"]
    assert trace(outcome)["R1"]["payout_effect"] == -3000


def test_cap_payout_multiple_of_the_prorated_target_bonus(tmp_path):
    outcome = score(
        tmp_path,
        sheets_with(["R1", None, "cap_payout_multiple", 1.2], ["R2", "grade = 'P1'", "cap_payout_multiple", 0.25],
                    settings=[["proration", "days"]]),
    )
    # Ann: target bonus 10,000 -> cap 12,000 < 15,000. Cy: 10,000 × 1.2 = 12,000 > 10,000: not reached.
    # Bob: 61 of 365 days; payout 80,000 × .1 × .5 × 61/365 = 668.49; R1's cap 1.2 × 8,000 × 61/365
    # = 1,604.38 is not reached; R2's cap .25 × 8,000 × 61/365 = 334.2466 -> 334.25
    assert payouts(outcome) == {"1001": 12000, "1002": 334.25, "1003": 10000}
    assert people(outcome)["1002"]["rules_fired"] == "R2"
    assert "R2 (cap 0.25× target bonus)" in people(outcome)["1002"]["note"]


def test_ineligible_is_removed_before_pools(tmp_path):
    sheets = sheets_with(["R1", "tenure_days < 90", "ineligible"],
                         settings=[["pool_mode", "cap"]], Pools=[["department", "pool"], ["Sales", 10000], ["Ops", 50000]])
    outcome = score(tmp_path, sheets)
    # Bob: hired Nov 1, 61 days -> not eligible: 0, and no share of the Sales pool.
    # Sales claims 15,000 > pool 10,000 -> factor 2/3 -> Ann 10,000 (without R1: 10,000 × 15/19 = 7,894.74)
    assert payouts(outcome) == {"1001": 10000, "1002": 0, "1003": 10000}
    bob = people(outcome)["1002"]
    assert bob["payout_before_pool"] == 0 and bob["rules_fired"] == "R1"
    assert "rules: R1 (not eligible → no bonus)" in bob["note"]
    assert bob["tier"] == "Low" and bob["multiplier"] == 0.5  # still shown, like eligible = no
    departments = outcome.departments.set_index("department")
    assert departments.loc["Sales", "eligible_headcount"] == 1 and departments.loc["Sales", "payout"] == 10000
    assert trace(outcome)["R1"]["payout_effect"] == -4000


def test_ineligible_can_use_the_payout(tmp_path):
    outcome = score(tmp_path, sheets_with(["R1", "payout < 5000", "ineligible"]))
    assert payouts(outcome) == {"1001": 15000, "1002": 0, "1003": 10000}


def test_names_of_the_employee(tmp_path):
    rules = [
        ["R1", 'employee_id in ("1001", "1003") and base_salary >= 100000', "add_score", 1],
        ["R2", "target_bonus = 10000 and target_bonus_pct = 20% and proration = 1", "add_score", 2],
        ["R3", 'tier_table = "default" and eligible and gate_passed and grade <> "P1"', "add_score", 0.5],
    ]
    outcome = score(tmp_path, sheets_with(*rules))
    totals = {k: v["total_score"] for k, v in people(outcome).items()}
    assert totals == pytest.approx({"1001": 134.0, "1002": 75, "1003": 87.5})


def test_value_calculations_and_functions(tmp_path):
    outcome = score(tmp_path, sheets_with(
        ["R1", None, "set_multiplier", 'min(max(score("REV") / 100, 0.8), 1.2)'],
        ["R2", None, "cap_payout", "0.1 * base_salary + actual(\"NPS\") * 0"],
    ))
    # R1: Ann min(max(1.325, .8), 1.2) = 1.2 -> 12,000; Bob max(.75, .8) = .8 -> 6,400; Cy has no REV: unknown -> 10,000
    # R2: Ann/Bob have no NPS row: unknown, not applied; Cy cap 5,000 + 0 -> 5,000
    assert payouts(outcome) == {"1001": 12000, "1002": 6400, "1003": 5000}


def test_tier_and_multiplier_names_at_the_tier_stage(tmp_path):
    outcome = score(tmp_path, sheets_with(
        ["R1", 'tier = "exceeds"', "scale_multiplier", 2],
        ["R2", "multiplier > 2.5", "set_multiplier", 2.5],
    ))
    # Ann Exceeds: 1.5 × 2 = 3 -> R2 sees 3 > 2.5 -> 2.5 -> 25,000
    assert payouts(outcome)["1001"] == 25000
    assert people(outcome)["1001"]["rules_fired"] == "R1, R2"


# ---------------------------------------------------------------- hit policy and order


POLICY_RULES = [
    ["R1", 'department = "Sales"', "scale_multiplier", 2],
    ["R2", None, "scale_multiplier", 1.5],
    ["R3", None, "cap_payout", 25000],
]


def test_policy_all_applies_every_matching_rule_in_order(tmp_path):
    outcome = score(tmp_path, sheets_with(*POLICY_RULES))
    # Ann 1.5 × 2 × 1.5 = 4.5 -> 45,000 -> cap 25,000; Bob .5 × 2 × 1.5 = 1.5 -> 12,000; Cy 1 × 1.5 -> 15,000
    assert payouts(outcome) == {"1001": 25000, "1002": 12000, "1003": 15000}
    assert people(outcome)["1001"]["rules_fired"] == "R1, R2, R3"


def test_policy_first_is_per_stage(tmp_path):
    outcome = score(tmp_path, sheets_with(*POLICY_RULES, settings=[["rule_policy", "first"]]))
    # tier stage: Ann and Bob take R1 only (×2), Cy R2 (×1.5); the payout stage still caps Ann
    # Ann 1.5 × 2 = 3 -> 30,000 -> 25,000; Bob .5 × 2 = 1 -> 8,000; Cy 15,000
    assert payouts(outcome) == {"1001": 25000, "1002": 8000, "1003": 15000}
    assert people(outcome)["1001"]["rules_fired"] == "R1, R3"
    rows = trace(outcome)
    assert (rows["R1"]["matched"], rows["R2"]["matched"], rows["R3"]["matched"]) == (2, 1, 3)


def test_policy_first_a_matching_cap_that_is_not_reached_still_decides(tmp_path):
    rules = [["R1", 'grade = "P2"', "cap_payout", 50000], ["R2", None, "cap_payout", 12000]]
    first = score(tmp_path, sheets_with(*rules, settings=[["rule_policy", "首条"]]))
    every = score(tmp_path, sheets_with(*rules), "all.xlsx")
    assert payouts(first)["1001"] == 15000  # R1 matched Ann (not reached): R2 is skipped for her
    assert payouts(every)["1001"] == 12000
    assert people(first)["1001"]["rules_fired"] == ""
    assert trace(first)["R1"]["matched"] == 1 and trace(first)["R1"]["changed"] == 0


@pytest.mark.parametrize(
    "rules, expected",
    [
        ([["R1", None, "scale_multiplier", 1.1], ["R2", None, "set_multiplier", 1]], 10000),  # set last wins
        ([["R1", None, "set_multiplier", 1], ["R2", None, "scale_multiplier", 1.1]], 11000),  # 1 × 1.1
    ],
)
def test_order_of_multiplier_rules(tmp_path, rules, expected):
    assert payouts(score(tmp_path, sheets_with(*rules)))["1003"] == expected


def test_order_of_score_rules(tmp_path):
    add_then_cap = score(tmp_path, sheets_with(["R1", None, "add_score", 40], ["R2", None, "cap_score", 100]))
    cap_then_add = score(tmp_path, sheets_with(["R1", None, "cap_score", 100], ["R2", None, "add_score", 40]), "b.xlsx")
    # Cy: 85 + 40 = 125 -> cap 100 -> Meets (10,000); or: cap 100 (no change) -> 85 + 40 = 125 -> Exceeds (15,000)
    assert people(add_then_cap)["1003"]["total_score"] == 100 and payouts(add_then_cap)["1003"] == 10000
    assert people(cap_then_add)["1003"]["total_score"] == 125 and payouts(cap_then_add)["1003"] == 15000


def test_stages_run_in_their_order_whatever_the_sheet_order(tmp_path):
    # a cap written first still acts after the multiplier rule written below it
    outcome = score(tmp_path, sheets_with(["R1", None, "cap_payout", 20000], ["R2", None, "set_multiplier", 3]))
    assert payouts(outcome) == {"1001": 20000, "1002": 20000, "1003": 20000}
    assert people(outcome)["1001"]["rules_fired"] == "R2, R1"  # in the order they acted


def test_a_switched_off_rule_and_comment_rows(tmp_path):
    outcome = score(tmp_path, sheets_with(["R1", False, "set_multiplier", 3], [None, None, None, None, "a comment"],
                                          ["R2", True, "add_score", 1]))
    assert payouts(outcome) == {"1001": 15000, "1002": 4000, "1003": 10000}
    assert list(trace(outcome)) == ["R1", "R2"]


def test_rule_trace_sheet(tmp_path):
    outcome = score(tmp_path, sheets_with(
        ["R1", 'department = "Sales"', "scale_multiplier", 2, "Sales kicker"],
        ["R2", None, "cap_payout", 25000],
        ["R3", "tenure_days < 90", "ineligible"],
    ))
    rows = trace(outcome)
    # R1: Ann 15,000 -> 30,000, Bob 4,000 -> 8,000: +19,000. R2: Ann 30,000 -> 25,000: -5,000.
    # R3: Bob 8,000 -> 0: -8,000. Sum +6,000 = (25,000 + 0 + 10,000) - (15,000 + 4,000 + 10,000).
    assert [(r["matched"], r["changed"], r["payout_effect"]) for r in rows.values()] == [
        (2, 2, 19000), (3, 1, -5000), (1, 1, -8000)
    ]
    assert rows["R1"]["stage"] == "tier (after tiers)" and rows["R2"]["stage"] == "payout (before pools)"
    assert rows["R3"]["stage"] == "eligibility (before pools)" and rows["R1"]["note"] == "Sales kicker"
    assert rows["R1"]["condition"] == 'department = "Sales"' and rows["R1"]["value"] == "2"


# ---------------------------------------------------------------- problems, with cell and column


def check(tmp_path, *rules, **extra):
    return kpi_xl.check_workbook(write_workbook(tmp_path / "check.xlsx", sheets_with(*rules, **extra)))


def only(outcome, severity="error"):
    found = [p for p in outcome.problems if p.severity == severity]
    assert len(found) == 1, describe(outcome)
    return found[0]


@pytest.mark.parametrize(
    "condition, cell, message",
    [
        ("tenur_days < 90", "B2", "col 1: unknown name 'tenur_days' — did you mean 'tenure_days'?"),
        ("total_score >= ", "B2", "col 13: expected a value after '>='"),
        ("total_score >= and grade = 'P1'", "B2", "col 13: expected a value after '>='"),
        (">= 5", "B2", "col 1: expected a value before '>='"),
        ('department = 5', "B2", "col 14: cannot compare 'department' (text) with '5' (a number)"),
        ('department > "A"', "B2", "col 1: '>' compares numbers, but 'department' is text: use = or <> for text"),
        ('eligible = "no"', "B2", 'col 12: cannot compare \'eligible\' (true/false) with "no" (text): '
                                  "write eligible = yes, or eligible = no"),
        ('attainment("REVV") > 1', "B2", "col 12: unknown KPI 'REVV' (not on the KPIs sheet) — did you mean 'REV'?"),
        ("attainment(REV) > 1", "B2", 'col 12: write the KPI id in quotes: attainment("REV")'),
        ("attainment > 1", "B2", 'col 1: attainment is a function: write attainment("REV")'),
        ('attain("REV") > 1', "B2", "col 1: unknown function 'attain' — did you mean 'attainment'?"),
        ("REV > 1", "B2", "col 1: unknown name 'REV' — for the KPI REV write attainment(\"REV\"), "
                          "score(\"REV\") or actual(\"REV\")"),
        ("department = Sales", "B2", "col 14: unknown name 'Sales' — text needs quotes: \"Sales\""),
        ("total_score + 1", "B2", "col 1: a condition must be true or false (a comparison such as "
                                  "total_score >= 100), but 'total_score + 1' is a number"),
        ("total_score > 1 and 5", "B2", "col 21: 'and' joins conditions, but '5' is a number"),
        ("1 < total_score < 3", "B2", "col 17: comparisons cannot be chained ('1 < total_score < ...'): "
                                      "join two comparisons with and, e.g. x > 1 and x < 3"),
        ("(total_score > 3", "B2", "col 1: this '(' is never closed: add a ')'"),
        ("total_score > 3)", "B2", "col 16: unexpected ')': there is no '(' for it to close"),
        ("total_score > 3 grade = 'P1'", "B2", "col 17: unexpected 'grade' after a complete expression — "
                                               "is an 'and' or 'or' missing?"),
        ('department in "Sales"', "B2", "col 12: 'in' needs a list in parentheses, e.g. "
                                        'department in ("Sales", "Support")'),
        ("department in ()", "B2", "col 15: the list after 'in' is empty"),
        ("grade in ('P1', 2)", "B2", "col 17: 'in' compares 'grade' (text) with '2' (a number)"),
        ("total_score > 3 # x", "B2", "col 17: unexpected character '#'"),
        ('department = "Sales', "B2", 'col 14: the text starting with " has no closing quote'),
        ("90days > 1", "B2", "col 1: '90days' is not a number: write the number alone, e.g. 90"),
        ("payout > 5", "B2", "col 1: 'payout' is not known yet when add_score acts (before the tier lookup): "
                             "payout is known once the payout before pool is computed, so it can be used in "
                             "cap_payout, cap_payout_multiple or ineligible rules"),
        ("multiplier > 1", "B2", "col 1: 'multiplier' is not known yet when add_score acts (before the tier "
                                 "lookup): multiplier is known after the tier lookup, so it can be used in "
                                 "force_tier, set_multiplier, scale_multiplier, cap_payout, cap_payout_multiple "
                                 "or ineligible rules"),
        ("max(total_score) > 1", "B2", "col 1: max needs two or more numbers, e.g. max(1.2, multiplier)"),
        ("()", "B2", "col 1: empty parentheses: put a value or a condition inside"),
        (3, "B2", "a condition must be true or false (a comparison such as tenure_days < 90), not 3"),
    ],
)
def test_condition_problems(tmp_path, condition, cell, message):
    problem = only(check(tmp_path, ["R1", condition, "add_score", 1]))
    assert (problem.where, problem.message) == (f"Rules!{cell}", message)


def test_printed_form_names_cell_and_column(tmp_path):
    problem = only(check(tmp_path, ["R1", "total_score >= ", "add_score", 1]))
    assert str(problem) == "error: Rules!B2: col 13: expected a value after '>='"


def test_tenure_days_needs_period_end(tmp_path):
    sheets = sheets_with(["R1", "tenure_days < 90", "ineligible"])
    sheets["Settings"] = [["key", "value"]]
    outcome = kpi_xl.check_workbook(write_workbook(tmp_path / "b.xlsx", sheets))
    assert only(outcome).message == (
        "col 1: tenure_days needs period_end on the Settings sheet: tenure is counted up to the end of the period"
    )


@pytest.mark.parametrize(
    "rule, cell, message",
    [
        (["R1", None, "cap_bonus", 1], "C2", "unknown action 'cap_bonus' — did you mean 'cap_payout'? (actions: "
         "set_multiplier, scale_multiplier, add_score, cap_score, cap_payout, cap_payout_multiple, force_tier, "
         "ineligible)"),
        (["R1", None, None, 1], "C2", "rule 'R1' has no action: choose one of set_multiplier, scale_multiplier, "
         "add_score, cap_score, cap_payout, cap_payout_multiple, force_tier, ineligible"),
        ([None, "grade = 'P1'", "ineligible"], "A2", "rule_id is empty: give every rule a short id such as R1 "
         "(it names the rule in the Payouts notes)"),
        (["R1", None, "cap_payout"], "D2", "cap_payout needs a value: the most a person is paid, e.g. 20000"),
        (["R1", None, "scale_multiplier"], "D2", "scale_multiplier needs a value: the factor the multiplier is "
         "multiplied by, e.g. 1.1 or 110%"),
        (["R1", None, "force_tier"], "D2", "force_tier needs a value: a tier label of the Tiers sheet, e.g. "
         "Partially meets"),
        (["R1", None, "cap_payout", "abc"], "D2", "col 1: the value 'abc' is not a number (or a calculation such "
         "as 1.1 * multiplier): the most a person is paid, e.g. 20000"),
        (["R1", None, "cap_payout", '"abc"'], "D2", "col 1: the value of cap_payout must be a number or a "
         "calculation, but '\"abc\"' is text"),
        (["R1", None, "cap_payout", True], "D2", "the value of cap_payout TRUE is not a number: the most a person "
         "is paid, e.g. 20000"),
        (["R1", None, "set_multiplier", "1.1 *"], "D2", "col 5: expected a value after '*'"),
        (["R1", None, "set_multiplier", -1], "D2", "the value of set_multiplier -1 is negative: it must be 0 or more"),
        (["R1", None, "cap_payout_multiple", "-2"], "D2", "the value of cap_payout_multiple -2 is negative: it must "
         "be 0 or more"),
        (["R1", None, "add_score", "payout / 100"], "D2", "col 1: 'payout' is not known yet when add_score acts "
         "(before the tier lookup): payout is known once the payout before pool is computed, so it can be used in "
         "cap_payout, cap_payout_multiple or ineligible rules"),
        (["R1", None, "force_tier", "Exceed"], "D2", "force_tier: no tier table has a tier labelled 'Exceed' — "
         "did you mean 'Exceeds'?"),
        (["R1", None, "cap_payout", Error("#N/A")], "D2", "value holds the error value #N/A: fix the formula or "
         "type the value"),
    ],
)
def test_action_and_value_problems(tmp_path, rule, cell, message):
    problem = only(check(tmp_path, rule))
    assert (problem.where, problem.message) == (f"Rules!{cell}", message)


def test_duplicate_rule_id(tmp_path):
    problem = only(check(tmp_path, ["R1", None, "add_score", 1], ["R2", None, "add_score", 1],
                         ["R1", None, "add_score", 2]))
    assert (problem.where, problem.message) == ("Rules!A4", "rule 'R1' appears twice (first at A2): give each rule "
                                                            "its own id")


def test_missing_columns_of_the_rules_sheet(tmp_path):
    sheets = sheets_with()
    sheets["Rules"] = [["rule_id", "condition"], ["R1", "grade = 'P1'"]]
    problem = only(kpi_xl.check_workbook(write_workbook(tmp_path / "b.xlsx", sheets)))
    assert (problem.where, problem.message) == ("Rules!A1", "the column 'action' is missing from the header row (row 1)")


@pytest.mark.parametrize(
    "rule, cell, message",
    [
        (["R1", 'department = "Salse"', "add_score", 1], "B2",
         "col 14: no one has department 'Salse', so this comparison is never true — did you mean 'Sales'?"),
        (["R1", "grade in ('P1', 'P9')", "add_score", 1], "B2",
         "col 17: no one has grade 'P9', so this comparison is never true"),
        (["R1", None, "ineligible", "yes"], "D2", "ineligible takes no value: 'yes' is ignored"),
        (["R1", None, "scale_multiplier", 110], "D2",
         "scale_multiplier 110 multiplies the bonus by 110 — if you meant 110%, write 1.1 or 110%"),
    ],
)
def test_warnings(tmp_path, rule, cell, message):
    outcome = check(tmp_path, rule)
    assert outcome.ok, describe(outcome)
    problem = only(outcome, "warning")
    assert (problem.where, problem.message) == (f"Rules!{cell}", message)


def test_force_tier_label_missing_from_a_tier_table_in_use(tmp_path):
    tiers = [["tier_table", "min_score", "multiplier", "label"], ["default", 0, 0.5, "Low"],
             ["default", 80, 1, "Meets"], ["sales", 0, 0.6, "Below plan"], ["sales", 90, 1, "On plan"]]
    employees = copy.deepcopy(BASE["Employees"])
    employees[0].append("tier_table")
    for row in employees[1:]:
        row.append("sales" if row[2] == "Sales" else "default")
    warned = check(tmp_path, ["R1", None, "force_tier", "Meets"], Tiers=tiers, Employees=employees)
    assert only(warned, "warning").message == (
        "the tier 'Meets' is only in tier table(s) default: people on sales are not affected by this rule"
    )
    quiet = check(tmp_path, ["R1", 'tier_table = "default"', "force_tier", "Meets"], Tiers=tiers, Employees=employees)
    assert quiet.problems == []
    outcome = score(tmp_path, sheets_with(["R1", None, "force_tier", "Meets"], Tiers=tiers, Employees=employees))
    # only Cy (default table) matches, and is Meets already (85): Ann and Bob on sales are untouched
    assert (trace(outcome)["R1"]["matched"], trace(outcome)["R1"]["changed"]) == (1, 0)


def test_check_reports_before_scoring_and_score_writes_no_payouts(tmp_path):
    path = write_workbook(tmp_path / "bad.xlsx", sheets_with(["R1", "tenur_days < 90", "ineligible"]))
    scored = kpi_xl.score_workbook(path)
    checked = kpi_xl.check_workbook(path)
    assert [str(p) for p in checked.problems] == [str(p) for p in scored.problems]
    assert scored.payouts is None and scored.rule_trace is None


def test_a_value_that_comes_out_negative_stops_the_payouts(tmp_path):
    path = write_workbook(tmp_path / "neg.xlsx", sheets_with(["R1", None, "set_multiplier", "multiplier - 1"]))
    assert kpi_xl.check_workbook(path).ok  # only scoring can know
    outcome = kpi_xl.score_workbook(path)
    assert not outcome.ok and outcome.payouts is None
    problem = only(outcome)
    # Bob .5 - 1 < 0; Ann 1.5 - 1 and Cy 1 - 1 are fine
    assert (problem.where, problem.message) == (
        "Rules!D2",
        "the value of rule 'R1' (multiplier - 1) comes out negative for 1 person (1002): set_multiplier needs 0 or more",
    )


def test_problems_keep_reading_order_with_other_sheets(tmp_path):
    sheets = sheets_with(["R1", "tenur_days < 90", "ineligible"])
    sheets["Scorecards"][1][4] = "abc"
    outcome = kpi_xl.check_workbook(write_workbook(tmp_path / "b.xlsx", sheets))
    assert [p.where for p in outcome.problems] == ["Scorecards!E2", "Rules!B2"]


# ---------------------------------------------------------------- the language itself


def test_language_forms():
    for text in ('a = 1', 'a == 1', 'a <> 1', 'a != 1', 'a ≠ 1', 'a ≥ 1', 'a＞＝１', 'a = “x”', "a = ‘x’",
                 '部门 = "销售部" 且 总分 > 100', 'not a or b and c', 'a not in (1, 2)', 'a in （1，2）'):
        assert parse(text) is not None, text
    tree = parse("not a = 1 and b")
    assert tree.kind == "and" and tree.children[0].kind == "not"
    tree = parse("a or b and c")
    assert tree.kind == "or" and tree.children[1].kind == "and"
    tree = parse("1 + 2 * 3 - -4")
    assert tree.kind == "arith" and tree.op == "-" and tree.children[1].kind == "neg"
    assert parse("   ") is None
    assert [t.value for t in tokenize("110% 1e3 .5")[:3]] == [1.1, 1000.0, 0.5]
    assert [t.kind for t in tokenize("是否参与=否且总分>1")] == ["name", "op", "bool", "op", "name", "op", "number", "end"]


def test_nothing_is_ever_executed(tmp_path):
    for text in ("__import__('os').system('true')", "().__class__", "open('x')", "lambda: 1", "x[0]", "a.b"):
        outcome = check(tmp_path, ["R1", text, "add_score", 1])
        assert not outcome.ok, text
    with pytest.raises(ExpressionError):
        parse("a" * 3000)
    with pytest.raises(ExpressionError):
        parse("(" * 100 + "1" + ")" * 100)


def test_every_name_and_function_is_documented():
    text = (Path(__file__).resolve().parent.parent / "docs" / "workbook.md").read_text(encoding="utf-8")
    section = text[text.index("## Rules sheet"):]
    for name in vocabulary.NAMES:
        assert f"| {name.key} | {name.zh} |" in section, name.key
    for function in vocabulary.FUNCTIONS:
        assert f"`{function.key}" in section and function.zh in section, function.key
    for action, zh in schema.ACTION.values.items():
        assert f"| `{action}` | {zh} |" in section, action


# ---------------------------------------------------------------- Chinese workbook


def test_chinese_workbook(tmp_path):
    sheets = {
        "设置": [["项目", "值"], ["考核期结束", date(2026, 12, 31)], ["命中策略", "首条"]],
        "指标库": [["指标编号", "名称", "计分方式", "门槛值", "挑战值"], ["REV", "收入", "线性", 0.8, 1.2],
                ["ASSESS", "考评", "直接评分", None, None]],
        "员工": [["工号", "姓名", "部门", "基本工资", "目标奖金比例", "职级", "入职日期"],
               [1001, "张伟", "销售部", 100000, 0.1, "P2", date(2020, 1, 1)],
               [1002, "李娜", "销售部", 80000, 0.1, "P1", date(2026, 11, 1)],
               [1003, "王芳", "运营部", 50000, 0.2, "P3", date(2019, 5, 1)]],
        "考核表": [["工号", "指标编号", "权重", "目标值", "实际值"], [1001, "REV", 1, 100, 113], [1002, "REV", 1, 100, 90],
                [1003, "ASSESS", 1, None, 82]],
        "奖金档位": [["最低分", "系数", "档位"], [0, 0.5, "未达标"], [60, 0.75, "部分达标"], [80, 1, "达标"],
                 [120, 1.5, "超出预期"]],
        "规则": [["规则编号", "条件", "动作", "值", "说明"],
               ["R1", "司龄天数 < 90", "不参与", None, "入职不满 90 天不发奖金"],
               ["R2", '部门 = "销售部" 且 达成率("REV") >= 110%', "系数乘以", Pct(1.1), "销售加速"],
               ["R3", None, "奖金封顶倍数", 1.6, "奖金不超过目标奖金的 1.6 倍"],
               ["R4", '得分("ASSESS") < 85 且 系数 > 0.75', "指定档位", "部分达标", "考评待改进"]],
    }
    outcome = score(tmp_path, sheets, "中文.xlsx")
    assert outcome.language == "zh"
    paid = payouts(outcome)
    # 张伟: 132.5 -> 超出预期 1.5 × 1.1 = 1.65 -> 16,500 -> cap 1.6 × 10,000 = 16,000
    # 李娜: tenure 61 days -> R1 -> 0.  王芳: 82 -> 达标 1 -> R4 部分达标 .75 -> 7,500
    assert paid == {"1001": 16000, "1002": 0, "1003": 7500}
    notes = {k: v["note"] for k, v in people(outcome).items()}
    assert "规则：R2（系数 ×1.1）、R3（封顶 1.6 倍目标奖金）" in notes["1001"]
    assert "规则：R1（不参与奖金 → 无奖金）" in notes["1002"]
    assert "规则：R4（档位 '部分达标'）" in notes["1003"]
    assert trace(outcome)["R1"]["stage"] == "资格（奖金池前）" and trace(outcome)["R2"]["action"] == "系数乘以"
    written = tmp_path / "out.xlsx"
    assert main(["score", str(tmp_path / "中文.xlsx"), "-o", str(written), "-q"]) == 0
    book = openpyxl.load_workbook(written)
    assert book.sheetnames[-5:] == ["评分结果", "奖金结果", "部门汇总", "奖金成本", "规则追踪"]
    assert [c.value for c in book["规则追踪"][1]] == ["规则编号", "阶段", "动作", "条件", "值", "匹配人数", "改变人数",
                                                  "奖金影响", "说明"]
    assert "触发规则" in [c.value for c in book["奖金结果"][1]]


def test_chinese_problem_lists_actions_with_their_aliases(tmp_path):
    sheets = {
        "指标库": [["指标编号", "名称", "门槛值", "挑战值"], ["REV", "收入", 0.8, 1.2]],
        "员工": [["工号", "姓名", "部门", "基本工资", "目标奖金比例"], [1001, "张伟", "销售部", 100000, 0.1]],
        "考核表": [["工号", "指标编号", "权重", "目标值", "实际值"], [1001, "REV", 1, 100, 113]],
        "奖金档位": [["最低分", "系数", "档位"], [0, 1, "达标"]],
        "规则": [["规则编号", "条件", "动作", "值"], ["R1", "部们 = '销售部'", "封顶", 1]],
    }
    outcome = kpi_xl.check_workbook(write_workbook(tmp_path / "zh.xlsx", sheets))
    messages = [(p.where, p.message) for p in outcome.problems]
    assert messages[0] == ("规则!B2", "col 1: unknown name '部们' (names: employee_id, department, grade, tier_table, "
                                      "tenure_days, base_salary, target_bonus_pct, proration, target_bonus, eligible, "
                                      "gate_passed, total_score, tier, multiplier, payout)")
    assert messages[1][0] == "规则!C2" and "set_multiplier (设定系数)" in messages[1][1]
    assert "did you mean '总分封顶'" in messages[1][1]


# ---------------------------------------------------------------- the command line, end to end


def test_cli_check_and_score_with_rules(tmp_path, capsys):
    bad = write_workbook(tmp_path / "bad.xlsx", sheets_with(["R1", "total_score >= ", "add_score", 1]))
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "error: Rules!B2: col 13: expected a value after '>='" in err
    good = write_workbook(tmp_path / "good.xlsx", sheets_with(["R1", "tenure_days < 90", "ineligible"],
                                                              ["R2", None, "cap_payout", 12000]))
    assert main(["check", str(good)]) == 0
    assert main(["score", str(good), "--csv", str(tmp_path / "csv")]) == 0
    out = tmp_path / "good.scored.xlsx"
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[-5:] == ["Results", "Payouts", "Departments", "Bonus cost", "Rule trace"]
    header = [c.value for c in book["Payouts"][1]]
    assert header[-2:] == ["rules_fired", "note"]
    rows = {r[0]: dict(zip(header, r)) for r in book["Payouts"].iter_rows(min_row=2, values_only=True)}
    assert (rows["1001"]["payout"], rows["1001"]["rules_fired"]) == (12000, "R2")
    assert (rows["1002"]["payout"], rows["1002"]["rules_fired"]) == (0, "R1")
    trace_rows = list(book["Rule trace"].iter_rows(values_only=True))
    assert trace_rows[0] == ("rule_id", "stage", "action", "condition", "value", "matched", "changed",
                             "payout_effect", "note")
    assert trace_rows[1][:3] == ("R1", "eligibility (before pools)", "ineligible")
    assert book["Rule trace"]["H2"].number_format == "#,##0.00"
    assert (tmp_path / "csv" / "Rule trace.csv").exists()


def test_cli_subprocess_engines_agree(tmp_path):
    path = write_workbook(tmp_path / "b.xlsx", sheets_with(*POLICY_RULES, ["R4", "tenure_days < 90", "ineligible"]))
    results = []
    for engine in ("numba", "reference"):
        out = tmp_path / f"{engine}.xlsx"
        done = subprocess.run([sys.executable, "-m", "kpi_xl", "score", str(path), "-o", str(out), "--engine", engine,
                               "-q"], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        book = openpyxl.load_workbook(out, read_only=True)
        results.append([list(r) for name in ("Payouts", "Rule trace") for r in book[name].iter_rows(values_only=True)])
        book.close()
    assert results[0] == results[1]


# ---------------------------------------------------------------- the example company


def test_example_company_rules_by_hand():
    from kpi_xl import templates

    path = templates.DEFAULT_DIRECTORY / templates.EXAMPLE_FILE
    outcome = kpi_xl.score_workbook(path)
    assert outcome.ok and outcome.problems == []
    book = openpyxl.load_workbook(path, read_only=True)
    employees = {str(r[0]): r for r in book["Employees"].iter_rows(min_row=2, values_only=True)}
    rules = [r for r in book["Rules"].iter_rows(min_row=2, values_only=True) if r[0]]
    book.close()
    assert 4 <= len(rules) <= 6
    p = people(outcome)
    changed = {e for e, row in p.items() if row["rules_fired"]}
    assert changed == {"1006", "1034", "1039"}
    # R1: 1039 hired 2026-10-12: 81 days (20 + 30 + 31) < 90 -> ineligible
    assert p["1039"]["rules_fired"] == "R1" and p["1039"]["payout"] == 0
    # R2 then R3: 1006 (Sales, quota 160%): President's club 2 × 1.1 = 2.2; payout would be
    # base × .2 × 2.2 × 1.05 = .462 base; R3 caps it at 2 × target bonus = 2 × .2 × base = .4 base
    base_1006 = employees["1006"][3]
    assert p["1006"]["multiplier"] == pytest.approx(2.2) and p["1006"]["rules_fired"] == "R2, R3"
    assert p["1006"]["payout_before_pool"] == pytest.approx(0.4 * base_1006, abs=1e-9)
    # R4: 1034 assessed 80 < 85, Meets (1.0) > .5 -> Partially meets .5: base × pct × .5 × 1.05
    base_1034, pct_1034 = employees["1034"][3], employees["1034"][4]
    assert p["1034"]["tier"] == "Partially meets" and p["1034"]["multiplier"] == 0.5
    assert p["1034"]["payout"] == round(base_1034 * pct_1034 * 0.5 * 1.05, 2)
    assert trace(outcome)["R5"]["matched"] == 0  # NPS 47: the guard rail does not trigger
    # Sales is over its pool before and after: it pays its pool of 140,000 exactly
    assert outcome.departments.set_index("department").loc["Sales", "payout"] == 140000
    assert round(outcome.payouts.payout.sum(), 2) == 471814.17


def test_a_value_too_large_to_compute_stops_the_payouts(tmp_path):
    constant = check(tmp_path, ["R1", None, "scale_multiplier", "1e200 * 1e200"])
    assert (only(constant).where, only(constant).message) == (
        "Rules!D2", "the value of scale_multiplier is too large to compute")
    outcome = kpi_xl.score_workbook(write_workbook(tmp_path / "big.xlsx", sheets_with(
        ["R1", None, "scale_multiplier", "base_salary * 1e300"])))
    problem = only(outcome)
    assert problem.where == "Rules!D2" and problem.message == (
        "the value of rule 'R1' (base_salary * 1e300) gives numbers too large to compute for 3 people "
        "(1001, 1002, 1003): check the value")
    assert outcome.payouts is None


# ---------------------------------------------------------------- fuzz: rules never crash the engine

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kpi_xl.api import score_sheets  # noqa: E402
from tests.conftest import SMOKE_SHEETS  # noqa: E402

FRAGMENTS = [
    "total_score", "multiplier", "payout", "tier", "department", "grade", "tenure_days", "eligible", "gate_passed",
    "target_bonus", 'attainment("REV")', 'score("COST")', 'actual("MGR")', 'attainment("NOPE")', "attainment(", "(",
    ")", ",", "and", "or", "not", "in", "且", "或", "非", "=", "==", "<>", ">=", "<", ">", "+", "-", "*", "/", "1", "0",
    "110%", "1e308", "-5", "0.5", '"Sales"', "'Ops'", "'x", "“", "#", "部门", "总分", "true", "no", "min(", "max(",
    "9e999", "1e-320", "Exceeds", "Low", "No bonus",
]
expression_texts = st.lists(st.sampled_from(FRAGMENTS), max_size=9).map(" ".join)
rule_cells = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    expression_texts, st.sampled_from(["#N/A", "#DIV/0!", " ", "=", "Meets", "无奖金"]),
)
rule_rows = st.lists(
    st.tuples(
        st.one_of(st.none(), st.sampled_from(["R1", "R2", "R3", 7])),
        rule_cells,
        st.one_of(st.none(), st.sampled_from([*schema.ACTION.values, *schema.ACTION.values.values(), "cap", "x"])),
        rule_cells,
        st.one_of(st.none(), st.text(max_size=5)),
    ).map(list),
    max_size=6,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rule_rows, policy=st.sampled_from(["all", "first", "首条", "bogus"]), engine=st.sampled_from(["numba", "reference"]))
def test_random_rules_never_crash(rows, policy, engine):
    sheets = {k: [list(r) for r in v] for k, v in SMOKE_SHEETS.items()}
    sheets["Settings"].append(["rule_policy", policy])
    sheets["Rules"] = [RULES_HEADER, *rows]
    outcome = score_sheets(sheets, engine=engine)
    if outcome.ok:
        assert outcome.payouts is not None
        assert outcome.payouts["payout"].map(lambda x: x == x and abs(x) < 1e16).all()
        assert (outcome.payouts["payout"] >= 0).all()
    else:
        assert outcome.payouts is None
        assert all(p.sheet and (p.cell or p.sheet == "Rules") for p in outcome.errors)


def test_a_rules_sheet_without_a_value_column(tmp_path):
    sheets = sheets_with()
    sheets["Rules"] = [["rule_id", "condition", "action"], ["R1", "grade = 'P1'", "ineligible"],
                       ["R2", None, "cap_payout"]]
    problem = only(kpi_xl.check_workbook(write_workbook(tmp_path / "b.xlsx", sheets)))
    assert (problem.where, problem.message) == (
        "Rules!C3", "cap_payout needs a value (the most a person is paid, e.g. 20000), but the Rules sheet has no "
                    "value column: add it")


def test_the_documented_examples_are_valid_rules():
    import re

    from kpi_xl.rules.checking import Facts, check_expression

    text = (Path(__file__).resolve().parent.parent / "docs" / "workbook.md").read_text(encoding="utf-8")
    examples = text[text.index("### Examples", text.index("## Rules sheet")):]
    rows = [line.split("|")[1:-1] for line in examples.splitlines() if re.match(r"\| R\d", line)]
    assert len(rows) == 10  # five in English, five in Chinese
    for rule_id, condition, action, value, _note in rows:
        condition = condition.strip().strip("`")
        action = schema.ACTION.parse(action.strip())
        assert action is not None, rule_id
        if condition:
            kpis = {k: i for i, k in enumerate(re.findall(r'\("([^"]+)"\)', condition))}
            check_expression(parse(condition), condition, Facts(kpi_index=kpis), action, "true/false")
