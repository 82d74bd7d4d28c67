"""The custom functions as plain Python: hand-worked numbers, ranges, error values,
their registration metadata, and the engine's numbers on the example company."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import kpi_xl
from kpi_xl.excel import functions as f
from kpi_xl.excel.functions import CellError
from tests.payloads import payload_from_xlsx

EXAMPLE = Path(__file__).resolve().parent.parent / "templates" / "example_company.xlsx"
TIERS = [["min_score", "multiplier", "label"], [0, 0.5, "Low"], [80, 1, "Meets"], [120, 1.5, "Exceeds"]]
BAND = [["attainment", "score"], [0, 0], [0.95, 100], [1.05, 0]]


def one(rows):
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    return rows[0][0]


def approx(x):
    return pytest.approx(x, abs=1e-9)


# ------------------------------------------------------------------ hand-worked numbers


def test_score_linear_between_target_and_stretch():
    # attainment 113/100 = 1.13; 100 + (1.13 - 1) / (1.2 - 1) * (150 - 100) = 132.5
    assert one(f.kpi_score(113, 100, None, 0.8, 1.2)) == approx(132.5)


def test_score_linear_between_threshold_and_target_and_below_threshold():
    # 0.9: 50 + (0.9 - 0.8) / (1 - 0.8) * (100 - 50) = 75;  0.79 < 0.8 -> 0
    assert one(f.kpi_score(90, 100, "linear", 0.8, 1.2)) == approx(75.0)
    assert one(f.kpi_score(79, 100, "linear", 0.8, 1.2)) == 0.0


def test_score_lower_is_better_and_zero_actual():
    # cost 80 against 100: attainment 100/80 = 1.25 >= stretch 1.2 -> 150; actual 0 -> infinite -> 150
    assert one(f.kpi_score(80, 100, None, 0.8, 1.2, None, "lower")) == 150.0
    assert one(f.kpi_score(0, 100, None, 0.8, 1.2, None, "反向")) == 150.0


def test_score_step_curve_binary_and_direct():
    assert one(f.kpi_score(0.97, 1, "step", curve=BAND)) == 100.0  # 0.95 <= 0.97 < 1.05
    assert one(f.kpi_score(1.06, 1, "step", curve=BAND)) == 0.0  # past the band
    assert one(f.kpi_score(0.99, 1, "binary")) == 0.0
    assert one(f.kpi_score(1, 1, "达标制")) == 100.0
    assert one(f.kpi_score(90, None, "direct")) == 90.0
    assert one(f.kpi_score(200, None, "direct")) == 150.0  # clipped to stretch_score


def test_score_linear_on_a_curve_interpolates():
    curve = [[0.5, 0], [1.0, 100], [1.5, 200]]
    # 1.2 lies 0.2/0.5 of the way from 100 to 200 -> 140
    assert one(f.kpi_score(120, 100, "linear", None, None, curve)) == approx(140.0)


def test_attainment():
    assert f.kpi_attainment([[50, 100, 150]], 100) == [[0.5, 1.0, 1.5]]
    assert one(f.kpi_attainment(80, 100, "lower")) == 1.25


def test_total_tier_and_payout_of_the_smoke_book_person():
    # Ann of tests/conftest.py: scores 132.5, 150, 100, 100, 90 with weights .5 .2 .1 .1 .1
    total = one(f.kpi_total([[132.5], [150], [100], [100], [90]], [[0.5], [0.2], [0.1], [0.1], [0.1]]))
    assert total == approx(125.25)
    assert one(f.kpi_tier(total, TIERS)) == 1.5
    assert one(f.kpi_tier(total, TIERS, None, "label")) == "Exceeds"
    assert one(f.kpi_payout(100000, 0.1, total, TIERS)) == 15000.0  # 100000 * 0.1 * 1.5


def test_total_reads_weights_in_percent_points():
    assert one(f.kpi_total([[100, 50]], [[60, 40]])) == approx(80.0)  # 0.6*100 + 0.4*50


def test_tier_linear_and_below_the_lowest_row():
    # linear: 100 lies halfway between 80 (x1) and 120 (x1.5) -> 1.25
    assert one(f.kpi_tier(100, TIERS, "linear")) == approx(1.25)
    assert f.kpi_tier([[-1, 80]], TIERS, None, "label") == [["No bonus", "Meets"]]


def test_payout_rounds_like_excel_round_and_prorates():
    # 2.675 is 2.67499999... in binary; Excel's ROUND shows 2.68, Python's round() 2.67
    assert one(f.kpi_payout(2.675, 1, 50, [[0, 1]])) == 2.68
    # 60000 * 0.1 * 1 (Meets) * 1.05 * 0.5 = 3150
    assert one(f.kpi_payout(60000, 0.1, 90, TIERS, 1.05, 0.5)) == 3150.0
    assert one(f.kpi_payout(1234.5, 1, 90, TIERS, None, None, None, 0)) == 1235.0  # half away from zero


# ------------------------------------------------------------------ ranges and errors


def test_ranges_spill_element_by_element():
    out = f.kpi_score([[113], [79], [100]], [[100]], None, 0.8, 1.2)
    assert [r[0] for r in out] == [approx(132.5), 0.0, 100.0]
    out = f.kpi_score([[113, 90]], [[100, 100]], [["linear", "binary"]], 0.8, 1.2)
    assert out == [[approx(132.5), 0.0]]


def test_bad_cells_give_error_values_in_their_own_cell():
    out = f.kpi_score([[113], ["abc"], [None], [50]], [[100], [100], [100], [0]], None, 0.8, 1.2)
    assert out[0][0] == approx(132.5)
    assert out[1][0] == CellError("#VALUE!", "actual: 'abc' is not a number")
    assert out[2][0] == CellError("#N/A", "no actual yet")
    assert out[3][0] == CellError("#VALUE!", "target 0 must be above 0")


def test_whole_argument_problems_give_one_readable_error():
    assert one(f.kpi_score([[1, 2]], [[1, 2, 3]], None, 0.8, 1.2)).message.startswith(
        "target is a 1×3 range but another argument is 1×2"
    )
    assert one(f.kpi_score(1, 1)).message.startswith("'linear' scoring needs a threshold and a stretch")
    assert one(f.kpi_score(1, 1, "step")).message == "'step' scoring needs a curve range (attainment, score)"
    assert one(f.kpi_score(1, 1, "often", 0.8, 1.2)).message.startswith("method: 'often' is not one of")
    assert one(f.kpi_score(1, 1, None, 1.1, 1.2)).message == "threshold 1.1 is above 1 (100%)"
    assert one(f.kpi_score(1, 1, None, 0.8, 1.2, [[1, 10], [1, 20]])).message == (
        "the curve has two points at attainment 1: keep one"
    )
    assert one(f.kpi_total([[100, 50]], [[0.5, 0.4]])).message == "the weights add up to 0.9, not 1 (100%)"
    assert one(f.kpi_tier(90, [[0, 1], [0, 2]])).message == "the tier table has two rows with min_score 0: keep one"
    assert one(f.kpi_payout(1, 1, 1, TIERS, None, 1.5)).message == "proration 1.5 is not between 0 and 1"
    assert one(f.kpi_attainment("#DIV/0!", 1)) == CellError("#DIV/0!", "actual is #DIV/0!")  # passed on, as Excel does


def test_percent_text_and_chinese_enumerations_are_read_like_the_workbook():
    assert one(f.kpi_score("113", "100", "线性", "80%", "120%")) == approx(132.5)


# ------------------------------------------------------------------ registry and metadata


def test_every_function_is_registered_with_help_text():
    assert set(f.FUNCTIONS) == {"KPI_ATTAINMENT", "KPI_SCORE", "KPI_TOTAL", "KPI_TIER", "KPI_PAYOUT", "KPI_SCORECARD"}
    meta = f.office_metadata()["functions"]
    by_id = {m["id"]: m for m in meta}
    assert by_id["KPI_SCORE"]["name"] == "SCORE"
    assert [p["name"] for p in by_id["KPI_SCORE"]["parameters"]] == [
        "actual", "target", "method", "threshold", "stretch", "curve", "direction"
    ]
    assert [p.get("optional", False) for p in by_id["KPI_PAYOUT"]["parameters"]] == [
        False, False, False, False, True, True, True, True
    ]
    for m in meta:
        assert m["description"] and all(p["description"] for p in m["parameters"])
        assert m["result"] == {"type": "any", "dimensionality": "matrix"}
        # optional parameters come last, as Excel requires
        flags = [p.get("optional", False) for p in m["parameters"]]
        assert flags == sorted(flags)
        spec = f.FUNCTIONS[m["id"]]
        assert spec.description_zh


def test_call_and_call_json_as_the_server_uses_them():
    assert f.call_json("KPI_SCORE", {"args": [[[113]], [[100]], None, [[0.8]], [[1.2]]]}) == {"result": [[approx(132.5)]]}
    assert f.call_json("KPI_SCORE", {"args": [[[1]], [[0]], None, [[0.8]], [[1.2]]]}) == {
        "result": [[{"error": "#VALUE!", "message": "target 0 must be above 0"}]]
    }
    with pytest.raises(KeyError):
        f.call_json("KPI_NOPE", {"args": []})
    with pytest.raises(ValueError, match="needs actual, target"):
        f.call_json("KPI_SCORE", {"args": []})
    with pytest.raises(ValueError, match='"args"'):
        f.call_json("KPI_SCORE", {"arguments": []})


# ------------------------------------------------------------------ the engine's numbers


def _table(payload, sheet):
    values = next(s["values"] for s in payload["sheets"] if s["name"] == sheet)
    header = values[0]
    return values, [dict(zip(header, row)) for row in values[1:]]


def test_functions_give_the_engines_numbers_on_the_example_company():
    outcome = kpi_xl.score_workbook(EXAMPLE)
    assert outcome.ok
    payload = payload_from_xlsx(EXAMPLE)
    _, kpis = _table(payload, "KPIs")
    _, curves = _table(payload, "Curves")
    _, tiers = _table(payload, "Tiers")
    _, settings = _table(payload, "Settings")
    kpi = {k["kpi_id"]: k for k in kpis}
    curve_rows = {}
    for point in curves:
        curve_rows.setdefault(point["curve_id"], []).append([point["attainment"], point["score"]])
    tier_rows = {}
    for row in tiers:
        tier_rows.setdefault(row["tier_table"], []).append([row["min_score"], row["multiplier"], row["label"]])
    assert all(k["threshold_score"] == k["target_score"] == k["stretch_score"] == "" for k in kpis)

    results = outcome.results
    scored = 0
    for row in results.itertuples(index=False):
        k = kpi[row.kpi_id]
        curve = curve_rows.get(k["curve"]) if k["curve"] else None
        got = one(f.kpi_score(row.actual, row.target, k["method"], k["threshold"], k["stretch"], curve, k["direction"]))
        assert got == row.score, (row.employee_id, row.kpi_id)  # exactly: the same kernels
        if k["method"] != "direct":
            assert one(f.kpi_attainment(row.actual, row.target, k["direction"])) == row.attainment
        scored += 1
    assert scored == len(results) == 192

    setting = {s["key"]: s["value"] for s in settings}
    employees = {str(e["employee_id"]): e for e in _table(payload, "Employees")[1]}
    # The custom functions know nothing of the Rules sheet: people whose numbers a rule
    # changed (R1 ineligible, R2 ×1.1 then R3's cap, R4 a forced tier) are checked in
    # tests/test_rules.py; everyone else gets exactly the functions' numbers.
    changed = {p.employee_id for p in outcome.payouts.itertuples(index=False) if p.rules_fired}
    assert changed == {"1006", "1034", "1039"}
    for person in outcome.payouts.itertuples(index=False):
        rows = results[results.employee_id == person.employee_id]
        total = one(f.kpi_total([[s] for s in rows.score], [[w] for w in rows.weight]))
        assert total == pytest.approx(person.total_score, rel=1e-15, abs=1e-12)
        if person.employee_id in changed:
            continue
        table = employees[person.employee_id]["tier_table"] or "default"
        assert one(f.kpi_tier(person.total_score, tier_rows[table])) == person.multiplier
        assert one(f.kpi_tier(person.total_score, tier_rows[table], None, "label")) == person.tier
        if person.multiplier and person.gate == "passed" and employees[person.employee_id]["eligible"] != "no":
            expected = round(person.payout_before_pool, 2)
            got = one(f.kpi_payout(
                employees[person.employee_id]["base_salary"], employees[person.employee_id]["target_bonus_pct"],
                person.total_score, tier_rows[table], setting["company_multiplier"], person.proration,
            ))
            assert got == pytest.approx(expected, abs=0.005)
            if person.pool_factor == 1:
                assert got == person.payout


def test_scorecard_spills_the_results_sheet():
    outcome = kpi_xl.score_workbook(EXAMPLE)
    payload = payload_from_xlsx(EXAMPLE)
    sheets = {s["name"]: s["values"] for s in payload["sheets"]}
    spilled = f.kpi_scorecard(
        sheets["Scorecards"], sheets["KPIs"], sheets["Curves"], sheets["Tiers"], sheets["Employees"], sheets["Budget"]
    )
    assert spilled[0] == ["employee_id", "kpi_id", "attainment", "score", "weighted_score", "total_score", "tier", "multiplier"]
    body = spilled[1:]
    assert len(body) == len(outcome.results) == 192
    totals = dict(zip(outcome.payouts.employee_id, outcome.payouts.total_score))
    for got, want in zip(body, outcome.results.itertuples(index=False)):
        assert got[:2] == [want.employee_id, want.kpi_id]
        if isinstance(want.attainment, float) and math.isnan(want.attainment):
            assert got[2] == ""  # a direct KPI has no attainment
        else:
            assert got[2] == want.attainment
        assert got[3:5] == [want.score, want.weighted_score]
        assert got[5] == totals[want.employee_id]
    tiers = dict(zip(outcome.payouts.employee_id, zip(outcome.payouts.tier, outcome.payouts.multiplier)))
    # rules R2 and R4 change two people's multiplier or tier after the lookup the function spills
    tiers["1006"] = ("President's club", 2.0)
    tiers["1034"] = ("Meets", 1.0)
    assert {(row[0], row[6], row[7]) for row in body} == {(e, t, m) for e, (t, m) in tiers.items()}
    # without Employees and Budget, a KPI fed by a budget line cannot be scored: said with its cell
    short = one(f.kpi_scorecard(sheets["Scorecards"], sheets["KPIs"], sheets["Curves"]))
    assert short.message.startswith("kpis range M7: KPI 'DP_BOOKINGS' takes its numbers from budget line 'BOOKINGS'")


def test_scorecard_names_the_cell_of_a_problem_in_its_range():
    sheets = {
        "KPIs": [["kpi_id", "name", "threshold", "stretch"], ["REV", "Revenue", 0.8, 1.2]],
        "Scorecards": [["employee_id", "kpi_id", "weight", "target", "actual"], [1, "REV", 1, 100, 113], [2, "REVV", 1, 100, 90]],
    }
    out = one(f.kpi_scorecard(sheets["Scorecards"], sheets["KPIs"]))
    assert out.code == "#VALUE!"
    assert out.message.startswith("scorecard range B3: ") and "did you mean 'REV'" in out.message
    good = f.kpi_scorecard(sheets["Scorecards"][:2], sheets["KPIs"])
    assert good == [["employee_id", "kpi_id", "attainment", "score", "weighted_score", "total_score"],
                    ["1", "REV", 1.13, approx(132.5), approx(132.5), approx(132.5)]]


def test_every_function_and_argument_is_documented():
    text = (Path(__file__).resolve().parent.parent / "docs" / "functions.md").read_text(encoding="utf-8")
    for spec in f.FUNCTIONS.values():
        assert f"## {spec.name}" in text and f"=KPI.{spec.office_name}(" in text
        for p in spec.parameters:
            assert f"| {p.name} | {p.description}" in text


from hypothesis import given, settings, strategies as st  # noqa: E402

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    actual=st.lists(finite, min_size=1, max_size=8),
    target=st.floats(min_value=0.01, max_value=1e6),
    threshold=st.sampled_from([0.0, 0.5, 0.8, 0.95, 1.0]),
    stretch=st.sampled_from([1.0, 1.05, 1.2, 2.0]),
    method=st.sampled_from(["linear", "binary", "direct", "step"]),
    direction=st.sampled_from(["higher", "lower"]),
)
def test_functions_give_the_same_numbers_on_numba_and_on_the_reference_twin(
    actual, target, threshold, stretch, method, direction
):
    """Where numba cannot run (xlwings Lite), the reference twin serves: same numbers."""
    import os

    curve = BAND if method == "step" else None
    column = [[a] for a in actual]
    answers = []
    for engine in ("numba", "reference"):
        os.environ["KPI_XL_ENGINE"] = engine
        try:
            score = f.kpi_score(column, target, method, threshold, stretch, curve, direction)
            tier = f.kpi_tier([[s if isinstance(s, float) else 0.0] for s, in score], TIERS, "linear")
            payout = f.kpi_payout(123456.78, 0.15, [[s if isinstance(s, float) else 0.0] for s, in score], TIERS)
        finally:
            os.environ.pop("KPI_XL_ENGINE", None)
        answers.append((score, tier, payout))
    assert answers[0] == answers[1]
