"""kpi-xl simulate: a closed form, reproducibility, numba == reference, problems with cells."""

from __future__ import annotations

import copy
import math

import numpy as np
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_xl.cli import main as cli
from kpi_xl.compiling import compile_plan
from kpi_xl.reading import read_workbook
from kpi_xl.simulation import (
    SimulationResult,
    simulate_book,
    simulate_kernel,
    simulate_reference,
)
from kpi_xl.validation import validate

from .conftest import SMOKE_SHEETS, write_sheets

# One person, one linear KPI (threshold 50%, stretch 150%: score = 100 x attainment in between),
# a linear tier table (multiplier = score / 100): payout = 100,000 x 10% x attainment = 10,000 x a.
# With the actual ~ normal(100%, 5%) of target, the payout is normal(10,000, 500): a closed form.
CLOSED_FORM = {
    "Settings": [["key", "value"], ["tier_mode", "linear"]],
    "KPIs": [["kpi_id", "name", "direction", "method", "threshold", "stretch"],
             ["REV", "Revenue", "higher", "linear", 0.5, 1.5]],
    "Employees": [["employee_id", "name", "department", "base_salary", "target_bonus_pct"],
                  [1, "Ann", "Sales", 100000, 0.1]],
    "Scorecards": [["employee_id", "kpi_id", "weight", "target", "actual"], [1, "REV", 1, 100, 100]],
    "Tiers": [["min_score", "multiplier", "label"], [0, 0, "None"], [200, 2, "Max"]],
    "Forecast": [["kpi_id", "department", "distribution", "mean", "sd"], ["REV", None, "normal", 1.0, 0.05]],
}
Z = {10: -1.2815515655446004, 50: 0.0, 90: 1.2815515655446004}  # standard normal quantiles


def simulate(tmp_path, sheets, runs=2000, seed=1, engine=None, name="book.xlsx"):
    raw = read_workbook(write_sheets(tmp_path / name, sheets))
    return simulate_book(raw, runs, seed, engine)


def test_mean_and_percentiles_match_the_closed_form(tmp_path):
    runs = 20_000
    result = simulate(tmp_path, CLOSED_FORM, runs=runs, seed=2026)
    assert isinstance(result, SimulationResult)
    mean, sd = 10_000.0, 500.0
    company = result.summary()[0]
    assert company["mean"] == pytest.approx(mean, abs=5 * sd / math.sqrt(runs))  # 5 standard errors: 17.7
    for p, z in Z.items():
        density = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
        standard_error = sd * math.sqrt(p / 100 * (1 - p / 100)) / (density * math.sqrt(runs))
        assert company[f"p{p}"] == pytest.approx(mean + z * sd, abs=5 * standard_error), p
    assert float(np.std(result.total)) == pytest.approx(sd, rel=0.03)
    # every payout is rounded to the cent
    assert np.all(np.abs(result.total * 100 - np.round(result.total * 100)) < 1e-6)


def test_the_same_seed_gives_the_same_numbers_and_another_seed_others(tmp_path):
    first = simulate(tmp_path, CLOSED_FORM, runs=700, seed=5)
    again = simulate(tmp_path, CLOSED_FORM, runs=700, seed=5)
    other = simulate(tmp_path, CLOSED_FORM, runs=700, seed=6)
    assert np.array_equal(first.total, again.total)
    assert not np.array_equal(first.total, other.total)
    # the reference engine draws the same scenarios and gets the same costs
    reference = simulate(tmp_path, CLOSED_FORM, runs=700, seed=5, engine="reference")
    assert np.array_equal(first.total, reference.total)


def smoke_with_forecast() -> dict:
    sheets = copy.deepcopy(SMOKE_SHEETS)
    sheets["Forecast"] = [
        ["kpi_id", "department", "distribution", "mean", "sd", "low", "most_likely", "high"],
        ["REV", None, "normal", 1.0, 0.15, None, None, None],
        ["REV", "Ops", "triangular", None, None, 0.8, 1.0, 1.1],
        ["COST", None, "triangular", None, None, 0.7, 1.0, 1.3],
        ["AUDIT", None, "normal", 0.99, 0.02, None, None, None],
    ]
    return sheets


def test_department_lines_move_their_own_rows_and_budgets_come_from_pools(tmp_path):
    result = simulate(tmp_path, smoke_with_forecast(), runs=512, seed=3)
    assert result.department_names == ["Sales", "Ops"]
    assert np.allclose(result.department.sum(axis=1), result.total)
    # the Sales pool (10,000) caps Sales: its cost never exceeds it
    assert result.department[:, 0].max() <= 10_000 + 1e-9
    assert result.budget_total == 110_000 and list(result.budget_department) == [10_000, 100_000]
    summary = {row["scope"]: row for row in result.summary()}
    assert summary["Sales"]["chance_over_budget"] == 0.0
    # Ops: Cy's gate (AUDIT) passes only when the draw reaches target: often 0, sometimes 10,000 x ...
    assert 0 < np.mean(result.department[:, 1] == 0) < 1


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.floats(0, 2, allow_nan=False), min_size=3, max_size=3), min_size=1, max_size=40))
def test_numba_kernel_and_reference_agree_exactly(tmp_path_factory, fractions):
    folder = tmp_path_factory.mktemp("sim")
    raw = read_workbook(write_sheets(folder / "smoke.xlsx", smoke_with_forecast()))
    book = validate(raw)
    plan = compile_plan(book)
    row_group = np.array([0, 2, 0, -1, -1, 0, 1, -1], dtype=np.int64)  # any rows-to-lines map: -1 keeps the actual
    draws = np.array(fractions)
    kernel_total, kernel_department = simulate_kernel(plan, row_group, draws)
    reference_total, reference_department = simulate_reference(plan, row_group, draws)
    assert np.array_equal(kernel_total, reference_total)
    assert np.array_equal(kernel_department, reference_department)


@pytest.mark.parametrize(
    "line, cell, words",
    [
        (["NOPE", None, "normal", 1, 0.1], "A2", "'NOPE' is not a KPI"),
        (["MGR", None, "normal", 1, 0.1], "A2", "scored directly"),
        (["REV", "Marketing", "normal", 1, 0.1], "B2", "not a department"),
        (["REV", None, "lognormal", 1, 0.1], "C2", "normal (正态) or triangular"),
        (["REV", None, "normal", 1, -0.1], "E2", "standard deviation of 0 or more"),
        (["REV", None, "triangular", None, None, 1.2, 1.0, 1.1], "F2", "low ≤ most_likely ≤ high"),
    ],
)
def test_forecast_problems_name_their_cell(tmp_path, line, cell, words):
    sheets = copy.deepcopy(SMOKE_SHEETS)
    sheets["Forecast"] = [["kpi_id", "department", "distribution", "mean", "sd", "low", "most_likely", "high"], line]
    problems = simulate(tmp_path, sheets, runs=10)
    assert isinstance(problems, list)
    found = [p for p in problems if p.sheet == "Forecast"]
    assert found and found[0].cell == cell and words in found[0].message, found


def test_a_line_given_twice_and_a_missing_sheet(tmp_path):
    sheets = smoke_with_forecast()
    sheets["Forecast"].append(["REV", None, "normal", 1.0, 0.1, None, None, None])
    problems = simulate(tmp_path, sheets, runs=10)
    assert any(p.cell == "A6" and "forecast twice (also in row 2)" in p.message for p in problems)
    problems = simulate(tmp_path, SMOKE_SHEETS, runs=10, name="no_forecast.xlsx")
    assert any("needs a Forecast sheet" in p.message for p in problems)


def test_cli_writes_the_simulation_sheet_with_its_chart(tmp_path, capsys):
    book = write_sheets(tmp_path / "plan.xlsx", smoke_with_forecast())
    out = tmp_path / "sim.xlsx"
    assert cli(["simulate", str(book), "--runs", "300", "--seed", "9", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert "300 scenarios (seed 9)" in said and "over the budget of 110,000.00" in said
    sheet = openpyxl.load_workbook(out)["Simulation"]
    assert [c.value for c in sheet[2]] == ["scope", "mean", "p10", "p50", "p90", "p99", "bonus_budget",
                                           "chance_over_budget"]
    assert [sheet.cell(r, 1).value for r in (3, 4, 5)] == ["Company", "Sales", "Ops"]
    assert [sheet.cell(7, c).value for c in (1, 2, 3)] == ["cost_from", "cost_to", "runs"]
    counts = [sheet.cell(r, 3).value for r in range(8, sheet.max_row + 1)]
    assert sum(counts) == 300  # the histogram holds every scenario
    [chart] = sheet._charts
    assert chart.series[0].cat.numRef.f == "'Simulation'!$A$8:$A$37"  # the bins, not the header
    assert chart.series[0].val.numRef.f == "'Simulation'!$C$8:$C$37"
    assert cli(["simulate", str(book), "--runs", "0"]) == 2
    assert cli(["simulate", str(write_sheets(tmp_path / "bare.xlsx", SMOKE_SHEETS))]) == 1
