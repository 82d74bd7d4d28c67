"""The classic xlwings add-in: its UDFs, its buttons, its .xlam, and kpi-xl addin.

xlwings' COM bridge does not exist on Linux (docs/install-classic.md says what
was not tested). Everything Python does for the add-in is tested here: the UDFs
as plain Python and under xlwings' own Windows decorators and VBA generator,
the buttons on xlwings' own book object, the .xlam against the VBA it keeps
(read with oletools' olevba), and `kpi-xl addin` in temporary folders.
"""

from __future__ import annotations

import copy
import inspect
import io
import json
import re
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest
import xlwings as xw
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
UI = {"ui": "http://schemas.microsoft.com/office/2006/01/customui"}


# ------------------------------------------------------------------ the functions


def test_udfs_give_the_hand_worked_numbers():
    # KPI_SCORE(1.1, 1.0) on linear 80% / 120%: 100 + (1.1 - 1) / (1.2 - 1) * 50 = 125
    assert classic.KPI_SCORE([[1.1]], [[1.0]], None, [[0.8]], [[1.2]]) == pytest.approx(125.0, abs=1e-9)
    # 113 against 100: 100 + (1.13 - 1) / 0.2 * 50 = 132.5; 90: 50 + (0.9 - 0.8) / 0.2 * 50 = 75
    assert classic.KPI_SCORE([[113, 90]], [[100]], None, [[0.8]], [[1.2]]) == [
        [pytest.approx(132.5, abs=1e-9), pytest.approx(75.0, abs=1e-9)]]
    assert classic.KPI_ATTAINMENT([[50, 100, 150]], [[100]]) == [[0.5, 1.0, 1.5]]
    assert classic.KPI_TOTAL([[100, 150]], [[60, 40]]) == 120.0  # 100 * 0.6 + 150 * 0.4
    assert classic.KPI_TIER([[79, 80, 120]], TIERS) == [[0.0, 0.5, 1.0]]
    assert classic.KPI_TIER([[85]], [["min_score", "multiplier", "label"], [0, 0, "Low"], [80, 0.5, "Mid"]],
                            None, [["label"]]) == "Mid"
    # 60,000 x 10% x 1 (score 100 on the tier table) = 6,000.00
    assert classic.KPI_PAYOUT([[60000]], [[0.1]], [[100]], TIERS) == 6000.0


def test_udf_scorecard_spills_the_smoke_companys_scores():
    rows = classic.KPI_SCORECARD(SMOKE_SHEETS["Scorecards"], SMOKE_SHEETS["KPIs"], SMOKE_SHEETS["Curves"],
                                 SMOKE_SHEETS["Tiers"], SMOKE_SHEETS["Employees"])
    assert rows[0] == ["employee_id", "kpi_id", "attainment", "score", "weighted_score", "total_score",
                       "tier", "multiplier"]
    ann = [r for r in rows[1:] if r[0] == "1001"]
    # tests/conftest.py by hand: 132.5, 150, 100, 100, 90 -> total 125.25 -> Exceeds, x1.5
    assert [r[3] for r in ann] == pytest.approx([132.5, 150, 100, 100, 90], abs=1e-9)
    assert [r[5] for r in ann] == pytest.approx([125.25] * 5, abs=1e-9)
    assert [r[6:] for r in ann] == [["Exceeds", 1.5]] * 5


ARGUMENTS = {
    "KPI_ATTAINMENT": [[[90, 0, None]], [[100]], [["lower"]]],
    "KPI_SCORE": [[[90, 100, 113, "abc"]], [[100]], None, [[0.8]], [[1.2]], None, [["lower"]]],
    "KPI_TOTAL": [[[132.5, 150]], [[0.5, 0.5]]],
    "KPI_TIER": [[[79, 120]], TIERS, [["linear"]], None],
    "KPI_PAYOUT": [[[60000, 50000]], [[0.1]], [[100, 130]], TIERS, [[1.05]], [[0.5]], None, [[0]]],
    "KPI_SCORECARD": [SMOKE_SHEETS["Scorecards"], SMOKE_SHEETS["KPIs"], SMOKE_SHEETS["Curves"]],
}


@pytest.mark.parametrize("name", list(functions.FUNCTIONS))
def test_each_udf_is_the_excel_layers_function(name):
    spec = functions.FUNCTIONS[name]
    udf = classic.UDFS[name]
    parameters = inspect.signature(udf).parameters
    assert list(parameters) == [p.name for p in spec.parameters]
    assert [n for n, p in parameters.items() if p.default is inspect.Parameter.empty] == [
        p.name for p in spec.parameters if not p.optional]
    assert udf.__doc__ == f"{spec.description} {spec.description_zh}" and len(udf.__doc__) <= 255
    args = ARGUMENTS[name]
    assert udf(*args) == functions.with_text_errors(functions.call(name, args))


def test_error_cells_are_text_that_starts_with_their_code():
    row = classic.KPI_SCORE([[113, None, "abc", "#N/A"]], [[100]], None, [[0.8]], [[1.2]])[0]
    assert row[0] == pytest.approx(132.5, abs=1e-9)
    assert row[1:] == [
        "#N/A no actual yet",  # a blank actual
        "#VALUE! actual: 'abc' is not a number",
        "#N/A actual is #N/A",  # an error cell in the argument (err_to_str) comes back as itself
    ]
    # attainment of an actual 0 on a lower-is-better KPI is infinite
    assert classic.KPI_ATTAINMENT([[0]], [[10]], [["lower"]]) == "#NUM! infinite (an actual of 0 on a lower-is-better KPI)"
    assert classic.KPI_TOTAL([[100, "x"]], [[60, 40]]) == "#VALUE! scores: 'x' is not a number"
    assert classic.KPI_PAYOUT([[1]], [[1]], [[1]], [["min_score"]]).startswith("#VALUE! ")


WINDOWS_DECORATORS = r"""
import io, json, sys, types
# xlwings.udfs needs pywin32 only when Excel calls; these stand-ins let its decorators
# and its VBA generator run here, unchanged.
for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
    sys.modules[name] = types.ModuleType(name)
sys.modules["pythoncom"].CoInitialize = lambda: None
sys.modules["win32com.client"].Dispatch = lambda *args: None
sys.modules["win32com"].client = sys.modules["win32com.client"]
sys.modules["pywintypes"].com_error = Exception
import xlwings, xlwings.udfs as udfs
xlwings.func, xlwings.arg, xlwings.ret = udfs.xlfunc, udfs.xlarg, udfs.xlret  # what Windows gets
import kpi_xl.excel.classic as classic

class AddIn:
    Name = "kpi_xl.xlam"

vba = io.StringIO()
udfs.generate_vba_wrapper("kpi_xl.excel.classic", classic, vba, AddIn())
meta = {name: {"category": f.__xlfunc__["category"], "call_in_wizard": f.__xlfunc__["call_in_wizard"],
               "doc": f.__xlfunc__["ret"]["doc"], "ret": f.__xlfunc__["ret"]["options"],
               "args": [{k: a[k] for k in ("name", "doc", "options", "optional") if k in a} for a in f.__xlfunc__["args"]]}
        for name, f in classic.UDFS.items()}
print(json.dumps({"meta": meta, "vba": vba.getvalue()}))
"""


@pytest.fixture(scope="module")
def windows():
    done = subprocess.run([sys.executable, "-c", WINDOWS_DECORATORS], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_xlwings_windows_decorators_register_what_excel_shows(windows):
    for name, spec in functions.FUNCTIONS.items():
        meta = windows["meta"][name]
        assert meta["category"] == "KPI"
        assert meta["doc"] == classic.help_text(name)  # the function wizard's description
        assert meta["ret"] == {}  # no expand: dynamic-array Excel spills a list of rows by itself
        assert [a["name"] for a in meta["args"]] == [p.name for p in spec.parameters]
        for a, p in zip(meta["args"], spec.parameters):
            assert a["doc"] == p.description and len(a["doc"]) <= 255
            assert a["options"] == {"ndim": 2, "err_to_str": True}
            assert ("optional" in a) == p.optional  # omitted in Excel: Optional in the VBA, None in Python
            assert a.get("optional") is None
    assert windows["meta"]["KPI_SCORECARD"]["call_in_wizard"] is False
    assert windows["meta"]["KPI_SCORE"]["call_in_wizard"] is True


def test_the_vba_that_import_functions_writes(windows):
    vba = windows["vba"]
    signatures = dict(re.findall(r"^Function (KPI_\w+)\((.*)\)$", vba, re.MULTILINE))
    assert set(signatures) == set(functions.FUNCTIONS)
    assert signatures["KPI_SCORE"] == (
        "actual, target, Optional method, Optional threshold, Optional stretch, Optional curve, Optional direction")
    # an add-in's functions work on the active workbook and call the module of "UDF Modules"
    assert ('KPI_SCORE = XLPy.CallUDF("kpi_xl.excel.classic", "KPI_SCORE", Array(actual, target, method, '
            'threshold, stretch, curve, direction), ActiveWorkbook, Application.Caller)') in vba
    wizard_guard = [block for block in vba.split("End Function") if "Controls(1).Enabled" in block]
    assert len(wizard_guard) == 1 and "Function KPI_SCORECARD(" in wizard_guard[0]


# ------------------------------------------------------------------ the buttons


class Caller:
    """xlwings' own book object, built from sheets as the Office.js payload carries them, set up as
    the workbook Excel calls from (xw.Book.caller()); its writes are queued as actions."""

    def __init__(self, monkeypatch, sheets: dict[str, list[list]], name: str = "plan.xlsx") -> None:
        self.names = list(sheets)
        self.book = xw.Book(json=copy.deepcopy(payload_from_sheets(name, sheets)))
        monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: self.book))

    def actions(self, func: str) -> list[dict]:
        return [a for a in self.book.json()["actions"] if a["func"] == func]

    def replay(self) -> tuple[list[str], dict[str, list[list]], list[str]]:
        """(sheets added, values written by sheet, sheets activated)."""
        names = list(self.names)
        added, values, activated = [], {}, []
        for action in self.book.json()["actions"]:
            if action["func"] == "addSheet":
                names.insert(action["args"][0], action["args"][1])
                added.append(action["args"][1])
            elif action["func"] == "sheetDelete":
                names.pop(action["sheet_position"])
            elif action["func"] == "setValues":
                values[names[action["sheet_position"]]] = action["values"]
            elif action["func"] == "activateSheet":
                activated.append(names[action["args"][0]])
        return added, values, activated


def test_the_button_checks_then_scores_the_calling_book(monkeypatch):
    book = Caller(monkeypatch, SMOKE_SHEETS)
    kpi_xl.main()  # what the add-in's button runs: import kpi_xl; kpi_xl.main()
    added, values, activated = book.replay()
    assert added == ["Results", "Payouts", "Departments", "Bonus cost"]
    header, *rows = values["Payouts"]
    payout = {str(r[header.index("employee_id")]): r[header.index("payout")] for r in rows}
    assert payout == {"1001": 7894.74, "1002": 2105.26, "1003": 0}  # tests/conftest.py, by hand
    assert activated == ["Results"]


def test_the_button_on_a_book_with_errors_writes_only_problems(monkeypatch):
    sheets = {k: [list(r) for r in v] for k, v in SMOKE_SHEETS.items()}
    sheets["Scorecards"][1][4] = "abc"
    book = Caller(monkeypatch, sheets, "bad.xlsx")
    report = classic.main()
    assert not report.ok and report.status == "1 error(s), 0 warning(s): see the Problems sheet. Nothing was scored."
    added, values, activated = book.replay()
    assert added == ["Problems"] and activated == ["Problems"]
    assert values["Problems"][0] == ["severity", "sheet", "cell", "message"]
    assert ["error", "Scorecards", "Scorecards!E2", "actual 'abc' is not a number"] in values["Problems"]


def test_check_writes_nothing_for_a_clean_book_and_score_replaces_old_results(monkeypatch):
    book = Caller(monkeypatch, SMOKE_SHEETS)
    report = classic.check()
    assert report.ok and report.status == "No problems found: the workbook is ready to score."
    assert book.replay()[0] == []
    book = Caller(monkeypatch, {**SMOKE_SHEETS, "Results": [["old"]], "Payouts": [["old"]]})
    assert classic.score().status == "Scored 3 people: payouts total 10,000.00."
    assert len(book.actions("sheetDelete")) == 2  # the old Results and Payouts, never the input sheets
    added, values, _ = book.replay()
    assert added == ["Results", "Payouts", "Departments", "Bonus cost"] and values["Payouts"] != [["old"]]


def test_chinese_workbooks_get_chinese_messages():
    class Names:
        def __init__(self, names):
            self.names = names

        def sheet_names(self):
            return self.names

    assert classic.language_of(Names(["设置", "指标库"])) == "zh"
    assert classic.language_of(Names(["Settings", "KPIs"])) == "en"


def test_new_template_opens_the_template_in_the_workbooks_excel(monkeypatch):
    opened = []

    class Books:
        def open(self, path):
            opened.append(Path(path).read_bytes())

    class Excel:  # the Excel application of a desktop book: only what opening a workbook needs
        books = Books()
        status_bar = None

    class DesktopBook:
        name = "plan.xlsx"
        app = Excel()
        sheets = []

    desktop = DesktopBook()
    report = classic.new_template(desktop)
    assert report.ok and report.status == "Opened a new KPI template workbook."
    assert desktop.app.status_bar == "Opened a new KPI template workbook."
    book = CalamineWorkbook.from_filelike(io.BytesIO(opened[0]))
    assert {"Settings", "KPIs", "Employees", "Scorecards", "Tiers"} <= set(book.sheet_names)


def test_a_failure_is_a_problems_sheet_not_a_traceback(monkeypatch):
    import kpi_xl.api

    def broken(*args, **kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(kpi_xl.api, "score_sheets", broken)
    book = Caller(monkeypatch, {**SMOKE_SHEETS, "Payouts": [["half-written"]]})
    report = classic.main()
    sentence = "kpi_xl could not score this workbook: out of memory. Your sheets were not changed."
    assert not report.ok and report.status == sentence
    added, values, activated = book.replay()
    assert added == ["Problems"] and activated == ["Problems"]
    assert values["Problems"] == [["severity", "sheet", "cell", "message"], ["error", "", "", sentence]]
    assert len(book.actions("sheetDelete")) == 1  # the old Payouts: no stale payouts stay behind


def test_when_even_the_problems_sheet_fails_one_sentence_reaches_excels_message_box(monkeypatch, capsys):
    import kpi_xl.api

    class Locked:  # a workbook whose structure is protected: no sheet can be added
        name = "locked.xlsx"
        sheets = ()

        class app:
            status_bar = None

    monkeypatch.setattr(kpi_xl.api, "score_sheets", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(SystemExit) as stopped:
        classic.score(Locked())
    assert stopped.value.code == 1
    err = capsys.readouterr().err
    assert err == "kpi_xl could not score this workbook: boom. Your sheets were not changed.\n"
    assert "Traceback" not in err


def test_importing_kpi_xl_does_not_import_xlwings():
    code = "import sys, kpi_xl; kpi_xl.score_workbook; print('xlwings' in sys.modules, callable(kpi_xl.main))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False", "True"], done.stderr


# ------------------------------------------------------------------ the .xlam


def _vba(data: bytes) -> dict[str, str]:
    """The VBA modules of an Office file, by module name, read with oletools' olevba."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # olevba's pyparsing use is deprecated, not wrong
        from oletools.olevba import VBA_Parser

        parser = VBA_Parser("kpi_xl.xlam", data=data)
        try:
            return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
        finally:
            parser.close()


def test_the_committed_add_in_is_a_fresh_build_of_xlwings_ribbon_add_in():
    committed = xlam.parts(COMMITTED.read_bytes())
    assert committed == xlam.parts(xlam.build())  # python -m kpi_xl.excel.xlam rebuilds it
    with zipfile.ZipFile(xlam.xlwings_addin()) as original:
        stock = {name: original.read(name) for name in original.namelist()}
    assert list(committed) == list(stock)  # the same parts, in the same order
    assert committed["xl/vbaProject.bin"] == stock["xl/vbaProject.bin"]  # the VBA, byte for byte
    changed = {name for name in stock if committed[name] != stock[name]}
    assert changed == {"customUI/customUI.xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"}


def test_the_ribbon_calls_a_macro_the_vba_has():
    ribbon = etree.fromstring(xlam.parts(COMMITTED.read_bytes())["customUI/customUI.xml"])  # well-formed
    assert ribbon.tag == f"{{{UI['ui']}}}customUI"
    tab = ribbon.find("ui:ribbon/ui:tabs/ui:tab", UI)
    assert tab.get("label") == "KPI" and tab.get("id") == xlam.RIBBON_TAB_ID
    buttons = ribbon.findall(".//ui:button", UI)
    assert [b.get("label") for b in buttons] == ["Check & score · 检查并计分"]
    vba = _vba(COMMITTED.read_bytes())
    for button in buttons:
        module, macro = button.get("onAction").split(".")
        assert re.search(rf"^Sub {macro}\(control As IRibbonControl\)", vba[module], re.MULTILINE)
    # the only ribbon callback in the VBA: so one button, which runs <file name>.main()
    callbacks = [(m, s) for m, code in vba.items() for s in re.findall(r"^Sub (\w+)\(control As IRibbonControl\)", code, re.MULTILINE)]
    assert callbacks == [("RibbonMyAddin", "RunMain")]
    assert 'RunPython "import " & mymodule & ";" & mymodule & ".main()"' in vba["RibbonMyAddin"]
    assert "mymodule = Left(ThisWorkbook.Name" in vba["RibbonMyAddin"]
    assert COMMITTED.name == "kpi_xl.xlam"  # so the button runs import kpi_xl; kpi_xl.main()


def test_the_add_in_is_configured_the_way_its_vba_reads_it():
    vba = _vba(COMMITTED.read_bytes())["xlwings"]
    project = re.search(r'^Public Const PROJECT_NAME As String = "(\w+)"', vba, re.MULTILINE).group(1)
    book = CalamineWorkbook.from_filelike(io.BytesIO(COMMITTED.read_bytes()))
    assert book.sheet_names == [f"{project}.conf"] == [install.CONF_NAME]
    config = {row[0]: row[1] for row in book.get_sheet_by_name(f"{project}.conf").to_python()}
    assert config == {"UDF Modules": "kpi_xl.excel.classic", "ADD_WORKBOOK_TO_PYTHONPATH": "false",
                      "Debug UDFs": False, "Use UDF Server": False}
    for key in config:  # the sheet's keys are read upper-cased: GetConfig("UDF MODULES"), ...
        assert f'GetConfig("{key.upper()}"' in vba
    # the interpreter is read from the user's file, which a sheet value would override
    assert 'GetConfig("INTERPRETER_WIN"' in vba and 'GetConfig("INTERPRETER_MAC"' in vba
    assert not any(key.upper().startswith("INTERPRETER") for key in config)
    assert 'Environ("USERPROFILE") & "\\." & PROJECT_NAME & "\\" & PROJECT_NAME & ".conf"' in vba
    assert set(classic.UDFS) == set(functions.FUNCTIONS)  # what "UDF Modules" imports


# ------------------------------------------------------------------ kpi-xl addin


def test_install_status_remove(tmp_path, capsys):
    folder = tmp_path / "XLSTART"
    assert cli(["addin", "status", "--dir", str(folder)]) == 1
    assert capsys.readouterr().out == f"not installed: no {folder / 'kpi_xl.xlam'}\n"
    assert cli(["addin", "install", "--dir", str(folder)]) == 0
    said = capsys.readouterr().out
    assert f"copied the add-in to {folder / 'kpi_xl.xlam'}" in said and "restart Excel" in said
    assert (folder / "kpi_xl.xlam").read_bytes() == COMMITTED.read_bytes()
    config = (folder / "myaddin.conf").read_bytes()
    assert config == f'"INTERPRETER_WIN","{sys.executable}"\r\n'.encode()  # as the VBA's Input # reads it
    assert cli(["addin", "install", "--dir", str(folder)]) == 0  # again: same file, one line
    assert (folder / "myaddin.conf").read_bytes() == config
    capsys.readouterr()
    assert cli(["addin", "status", "--dir", str(folder)]) == 0
    said = capsys.readouterr().out
    assert f"installed and current: {folder / 'kpi_xl.xlam'}" in said
    assert f"the add-in's Python: {sys.executable} (this Python)" in said
    assert cli(["addin", "remove", "--dir", str(folder)]) == 0
    said = capsys.readouterr().out
    assert f"removed {folder / 'kpi_xl.xlam'}" in said and "restart Excel" in said
    assert list(folder.iterdir()) == []
    assert cli(["addin", "remove", "--dir", str(folder)]) == 0  # nothing left: says so
    assert "was not installed" in capsys.readouterr().out


def test_someone_elses_file_of_the_same_name_is_kept_unless_forced(tmp_path, capsys):
    folder = tmp_path / "XLSTART"
    folder.mkdir()
    (folder / "kpi_xl.xlam").write_bytes(b"someone else's add-in")
    assert cli(["addin", "install", "--dir", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "is a different file (not kpi_xl's add-in); use --force to replace it" in err
    assert (folder / "kpi_xl.xlam").read_bytes() == b"someone else's add-in"
    assert cli(["addin", "status", "--dir", str(folder)]) == 1
    assert "is not kpi_xl's add-in" in capsys.readouterr().out
    assert cli(["addin", "remove", "--dir", str(folder)]) == 2
    assert "use --force to delete it anyway" in capsys.readouterr().err
    assert (folder / "kpi_xl.xlam").exists()
    assert cli(["addin", "install", "--dir", str(folder), "--force"]) == 0
    assert (folder / "kpi_xl.xlam").read_bytes() == COMMITTED.read_bytes()


def test_another_version_of_the_add_in_is_named_as_such(tmp_path, capsys):
    folder = tmp_path / "XLSTART"
    folder.mkdir()
    older = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(COMMITTED.read_bytes())) as source, zipfile.ZipFile(older, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data.replace(b"Check &amp; score", b"Score") if name.startswith("customUI") else data)
    (folder / "kpi_xl.xlam").write_bytes(older.getvalue())
    assert cli(["addin", "status", "--dir", str(folder)]) == 1
    assert "installed, but another version" in capsys.readouterr().out
    assert cli(["addin", "install", "--dir", str(folder)]) == 2
    assert "another version of kpi_xl's add-in" in capsys.readouterr().err
    assert cli(["addin", "remove", "--dir", str(folder)]) == 0  # any version of ours goes without --force
    assert not (folder / "kpi_xl.xlam").exists()


def test_the_add_in_saved_by_excel_with_its_functions_is_current_and_kept(tmp_path, capsys):
    folder = tmp_path / "XLSTART"
    assert cli(["addin", "install", "--dir", str(folder)]) == 0
    saved = io.BytesIO()  # Excel rewrites the package when the add-in is saved after Import Functions
    with zipfile.ZipFile(COMMITTED) as source, zipfile.ZipFile(saved, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data + b" " if name == "xl/workbook.xml" else data)
    (folder / "kpi_xl.xlam").write_bytes(saved.getvalue())
    capsys.readouterr()
    assert cli(["addin", "status", "--dir", str(folder)]) == 0
    assert "installed and current, saved by Excel since" in capsys.readouterr().out
    assert cli(["addin", "install", "--dir", str(folder)]) == 2  # would throw the imported functions away
    assert "saved by Excel since, e.g. with the functions imported); use --force" in capsys.readouterr().err
    assert (folder / "kpi_xl.xlam").read_bytes() == saved.getvalue()


def test_other_settings_in_the_configuration_file_are_kept(tmp_path, capsys):
    folder = tmp_path / "XLSTART"
    folder.mkdir()
    others = b'"CONDA PATH","C:\\\\conda"\r\n"INTERPRETER_WIN","C:\\\\old\\\\python.exe"\r\n"SHOW CONSOLE","False"'
    (folder / "myaddin.conf").write_bytes(others)
    assert cli(["addin", "install", "--dir", str(folder)]) == 0
    lines = (folder / "myaddin.conf").read_bytes().split(b"\r\n")
    assert lines == [b'"CONDA PATH","C:\\\\conda"', b'"SHOW CONSOLE","False"',
                     f'"INTERPRETER_WIN","{sys.executable}"'.encode(), b""]
    assert cli(["addin", "remove", "--dir", str(folder)]) == 0
    assert (folder / "myaddin.conf").read_bytes() == b'"CONDA PATH","C:\\\\conda"\r\n"SHOW CONSOLE","False"\r\n'
    capsys.readouterr()


def test_on_a_mac_the_applescript_goes_where_excel_runs_it(tmp_path):
    place = install.default_place("darwin", tmp_path, {})
    library = tmp_path / "Library"
    assert place.startup == library / "Group Containers/UBF8T346G9.Office/User Content/Startup/Excel"
    assert place.config == library / "Containers/com.microsoft.Excel/Data/myaddin.conf"
    assert place.scripts == library / "Application Scripts/com.microsoft.Excel"
    place = install.Place(place.startup, place.config, "INTERPRETER_MAC", place.scripts)
    said = install.install(place)
    script = place.scripts / f"xlwings-{xw.__version__}.applescript"
    assert script.read_bytes() == install.applescript().read_bytes()
    assert place.config.read_bytes() == f'"INTERPRETER_MAC","{sys.executable}"\n'.encode()
    assert f"xlwings' AppleScript for running Python is in {script}" in said
    assert not any("ImportPythonUDFsToAddin" in line for line in said)  # no functions on a Mac
    ok, said = install.status(place)
    assert ok and said[-1] == f"xlwings' AppleScript: {script}"
    install.remove(place)
    assert not (place.startup / "kpi_xl.xlam").exists() and not place.config.exists()
    assert script.exists()  # shared with xlwings' own add-in: left in place


def test_where_excel_looks_on_windows():
    windows = install.default_place("win32", Path("/nowhere"), {"APPDATA": r"C:\Users\hr\AppData\Roaming",
                                                                 "USERPROFILE": r"C:\Users\hr"})
    assert str(windows.startup).replace("\\", "/") == "C:/Users/hr/AppData/Roaming/Microsoft/Excel/XLSTART"
    assert str(windows.config).replace("\\", "/") == "C:/Users/hr/.myaddin/myaddin.conf"
    assert windows.interpreter_key == "INTERPRETER_WIN" and windows.scripts is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the refusal is for systems without desktop Excel")
@pytest.mark.parametrize("verb", ["install", "remove", "status"])
def test_linux_has_no_desktop_excel(verb, capsys):
    assert cli(["addin", verb]) == 2
    assert capsys.readouterr().err == (
        "kpi-xl: no desktop Excel here; use kpi-xl serve for Excel on the web (docs/install-officejs.md), "
        "or give --dir FOLDER to put the add-in into a folder of your choice\n")
