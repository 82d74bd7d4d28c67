"""Golden workbooks: every expected number is worked out by hand from the
workbook contract (shared/spec/workbook-contract.md) and docs/decisions.md,
independently of the implementation.  The arithmetic is shown next to each
expectation.

Scores, attainments and totals are compared to 1e-9; money to the cent
(exact equality of values rounded to 2 decimals).
"""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest

import kpi_xl
from tests.workbook_factory import Fmt, Pct, Text, write_workbook


def approx(x: float):
    return pytest.approx(x, abs=1e-9)


def cents(x: float) -> float:
    return round(float(x), 2)


def describe(outcome) -> str:
    return "\n".join(f"{p.severity} {p.where}: {p.message}" for p in outcome.problems)


def score(tmp_path, sheets, name="book.xlsx"):
    path = write_workbook(tmp_path / name, sheets)
    outcome = kpi_xl.score_workbook(path)
    assert outcome.ok, describe(outcome)
    assert outcome.results is not None and outcome.payouts is not None
    return outcome


def records(frame) -> list[dict]:
    return frame.to_dict("records")


def by_id(frame, column="employee_id") -> dict[str, dict]:
    return {str(r[column]): r for r in records(frame)}


def errors(outcome):
    return [p for p in outcome.problems if p.severity == "error"]


def warnings_(outcome):
    return [p for p in outcome.problems if p.severity == "warning"]


# A tier table that pays multiplier 1 for any score >= 0.
FLAT_TIERS = [["min_score", "multiplier", "label"], [0, 1, "Flat"]]

# ---------------------------------------------------------------------------
# Scoring methods: one employee per case, one scorecard row of weight 1, so
# score == weighted_score == total_score.

SCORING_KPIS = [
    ["kpi_id", "name", "direction", "method", "threshold", "stretch",
     "threshold_score", "target_score", "stretch_score", "curve", "gate"],
    ["LIN", "Linear default", "higher", "linear", 0.8, 1.2, None, None, None, None, "no"],
    ["CUS", "Linear custom", "higher", "linear", 0.5, 1.5, 20, 80, 200, None, "no"],
    ["LOW", "Lower is better", "lower", "linear", 0.8, 1.2, None, None, None, None, "no"],
    ["LCV", "Linear on curve", "higher", "linear", None, None, None, None, None, "CV", "no"],
    ["STP", "Step", "higher", "step", None, None, None, None, None, "ST", "no"],
    ["BND", "Range target", "higher", "step", None, None, None, None, None, "BAND", "no"],
    ["BIN", "Binary", "higher", "binary", None, None, None, None, None, None, "no"],
    ["BIN80", "Binary 80", "higher", "binary", None, None, None, 80, None, None, "no"],
    ["DIR", "Direct", "higher", "direct", None, None, None, None, None, None, "no"],
    ["DIR120", "Direct 120", "higher", "direct", None, None, None, None, 120, None, "no"],
]

SCORING_CURVES = [
    ["curve_id", "attainment", "score"],
    # CV deliberately not sorted on the sheet: sorted it is .5->30, 1->100, 1.5->120
    ["CV", 1.0, 100],
    ["CV", 0.5, 30],
    ["CV", 1.5, 120],
    ["ST", 0.8, 50],
    ["ST", 1.0, 100],
    ["ST", 1.2, 150],
    ["BAND", 0, 0],
    ["BAND", 0.95, 100],
    ["BAND", 1.05, 0],
]

INF = math.inf
NAN = None  # attainment expected blank/NaN (direct)

# (kpi, target, actual, expected attainment, expected score)
SCORING_CASES = [
    # LIN: threshold .8 -> 50, 1.0 -> 100, stretch 1.2 -> 150
    ("LIN", 100, 79, 0.79, 0),  # .79 < .8 -> 0
    ("LIN", 100, 80, 0.8, 50),  # exactly on threshold -> threshold_score 50
    ("LIN", 100, 90, 0.9, 75),  # 50 + (.9-.8)/(1-.8)*(100-50) = 50 + .5*50 = 75
    ("LIN", 100, 100, 1.0, 100),  # exactly 1 -> target_score
    ("LIN", 100, 110, 1.1, 125),  # 100 + (1.1-1)/(1.2-1)*(150-100) = 100 + 25
    ("LIN", 100, 120, 1.2, 150),  # exactly stretch -> 150
    ("LIN", 100, 130, 1.3, 150),  # above stretch -> 150
    ("LIN", 100, -10, -0.1, 0),  # higher, negative actual: a = -.1 -> bottom score 0
    # CUS: threshold .5 -> 20, 1.0 -> 80, stretch 1.5 -> 200
    ("CUS", 100, 40, 0.4, 0),  # below .5 -> 0
    ("CUS", 100, 50, 0.5, 20),  # on threshold -> 20
    ("CUS", 100, 75, 0.75, 50),  # 20 + (.75-.5)/(1-.5)*(80-20) = 20 + .5*60 = 50
    ("CUS", 100, 100, 1.0, 80),  # target_score 80
    ("CUS", 100, 125, 1.25, 140),  # 80 + (1.25-1)/(1.5-1)*(200-80) = 80 + .5*120 = 140
    ("CUS", 100, 160, 1.6, 200),  # above stretch -> 200
    # LOW (direction lower): a = target / actual
    ("LOW", 100, 125, 0.8, 50),  # 100/125 = .8 -> on threshold -> 50
    # 100/110 = 10/11; 50 + (10/11 - 4/5)/(1/5)*50 = 50 + (6/55)*5*50 = 50 + 300/11 = 850/11
    ("LOW", 100, 110, 10 / 11, 850 / 11),
    ("LOW", 100, 100, 1.0, 100),  # 100/100 = 1 -> 100
    ("LOW", 100, 80, 1.25, 150),  # 100/80 = 1.25 >= 1.2 -> 150
    ("LOW", 100, 0, INF, 150),  # actual 0: infinite attainment -> top score 150
    # LCV: linear on curve CV (.5,30) (1,100) (1.5,120)
    ("LCV", 100, 40, 0.4, 0),  # below first point (.5) -> 0, not 30
    ("LCV", 100, 50, 0.5, 30),  # on first point -> 30
    ("LCV", 100, 75, 0.75, 65),  # 30 + (.75-.5)/(1-.5)*(100-30) = 30 + 35 = 65
    ("LCV", 100, 125, 1.25, 110),  # 100 + (1.25-1)/(1.5-1)*(120-100) = 100 + 10
    ("LCV", 100, 200, 2.0, 120),  # above last point -> last score 120
    # STP: step curve ST (.8,50) (1,100) (1.2,150): last point with attainment <= a
    ("STP", 100, 79, 0.79, 0),  # below first point -> 0
    ("STP", 100, 80, 0.8, 50),  # exactly .8 -> 50
    ("STP", 100, 99, 0.99, 50),  # .8 <= .99 < 1 -> 50
    ("STP", 100, 100, 1.0, 100),  # exactly 1 -> 100
    ("STP", 100, 119, 1.19, 100),  # 1 <= 1.19 < 1.2 -> 100
    ("STP", 100, 130, 1.3, 150),  # >= 1.2 -> 150
    # BND: range target 0->0, .95->100, 1.05->0
    ("BND", 100, 94, 0.94, 0),  # last point <= .94 is (0, 0) -> 0
    ("BND", 100, 95, 0.95, 100),  # exactly .95 -> 100
    ("BND", 100, 97, 0.97, 100),  # .95 <= .97 < 1.05 -> 100
    ("BND", 100, 105, 1.05, 0),  # exactly 1.05 -> 0
    ("BND", 100, -5, -0.05, 0),  # below the first point (0) -> 0
    # BIN: a >= 1 -> target_score, else 0
    ("BIN", 1, 1, 1.0, 100),  # exactly 1 -> target_score 100
    ("BIN", 1, 0.99, 0.99, 0),  # .99 < 1 -> 0
    ("BIN", 1, 1.5, 1.5, 100),  # above 1 -> still target_score (not stretch)
    ("BIN80", 10, 10, 1.0, 80),  # custom target_score 80
    # DIR: actual is the score, clipped to [0, stretch_score]; no attainment
    ("DIR", None, 90, NAN, 90),
    ("DIR", None, 87.5, NAN, 87.5),
    ("DIR", None, 200, NAN, 150),  # clipped to stretch_score 150
    ("DIR", None, -5, NAN, 0),  # clipped to 0
    ("DIR120", 50, 130, NAN, 120),  # target ignored; clipped to custom stretch_score 120
]


def scoring_sheets():
    employees = [["employee_id", "name", "department", "base_salary", "target_bonus_pct"]]
    scorecards = [["employee_id", "kpi_id", "weight", "target", "actual"]]
    for i, (kpi, target, actual, _a, _s) in enumerate(SCORING_CASES, start=1):
        emp = f"E{i:02d}"
        employees.append([emp, f"Person {i}", "Dept", 1000, 0.1])
        scorecards.append([emp, kpi, 1, target, actual])
    return {
        "KPIs": SCORING_KPIS,
        "Curves": SCORING_CURVES,
        "Employees": employees,
        "Scorecards": scorecards,
        "Tiers": FLAT_TIERS,
    }


def test_scoring_methods(tmp_path):
    outcome = score(tmp_path, scoring_sheets())
    rows = records(outcome.results)
    assert len(rows) == len(SCORING_CASES)
    for i, (row, case) in enumerate(zip(rows, SCORING_CASES), start=1):
        kpi, _target, _actual, attainment, expected = case
        label = f"E{i:02d} {case}"
        assert row["employee_id"] == f"E{i:02d}", label
        assert row["kpi_id"] == kpi, label
        assert row["weight"] == approx(1.0), label
        if attainment is NAN:
            assert row["attainment"] is None or math.isnan(row["attainment"]), label
        elif attainment == INF:
            assert math.isinf(row["attainment"]) and row["attainment"] > 0, label
        else:
            assert row["attainment"] == approx(attainment), label
        assert row["score"] == approx(expected), label
        assert row["weighted_score"] == approx(expected), label  # weight 1
    payouts = records(outcome.payouts)
    assert [p["employee_id"] for p in payouts] == [f"E{i:02d}" for i in range(1, len(SCORING_CASES) + 1)]
    for p, case in zip(payouts, SCORING_CASES):
        assert p["total_score"] == approx(case[4]), case


# ---------------------------------------------------------------------------
# Weighted totals, tiers (step), payout and departments in one small book.


def test_weighted_total_and_payout(tmp_path):
    sheets = {
        "KPIs": [
            ["kpi_id", "name", "direction", "method", "threshold", "stretch"],
            ["REV", "Revenue", "higher", "linear", 0.8, 1.2],
            ["COST", "Cost", "lower", "linear", 0.8, 1.2],
            ["MGR", "Manager", "higher", "direct", None, None],
        ],
        "Employees": [
            ["employee_id", "name", "department", "base_salary", "target_bonus_pct"],
            ["A1", "Ann", "Sales", 80000, 0.15],
            ["A2", "Abe", "Sales", 60000, 0.1],
        ],
        "Scorecards": [
            ["employee_id", "kpi_id", "weight", "target", "actual"],
            ["A1", "REV", 0.5, 200, 230],  # a 1.15 -> 100 + .15/.2*50 = 137.5; x.5 = 68.75
            ["A1", "COST", 0.3, 50, 40],  # a 50/40 = 1.25 -> 150; x.3 = 45
            ["A1", "MGR", 0.2, None, 70],  # 70; x.2 = 14
            # A1 total = 68.75 + 45 + 14 = 127.75
            ["A2", "REV", 0.6, 200, 170],  # a .85 -> 50 + .05/.2*50 = 62.5; x.6 = 37.5
            ["A2", "MGR", 0.4, None, 100],  # 100; x.4 = 40
            # A2 total = 77.5
        ],
        "Tiers": [
            ["min_score", "multiplier", "label"],
            [0, 0.5, "Low"],
            [80, 1, "Meets"],
            [120, 1.5, "Exceeds"],
        ],
    }
    outcome = score(tmp_path, sheets)
    assert outcome.language == "en"
    rows = records(outcome.results)
    assert [(r["employee_id"], r["kpi_id"]) for r in rows] == [
        ("A1", "REV"), ("A1", "COST"), ("A1", "MGR"), ("A2", "REV"), ("A2", "MGR")]
    assert [r["attainment"] for r in rows[:2]] == [approx(1.15), approx(1.25)]
    assert [r["score"] for r in rows] == [approx(137.5), approx(150), approx(70), approx(62.5), approx(100)]
    assert [r["weighted_score"] for r in rows] == [
        approx(68.75), approx(45), approx(14), approx(37.5), approx(40)]
    assert [r["weight"] for r in rows] == [approx(0.5), approx(0.3), approx(0.2), approx(0.6), approx(0.4)]
    assert [r["target"] for r in rows[:2]] == [approx(200), approx(50)]
    assert [r["actual"] for r in rows[:2]] == [approx(230), approx(40)]

    pay = by_id(outcome.payouts)
    a1, a2 = pay["A1"], pay["A2"]
    assert a1["total_score"] == approx(127.75)
    assert a1["tier"] == "Exceeds" and a1["multiplier"] == approx(1.5)  # 127.75 >= 120
    assert a1["gate"] == "passed"
    assert a1["proration"] == approx(1)
    assert a1["pool_factor"] == approx(1)
    assert a1["payout_before_pool"] == approx(18000)  # 80000 * .15 * 1.5 = 18000
    assert cents(a1["payout"]) == 18000.00
    assert a2["total_score"] == approx(77.5)
    assert a2["tier"] == "Low" and a2["multiplier"] == approx(0.5)  # 0 <= 77.5 < 80
    assert cents(a2["payout"]) == 3000.00  # 60000 * .1 * .5
    assert a1["name"] == "Ann" and a1["department"] == "Sales"

    dept = records(outcome.departments)
    assert len(dept) == 1
    d = dept[0]
    assert d["department"] == "Sales"
    assert d["headcount"] == 2 and d["eligible_headcount"] == 2
    assert d["average_total_score"] == approx((127.75 + 77.5) / 2)  # 102.625
    assert cents(d["payout"]) == 21000.00  # 18000 + 3000
    assert d["pool_factor"] == approx(1)


# ---------------------------------------------------------------------------
# Gates.


def test_gates(tmp_path):
    sheets = {
        "KPIs": [
            ["kpi_id", "name", "direction", "method", "threshold", "stretch", "curve", "gate"],
            ["GREV", "Revenue gate", "higher", "linear", 0.8, 1.2, None, "yes"],
            ["AUDIT", "Audit", "higher", "binary", None, None, None, "yes"],
            ["SAFE", "Safety", "higher", "step", None, None, "ST", "yes"],
            ["MGR", "Manager", "higher", "direct", None, None, None, "yes"],
            ["REV", "Revenue", "higher", "linear", 0.8, 1.2, None, "no"],
        ],
        "Curves": [
            ["curve_id", "attainment", "score"],
            ["ST", 0.8, 50], ["ST", 1.0, 100], ["ST", 1.2, 150],
        ],
        "Employees": [
            ["employee_id", "name", "department", "base_salary", "target_bonus_pct"],
            ["P1", "On threshold", "D", 10000, 0.1],
            ["P2", "Two gates fail", "D", 10000, 0.1],
            ["P3", "Curve/direct on threshold", "D", 10000, 0.1],
            ["P4", "Direct gate fails", "D", 10000, 0.1],
            ["P5", "Step gate fails", "D", 10000, 0.1],
            ["P6", "Non-gate KPI below threshold", "D", 10000, 0.1],
        ],
        "Scorecards": [
            ["employee_id", "kpi_id", "weight", "target", "actual"],
            ["P1", "GREV", 0.5, 100, 80],  # a .8 exactly threshold -> 50, passes; x.5 = 25
            ["P1", "AUDIT", 0.5, 1, 1],  # a 1 -> 100, passes; x.5 = 50 -> total 75
            ["P2", "AUDIT", 0.5, 1, 0.99],  # a .99 < 1 -> 0, fails
            ["P2", "GREV", 0.5, 100, 79],  # a .79 < .8 -> 0, fails -> total 0
            ["P3", "SAFE", 0.5, 100, 80],  # a .8 = first curve point -> 50, passes; 25
            ["P3", "MGR", 0.5, None, 50],  # 50 = threshold_score (default 50) passes; 25 -> 50
            ["P4", "MGR", 0.5, None, 49],  # 49 < 50 fails; x.5 = 24.5
            ["P4", "REV", 0.5, 100, 100],  # 100; x.5 = 50 -> total 74.5
            ["P5", "SAFE", 0.5, 100, 79],  # .79 < .8 (first point) -> 0, fails
            ["P5", "REV", 0.5, 100, 120],  # 150; x.5 = 75 -> total 75
            ["P6", "REV", 1, 100, 50],  # .5 < .8 -> 0 but REV is no gate -> passed
        ],
        "Tiers": FLAT_TIERS,
    }
    outcome = score(tmp_path, sheets)
    pay = by_id(outcome.payouts)
    # Passing employees: 10000 * .1 * 1 = 1000.00
    assert pay["P1"]["gate"] == "passed"
    assert pay["P1"]["total_score"] == approx(75)
    assert cents(pay["P1"]["payout"]) == 1000.00
    assert pay["P3"]["gate"] == "passed"
    assert pay["P3"]["total_score"] == approx(50)
    assert cents(pay["P3"]["payout"]) == 1000.00
    assert pay["P6"]["gate"] == "passed"
    assert pay["P6"]["total_score"] == approx(0)
    assert cents(pay["P6"]["payout"]) == 1000.00  # flat tier: min_score 0 -> multiplier 1
    # Failing: every failing gate named, in scorecard order; no bonus at all,
    # but multiplier and tier are still shown (decisions.md).
    assert pay["P2"]["gate"] == "failed: AUDIT, GREV"
    assert pay["P2"]["total_score"] == approx(0)
    assert pay["P4"]["gate"] == "failed: MGR"
    assert pay["P4"]["total_score"] == approx(74.5)
    assert pay["P5"]["gate"] == "failed: SAFE"
    assert pay["P5"]["total_score"] == approx(75)
    for emp in ("P2", "P4", "P5"):
        assert pay[emp]["payout_before_pool"] == approx(0), emp
        assert cents(pay[emp]["payout"]) == 0.0, emp
        assert pay[emp]["multiplier"] == approx(1), emp
        assert pay[emp]["tier"] == "Flat", emp
    dept = records(outcome.departments)[0]
    assert dept["headcount"] == 6
    assert cents(dept["payout"]) == 3000.00  # P1 + P3 + P6


# ---------------------------------------------------------------------------
# Tiers.

# One direct KPI so that total_score = the actual (within 0..150).
DIRECT_KPI = [["kpi_id", "name", "method"], ["MGR", "Manager", "direct"]]


def tier_sheets(totals, tiers, settings=None):
    employees = [["employee_id", "name", "department", "base_salary", "target_bonus_pct"]]
    scorecards = [["employee_id", "kpi_id", "weight", "actual"]]
    for i, total in enumerate(totals, start=1):
        employees.append([f"T{i}", f"T {i}", "D", 10000, 0.1])  # 10000 * .1 = 1000 x multiplier
        scorecards.append([f"T{i}", "MGR", 1, total])
    sheets = {"KPIs": DIRECT_KPI, "Employees": employees, "Scorecards": scorecards, "Tiers": tiers}
    if settings:
        sheets = {"Settings": [["key", "value"], *settings], **sheets}
    return sheets


def test_tiers_step(tmp_path):
    tiers = [  # listed out of order on purpose
        ["min_score", "multiplier", "label"],
        [100, 1.0, "Meets"],
        [60, 0.5, "Partial"],
        [120, 1.5, "Exceeds"],
    ]
    totals = [59, 60, 99.5, 100, 119.99, 120, 150]
    expected = [  # (multiplier, label, payout = 1000 * multiplier)
        (0, "No bonus", 0.00),  # 59 below lowest min_score 60
        (0.5, "Partial", 500.00),  # exactly on 60
        (0.5, "Partial", 500.00),  # 60 <= 99.5 < 100
        (1.0, "Meets", 1000.00),  # exactly on 100
        (1.0, "Meets", 1000.00),  # 119.99 < 120
        (1.5, "Exceeds", 1500.00),  # exactly 120
        (1.5, "Exceeds", 1500.00),  # 150 above highest
    ]
    outcome = score(tmp_path, tier_sheets(totals, tiers))
    rows = records(outcome.payouts)
    assert len(rows) == len(totals) == len(expected)
    for row, total, (mult, label, payout) in zip(rows, totals, expected):
        assert row["total_score"] == approx(total)
        assert row["multiplier"] == approx(mult), total
        assert row["tier"] == label, total
        assert cents(row["payout"]) == payout, total


def test_tiers_linear(tmp_path):
    tiers = [
        ["min_score", "multiplier", "label"],
        [60, 0.5, "Partial"],
        [100, 1.0, "Meets"],
        [120, 1.5, "Exceeds"],
    ]
    totals = [50, 60, 70, 80, 100, 110, 120, 150]
    expected = [  # (multiplier, label or None when not asserted, payout = 1000 * multiplier)
        (0, None, 0.00),  # below the lowest row -> 0
        (0.5, "Partial", 500.00),  # on 60
        (0.625, "Partial", 625.00),  # .5 + (70-60)/(100-60)*(1-.5) = .5 + .125
        (0.75, "Partial", 750.00),  # .5 + (80-60)/40*.5 = .75
        (1.0, "Meets", 1000.00),  # on 100
        (1.25, "Meets", 1250.00),  # 1 + (110-100)/(120-100)*(1.5-1) = 1.25
        (1.5, "Exceeds", 1500.00),  # on 120
        (1.5, "Exceeds", 1500.00),  # above highest -> highest multiplier
    ]
    outcome = score(tmp_path, tier_sheets(totals, tiers, [["tier_mode", "linear"]]))
    rows = records(outcome.payouts)
    assert len(rows) == len(totals) == len(expected)
    for row, total, (mult, label, payout) in zip(rows, totals, expected):
        assert row["multiplier"] == approx(mult), total
        if label is not None:
            assert row["tier"] == label, total  # label of the step tier reached
        assert cents(row["payout"]) == payout, total


def test_two_tier_tables(tmp_path):
    sheets = {
        "KPIs": DIRECT_KPI,
        "Employees": [
            ["employee_id", "name", "department", "base_salary", "target_bonus_pct", "tier_table"],
            ["A", "Std 100", "D", 10000, 0.1, None],  # blank -> default
            ["B", "Exec 100", "D", 10000, 0.1, "exec"],
            ["C", "Exec 50", "D", 10000, 0.1, "exec"],
            ["E", "Default 50", "D", 10000, 0.1, "default"],
        ],
        "Scorecards": [
            ["employee_id", "kpi_id", "weight", "actual"],
            ["A", "MGR", 1, 100], ["B", "MGR", 1, 100], ["C", "MGR", 1, 50], ["E", "MGR", 1, 50],
        ],
        "Tiers": [
            ["tier_table", "min_score", "multiplier", "label"],
            [None, 0, 0.5, "Std Low"],  # blank tier_table -> default
            ["default", 100, 1.0, "Std"],
            ["exec", 0, 1.0, "Exec Base"],
            ["exec", 100, 2.0, "Exec Top"],
        ],
    }
    outcome = score(tmp_path, sheets)
    pay = by_id(outcome.payouts)
    assert (pay["A"]["tier"], pay["A"]["multiplier"], cents(pay["A"]["payout"])) == ("Std", approx(1.0), 1000.00)
    assert (pay["B"]["tier"], pay["B"]["multiplier"], cents(pay["B"]["payout"])) == ("Exec Top", approx(2.0), 2000.00)
    assert (pay["C"]["tier"], pay["C"]["multiplier"], cents(pay["C"]["payout"])) == ("Exec Base", approx(1.0), 1000.00)
    assert (pay["E"]["tier"], pay["E"]["multiplier"], cents(pay["E"]["payout"])) == ("Std Low", approx(0.5), 500.00)


# ---------------------------------------------------------------------------
# Company multiplier, eligibility.


def test_company_multiplier_and_eligible(tmp_path):
    sheets = {
        "Settings": [["key", "value"], ["company_multiplier", 1.1]],
        "KPIs": DIRECT_KPI,
        "Employees": [
            ["employee_id", "name", "department", "base_salary", "target_bonus_pct", "eligible"],
            ["X1", "Yes", "D", 10000, 0.1, "yes"],
            ["X2", "No", "D", 10000, 0.1, "no"],
            ["X3", "Blank", "D", 20000, "15%", None],  # blank -> yes; text 15% -> .15
        ],
        "Scorecards": [
            ["employee_id", "kpi_id", "weight", "actual"],
            ["X1", "MGR", 1, 100], ["X2", "MGR", 1, 100], ["X3", "MGR", 1, 100],
        ],
        "Tiers": [["min_score", "multiplier", "label"], [0, 0.5, "Low"], [100, 1.2, "Good"]],
    }
    outcome = score(tmp_path, sheets)
    pay = by_id(outcome.payouts)
    # X1: 10000 * .1 * 1.2 * 1.1 = 1320.00
    assert pay["X1"]["multiplier"] == approx(1.2)
    assert pay["X1"]["payout_before_pool"] == approx(1320)
    assert cents(pay["X1"]["payout"]) == 1320.00
    # X2: not eligible -> scored, tier shown, paid 0
    assert pay["X2"]["total_score"] == approx(100)
    assert pay["X2"]["tier"] == "Good" and pay["X2"]["multiplier"] == approx(1.2)
    assert pay["X2"]["payout_before_pool"] == approx(0)
    assert cents(pay["X2"]["payout"]) == 0.00
    # X3: 20000 * .15 * 1.2 * 1.1 = 3960.00
    assert cents(pay["X3"]["payout"]) == 3960.00
    d = records(outcome.departments)[0]
    assert d["headcount"] == 3 and d["eligible_headcount"] == 2
    assert d["average_total_score"] == approx(100)  # everyone scored 100
    assert cents(d["payout"]) == 5280.00  # 1320 + 0 + 3960


# ---------------------------------------------------------------------------
# Proration by days; ISO text dates and real Excel dates.


def test_proration_days(tmp_path):
    sheets = {
        "Settings": [
            ["key", "value"],
            ["period_start", datetime(2026, 1, 1)],  # a real Excel date
            ["period_end", "2026-12-31"],  # ISO text
            ["proration", "days"],
        ],
        "KPIs": DIRECT_KPI,
        "Employees": [
            ["employee_id", "name", "department", "base_salary", "target_bonus_pct",
             "hire_date", "termination_date"],
            # 36500 * .1 * 1 = 3650 a full year; 2026 has 365 days -> 10.00 a day
            ["R1", "Hired Jul 1", "D", 36500, 0.1, date(2026, 7, 1), None],
            ["R2", "Hired Jul 1 text", "D", 36500, 0.1, "2026-07-01", None],
            ["R3", "Left Mar 31", "D", 36500, 0.1, None, date(2026, 3, 31)],
            ["R4", "February only", "D", 36500, 0.1, "2026-02-01", datetime(2026, 2, 28)],
            ["R5", "Long hired", "D", 36500, 0.1, date(2020, 5, 5), None],
            ["R6", "Left before", "D", 36500, 0.1, None, "2025-12-31"],
            ["R7", "Hired after", "D", 36500, 0.1, date(2027, 1, 1), None],
            ["R8", "Last day", "D", 36500, 0.1, date(2026, 12, 31), None],
            ["R9", "Whole period", "D", 36500, 0.1, "2026-01-01", "2026-12-31"],
        ],
        "Scorecards": [["employee_id", "kpi_id", "weight", "actual"],
                       *[[f"R{i}", "MGR", 1, 100] for i in range(1, 10)]],
        "Tiers": FLAT_TIERS,
    }
    outcome = score(tmp_path, sheets)
    pay = by_id(outcome.payouts)
    expected = {
        # Jul 1..Dec 31 = 31+31+30+31+30+31 = 184 days -> 184/365; 3650 * 184/365 = 1840
        "R1": (184 / 365, 1840.00),
        "R2": (184 / 365, 1840.00),
        # Jan 1..Mar 31 = 31+28+31 = 90 -> 90/365; 3650 * 90/365 = 900
        "R3": (90 / 365, 900.00),
        # Feb 1..Feb 28 both counted = 28 -> 280
        "R4": (28 / 365, 280.00),
        "R5": (1.0, 3650.00),  # employed the whole period
        "R6": (0.0, 0.00),  # left before the period: empty -> 0
        "R7": (0.0, 0.00),  # hired after the period
        "R8": (1 / 365, 10.00),  # Dec 31 only: 1 day
        "R9": (1.0, 3650.00),  # both ends counted: 365/365
    }
    for emp, (proration, payout) in expected.items():
        assert pay[emp]["proration"] == approx(proration), emp
        assert cents(pay[emp]["payout"]) == payout, emp


# ---------------------------------------------------------------------------
# Pools, cent-exact.


def pool_sheets(mode, employees, pools):
    rows = [["employee_id", "name", "department", "base_salary", "target_bonus_pct", "eligible"]]
    rows += employees
    return {
        "Settings": [["key", "value"], ["pool_mode", mode]],
        "KPIs": DIRECT_KPI,
        "Employees": rows,
        "Scorecards": [["employee_id", "kpi_id", "weight", "actual"],
                       *[[e[0], "MGR", 1, 100] for e in employees]],
        "Tiers": FLAT_TIERS,
        "Pools": [["department", "pool"], *pools],
    }


def test_pool_cap_cent_exact(tmp_path):
    employees = [  # payout before pool = base * .1 * 1
        ["S1", "S one", "Sales", 500, 0.1, "yes"],  # 50
        ["E1", "E one", "Eng", 8000, 0.1, "yes"],  # 800
        ["S2", "S two", "Sales", 500, 0.1, "yes"],  # 50
        ["O1", "O one", "Ops", 10000, 0.1, "yes"],  # 1000
        ["S3", "S three", "Sales", 500, 0.1, "yes"],  # 50
        ["E2", "E two", "Eng", 7000, 0.1, "yes"],  # 700
    ]
    pools = [["Sales", 100], ["Eng", 1000], ["Ops", 5000]]
    outcome = score(tmp_path, pool_sheets("cap", employees, pools))
    pay = by_id(outcome.payouts)
    # Sales: 150 > 100 -> factor 100/150 = 2/3; each 50 * 2/3 = 33.333..
    #   floors 33.33 * 3 = 99.99, one cent left, remainders tie -> first listed (S1)
    assert pay["S1"]["pool_factor"] == approx(2 / 3)
    assert pay["S1"]["payout_before_pool"] == approx(50)
    assert [cents(pay[e]["payout"]) for e in ("S1", "S2", "S3")] == [33.34, 33.33, 33.33]
    # Eng: 1500 > 1000 -> factor 2/3; 800*2/3 = 533.333.. (floor 533.33, rem .33 c)
    #   700*2/3 = 466.666.. (floor 466.66, rem .67 c); 999.99 -> the cent goes to E2
    assert pay["E1"]["pool_factor"] == approx(2 / 3)
    assert [cents(pay[e]["payout"]) for e in ("E1", "E2")] == [533.33, 466.67]
    # Ops: 1000 <= 5000 -> factor 1 (cap never scales up)
    assert pay["O1"]["pool_factor"] == approx(1)
    assert cents(pay["O1"]["payout"]) == 1000.00

    depts = records(outcome.departments)
    assert [d["department"] for d in depts] == ["Sales", "Eng", "Ops"]  # first appearance
    by_dept = {d["department"]: d for d in depts}
    assert cents(by_dept["Sales"]["payout"]) == 100.00  # == rounded pool exactly
    assert cents(by_dept["Eng"]["payout"]) == 1000.00
    assert cents(by_dept["Ops"]["payout"]) == 1000.00  # under its pool, unscaled
    assert by_dept["Sales"]["pool"] == approx(100)
    assert by_dept["Ops"]["pool"] == approx(5000)
    assert by_dept["Sales"]["pool_factor"] == approx(2 / 3)
    assert by_dept["Eng"]["pool_factor"] == approx(2 / 3)
    assert by_dept["Ops"]["pool_factor"] == approx(1)
    assert by_dept["Sales"]["headcount"] == 3 and by_dept["Eng"]["headcount"] == 2
    # the sum of the cent amounts is exact (computed in integer cents)
    for name, members in {"Sales": ("S1", "S2", "S3"), "Eng": ("E1", "E2")}.items():
        total_cents = sum(round(pay[e]["payout"] * 100) for e in members)
        assert total_cents == round(by_dept[name]["pool"] * 100), name


def test_pool_scale_cent_exact(tmp_path):
    employees = [
        ["U1", "U one", "Up", 3000, 0.1, "yes"],  # 300
        ["U2", "U two", "Up", 2000, 0.1, "yes"],  # 200
        ["U3", "U three", "Up", 9000, 0.1, "no"],  # not eligible: 0, takes no share
        ["D1", "D one", "Down", 3333.8, 0.1, "yes"],  # 333.38
        ["D2", "D two", "Down", 3333.65, 0.1, "yes"],  # 333.365
        ["D3", "D three", "Down", 3332.55, 0.1, "yes"],  # 333.255  (Down total 1000)
        ["Z1", "Z one", "Zero", 5000, 0.1, "no"],  # 0: department total 0
    ]
    pools = [["Up", 1000], ["Down", 100], ["Zero", 500]]
    outcome = score(tmp_path, pool_sheets("scale", employees, pools))
    pay = by_id(outcome.payouts)
    # Up: 500 scaled up to 1000 -> factor 2 -> 600, 400, 0
    assert pay["U1"]["pool_factor"] == approx(2)
    assert [cents(pay[e]["payout"]) for e in ("U1", "U2", "U3")] == [600.00, 400.00, 0.00]
    # Down: 1000 scaled to 100 -> factor .1 -> 33.338, 33.3365, 33.3255
    #   plain rounding would give 33.34 + 33.34 + 33.33 = 100.01 (one cent too many).
    #   floors: 33.33 + 33.33 + 33.32 = 99.98 -> 2 cents to the largest remainders:
    #   .8 c (D1) and .65 c (D2), not .55 c (D3) -> 33.34, 33.34, 33.32 = 100.00
    assert pay["D1"]["pool_factor"] == approx(0.1)
    assert pay["D2"]["payout_before_pool"] == approx(333.365)
    assert [cents(pay[e]["payout"]) for e in ("D1", "D2", "D3")] == [33.34, 33.34, 33.32]
    # Zero: total before pool 0 -> factor stays 1 (decisions.md), payout 0
    assert pay["Z1"]["pool_factor"] == approx(1)
    assert cents(pay["Z1"]["payout"]) == 0.00

    by_dept = by_id(outcome.departments, "department")
    assert cents(by_dept["Up"]["payout"]) == 1000.00
    assert cents(by_dept["Down"]["payout"]) == 100.00
    assert by_dept["Down"]["pool_factor"] == approx(0.1)
    assert by_dept["Up"]["pool_factor"] == approx(2)
    assert by_dept["Zero"]["pool_factor"] == approx(1)
    assert by_dept["Up"]["headcount"] == 3 and by_dept["Up"]["eligible_headcount"] == 2
    assert sum(round(pay[e]["payout"] * 100) for e in ("D1", "D2", "D3")) == 10000


# ---------------------------------------------------------------------------
# Money rounding: Excel's ROUND, half away from zero on the decimal value.


def money_sheets(bases, pct, settings=()):
    employees = [["employee_id", "name", "department", "base_salary", "target_bonus_pct"]]
    scorecards = [["employee_id", "kpi_id", "weight", "actual"]]
    for i, base in enumerate(bases, start=1):
        employees.append([f"M{i}", f"M {i}", "D", base, pct])
        scorecards.append([f"M{i}", "MGR", 1, 100])
    sheets = {"KPIs": DIRECT_KPI, "Employees": employees, "Scorecards": scorecards, "Tiers": FLAT_TIERS}
    if settings:
        sheets = {"Settings": [["key", "value"], *settings], **sheets}
    return sheets


def test_excel_round_half_away_from_zero(tmp_path):
    # multiplier 1, company 1, proration 1: payout = base * pct
    outcome = score(tmp_path, money_sheets([2.675, 1.005, 26.75, 10.45], 1))
    pay = records(outcome.payouts)
    # 2.675 * 1 = 2.675 (the double is 2.67499999..; Python's round gives 2.67) -> 2.68
    # 1.005 -> 1.01 (Python's round gives 1.0)
    # 26.75 * 1 = 26.75 -> 26.75
    # 10.45 -> 10.45
    assert [cents(p["payout"]) for p in pay] == [2.68, 1.01, 26.75, 10.45]


def test_excel_round_base_times_pct(tmp_path):
    outcome = score(tmp_path, money_sheets([26.75, 10.05, 10.45], 0.1))
    pay = records(outcome.payouts)
    # 26.75 * .1 = 2.675 -> 2.68; 10.05 * .1 = 1.005 -> 1.01;
    # 10.45 * .1 = 1.045 (double 1.04499999..) -> 1.05
    assert [cents(p["payout"]) for p in pay] == [2.68, 1.01, 1.05]
    assert pay[0]["payout_before_pool"] == approx(2.675)


def test_rounding_zero_decimals(tmp_path):
    outcome = score(tmp_path, money_sheets([25, 15, 5, 12344, 12345], 0.1, [["rounding", 0]]))
    pay = records(outcome.payouts)
    # 2.5 -> 3 (not banker's 2); 1.5 -> 2; .5 -> 1; 1234.4 -> 1234; 1234.5 -> 1235
    assert [p["payout"] for p in pay] == [3, 2, 1, 1234, 1235]
    assert pay[0]["payout_before_pool"] == approx(2.5)


# ---------------------------------------------------------------------------
# Budget lines and default targets.


def test_budget_lines_and_default_target(tmp_path):
    sheets = {
        "KPIs": [
            ["kpi_id", "name", "direction", "method", "threshold", "stretch", "target", "budget_line"],
            ["OPEX", "Opex", "lower", "linear", 0.8, 1.2, None, "L1"],
            ["REV", "Revenue", "higher", "linear", 0.8, 1.2, 200, None],
        ],
        "Employees": [
            ["employee_id", "name", "department", "base_salary", "target_bonus_pct"],
            ["B1", "Sales person", "Sales", 10000, 0.1],
            ["B2", "Ops person", "Ops", 10000, 0.1],
            ["B3", "Ops override", "Ops", 10000, 0.1],
            ["B4", "Sales actual override", "Sales", 10000, 0.1],
        ],
        "Scorecards": [
            ["employee_id", "kpi_id", "weight", "target", "actual"],
            ["B1", "OPEX", 1, None, None],  # Sales line: target 1000, actual 800
            ["B2", "OPEX", 1, None, None],  # Ops line: target 1000, actual 1100
            ["B3", "OPEX", 0.5, 880, None],  # own target 880, line actual 1100
            ["B3", "REV", 0.5, None, 220],  # KPI default target 200
            ["B4", "OPEX", 1, None, 1000],  # line target 1000, own actual 1000
        ],
        "Tiers": FLAT_TIERS,
        "Budget": [
            ["line_id", "department", "account", "budget", "actual"],
            ["L1", "Sales", "6000", 1000, 800],
            ["L1", "Ops", "6000", 1000, 1100],
        ],
    }
    outcome = score(tmp_path, sheets)
    rows = records(outcome.results)
    t = [(r["target"], r["actual"]) for r in rows]
    assert t == [(approx(1000), approx(800)), (approx(1000), approx(1100)), (approx(880), approx(1100)),
                 (approx(200), approx(220)), (approx(1000), approx(1000))]
    # B1: lower, 1000/800 = 1.25 >= 1.2 -> 150
    # B2: 1000/1100 = 10/11 -> 50 + (10/11 - .8)/.2*50 = 850/11 = 77.2727..
    # B3 OPEX: 880/1100 = .8 -> 50, x.5 = 25; REV: 220/200 = 1.1 -> 125, x.5 = 62.5 -> 87.5
    # B4: 1000/1000 = 1 -> 100
    assert [r["attainment"] for r in rows] == [approx(1.25), approx(10 / 11), approx(0.8), approx(1.1), approx(1)]
    assert [r["score"] for r in rows] == [approx(150), approx(850 / 11), approx(50), approx(125), approx(100)]
    assert [r["weighted_score"] for r in rows] == [
        approx(150), approx(850 / 11), approx(25), approx(62.5), approx(100)]
    pay = by_id(outcome.payouts)
    assert pay["B3"]["total_score"] == approx(87.5)
    assert pay["B2"]["total_score"] == approx(850 / 11)


# ---------------------------------------------------------------------------
# Weights: fractions, percent points, percent text and percent-formatted cells;
# normalize_weights.

TWO_DIRECT = [["kpi_id", "name", "method"], ["D1", "First", "direct"], ["D2", "Second", "direct"],
              ["D3", "Third", "direct"]]


def weight_sheets(weights_by_emp, settings=()):
    employees = [["employee_id", "name", "department", "base_salary", "target_bonus_pct"]]
    scorecards = [["employee_id", "kpi_id", "weight", "actual"]]
    actuals = {"D1": 100, "D2": 50, "D3": 20}
    for emp, weights in weights_by_emp.items():
        employees.append([emp, emp, "D", 10000, 0.1])
        for kpi, w in zip(("D1", "D2", "D3"), weights):
            scorecards.append([emp, kpi, w, actuals[kpi]])
    sheets = {"KPIs": TWO_DIRECT, "Employees": employees, "Scorecards": scorecards, "Tiers": FLAT_TIERS}
    if settings:
        sheets = {"Settings": [["key", "value"], *settings], **sheets}
    return sheets


def test_weight_forms(tmp_path):
    outcome = score(tmp_path, weight_sheets({
        "W1": (40, 60),  # percent points: sum 100 -> .4, .6
        "W2": ("40%", "60%"),  # text percentages
        "W3": (Pct(0.4), Pct(0.6)),  # percent-formatted cells
        "W4": (0.25, 0.75),
        "W5": (30, 30, 40),  # percent points over three rows
        "W6": (Pct(0.4), "60%"),  # mixed
    }))
    rows = records(outcome.results)
    weights = [(r["employee_id"], r["kpi_id"], r["weight"]) for r in rows]
    assert weights == [
        ("W1", "D1", approx(0.4)), ("W1", "D2", approx(0.6)),
        ("W2", "D1", approx(0.4)), ("W2", "D2", approx(0.6)),
        ("W3", "D1", approx(0.4)), ("W3", "D2", approx(0.6)),
        ("W4", "D1", approx(0.25)), ("W4", "D2", approx(0.75)),
        ("W5", "D1", approx(0.3)), ("W5", "D2", approx(0.3)), ("W5", "D3", approx(0.4)),
        ("W6", "D1", approx(0.4)), ("W6", "D2", approx(0.6)),
    ]
    pay = by_id(outcome.payouts)
    # .4*100 + .6*50 = 40 + 30 = 70
    for emp in ("W1", "W2", "W3", "W6"):
        assert pay[emp]["total_score"] == approx(70), emp
    assert pay["W4"]["total_score"] == approx(62.5)  # 25 + 37.5
    assert pay["W5"]["total_score"] == approx(53)  # .3*100 + .3*50 + .4*20 = 30 + 15 + 8
    w1 = [r for r in rows if r["employee_id"] == "W1"]
    assert [r["weighted_score"] for r in w1] == [approx(40), approx(30)]


def test_normalize_weights_yes(tmp_path):
    outcome = score(tmp_path, weight_sheets({
        "N1": (2, 2),  # sum 4: not 100, so not percent points -> /4 -> .5, .5 (warning)
        "N2": (0.3, 0.3),  # sum .6 -> .5, .5 (warning)
        "N3": (0.4, 0.6),  # already 1 -> unchanged
        "N4": (40, 60),  # percent points -> .4, .6
    }, [["normalize_weights", "yes"]]))
    assert warnings_(outcome), "rescaled weights must be reported as a warning"
    assert not errors(outcome)
    rows = records(outcome.results)
    assert [r["weight"] for r in rows] == [approx(0.5), approx(0.5), approx(0.5), approx(0.5),
                                           approx(0.4), approx(0.6), approx(0.4), approx(0.6)]
    pay = by_id(outcome.payouts)
    assert pay["N1"]["total_score"] == approx(75)  # .5*100 + .5*50
    assert pay["N2"]["total_score"] == approx(75)
    assert pay["N3"]["total_score"] == approx(70)
    assert pay["N4"]["total_score"] == approx(70)


# ---------------------------------------------------------------------------
# Ids: a numeric cell and the same text are one id, never "1001.0".


def test_numeric_ids(tmp_path):
    sheets = {
        "Settings": [["key", "value"], ["pool_mode", "cap"]],
        "KPIs": [["kpi_id", "name", "method"], [7, "Seven", "direct"]],
        "Employees": [
            ["employee_id", "name", "department", "base_salary", "target_bonus_pct"],
            [1001, "Num", 10, 10000, 0.1],
            [Text(1002), "Text", 10, 10000, 0.1],
            [1003.0, "Float", Text(20), 10000, 0.1],
        ],
        "Scorecards": [
            ["employee_id", "kpi_id", "weight", "actual"],
            [Text(1001), Text(7), 1, 80],
            [1002, 7, 1, 90],
            [1003, "7", 1, 100],
        ],
        "Tiers": FLAT_TIERS,
        "Pools": [["department", "pool"], [Text(10), 1000000], [20, 1000000]],
    }
    outcome = score(tmp_path, sheets)
    rows = records(outcome.results)
    assert [r["employee_id"] for r in rows] == ["1001", "1002", "1003"]
    assert [r["kpi_id"] for r in rows] == ["7", "7", "7"]
    assert [r["score"] for r in rows] == [approx(80), approx(90), approx(100)]
    pay = records(outcome.payouts)
    assert [p["employee_id"] for p in pay] == ["1001", "1002", "1003"]
    assert [p["department"] for p in pay] == ["10", "10", "20"]
    assert [cents(p["payout"]) for p in pay] == [1000.00, 1000.00, 1000.00]
    assert [d["department"] for d in records(outcome.departments)] == ["10", "20"]


# ---------------------------------------------------------------------------
# Headers and sheet names: case, spaces, hyphens; unknown columns; blank rows.


def test_header_matching_extra_columns_blank_rows(tmp_path):
    sheets = {
        "SETTINGS": [["Key", "VALUE", "Why"], ["company_multiplier", 1, "board decision"]],
        "kpis": [
            ["KPI-ID", "Name", "Direction", "METHOD", "Threshold", "Stretch", "Owner notes"],
            ["REV", "Revenue", "Higher", "LINEAR", 0.8, 1.2, "ask Bob"],
            [None] * 7,  # blank row
            ["COST", "Cost", "LOWER", "Linear", 0.8, 1.2, None],
        ],
        "EMPLOYEES": [
            ["Employee ID", "NAME", "Department", "Base-Salary", "target bonus pct", "Cost Center", "Eligible"],
            ["H1", "Hana", "Sales", 10000, 0.1, "CC-1", "YES"],
            [Fmt(None, "0%"), None, None, Fmt(None, "#,##0"), None, None, None],  # styled but blank
            ["H2", "Hugo", "Sales", 20000, 0.1, "CC-2", "No"],
        ],
        "ScoreCards": [
            ["employee-id", "kpi id", "Weight", "Target", "Actual", "Comment", "Scratch"],
            ["H1", "REV", 0.6, 100, 110, "good year", 123],  # 1.1 -> 125, x.6 = 75
            [],
            ["H1", "COST", 0.4, 100, 125, None, "x"],  # lower 100/125 = .8 -> 50, x.4 = 20
            ["H2", "REV", 1, 100, 100, None, None],  # 100
        ],
        "tiers": [["Min Score", "Multiplier", "Label"], [0, 1, "Flat"]],
    }
    outcome = score(tmp_path, sheets)
    rows = records(outcome.results)
    assert [(r["employee_id"], r["kpi_id"]) for r in rows] == [("H1", "REV"), ("H1", "COST"), ("H2", "REV")]
    assert [r["score"] for r in rows] == [approx(125), approx(50), approx(100)]
    pay = by_id(outcome.payouts)
    assert list(pay) == ["H1", "H2"]
    assert pay["H1"]["total_score"] == approx(95)  # 75 + 20
    assert cents(pay["H1"]["payout"]) == 1000.00  # 10000 * .1 * 1
    assert cents(pay["H2"]["payout"]) == 0.00  # eligible "No"
    assert records(outcome.departments)[0]["headcount"] == 2


# ---------------------------------------------------------------------------
# A fully Chinese workbook and its English twin give the same numbers.

# Hand computation (company multiplier 1.2):
#   1001 Ann, Sales, 100000 x .1
#     REV   .4  100/110: a 1.1 -> 125; x.4 = 50
#     COST  .3  lower 100/90: a 10/9 -> 100 + (1/9)/.2*50 = 100 + 250/9 = 1150/9; x.3 = 115/3
#     NPS   .1  step BAND .97 -> 100; x.1 = 10
#     AUDIT .1  binary 1/1 -> 100; x.1 = 10 (gate passed)
#     MGR   .1  direct 80 -> 80; x.1 = 8
#     total = 50 + 115/3 + 28 = 349/3 = 116.333.. -> tier Exceeds (110) 1.5
#     payout = 100000 * .1 * 1.5 * 1.2 = 18000.00
#   1002 Bob, Sales, 60000 x .15, not eligible
#     REV 1   100/95: a .95 -> 50 + .15/.2*50 = 87.5 -> Meets 1.0, payout 0
#   1003 Cy, Ops, 50000 x .2
#     REV .5 100/100 -> 100; x.5 = 50; AUDIT .5 0/1 -> 0, gate failed
#     total 50 -> Low .5; payout 0
EN_TWIN = {
    "Settings": [["key", "value"], ["company_multiplier", 1.2], ["tier_mode", "step"]],
    "KPIs": [
        ["kpi_id", "name", "direction", "method", "threshold", "stretch", "curve", "gate"],
        ["REV", "Revenue", "higher", "linear", 0.8, 1.2, None, "no"],
        ["COST", "Cost", "lower", "linear", 0.8, 1.2, None, "no"],
        ["NPS", "NPS", "higher", "step", None, None, "BAND", "no"],
        ["AUDIT", "Audit", "higher", "binary", None, None, None, "yes"],
        ["MGR", "Manager", "higher", "direct", None, None, None, "no"],
    ],
    "Curves": [["curve_id", "attainment", "score"], ["BAND", 0, 0], ["BAND", 0.95, 100], ["BAND", 1.05, 0]],
    "Employees": [
        ["employee_id", "name", "department", "base_salary", "target_bonus_pct", "eligible"],
        [1001, "Ann", "Sales", 100000, 0.1, "yes"],
        [1002, "Bob", "Sales", 60000, 0.15, "no"],
        [1003, "Cy", "Ops", 50000, 0.2, "yes"],
    ],
    "Scorecards": [
        ["employee_id", "kpi_id", "weight", "target", "actual"],
        [1001, "REV", 0.4, 100, 110],
        [1001, "COST", 0.3, 100, 90],
        [1001, "NPS", 0.1, 1, 0.97],
        [1001, "AUDIT", 0.1, 1, 1],
        [1001, "MGR", 0.1, None, 80],
        [1002, "REV", 1, 100, 95],
        [1003, "REV", 0.5, 100, 100],
        [1003, "AUDIT", 0.5, 1, 0],
    ],
    "Tiers": [["min_score", "multiplier", "label"], [0, 0.5, "Low"], [80, 1, "Meets"], [110, 1.5, "Exceeds"]],
}

ZH_TWIN = {
    "设置": [["项目", "值"], ["公司系数", 1.2], ["档位模式", "阶梯"]],
    "指标库": [
        ["指标编号", "名称", "指标方向", "计分方式", "门槛值", "挑战值", "评分曲线", "否决项"],
        ["REV", "收入", "正向", "线性", 0.8, 1.2, None, "否"],
        ["COST", "成本", "反向", "线性", 0.8, 1.2, None, "否"],
        ["NPS", "净推荐值", "正向", "阶梯", None, None, "BAND", "否"],
        ["AUDIT", "审计", "正向", "达标制", None, None, None, "是"],
        ["MGR", "上级评价", "正向", "直接评分", None, None, None, "否"],
    ],
    "评分曲线": [["评分曲线", "达成率", "得分"], ["BAND", 0, 0], ["BAND", 0.95, 100], ["BAND", 1.05, 0]],
    "员工": [
        ["工号", "名称", "部门", "基本工资", "目标奖金比例", "是否参与"],
        [1001, "张三", "销售部", 100000, 0.1, "是"],
        [1002, "李四", "销售部", 60000, 0.15, "否"],
        [1003, "王五", "运营部", 50000, 0.2, "是"],
    ],
    "考核表": [
        ["工号", "指标编号", "权重", "目标值", "实际值"],
        [1001, "REV", 0.4, 100, 110],
        [1001, "COST", 0.3, 100, 90],
        [1001, "NPS", 0.1, 1, 0.97],
        [1001, "AUDIT", 0.1, 1, 1],
        [1001, "MGR", 0.1, None, 80],
        [1002, "REV", 1, 100, 95],
        [1003, "REV", 0.5, 100, 100],
        [1003, "AUDIT", 0.5, 1, 0],
    ],
    "奖金档位": [["最低分", "系数", "档位"], [0, 0.5, "低"], [80, 1, "达标"], [110, 1.5, "优秀"]],
}


def test_english_twin(tmp_path):
    outcome = score(tmp_path, EN_TWIN)
    assert outcome.language == "en"
    rows = records(outcome.results)
    assert [r["score"] for r in rows] == [approx(125), approx(1150 / 9), approx(100), approx(100), approx(80),
                                          approx(87.5), approx(100), approx(0)]
    assert [r["weighted_score"] for r in rows] == [approx(50), approx(115 / 3), approx(10), approx(10), approx(8),
                                                   approx(87.5), approx(50), approx(0)]
    pay = by_id(outcome.payouts)
    assert pay["1001"]["total_score"] == approx(349 / 3)
    assert pay["1001"]["tier"] == "Exceeds" and pay["1001"]["multiplier"] == approx(1.5)
    assert pay["1001"]["payout_before_pool"] == approx(18000)
    assert cents(pay["1001"]["payout"]) == 18000.00
    assert pay["1002"]["total_score"] == approx(87.5)
    assert pay["1002"]["multiplier"] == approx(1.0)
    assert cents(pay["1002"]["payout"]) == 0.00
    assert pay["1003"]["total_score"] == approx(50)
    assert pay["1003"]["gate"] == "failed: AUDIT"
    assert pay["1003"]["multiplier"] == approx(0.5)
    assert cents(pay["1003"]["payout"]) == 0.00
    depts = records(outcome.departments)
    assert [(d["department"], d["headcount"], d["eligible_headcount"], cents(d["payout"])) for d in depts] == [
        ("Sales", 2, 1, 18000.00), ("Ops", 1, 1, 0.00)]
    assert depts[1]["average_total_score"] == approx(50)


def test_chinese_workbook_matches_english_twin(tmp_path):
    en = score(tmp_path, EN_TWIN, "en.xlsx")
    zh = score(tmp_path, ZH_TWIN, "zh.xlsx")
    assert zh.language == "zh"
    en_rows, zh_rows = records(en.results), records(zh.results)
    assert len(zh_rows) == len(en_rows) == 8
    for e, z in zip(en_rows, zh_rows):
        assert (z["employee_id"], z["kpi_id"]) == (e["employee_id"], e["kpi_id"])
        for col in ("weight", "target", "actual", "score", "weighted_score"):
            if e[col] is None or (isinstance(e[col], float) and math.isnan(e[col])):
                assert z[col] is None or math.isnan(z[col]), col
            else:
                assert z[col] == approx(e[col]), (col, e)
        if not (e["attainment"] is None or math.isnan(e["attainment"])):
            assert z["attainment"] == approx(e["attainment"])
    en_pay, zh_pay = records(en.payouts), records(zh.payouts)
    assert [p["employee_id"] for p in zh_pay] == ["1001", "1002", "1003"]
    for e, z in zip(en_pay, zh_pay):
        for col in ("total_score", "multiplier", "proration", "payout_before_pool", "pool_factor"):
            assert z[col] == approx(e[col]), (col, e["employee_id"])
        assert cents(z["payout"]) == cents(e["payout"])
    assert cents(zh_pay[0]["payout"]) == 18000.00
    assert zh_pay[0]["tier"] == "优秀"  # the workbook's own label
    assert [d["department"] for d in records(zh.departments)] == ["销售部", "运营部"]
