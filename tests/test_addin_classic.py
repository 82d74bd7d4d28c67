"""The classic xlwings add-in: its UDFs, its button, its .xlam, and kpi-xl addin.

xlwings' COM bridge does not exist on Linux (docs/excel.md says what was not
tested); everything Python does for the add-in is tested here.
"""

from __future__ import annotations

import copy
import inspect
import io
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from python_calamine import CalamineWorkbook

import kpi_xl
from kpi_xl.cli import main as cli
from kpi_xl.excel import classic, functions, install, xlam

from .conftest import SMOKE_SHEETS
from .payloads import payload_from_sheets

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "addin" / "classic" / "kpi_xl.xlam"
TIERS = [[0, 0], [80, 0.5], [100, 1], [150, 2]]


# ------------------------------------------------------------------ the functions


def test_udfs_give_the_hand_worked_numbers():
    # 113 against 100, linear 0.8 / 1.2: 100 + (1.13 - 1) / 0.2 * 50 = 132.5
    assert classic.KPI_SCORE([[113]], [[100]], None, [[0.8]], [[1.2]]) == pytest.approx(132.5, abs=1e-9)
    assert classic.KPI_ATTAINMENT([[50, 100, 150]], [[100]]) == [[0.5, 1.0, 1.5]]
    assert classic.KPI_TOTAL([[100, 150]], [[60, 40]]) == 120.0  # 100 * 0.6 + 150 * 0.4
    # 60,000 x 10% x 1 (score 100 on the tier table) = 6,000.00
    assert classic.KPI_PAYOUT([[60000]], [[0.1]], [[100]], TIERS) == 6000.0


def test_udf_errors_are_readable_text_in_their_own_cell():
    out = classic.KPI_ATTAINMENT([[50, "abc"]], [[100]])
    assert out[0][0] == 0.5
    assert out[0][1] == "#VALUE! actual: 'abc' is not a number"


@pytest.mark.parametrize("name", list(functions.FUNCTIONS))
def test_each_udf_is_the_excel_layers_function_with_the_same_arguments(name):
    spec = functions.FUNCTIONS[name]
    udf = classic.UDFS[name]
    assert list(inspect.signature(udf).parameters) == [p.name for p in spec.parameters]
    required = [p.name for p in spec.parameters if not p.optional]
    assert [n for n, p in inspect.signature(udf).parameters.items() if p.default is inspect._empty] == required
    assert spec.description in udf.__doc__ and spec.description_zh in udf.__doc__


def test_udfs_equal_the_functions_on_ranges():
    actual = [[90, 100, 113, 0]]
    for args in ([actual, [[100]], None, [[0.8]], [[1.2]]], [actual, [[100]], None, [[0.8]], [[1.2]], None, [["lower"]]]):
        assert classic.KPI_SCORE(*args) == functions.with_text_errors(functions.call("KPI_SCORE", args))
    assert classic.KPI_TIER([[79, 80, 120]], TIERS, None, None) == functions.with_text_errors(
        functions.call("KPI_TIER", [[[79, 80, 120]], TIERS]))


# ------------------------------------------------------------------ the button


def test_the_button_scores_the_active_book(monkeypatch):
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")  # only for xlwings' remote book in this test
    import xlwings as xw

    book = xw.Book(json=copy.deepcopy(payload_from_sheets("smoke.xlsx", SMOKE_SHEETS)))
    monkeypatch.setattr(classic, "active_book", lambda: book)
    kpi_xl.main()  # what the add-in's button runs
    written = {}
    positions = [s["name"] for s in payload_from_sheets("smoke.xlsx", SMOKE_SHEETS)["sheets"]]
    for action in book.json()["actions"]:
        if action["func"] == "addSheet":
            positions.insert(action["args"][0], action["args"][1])
        elif action["func"] == "setValues":
            written[positions[action["sheet_position"]]] = action["values"]
    header, *rows = written["Payouts"]
    payout = {str(r[header.index("employee_id")]): r[header.index("payout")] for r in rows}
    assert payout == {"1001": 7894.74, "1002": 2105.26, "1003": 0}  # tests/conftest.py, by hand


def test_the_button_on_a_book_with_errors_writes_only_problems(monkeypatch):
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings as xw

    sheets = {k: [list(r) for r in v] for k, v in SMOKE_SHEETS.items()}
    sheets["Scorecards"][1][4] = "abc"
    book = xw.Book(json=copy.deepcopy(payload_from_sheets("bad.xlsx", sheets)))
    classic.main(book)
    added = [a["args"][1] for a in book.json()["actions"] if a["func"] == "addSheet"]
    assert added == ["Problems"]
    values = [a["values"] for a in book.json()["actions"] if a["func"] == "setValues"][0]
    assert values[0] == ["severity", "sheet", "cell", "message"]
    assert ["error", "Scorecards", "Scorecards!E2", "actual 'abc' is not a number"] in values


def test_language_follows_the_workbook():
    class Names:
        def __init__(self, names):
            self.names = names

        def sheet_names(self):
            return self.names

    assert classic.language_of(Names(["设置", "指标库"])) == "zh"
    assert classic.language_of(Names(["Settings", "KPIs"])) == "en"


# ------------------------------------------------------------------ the .xlam


def test_the_committed_add_in_is_a_fresh_build_of_xlwings_ribbon_add_in():
    committed = xlam.parts(COMMITTED.read_bytes())
    fresh = xlam.parts(xlam.build())
    assert committed == fresh  # python -m kpi_xl.excel.xlam rebuilds it
    with zipfile.ZipFile(xlam.xlwings_addin()) as original:
        assert committed["xl/vbaProject.bin"] == original.read("xl/vbaProject.bin")  # VBA untouched
        stock_ui = etree.fromstring(original.read("customUI/customUI.xml"))
    ours = etree.fromstring(committed["customUI/customUI.xml"])
    ns = {"ui": "http://schemas.microsoft.com/office/2006/01/customui"}
    stock_callbacks = {b.get("onAction") for b in stock_ui.iterfind(".//ui:button", ns)}
    buttons = ours.findall(".//ui:button", ns)
    assert ours.find(".//ui:tab", ns).get("label") == "KPI"
    assert [b.get("onAction") for b in buttons] == ["RibbonMyAddin.RunMain"]
    assert {b.get("onAction") for b in buttons} <= stock_callbacks  # a callback the VBA has
    assert "计分" in buttons[0].get("label")


def test_the_add_in_is_configured_for_kpi_xl():
    book = CalamineWorkbook.from_filelike(io.BytesIO(COMMITTED.read_bytes()))
    assert book.sheet_names == ["myaddin.conf"]  # the name xlwings' VBA reads (PROJECT_NAME & ".conf")
    rows = book.get_sheet_by_name("myaddin.conf").to_python()
    config = {row[0]: row[1] for row in rows}
    assert config["UDF Modules"] == "kpi_xl.excel.classic"
    assert "Interpreter_Win" not in config  # left to the user's file, which kpi-xl addin install writes
    # the button runs "import <file name>; <file name>.main()": the file is kpi_xl.xlam
    assert COMMITTED.name == "kpi_xl.xlam" and callable(kpi_xl.main)


# ------------------------------------------------------------------ kpi-xl addin


def test_install_status_remove(tmp_path, capsys):
    folder = tmp_path / "XLSTART"
    assert cli(["addin", "status", "--dir", str(folder)]) == 1
    assert "not installed" in capsys.readouterr().out
    assert cli(["addin", "install", "--dir", str(folder)]) == 0
    said = capsys.readouterr().out
    assert "restart Excel" in said
    assert (folder / "kpi_xl.xlam").read_bytes() == COMMITTED.read_bytes()
    config = (folder / "myaddin.conf").read_text(encoding="utf-8").splitlines()
    assert len(config) == 1 and config[0].startswith('"INTERPRETER_') and str(install.interpreter()) in config[0]
    assert cli(["addin", "install", "--dir", str(folder)]) == 0  # again: same file, same single line
    assert len((folder / "myaddin.conf").read_text(encoding="utf-8").splitlines()) == 1
    assert cli(["addin", "status", "--dir", str(folder)]) == 0
    capsys.readouterr()
    assert cli(["addin", "remove", "--dir", str(folder)]) == 0
    assert not (folder / "kpi_xl.xlam").exists() and not (folder / "myaddin.conf").exists()


def test_a_different_add_in_of_the_same_name_is_kept_unless_forced(tmp_path, capsys):
    folder = tmp_path / "XLSTART"
    folder.mkdir()
    (folder / "kpi_xl.xlam").write_bytes(b"someone else's add-in")
    assert cli(["addin", "install", "--dir", str(folder)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (folder / "kpi_xl.xlam").read_bytes() == b"someone else's add-in"
    assert cli(["addin", "status", "--dir", str(folder)]) == 1
    assert cli(["addin", "install", "--dir", str(folder), "--force"]) == 0
    assert (folder / "kpi_xl.xlam").read_bytes() == COMMITTED.read_bytes()


def test_where_excel_looks_on_windows_mac_and_linux(tmp_path):
    windows = install.default_place("win32", tmp_path, {"APPDATA": r"C:\Users\hr\AppData\Roaming",
                                                         "USERPROFILE": r"C:\Users\hr"})
    assert str(windows.startup).replace("\\", "/").endswith("Roaming/Microsoft/Excel/XLSTART")
    assert windows.config.name == "myaddin.conf" and windows.config.parent.name == ".myaddin"
    assert windows.interpreter_key == "INTERPRETER_WIN"
    mac = install.default_place("darwin", tmp_path, {})
    assert mac.startup == tmp_path / "Library/Group Containers/UBF8T346G9.Office/User Content/Startup/Excel"
    assert mac.interpreter_key == "INTERPRETER_MAC"
    with pytest.raises(install.InstallError, match="no desktop Excel"):
        install.default_place("linux", tmp_path, {})
