"""The Office.js add-in: its manifest, and its task pane in headless Chromium.

The task pane runs against tests/js/office_double.js, a stand-in for Excel's
Office.js host that keeps the workbook in window.__book; the pane talks to
the real server over loopback. What this cannot show is Excel itself loading
the add-in (docs/excel.md says so).

The manifest is checked structurally here, not against Microsoft's XSD files,
on purpose: the npm package office-addin-manifest ships no XSDs (its
``validate`` posts the manifest to Microsoft's online validation service,
which a test must not depend on), the XSDs once published in
OfficeDev/office-js-docs-pr were withdrawn in 2020 and predate <Runtimes>
(they reject any shared-runtime manifest), and the current schema exists only
as the [MS-OWEMXML] specification's pages. Vendoring an outdated, patched copy
would test our patch, not Microsoft's schema. The manifest was validated once
by hand against those 2020 XSDs with [MS-OWEMXML]'s Runtimes types added, and
passed (docs/install-officejs.md); the checks below pin what that showed:
element order, resource ids, translations, string lengths, served addresses.
"""

from __future__ import annotations

import base64
import io
import json
import os
from importlib.metadata import version
import re
import shutil
import uuid
import zipfile
from pathlib import Path

import httpx
import pytest
from lxml import etree
from PIL import Image

import kpi_xl
from kpi_xl.excel.actions import ACTIONS, run_payload
from kpi_xl.excel.functions import FUNCTIONS
from kpi_xl.server import ServerConfig

from .conftest import SMOKE_SHEETS
from .payloads import payload_from_sheets, payload_from_xlsx
from .servers import ACCESS_KEY, free_port, running_server

ROOT = Path(__file__).resolve().parents[1]
OFFICEJS = ROOT / "addin" / "officejs"
EXAMPLE = ROOT / "templates" / "example_company.xlsx"
DOUBLE = (Path(__file__).parent / "js" / "office_double.js").read_text(encoding="utf-8")
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
NS = {
    "o": "http://schemas.microsoft.com/office/appforoffice/1.1",
    "v": "http://schemas.microsoft.com/office/taskpaneappversionoverrides",
    "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
OUTPUTS = ("Results", "Payouts", "Departments", "Bonus cost", "Budget variance", "Rule trace")  # the example has rules and budget lines
PUBLIC = "https://kpi.example.com"  # where users reach the server, e.g. through the company's https proxy
CONTENT_TYPES = {
    ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".png": "image/png",
}


# ------------------------------------------------------------------ the manifest


@pytest.fixture(scope="module")
def served():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running_server(ServerConfig(dev=True, base_url=base), port=port) as url:
        yield url


@pytest.fixture(scope="module")
def proxied():
    """The real app rendering its manifest for PUBLIC, reached here on loopback.

    (Starlette's TestClient would do too, but the installed Starlette deprecates
    it with a warning, and warnings are errors in this suite.)"""
    with running_server(ServerConfig(dev=True, base_url=PUBLIC)) as url:
        yield url


def manifest(url: str) -> etree._Element:
    answer = httpx.get(f"{url}/manifest.xml")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/xml")
    assert "{{" not in answer.text  # every placeholder filled in
    return etree.fromstring(answer.content)


def on_loopback(url: str, loopback: str) -> str:
    """A manifest address (under PUBLIC) as the test reaches the same server."""
    assert url.startswith(PUBLIC + "/"), url
    return loopback + url[len(PUBLIC):]


def test_manifest_is_a_shared_runtime_task_pane_add_in_in_schema_order(proxied):
    root = manifest(proxied)
    assert root.tag == f"{{{NS['o']}}}OfficeApp" and root.get(XSI_TYPE) == "TaskPaneApp"
    order = [etree.QName(child).localname for child in root if isinstance(child.tag, str)]
    # the order OfficeApp's schema requires for a task pane add-in
    assert order == [
        "Id", "Version", "ProviderName", "DefaultLocale", "DisplayName", "Description", "IconUrl",
        "HighResolutionIconUrl", "SupportUrl", "AppDomains", "Hosts", "Requirements", "DefaultSettings",
        "Permissions", "VersionOverrides",
    ]
    uuid.UUID(root.findtext("o:Id", namespaces=NS))  # a GUID
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", root.findtext("o:Version", namespaces=NS))
    assert root.find("o:Hosts/o:Host", NS).get("Name") == "Workbook"
    assert {s.get("Name"): s.get("MinVersion") for s in root.iterfind("o:Requirements/o:Sets/o:Set", NS)} == {
        "SharedRuntime": "1.1", "CustomFunctionsRuntime": "1.1"}
    assert [d.text for d in root.iterfind("o:AppDomains/o:AppDomain", NS)] == [PUBLIC]
    assert root.find("o:DefaultSettings/o:SourceLocation", NS).get("DefaultValue") == f"{PUBLIC}/taskpane.html"
    assert root.find("o:DisplayName/o:Override", NS).attrib == {"Locale": "zh-CN", "Value": "kpi_xl 绩效考核"}
    assert root.find("o:Description/o:Override", NS).get("Locale") == "zh-CN"
    assert root.findtext("o:Permissions", namespaces=NS) == "ReadWriteDocument"
    host = root.find("v:VersionOverrides/v:Hosts/v:Host", NS)
    assert host.get(XSI_TYPE) == "Workbook"
    runtime = host.find("v:Runtimes/v:Runtime", NS)
    assert runtime.get("lifetime") == "long" and runtime.get("resid") == "Taskpane.Url"
    assert [etree.QName(child).localname for child in host] == ["Runtimes", "AllFormFactors", "DesktopFormFactor"]
    functions = host.find("v:AllFormFactors/v:ExtensionPoint", NS)
    assert functions.get(XSI_TYPE) == "CustomFunctions"
    assert [etree.QName(child).localname for child in functions] == ["Script", "Page", "Metadata", "Namespace"]
    assert [etree.QName(child).localname for child in host.find("v:DesktopFormFactor", NS)] == [
        "GetStarted", "FunctionFile", "ExtensionPoint"]
    overrides = root.find("v:VersionOverrides", NS)
    assert overrides.get(XSI_TYPE) == "VersionOverridesV1_0"
    assert [etree.QName(child).localname for child in overrides] == ["Hosts", "Resources"]
    assert [etree.QName(child).localname for child in overrides.find("v:Resources", NS)] == [
        "Images", "Urls", "ShortStrings", "LongStrings"]
    # one runtime: the functions' page, the ribbon's function file and the pane are the same page
    assert functions.find("v:Page/v:SourceLocation", NS).get("resid") == "Taskpane.Url"
    assert host.find("v:DesktopFormFactor/v:FunctionFile", NS).get("resid") == "Taskpane.Url"


def resources(root: etree._Element) -> dict[str, etree._Element]:
    found = {}
    for element in root.iterfind(".//v:Resources/*/*", NS):
        assert element.get("id") not in found, f"resource {element.get('id')} defined twice"
        assert len(element.get("id")) <= 32  # Office's limit on resource ids
        found[element.get("id")] = element
    return found


def test_every_resource_is_defined_translated_and_served(proxied):
    root = manifest(proxied)
    defined = resources(root)
    used = {e.get("resid") for e in root.iter() if isinstance(e.tag, str) and e.get("resid")}
    assert used <= set(defined), used - set(defined)
    assert set(defined) <= used, set(defined) - used  # nothing defined and unused
    for rid, element in defined.items():
        if etree.QName(element).localname == "String":
            override = element.find("bt:Override", NS)
            assert override is not None and override.get("Locale") == "zh-CN", rid
            limit = 125 if etree.QName(element.getparent()).localname == "ShortStrings" else 250
            assert len(element.get("DefaultValue")) <= limit and len(override.get("Value")) <= limit, rid
    urls = [e.get("DefaultValue") for e in root.iter() if isinstance(e.tag, str)
            and etree.QName(e).localname in ("Image", "Url", "IconUrl", "HighResolutionIconUrl", "SupportUrl",
                                              "SourceLocation") and e.get("DefaultValue")]
    assert len(urls) >= 10
    for url in urls:  # every address is this server's, and it answers with the right type
        answer = httpx.get(on_loopback(url, proxied))
        assert answer.status_code == 200, url
        assert answer.headers["content-type"].startswith(CONTENT_TYPES[Path(url).suffix]), url
    sizes = {"IconUrl": 32, "HighResolutionIconUrl": 64}
    icons = [(root.find(f"o:{tag}", NS).get("DefaultValue"), size) for tag, size in sizes.items()]
    icons += [(e.get("DefaultValue"), int(e.get("id").split(".")[1]))
              for e in root.iterfind(".//v:Resources/bt:Images/bt:Image", NS)]
    assert sorted(size for _, size in icons) == [16, 32, 32, 64, 80]
    for url, size in icons:  # each icon has the pixel size it is declared with
        image = Image.open(io.BytesIO(httpx.get(on_loopback(url, proxied)).content))
        assert image.size == (size, size) and image.format == "PNG", url
    for element in root.iterfind(".//v:Icon/bt:Image", NS):  # a button's icon of size N uses the N px image
        assert defined[element.get("resid")].get("DefaultValue").endswith(f"icon-{element.get('size')}.png")


def test_the_kpi_tab_holds_every_button_in_english_and_chinese(proxied):
    root = manifest(proxied)
    defined = resources(root)
    tab = root.find(".//v:ExtensionPoint[@xsi:type='PrimaryCommandSurface']/v:CustomTab", NS)
    assert etree.QName(tab[-1]).localname == "Label"  # the schema puts the tab's label after its groups
    label = defined[tab[-1].get("resid")]
    assert (label.get("DefaultValue"), label.find("bt:Override", NS).get("Value")) == ("KPI", "KPI 考核")
    namespace = defined[root.find(".//v:Namespace", NS).get("resid")]
    assert namespace.get("DefaultValue") == "KPI"  # functions read =KPI.SCORE(...)
    buttons, tips, panes = {}, {}, []
    for control in tab.iterfind("v:Group/v:Control", NS):
        assert control.get(XSI_TYPE) == "Button"
        assert [etree.QName(child).localname for child in control] == ["Label", "Supertip", "Icon", "Action"]
        action = control.find("v:Action", NS)
        label = defined[control.find("v:Label", NS).get("resid")]
        tip = defined[control.find("v:Supertip/v:Description", NS).get("resid")]
        if action.get(XSI_TYPE) == "ExecuteFunction":
            name = action.findtext("v:FunctionName", namespaces=NS)
            buttons[name] = (label.get("DefaultValue"), label.find("bt:Override", NS).get("Value"))
            tips[name] = (tip.get("DefaultValue"), tip.find("bt:Override", NS).get("Value"))
        else:
            assert action.get(XSI_TYPE) == "ShowTaskpane"
            panes.append(defined[action.find("v:SourceLocation", NS).get("resid")].get("DefaultValue"))
    assert buttons == {name: (spec.label["en"], spec.label["zh"]) for name, spec in ACTIONS.items()}
    assert tips == {name: (spec.description["en"], spec.description["zh"]) for name, spec in ACTIONS.items()}
    assert panes == [f"{PUBLIC}/taskpane.html"]
    script = (OFFICEJS / "taskpane.js").read_text(encoding="utf-8")
    listed = json.loads(re.search(r"ACTION_NAMES = (\[.*?\]);", script).group(1))
    assert listed == list(ACTIONS)  # every ribbon function is associated by the pane


def test_the_pane_associates_every_function_of_functions_json_with_its_parameter_count(proxied):
    script = (OFFICEJS / "taskpane.js").read_text(encoding="utf-8")
    table = re.search(r"const FUNCTIONS = \{(.*?)\};", script, re.S).group(1)
    listed = [(name, int(count)) for name, count in re.findall(r"(\w+): (\d+)", table)]
    metadata = httpx.get(f"{proxied}/functions.json").json()["functions"]
    assert listed == [(f["id"], len(f["parameters"])) for f in metadata]
    assert [f["id"] for f in metadata] == list(FUNCTIONS)


# ------------------------------------------------------------------ the task pane in Chromium


def chromium_or_skip() -> str:
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail("Chromium is missing: scripts/test installs Debian's chromium package")
    pytest.skip("Chromium is not installed (scripts/test installs it when run as root)")


@pytest.fixture(scope="module")
def browser():
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def workbook_state(sheets: list[dict], name: str = "Plan.xlsx") -> dict:
    return {
        "name": name,
        "active": 0,
        "sheets": [{"name": s["name"], "cells": s["values"], "formats": {}, "bold": {}, "frozen": None} for s in sheets],
    }


def open_pane(browser, url: str, book: dict, language: str = "en-US"):
    page = browser.new_page(viewport={"width": 360, "height": 720})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route("https://appsforoffice.microsoft.com/**", lambda route: route.fulfill(
        status=200, content_type="text/javascript", body="/* Office.js is replaced by tests/js/office_double.js */"))
    page.add_init_script(f"window.__book = {json.dumps(book)}; window.__displayLanguage = {json.dumps(language)};")
    page.add_init_script(DOUBLE)
    page.goto(f"{url}/taskpane.html")
    page.wait_for_function("document.getElementById('server-state').textContent.includes('kpi_xl 0')"
                           " || document.getElementById('server-state').textContent.includes('kpi_xl 0+')")
    return page, errors


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(1, 1)  # not hovering a button
    page.screenshot(path=str(SCREENSHOTS / name))


def press(page, button: str) -> str:
    page.click(f"#action-{button}")
    page.wait_for_selector("#status.ok, #status.failed")
    return page.inner_text("#status-text")


def sheet_rows(book: dict, name: str) -> list[list]:
    sheet = next(s for s in book["sheets"] if s["name"] == name)
    return sheet["cells"]


def expected_sheets(payload: dict) -> dict[str, list[list]]:
    """What the server's answer writes, sheet by sheet (the values of its setValues actions)."""
    answer = run_payload("score", payload)
    names = [s["name"] for s in payload["sheets"]]
    written = {}
    for action in answer["actions"]:
        if action["func"] == "addSheet":
            names.insert(action["args"][0], action["args"][1])
        elif action["func"] == "setValues":
            written[names[action["sheet_position"]]] = [
                [v[1:] if isinstance(v, str) and v.startswith("'") else v for v in row] for row in action["values"]]
    return written


def test_score_button_in_the_pane_writes_the_engines_numbers(browser, served):
    payload = payload_from_xlsx(EXAMPLE)
    page, errors = open_pane(browser, served, workbook_state(payload["sheets"], "example_company.xlsx"))
    labels = [page.inner_text(f"#action-{name} .label") for name in ACTIONS]
    assert labels == ["Check", "Score", "What-if", "New template"]
    status = press(page, "score")
    assert status == "Scored 40 people: payouts total 471,814.17."  # see tests/test_excel_actions.py
    screenshot(page, "taskpane.png")
    book = page.evaluate("window.__book")
    names = [s["name"] for s in book["sheets"]]
    inputs = [s["name"] for s in payload["sheets"]]
    assert names == inputs + list(OUTPUTS)
    assert names[book["active"]] == "Results"
    for sheet in payload["sheets"]:  # the user's sheets exactly as they were
        assert sheet_rows(book, sheet["name"]) == sheet["values"]
    want = expected_sheets(payload)
    for name in OUTPUTS:
        assert sheet_rows(book, name) == want[name], name
    # and those are kpi-xl's numbers: every payout to the cent, every score
    outcome = kpi_xl.score_workbook(EXAMPLE)
    header, *rows = sheet_rows(book, "Payouts")
    who, paid = header.index("employee_id"), header.index("payout")
    assert {str(r[who]): r[paid] for r in rows} == {
        str(r.employee_id): float(r.payout) for r in outcome.payouts.itertuples()}
    assert sum(r[paid] for r in rows) == pytest.approx(471814.17, abs=0.005)
    header, *rows = sheet_rows(book, "Results")
    assert [r[header.index("score")] for r in rows] == pytest.approx(list(outcome.results["score"]), abs=1e-9)
    header, *rows = sheet_rows(book, "Departments")
    want_departments = outcome.departments.set_index("department")
    assert [r[header.index("department")] for r in rows] == list(want_departments.index)
    for row in rows:
        department = want_departments.loc[row[header.index("department")]]
        assert row[header.index("payout")] == round(float(department["payout"]), 2)  # to the cent
        assert row[header.index("headcount")] == department["headcount"]
        assert row[header.index("average_total_score")] == pytest.approx(department["average_total_score"], abs=1e-9)
    payouts = next(s for s in book["sheets"] if s["name"] == "Payouts")
    assert payouts["frozen"] == {"rows": 1, "columns": 0}  # the header row, as kpi-xl score freezes A2
    assert payouts["bold"]["0,0"] is True and "1,0" not in payouts["bold"]
    assert payouts["formats"][f"1,{paid}"] == "#,##0.00"
    # pressing Score again replaces the output sheets instead of adding more
    assert press(page, "score") == status
    assert [s["name"] for s in page.evaluate("window.__book")["sheets"]] == names
    assert errors == []


def test_problems_are_listed_with_their_cells_and_the_problems_sheet_shown(browser, served):
    sheets = {k: [list(r) for r in v] for k, v in SMOKE_SHEETS.items()}
    sheets["Scorecards"][1][4] = "abc"
    payload = payload_from_sheets("bad.xlsx", sheets)
    page, errors = open_pane(browser, served, workbook_state(payload["sheets"], "bad.xlsx"))
    status = press(page, "check")
    assert "error" in status.lower()
    assert page.is_visible("#problems")
    items = page.locator("#problem-list li").all_inner_texts()
    assert any(item.startswith("Scorecards!E2") and "abc" in item for item in items), items
    book = page.evaluate("window.__book")
    assert book["sheets"][book["active"]]["name"] == "Problems"
    problems = sheet_rows(book, "Problems")
    assert ["error", "Scorecards", "Scorecards!E2", "actual 'abc' is not a number"] in problems[1:], problems
    assert [s["name"] for s in book["sheets"]] == list(SMOKE_SHEETS) + ["Problems"]  # nothing scored
    screenshot(page, "taskpane-problems.png")
    assert errors == []


CELL_ERROR = """async ([id, args, at]) => {
    const out = await window.__functions[id](...args);
    const cell = out[at[0]][at[1]];
    return {error: cell instanceof CustomFunctions.Error, code: cell.code, message: cell.message, out: out.map(
        (row) => row.map((v) => (v instanceof CustomFunctions.Error ? v.code : v)))};
}"""
WHOLE_ERROR = """async ([id, args]) => {
    try { await window.__functions[id](...args); return null; }
    catch (e) { return {error: e instanceof CustomFunctions.Error, code: e.code, message: e.message}; }
}"""


def test_custom_functions_answer_through_the_server(browser, served):
    page, errors = open_pane(browser, served, workbook_state(payload_from_sheets("x.xlsx", SMOKE_SHEETS)["sheets"]))
    served_ids = [f["id"] for f in httpx.get(f"{served}/functions.json").json()["functions"]]
    assert sorted(page.evaluate("Object.keys(window.__functions)")) == sorted(served_ids)
    # As Excel calls =KPI.SCORE(1.1, 1.0, , 0.8, 1.2): every declared argument, null when left
    # out, then an Invocation object (the double adds it), which must not reach the server.
    # Linear from threshold 80% (score 50) through target (100) to stretch 120% (150):
    # 100 + (1.1 - 1) / (1.2 - 1) * 50 = 125.
    score = page.evaluate("window.__functions.KPI_SCORE([[1.1]], [[1.0]], null, [[0.8]], [[1.2]], null, null)")
    engine = FUNCTIONS["KPI_SCORE"].impl([[1.1]], [[1.0]], None, [[0.8]], [[1.2]], None, None)
    assert score == engine and score[0][0] == pytest.approx(125, abs=1e-9)
    # a range in, a spilled range out: 113 and 79 against 100
    spilled = page.evaluate("window.__functions.KPI_SCORE([[113], [79]], [[100]], null, [[0.8]], [[1.2]], null, null)")
    assert spilled[0][0] == pytest.approx(132.5, abs=1e-9) and spilled[1][0] == 0
    # a bad argument: one Excel error value with the reason
    bad = page.evaluate(CELL_ERROR, ["KPI_SCORE", [[[1.1]], [[1.0]], None, None, None, None, None], [0, 0]])
    assert bad["error"] and bad["code"] == "#VALUE!"
    assert bad["message"] == "'linear' scoring needs a threshold and a stretch (e.g. 0.8 and 1.2), or a curve range"
    # in a range, only the bad cell is an error
    mixed = page.evaluate(CELL_ERROR, ["KPI_ATTAINMENT", [[[50, "abc"]], [[100]], None], [0, 1]])
    assert mixed["out"] == [[0.5, "#VALUE!"]] and mixed["error"] and "abc" in mixed["message"]
    # ranges of different sizes: the whole call is one error value
    shapes = page.evaluate(CELL_ERROR, ["KPI_TOTAL", [[[1], [2]], [[1, 2, 3]]], [0, 0]])
    assert shapes["out"] == [["#VALUE!"]] and "same size" in shapes["message"]
    assert errors == []


def test_ribbon_buttons_and_new_template(browser, served):
    payload = payload_from_sheets("smoke.xlsx", SMOKE_SHEETS)
    page, errors = open_pane(browser, served, workbook_state(payload["sheets"], "smoke.xlsx"))
    assert sorted(page.evaluate("Object.keys(window.__ribbon)")) == sorted(ACTIONS)
    page.evaluate("new Promise(done => window.__ribbon.score({completed: () => done()}))")
    book = page.evaluate("window.__book")
    header, *rows = sheet_rows(book, "Payouts")
    payout = {str(r[header.index("employee_id")]): r[header.index("payout")] for r in rows}
    assert payout == {"1001": 7894.74, "1002": 2105.26, "1003": 0}  # tests/conftest.py, by hand
    press(page, "new_template")
    created = page.evaluate("window.__created")
    assert len(created) == 1
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(created[0]))) as package:
        assert "xl/workbook.xml" in package.namelist()
    assert errors == []


def test_chinese_excel_gets_a_chinese_pane(browser, served):
    payload = payload_from_sheets("smoke.xlsx", SMOKE_SHEETS, language="zh")
    page, errors = open_pane(browser, served, workbook_state(payload["sheets"]), language="zh-CN")
    labels = [page.inner_text(f"#action-{name} .label") for name in ACTIONS]
    assert labels == [ACTIONS[name].label["zh"] for name in ACTIONS] == ["检查", "计分", "情景分析", "新建模板"]
    assert page.inner_text("#server-state").startswith("已连接 kpi_xl")
    assert page.evaluate("window.kpiXl.readBook()")["language"] == "zh"
    assert press(page, "score") == "已为 3 人计分：奖金合计 10,000.00。"
    screenshot(page, "taskpane-zh.png")
    assert errors == []


def test_the_pane_asks_for_the_access_key_and_then_works(browser):
    port = free_port()
    config = ServerConfig(access_key=ACCESS_KEY, base_url=f"http://127.0.0.1:{port}")
    payload = payload_from_sheets("smoke.xlsx", SMOKE_SHEETS)
    with running_server(config, port=port) as url:
        page, errors = open_pane(browser, url, workbook_state(payload["sheets"]))
        assert not page.is_visible("#access-key")
        status = press(page, "score")
        assert status == "This server needs its access key: enter it in the kpi_xl task pane."
        assert page.is_visible("#access-key")
        assert [s["name"] for s in page.evaluate("window.__book")["sheets"]] == list(SMOKE_SHEETS)  # nothing written
        refused = page.evaluate(WHOLE_ERROR, ["KPI_ATTAINMENT", [[[50]], [[100]], None]])
        assert refused == {"error": True, "code": "#N/A", "message": status}
        screenshot(page, "taskpane-access-key.png")
        page.fill("#key-input", ACCESS_KEY)
        page.click("#key-save")
        assert not page.is_visible("#access-key")
        assert page.evaluate("OfficeRuntime.storage.getItem('kpi_xl.accessKey')") == ACCESS_KEY
        assert page.evaluate("window.localStorage.getItem('kpi_xl.accessKey')") is None
        assert press(page, "score") == "Scored 3 people: payouts total 10,000.00."
        assert page.evaluate("window.__functions.KPI_ATTAINMENT([[50]], [[100]], null)") == [[0.5]]
        assert errors == []


def test_a_stopped_server_is_one_readable_sentence(browser):
    port = free_port()
    payload = payload_from_sheets("smoke.xlsx", SMOKE_SHEETS)
    with running_server(ServerConfig(dev=True, base_url=f"http://127.0.0.1:{port}"), port=port) as url:
        page, errors = open_pane(browser, url, workbook_state(payload["sheets"]))
    status = press(page, "score")  # the server is gone now
    assert status == "The kpi_xl server cannot be reached. Is kpi-xl serve running?"
    gone = page.evaluate(WHOLE_ERROR, ["KPI_ATTAINMENT", [[[50]], [[100]], None]])
    assert gone == {"error": True, "code": "#N/A", "message": status}
    assert errors == []


def test_busy_while_working_and_a_broken_answer_is_one_sentence(browser, served):
    payload = payload_from_sheets("smoke.xlsx", SMOKE_SHEETS)
    page, errors = open_pane(browser, served, workbook_state(payload["sheets"]))
    held = []
    page.route("**/api/actions/score", lambda route: held.append(route))  # the request waits until the test answers it
    page.click("#action-score")
    for _ in range(500):
        if held:
            break
        page.wait_for_timeout(10)
    assert held, "the pane did not send the workbook"
    assert page.get_attribute("#status", "class") == "status busy"
    assert page.inner_text("#status-text") == "Score: working…"
    assert all(page.is_disabled(f"#action-{name}") for name in ACTIONS)
    # a proxy in between answers with an HTML error page
    held[0].fulfill(status=502, content_type="text/html", body="<html><body>502 Bad Gateway</body></html>")
    page.wait_for_selector("#status.failed")
    assert page.inner_text("#status-text") == (
        "The kpi_xl server gave an answer this pane does not understand (HTTP 502).")
    assert not any(page.is_disabled(f"#action-{name}") for name in ACTIONS)
    page.unroute("**/api/actions/score")
    # the server's own error answer: its sentence, nothing else
    internal = {"error": "internal", "message": "Something went wrong inside kpi_xl; nothing was changed in your "
                "workbook. The server's log has the details."}
    page.route("**/api/actions/score", lambda route: route.fulfill(
        status=500, content_type="application/json", body=json.dumps(internal)))
    assert press(page, "score") == internal["message"]
    assert [s["name"] for s in page.evaluate("window.__book")["sheets"]] == list(SMOKE_SHEETS)  # nothing written
    assert errors == []


def test_the_pane_sends_each_sheet_from_a1(browser, served):
    """The used range may start anywhere: the payload's values start at A1, padded with ""."""
    offset = [["", "", "", ""], ["", "", "", ""], ["", "", "kpi_id", ""], ["", "", "", 5]]
    book = {"name": "Odd.xlsx", "active": 1, "sheets": [
        {"name": "Offset", "cells": offset, "formats": {}, "bold": {}, "frozen": None},
        {"name": "Empty", "cells": [], "formats": {}, "bold": {}, "frozen": None},
        {"name": "Wide", "cells": [["a", True, 1.5, ""]], "formats": {}, "bold": {}, "frozen": None},
    ]}
    page, errors = open_pane(browser, served, book)
    sent = page.evaluate("window.kpiXl.readBook()")
    assert sent == {
        "client": "Office.js",
        "version": version("kpi_xl"),
        "language": "en",
        "book": {"name": "Odd.xlsx", "active_sheet_index": 1, "selection": "A1"},
        "names": [],
        "sheets": [
            {"name": "Offset", "values": offset},
            {"name": "Empty", "values": [[""]]},
            {"name": "Wide", "values": [["a", True, 1.5]]},
        ],
    }
    # the same as tests/payloads.py makes from a file with those cells
    assert [s["values"] for s in sent["sheets"]] == [
        s["values"] for s in payload_from_sheets("Odd.xlsx", {s["name"]: s["cells"] for s in book["sheets"]})["sheets"]]
    assert errors == []


def test_old_output_sheets_anywhere_are_replaced_and_positions_follow(browser, served):
    """Results left between the user's sheets: deleted first, so every later position shifts."""
    payload = payload_from_sheets("smoke.xlsx", SMOKE_SHEETS)
    state = workbook_state(payload["sheets"], "smoke.xlsx")
    stale = lambda name: {"name": name, "cells": [["stale"]], "formats": {}, "bold": {}, "frozen": None}
    state["sheets"].insert(0, stale("Payouts"))
    state["sheets"].insert(3, stale("Results"))
    page, errors = open_pane(browser, served, state)
    assert press(page, "score") == "Scored 3 people: payouts total 10,000.00."
    book = page.evaluate("window.__book")
    added = [a["args"][1] for a in run_payload("score", payload)["actions"] if a["func"] == "addSheet"]
    assert [s["name"] for s in book["sheets"]] == list(SMOKE_SHEETS) + added
    want = expected_sheets(payload)
    for name in added:
        assert sheet_rows(book, name) == want[name], name
    for name, rows in SMOKE_SHEETS.items():
        assert sheet_rows(book, name) == payload_from_sheets("x", {name: rows})["sheets"][0]["values"]
    assert book["sheets"][book["active"]]["name"] == "Results"
    assert errors == []


def test_whatif_button_in_the_pane(browser, served):
    payload = payload_from_xlsx(EXAMPLE)
    page, errors = open_pane(browser, served, workbook_state(payload["sheets"], "example_company.xlsx"))
    status = press(page, "whatif")
    assert status == "What-if: 5 scenario(s) against payouts of 471,814.17 today; see the Scenario results sheet."
    book = page.evaluate("window.__book")
    assert book["sheets"][book["active"]]["name"] == "Scenario results"
    rows = sheet_rows(book, "Scenario results")
    spec, frame = kpi_xl.whatif_workbook(EXAMPLE).sheet()
    assert rows[1:] == [list(r) for r in frame.itertuples(index=False, name=None)]
    assert errors == []
