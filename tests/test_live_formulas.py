"""The live formulas of split files agree with the engine, recalculated by LibreOffice.

The split files carry formulas without cached values; ``soffice --convert-to
xlsx`` recalculates them on load, and the values it saves are compared with
``kpi-xl score`` on every scorecard row and every person of the example company.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from kpi_xl.api import score_workbook
from kpi_xl.departments.split import split
from kpi_xl.templates import build_example_company, save_reproducibly


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        message = "LibreOffice (soffice) is missing: scripts/test installs libreoffice-calc when run as root"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def recalculate(files: list[Path], out: Path) -> list[Path]:
    """One soffice call for all files (it is slow to start)."""
    profile = out.parent / "lo-profile"
    subprocess.run(
        [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "xlsx",
         "--outdir", str(out), *map(str, files)],
        check=True, capture_output=True, timeout=300,
    )
    return [out / f.name for f in files]


def test_live_formulas_agree_with_the_engine_on_every_row(tmp_path) -> None:
    company = save_reproducibly(build_example_company(), tmp_path / "example_company.xlsx")
    result = split(company, "department", tmp_path / "split")
    assert result.ok
    recalculated = recalculate(result.files, tmp_path / "recalculated")
    # The live Summary shows the tier and multiplier before the plan's Rules, which HR's
    # scoring applies (docs/decisions.md): compare with the engine on the master without them.
    without_rules = openpyxl.load_workbook(company)
    del without_rules["Rules"]
    without_rules.save(tmp_path / "without_rules.xlsx")
    engine = score_workbook(tmp_path / "without_rules.xlsx")
    with_rules = score_workbook(company)
    changed = {p.employee_id for p in with_rules.payouts.itertuples() if p.rules_fired}
    assert changed == {"1006", "1034", "1039"}  # the example's rules touch only these three
    rows = {(r.employee_id, r.kpi_id): r for r in engine.results.itertuples()}
    people = {p.employee_id: p for p in engine.payouts.itertuples()}
    seen_rows, seen_people = 0, 0
    for path in recalculated:
        book = openpyxl.load_workbook(path, data_only=True)
        sheet = book["Scorecards"]
        header = [c.value for c in sheet[1]]
        at = {name: header.index(name) for name in ("attainment", "score", "weighted_score", "gate")}
        for values in sheet.iter_rows(min_row=2, values_only=True):
            want = rows[(str(values[0]), values[1])]
            seen_rows += 1
            if math.isnan(want.attainment):  # direct: the actual is the score
                assert values[at["attainment"]] is None
            else:
                assert values[at["attainment"]] == pytest.approx(want.attainment, abs=1e-9, rel=0)
            assert values[at["score"]] == pytest.approx(want.score, abs=1e-9, rel=0), values[:2]
            assert values[at["weighted_score"]] == pytest.approx(want.weighted_score, abs=1e-9, rel=0)
        for values in book["Summary"].iter_rows(min_row=2, values_only=True):
            employee, _, kpi_rows, filled, total, tier, multiplier, gate = values
            want = people[str(employee)]
            seen_people += 1
            assert kpi_rows == filled
            assert total == pytest.approx(want.total_score, abs=1e-9, rel=0)
            assert tier == want.tier
            assert multiplier == pytest.approx(want.multiplier, abs=1e-9, rel=0)
            assert want.gate.split(":")[0] == gate
    assert (seen_rows, seen_people) == (len(engine.results), len(engine.payouts)) == (192, 40)
    # hand-checked: 1001 CO_REV, 49.3M of 48M -> 102.708% -> 100 + 0.02708/0.2 * 50 = 106.77
    sales = openpyxl.load_workbook(recalculated[0], data_only=True)["Scorecards"]
    assert sales["H2"].value == pytest.approx(49.3 / 48, abs=1e-12)
    assert sales["I2"].value == pytest.approx(106.77083333333333, abs=1e-9)
    assert sales["J2"].value == pytest.approx(0.3 * 106.77083333333333, abs=1e-9)
    # someone fails the compliance gate: the Summary says so, as the engine does
    assert any(p.gate.startswith("failed") for p in engine.payouts.itertuples())


def test_pending_rows_show_nothing_until_typed(tmp_path) -> None:
    company = save_reproducibly(build_example_company(), tmp_path / "example_company.xlsx")
    book = openpyxl.load_workbook(company)
    for row in book["Scorecards"].iter_rows(min_row=2):
        if row[0].value == 1001 and row[1].value == "CO_REV":
            row[4].value = None
    book.save(tmp_path / "pending.xlsx")
    result = split(tmp_path / "pending.xlsx", "department", tmp_path / "split")
    assert result.ok  # an empty actual is what a master before the month has
    [sales] = recalculate(result.files[:1], tmp_path / "recalculated")
    book = openpyxl.load_workbook(sales, data_only=True)
    assert book["Scorecards"]["H2"].value is None and book["Scorecards"]["I2"].value is None
    summary = book["Summary"]
    assert summary["C2"].value == 5 and summary["D2"].value == 4  # 4 of 5 rows filled
    assert summary["F2"].value is None  # no tier until every row is filled
