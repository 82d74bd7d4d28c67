"""xlwings Lite: the script runs where numba cannot, and gives the numba engine's numbers.

A subprocess stands in for Lite's Pyodide as closely as CPython can: numba,
python-calamine and lxml are unimportable, kpi_xl is imported from the Lite
wheel that addin/lite/build_wheel.py writes (not from this checkout), and
xlwings runs in its Office.js mode (XLWINGS_ON_SERVER=true), the mode of
xlwings Lite: the real @func/@arg/@script decorators, the real argument and
result conversion of custom_functions_call, and custom_scripts_call with
xlwings' own book built from the example company's sheets. The numbers it
prints are compared with kpi_xl's numba engine in this process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import kpi_xl
from kpi_xl.excel import functions

from .payloads import payload_from_xlsx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "templates" / "example_company.xlsx"
LITE = ROOT / "addin" / "lite"
TIERS = [[0, 0], [80, 0.5], [100, 1], [150, 2]]


def _builder():
    spec = importlib.util.spec_from_file_location("kpi_xl_lite_build", LITE / "build_wheel.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PYODIDE_LIKE = r"""
import asyncio, copy, importlib.util, json, sys
for blocked in ("numba", "python_calamine", "lxml"):
    sys.modules[blocked] = None          # not in Lite's Pyodide (lxml: not needed there either)
site, script = sys.argv[1], sys.argv[2]
sys.path.insert(0, site)                 # kpi_xl from the Lite wheel
payload = json.load(sys.stdin)

import xlwings as xw
from xlwings.server import custom_functions_call, custom_functions_meta, custom_scripts_call
import kpi_xl
from kpi_xl.engine import default_engine

spec = importlib.util.spec_from_file_location("main", script)
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)

NA = {"type": "Error", "basicType": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}

def call(name, *args):
    # as Lite's custom-functions code sends it: every argument a matrix, omitted ones null
    body = {"func_name": name, "args": list(args), "caller_address": "Office.js[Plan.xlsx]Sheet1!A1",
            "content_language": "en-US", "version": xw.__version__, "runtime": "1.4"}
    return asyncio.run(custom_functions_call(body, main))

book = xw.Book(json=copy.deepcopy(payload))
asyncio.run(custom_scripts_call(main, "score", typehint_to_value={xw.Book: book}))
positions = [s["name"] for s in payload["sheets"]]
written = {}
for action in book.json()["actions"]:
    if action["func"] == "addSheet":
        positions.insert(action["args"][0], action["args"][1])
    elif action["func"] == "setValues":
        written[positions[action["sheet_position"]]] = action["values"]

tiers = [[0, 0], [80, 0.5], [100, 1], [150, 2]]
print(json.dumps({
    "kpi_xl_from": kpi_xl.__file__,
    "engine": default_engine(),
    "loaded": sorted(m for m in ("numba", "python_calamine", "lxml") if sys.modules.get(m) is not None),
    "meta": custom_functions_meta(main),
    "score_one": call("KPI_SCORE", [[1.1]], [[1.0]], None, [[0.8]], [[1.2]], None, None),
    "score_row": call("KPI_SCORE", [[113, 90, "abc", NA, ""]], [[100]], None, [[0.8]], [[1.2]], None, None),
    "payout": call("KPI_PAYOUT", [[60000, 80000]], [[0.1]], [[100, 79]], tiers, None, None, None, None),
    "payout_bad": call("KPI_PAYOUT", [[60000]], [[0.1]], [[100]], [["min_score"]], None, None, None, None),
    "scorecard": call("KPI_SCORECARD", payload_sheet(payload, "Scorecards"), payload_sheet(payload, "KPIs"),
                      payload_sheet(payload, "Curves"), payload_sheet(payload, "Tiers"),
                      payload_sheet(payload, "Employees"), payload_sheet(payload, "Budget")),
    "payouts": written["Payouts"],
    "results": written["Results"],
}, default=str))
"""

PAYLOAD_SHEET = r"""
def payload_sheet(payload, name):
    for sheet in payload["sheets"]:
        if sheet["name"] == name:
            return sheet["values"]
    return None
"""


@pytest.fixture(scope="module")
def lite(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("lite")
    wheel = _builder().build(out / "dist")
    site = out / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)  # what micropip does with a pure-Python wheel
    payload = payload_from_xlsx(EXAMPLE)
    env = {**os.environ, "XLWINGS_ON_SERVER": "true", "XLWINGS_LICENSE_KEY": "noncommercial"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [sys.executable, "-c", PAYLOAD_SHEET + PYODIDE_LIKE, str(site), str(LITE / "main.py")],
        input=json.dumps(payload), capture_output=True, text=True, timeout=600, cwd=out, env=env,
    )
    assert done.returncode == 0, done.stderr
    *printed, result = done.stdout.splitlines()  # the score script prints its status to Lite's output pane
    return {**json.loads(result), "printed": printed, "site": str(site), "wheel": wheel, "payload": payload}


def test_lite_runs_on_the_lite_wheel_without_numba(lite):
    assert lite["kpi_xl_from"].startswith(lite["site"])  # not this checkout
    assert lite["engine"] == "reference" and lite["loaded"] == []


def test_lite_functions_give_the_numba_engines_numbers(lite):
    # KPI_SCORE(1.1, 1.0) on linear 80% / 120%: 100 + (1.1 - 1) / (1.2 - 1) * 50 = 125
    assert lite["score_one"][0][0] == pytest.approx(125.0, abs=1e-9)
    assert lite["score_one"] == functions.call("KPI_SCORE", [1.1, 1.0, None, 0.8, 1.2])  # numba here
    row = lite["score_row"][0]
    assert row[:2] == pytest.approx([132.5, 75.0], abs=1e-9)  # 113 and 90 against 100, by hand
    here = functions.call("KPI_SCORE", [[[113, 90]], [[100]], None, [[0.8]], [[1.2]]])[0]
    assert row[:2] == here  # bit for bit
    # error cells are Excel error values in Lite: a bad actual, an input #N/A passed on, a blank actual
    assert row[2:] == [{"type": "Error", "errorType": "Value"}, {"type": "Error", "errorType": "NotAvailable"},
                       {"type": "Error", "errorType": "NotAvailable"}]
    # 60,000 x 10% x 1 (score 100) = 6,000.00; 80,000 x 10% x 0 (score 79 < 80) = 0
    assert lite["payout"] == [[6000.0, 0.0]]
    assert lite["payout"] == functions.call("KPI_PAYOUT", [[[60000, 80000]], [[0.1]], [[100, 79]], TIERS])
    assert lite["payout_bad"] == [[{"type": "Error", "errorType": "Value"}]]


def test_lite_scorecard_spills_the_engines_rows(lite):
    sheets = {s["name"]: s["values"] for s in lite["payload"]["sheets"]}
    here = functions.call(
        "KPI_SCORECARD", [sheets["Scorecards"], sheets["KPIs"], sheets["Curves"], sheets["Tiers"],
                          sheets["Employees"], sheets.get("Budget")])
    assert len(lite["scorecard"]) == len(here) == 193  # the header and the example's 192 scorecard rows
    assert lite["scorecard"][0] == here[0]
    for got, expected in zip(lite["scorecard"][1:], here[1:]):
        assert got[:2] == expected[:2] and got[6:] == expected[6:]  # ids, tier label and multiplier
        for value, wanted in zip(got[2:6], expected[2:6]):  # attainment, score, weighted, total ("" if none)
            assert value == (wanted if isinstance(wanted, str) else pytest.approx(wanted, rel=1e-12))


def test_lite_score_script_writes_the_numba_engines_payouts(lite):
    outcome = kpi_xl.score_workbook(EXAMPLE, engine="numba")
    header, *rows = lite["payouts"]
    got = {str(r[header.index("employee_id")]): r[header.index("payout")] for r in rows}
    assert got == {str(r.employee_id): float(r.payout) for r in outcome.payouts.itertuples()}
    assert round(sum(got.values()), 2) == 471814.17  # docs: the example company's total with its rules
    assert lite["printed"] == ["Scored 40 people: payouts total 471,814.17."]
    header, *rows = lite["results"]
    assert [r[header.index("score")] for r in rows] == pytest.approx(list(outcome.results["score"]), abs=1e-9)


def test_lite_registers_every_function_with_its_help(lite):
    meta = {f["name"]: f for f in lite["meta"]["functions"]}
    assert set(meta) == set(functions.FUNCTIONS)
    for name, spec in functions.FUNCTIONS.items():
        assert meta[name]["description"] == spec.description
        assert [p["name"] for p in meta[name]["parameters"]] == [p.name for p in spec.parameters]
        assert [bool(p.get("optional")) for p in meta[name]["parameters"]] == [p.optional for p in spec.parameters]
        assert all(p["dimensionality"] == "matrix" for p in meta[name]["parameters"])


def test_the_lite_wheel_declares_only_what_pyodide_has(lite):
    with zipfile.ZipFile(lite["wheel"]) as archive:
        names = archive.namelist()
        metadata = archive.read("kpi_xl-0.1.0+lite.dist-info/METADATA").decode()
        record = archive.read("kpi_xl-0.1.0+lite.dist-info/RECORD").decode()
    requires = [line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist")]
    assert [r.split(">=")[0] for r in requires] == ["numpy", "pandas", "openpyxl", "defusedxml"]
    assert "kpi_xl/excel/functions.py" in names and "kpi_xl/reference.py" in names
    assert not any("__pycache__" in n for n in names)
    assert {line.split(",")[0] for line in record.splitlines()} == set(names)
    assert Path(lite["wheel"]).name == f"kpi_xl-{_builder().project()['version']}+lite-py3-none-any.whl"


def test_lite_requirements_name_the_lite_wheel_and_no_numba():
    requirements = (LITE / "requirements.txt").read_text(encoding="utf-8")
    listed = [line.strip() for line in requirements.splitlines() if line.strip() and not line.startswith("#")]
    assert not any("numba" in line or "calamine" in line for line in listed)
    assert {"numpy", "pandas", "openpyxl", "defusedxml"} <= set(listed)
    wheel = f"kpi_xl-{_builder().project()['version']}+lite-py3-none-any.whl"
    assert [line for line in listed if line.endswith(".whl")] == [line for line in listed if line.endswith("/" + wheel)]
    assert len([line for line in listed if line.endswith(".whl")]) == 1
