"""Shared fixtures: a small company workbook whose numbers are worked out by hand."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# Some tests build xlwings' own remote book from a payload, to prove our payloads and
# actions match xlwings' format. That book is in xlwings' PolyForm Noncommercial part,
# which these tests may use with the "noncommercial" key; xlwings reads the key once,
# when it is first imported, so it is set here, before anything imports xlwings.
# kpi_xl itself never needs it (docs/excel.md).
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import pytest

from tests.workbook_factory import write_workbook

# Three people, five KPIs, a cap pool that binds for Sales.
#   Ann  REV 113/100 linear .8/1.2 -> 100 + .13/.2*50 = 132.5, x.5 = 66.25
#        COST lower 100/80 = 1.25 >= 1.2 -> 150, x.2 = 30
#        AUDIT binary 1/1 -> 100, x.1 = 10 (gate passed)
#        NPS step BAND .97 -> 100, x.1 = 10
#        MGR direct 90 -> 90, x.1 = 9            total 125.25 -> tier Exceeds 1.5
#        before pool 100000 * .1 * 1.5 = 15000
#  Bob   REV 79/100 < .8 -> 0                   total 0 -> tier Low 0.5
#        before pool 80000 * .1 * .5 = 4000
#  Sales total 19000 > pool 10000: factor 10000/19000
#        Ann 15000*10000/19000 = 7894.736842 -> 7894.73 +1 cent (largest remainder .68 vs .26)
#        Bob  4000*10000/19000 = 2105.263157 -> 2105.26;  7894.74 + 2105.26 = 10000.00
#  Cy    REV 100/100 -> 100 x .6 = 60; AUDIT .99 < 1 -> 0, gate failed -> payout 0
SMOKE_SHEETS: dict[str, list[list]] = {
    "Settings": [["key", "value"], ["company_multiplier", 1], ["pool_mode", "cap"]],
    "KPIs": [
        ["kpi_id", "name", "direction", "method", "threshold", "stretch", "gate", "curve"],
        ["REV", "Revenue", "higher", "linear", 0.8, 1.2, "no", None],
        ["COST", "Cost", "lower", "linear", 0.8, 1.2, "no", None],
        ["AUDIT", "Audit", "higher", "binary", None, None, "yes", None],
        ["NPS", "NPS", "higher", "step", None, None, "no", "BAND"],
        ["MGR", "Manager", "higher", "direct", None, None, "no", None],
    ],
    "Curves": [["curve_id", "attainment", "score"], ["BAND", 0, 0], ["BAND", 0.95, 100], ["BAND", 1.05, 0]],
    "Employees": [
        ["employee_id", "name", "department", "base_salary", "target_bonus_pct"],
        [1001, "Ann", "Sales", 100000, 0.1],
        [1002, "Bob", "Sales", 80000, 0.1],
        [1003, "Cy", "Ops", 50000, 0.2],
    ],
    "Scorecards": [
        ["employee_id", "kpi_id", "weight", "target", "actual"],
        [1001, "REV", 0.5, 100, 113],
        [1001, "COST", 0.2, 100, 80],
        [1001, "AUDIT", 0.1, 1, 1],
        [1001, "NPS", 0.1, 1, 0.97],
        [1001, "MGR", 0.1, None, 90],
        ["1002", "REV", 1, 100, 79],
        [1003, "REV", 60, 100, 100],
        [1003, "AUDIT", 40, 1, 0.99],
    ],
    "Tiers": [["min_score", "multiplier", "label"], [0, 0.5, "Low"], [80, 1, "Meets"], [120, 1.5, "Exceeds"]],
    "Pools": [["department", "pool"], ["Sales", 10000], ["Ops", 100000]],
}


def write_sheets(path: Path, sheets: dict[str, list[list]]) -> Path:
    """Write {sheet: rows} to path (see tests/workbook_factory.py for cell wrappers)."""
    return write_workbook(path, sheets)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def smoke_book(tmp_path: Path) -> Path:
    return write_sheets(tmp_path / "smoke.xlsx", SMOKE_SHEETS)


@pytest.fixture
def bad_book(tmp_path: Path) -> Path:
    """The smoke book with a text actual at Scorecards!E3 and an unknown KPI at B4."""
    sheets = {k: [list(r) for r in v] for k, v in SMOKE_SHEETS.items()}
    sheets["Scorecards"][1][4] = "abc"
    sheets["Scorecards"][2][1] = "COSTT"
    return write_sheets(tmp_path / "bad.xlsx", sheets)
