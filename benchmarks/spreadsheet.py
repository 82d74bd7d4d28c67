"""The same scorecard as spreadsheet formulas, recalculated by LibreOffice Calc.

What an analyst builds without kpi_xl: the input sheets as they are, plus
formula columns - VLOOKUP for each row's KPI, IF for the scoring rules,
MATCH/INDEX on the Curves sheet for curves, SUMIFS and COUNTIFS for each
person's total and gates, LOOKUP for the tier, SUMIF for department pools
and ROUND for the money.  The one rule left out is the cent-exact pool
(largest remainders get the leftover cents): a formula sheet rounds each
payout on its own, so payouts are compared only where no pool scales them.

``recalculate`` times ``soffice --headless --convert-to xlsx`` with
recalculation on load forced (a private LibreOffice profile sets
OOXMLRecalcMode to "always"), and ``startup`` times the same conversion of a
one-cell workbook, so that LibreOffice's own start-up can be subtracted.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

INSTALL_HINT = "apt-get install -y --no-install-recommends libreoffice-calc"

PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def version() -> str:
    binary = soffice()
    if binary is None:
        return "not installed"
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=120).stdout
    return out.strip().splitlines()[0] if out.strip() else "unknown"


# ------------------------------------------------------------------ the formula workbook

def write_formula_book(tables: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """The input tables plus formula columns that score them (openpyxl, write-only)."""
    import openpyxl

    path = Path(path)
    settings = tables["Settings"].set_index("key")["value"]
    kpis = tables["KPIs"]
    curves = tables["Curves"].sort_values(["curve_id", "attainment"], kind="mergesort")
    employees = tables["Employees"]
    cards = tables["Scorecards"]
    tiers = tables["Tiers"].sort_values(["tier_table", "min_score"], kind="mergesort")
    pools = tables["Pools"]
    n = len(cards)
    m = len(employees)

    book = openpyxl.Workbook(write_only=True)

    sheet = book.create_sheet("Settings")
    sheet.append(["key", "value"])
    start = dt.date.fromisoformat(str(settings["period_start"]))
    end = dt.date.fromisoformat(str(settings["period_end"]))
    for key, value in [("period_start", start), ("period_end", end),
                       ("company_multiplier", float(settings["company_multiplier"]))]:
        sheet.append([key, value])

    # KPIs: A kpi_id B name C direction D method E threshold F stretch G curve H gate
    # I threshold_score J target_score K stretch_score
    sheet = book.create_sheet("KPIs")
    sheet.append(["kpi_id", "name", "direction", "method", "threshold", "stretch", "curve", "gate",
                  "threshold_score", "target_score", "stretch_score"])
    for row in kpis.itertuples(index=False):
        sheet.append([row.kpi_id, row.name, row.direction, row.method, _v(row.threshold), _v(row.stretch),
                      _v(row.curve) or "", row.gate, 50, 100, 150])
    kpi_rows = len(kpis) + 1

    sheet = book.create_sheet("Curves")
    sheet.append(["curve_id", "attainment", "score"])
    for row in curves.itertuples(index=False):
        sheet.append([row.curve_id, float(row.attainment), float(row.score)])
    curve_rows = len(curves) + 1

    # Tiers: one block of rows a tier table, sorted by min_score
    sheet = book.create_sheet("Tiers")
    sheet.append(["tier_table", "min_score", "multiplier", "label"])
    for row in tiers.itertuples(index=False):
        sheet.append([row.tier_table, float(row.min_score), float(row.multiplier), row.label])
    tier_blocks: dict[str, tuple[int, int]] = {}
    for position, name in enumerate(tiers["tier_table"], start=2):
        first, _ = tier_blocks.get(name, (position, position))
        tier_blocks[name] = (first, position)

    # Scorecards: A employee_id B kpi_id C weight D target E actual, then formulas
    sheet = book.create_sheet("Scorecards")
    sheet.append(["employee_id", "kpi_id", "weight", "target", "actual",
                  "direction", "method", "threshold", "stretch", "curve", "gate",
                  "attainment", "curve_start", "curve_points", "curve_step", "score",
                  "weighted_score", "gate_failed"])
    k = f"KPIs!$A$2:$K${kpi_rows}"
    cx = f"Curves!$B$1:$B${curve_rows}"
    cy = f"Curves!$C$1:$C${curve_rows}"
    for i, row in enumerate(cards.itertuples(index=False), start=2):
        r = str(i)
        sheet.append([
            str(row.employee_id), row.kpi_id, float(row.weight), _v(row.target), float(row.actual),
            f"=VLOOKUP(B{r},{k},3,0)",
            f"=VLOOKUP(B{r},{k},4,0)",
            f"=VLOOKUP(B{r},{k},5,0)",
            f"=VLOOKUP(B{r},{k},6,0)",
            f"=VLOOKUP(B{r},{k},7,0)",
            f"=VLOOKUP(B{r},{k},8,0)",
            f'=IF(G{r}="direct","",IF(F{r}="lower",IF(E{r}=0,1E+300,D{r}/E{r}),E{r}/D{r}))',
            f'=IF(J{r}="","",MATCH(J{r},Curves!$A$1:$A${curve_rows},0))',
            f'=IF(J{r}="","",COUNTIF(Curves!$A$1:$A${curve_rows},J{r}))',
            f'=IF(J{r}="","",IFERROR(MATCH(L{r},INDEX({cx},M{r}):INDEX({cx},M{r}+N{r}-1),1),0))',
            f'=IF(G{r}="direct",MIN(MAX(E{r},0),150),'
            f'IF(G{r}="binary",IF(L{r}>=1,100,0),'
            f'IF(J{r}<>"",IF(O{r}=0,0,IF(OR(G{r}="step",O{r}=N{r}),INDEX({cy},M{r}+O{r}-1),'
            f'INDEX({cy},M{r}+O{r}-1)+(L{r}-INDEX({cx},M{r}+O{r}-1))*(INDEX({cy},M{r}+O{r})-INDEX({cy},M{r}+O{r}-1))'
            f'/(INDEX({cx},M{r}+O{r})-INDEX({cx},M{r}+O{r}-1)))),'
            f'IF(L{r}<H{r},0,IF(L{r}>=I{r},150,IF(L{r}<1,50+(L{r}-H{r})*50/(1-H{r}),100+(L{r}-1)*50/(I{r}-1)))))))',
            f"=C{r}*P{r}",
            f'=AND(K{r}="yes",IF(G{r}="direct",P{r}<50,L{r}<IF(G{r}="binary",1,IF(J{r}<>"",INDEX({cx},M{r}),H{r}))))',
        ])

    # Employees: A employee_id B name C department D base_salary E target_bonus_pct F hire_date
    # G termination_date H eligible I tier_table, then formulas
    sheet = book.create_sheet("Employees")
    sheet.append(["employee_id", "name", "department", "base_salary", "target_bonus_pct", "hire_date",
                  "termination_date", "eligible", "tier_table", "total_score", "gate_failed", "multiplier",
                  "proration", "payout_before_pool", "pool_factor", "payout"])
    ids = f"Scorecards!$A$2:$A${n + 1}"
    weighted = f"Scorecards!$Q$2:$Q${n + 1}"
    gates = f"Scorecards!$R$2:$R${n + 1}"
    for i, row in enumerate(employees.itertuples(index=False), start=2):
        r = str(i)
        lookups = {
            name: f"IFERROR(LOOKUP(J{r},Tiers!$B${a}:$B${b},Tiers!$C${a}:$C${b}),0)"
            for name, (a, b) in tier_blocks.items()
        }
        multiplier = "0"
        for name, lookup in lookups.items():
            multiplier = f'IF(I{r}="{name}",{lookup},{multiplier})'
        sheet.append([
            str(row.employee_id), row.name, row.department, float(row.base_salary), float(row.target_bonus_pct),
            _v(row.hire_date), _v(row.termination_date), row.eligible, row.tier_table,
            f"=SUMIFS({weighted},{ids},A{r})",
            f"=COUNTIFS({ids},A{r},{gates},TRUE())>0",
            f"={multiplier}",
            f"=MAX(0,MIN(Settings!$B$3,IF(G{r}=\"\",Settings!$B$3,G{r}))-MAX(Settings!$B$2,IF(F{r}=\"\",Settings!$B$2,F{r}))+1)"
            f"/(Settings!$B$3-Settings!$B$2+1)",
            f'=IF(AND(H{r}="yes",NOT(K{r})),D{r}*E{r}*L{r}*Settings!$B$4*M{r},0)',
            f"=VLOOKUP(C{r},Departments!$A$2:$D${len(pools) + 1},4,0)",
            f"=ROUND(N{r}*O{r},2)",
        ])

    sheet = book.create_sheet("Departments")
    sheet.append(["department", "pool", "payout_before_pool", "pool_factor"])
    for i, row in enumerate(pools.itertuples(index=False), start=2):
        r = str(i)
        sheet.append([row.department, float(row.pool),
                      f"=SUMIF(Employees!$C$2:$C${m + 1},A{r},Employees!$N$2:$N${m + 1})",
                      f"=IF(C{r}>B{r},B{r}/C{r},1)"])
    book.save(path)
    return path


def _v(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def write_empty_book(path: str | Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = 1
    book.save(path)
    return Path(path)


# ------------------------------------------------------------------ running LibreOffice

def _profile(directory: Path) -> str:
    user = directory / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(PROFILE)
    return directory.resolve().as_uri()


def convert(book: Path, out_dir: Path, profile_dir: Path, timeout: float = 3600) -> float:
    """Seconds for soffice to open book, recalculate everything and save it as xlsx."""
    binary = soffice()
    if binary is None:
        raise FileNotFoundError(f"LibreOffice is not installed: {INSTALL_HINT}")
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [
        binary, f"-env:UserInstallation={_profile(profile_dir)}", "--headless", "--norestore",
        "--nologo", "--nodefault", "--convert-to", "xlsx", "--outdir", str(out_dir), str(book),
    ]
    environment = dict(os.environ, SAL_USE_VCLPLUGIN="svp")
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or not (out_dir / (book.stem + ".xlsx")).exists():
        raise RuntimeError(f"soffice failed ({done.returncode}): {done.stderr.strip()[:300]}")
    return elapsed


def read_results(converted: Path) -> pd.DataFrame:
    """Employees' computed columns from the recalculated workbook (cached values, via calamine)."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(converted))
    rows = workbook.get_sheet_by_name("Employees").to_python()
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    frame["employee_id"] = frame["employee_id"].map(lambda v: str(int(v)) if isinstance(v, float) else str(v))
    return frame
