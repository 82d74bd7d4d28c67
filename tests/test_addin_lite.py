"""xlwings Lite: the script runs where numba cannot, and gives the same numbers.

A subprocess makes numba and python-calamine unimportable (as in Lite's
Pyodide), loads addin/lite/main.py, calls its functions and its Score script
on xlwings' book built from the example company, and prints the numbers; the
test compares them with kpi-xl's numba engine in this process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import kpi_xl
from kpi_xl.excel import functions

from .payloads import payload_from_xlsx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "templates" / "example_company.xlsx"

PYODIDE_LIKE = """
import json, sys, runpy, copy
sys.modules["numba"] = None            # no numba in Pyodide
sys.modules["python_calamine"] = None  # nor the Rust reader
payload = json.load(sys.stdin)
lite = runpy.run_path(sys.argv[1])
import xlwings as xw
from kpi_xl.engine import default_engine
book = xw.Book(json=copy.deepcopy(payload))
lite["score"](book)
positions = [s["name"] for s in payload["sheets"]]
written = {}
for action in book.json()["actions"]:
    if action["func"] == "addSheet":
        positions.insert(action["args"][0], action["args"][1])
    elif action["func"] == "setValues":
        written[positions[action["sheet_position"]]] = action["values"]
print(json.dumps({
    "engine": default_engine(),
    "numba_loaded": sys.modules.get("numba") is not None,
    "score": lite["KPI_SCORE"]([[113, 90, "abc"]], [[100]], None, [[0.8]], [[1.2]]),
    "payout": lite["KPI_PAYOUT"]([[60000]], [[0.1]], [[100]], [[0, 0], [80, 0.5], [100, 1], [150, 2]]),
    "payouts": written["Payouts"],
    "results": written["Results"],
}))
"""


def test_lite_script_gives_the_numba_engines_numbers_without_numba(monkeypatch):
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings' remote book, in the test only
    payload = payload_from_xlsx(EXAMPLE)
    done = subprocess.run(
        [sys.executable, "-c", PYODIDE_LIKE, str(ROOT / "addin" / "lite" / "main.py")],
        input=json.dumps(payload), capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lite = json.loads(done.stdout)
    assert lite["engine"] == "reference" and lite["numba_loaded"] is False
    assert lite["score"][0][:2] == pytest.approx([132.5, 75.0], abs=1e-9)  # by hand, as in test_excel_functions
    assert lite["score"][0][2] == "#VALUE! actual: 'abc' is not a number"
    assert lite["payout"] == 6000.0
    # the whole example company, against the numba engine here
    outcome = kpi_xl.score_workbook(EXAMPLE, engine="numba")
    header, *rows = lite["payouts"]
    got = {str(r[header.index("employee_id")]): r[header.index("payout")] for r in rows}
    assert got == {str(r.employee_id): float(r.payout) for r in outcome.payouts.itertuples()}
    header, *rows = lite["results"]
    assert [r[header.index("score")] for r in rows] == pytest.approx(list(outcome.results["score"]), abs=1e-9)
    assert functions.with_text_errors([[1.5]]) == 1.5


def test_lite_requirements_leave_numba_out():
    requirements = (ROOT / "addin" / "lite" / "requirements.txt").read_text(encoding="utf-8")
    listed = [line.split("#")[0].strip() for line in requirements.splitlines() if line.split("#")[0].strip()]
    assert "numba" not in listed and {"numpy", "pandas", "openpyxl"} <= set(listed)
