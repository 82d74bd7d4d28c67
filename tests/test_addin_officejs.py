"""The Office.js add-in: its manifest, and its task pane in headless Chromium.

The task pane runs against tests/js/office_double.js, a stand-in for Excel's
Office.js host that keeps the workbook in window.__book; the pane talks to
the real server over loopback. What this cannot show is Excel itself loading
the add-in (docs/excel.md says so).
"""

from __future__ import annotations

import base64
import io
import json
import os
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


# ------------------------------------------------------------------ the manifest


@pytest.fixture(scope="module")
def served():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running_server(ServerConfig(dev=True, base_url=base), port=port) as url:
        yield url


def manifest(url: str) -> etree._Element:
    answer = httpx.get(f"{url}/manifest.xml")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/xml")
    assert "{{" not in answer.text  # every placeholder filled in
    return etree.fromstring(answer.content)


def test_manifest_is_a_shared_runtime_task_pane_add_in_in_schema_order(served):
    root = manifest(served)
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
    assert root.find("o:Requirements/o:Sets/o:Set", NS).attrib == {"Name": "SharedRuntime", "MinVersion": "1.1"}
    assert root.findtext("o:Permissions", namespaces=NS) == "ReadWriteDocument"
    host = root.find("v:VersionOverrides/v:Hosts/v:Host", NS)
    assert host.get(XSI_TYPE) == "Workbook"
    runtime = host.find("v:Runtimes/v:Runtime", NS)
    assert runtime.get("lifetime") == "long" and runtime.get("resid") == "Taskpane.Url"
    functions = host.find("v:AllFormFactors/v:ExtensionPoint", NS)
    assert functions.get(XSI_TYPE) == "CustomFunctions"
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


def test_every_resource_is_defined_translated_and_served(served):
    root = manifest(served)
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
    for url in urls:
        assert url.startswith(served + "/"), url
        answer = httpx.get(url)
        assert answer.status_code == 200, url
    for element in root.iterfind(".//v:Resources/bt:Images/bt:Image", NS):
        size = int(re.search(r"icon-(\d+)\.png$", element.get("DefaultValue")).group(1))
        image = Image.open(io.BytesIO(httpx.get(element.get("DefaultValue")).content))
        assert image.size == (size, size) and image.format == "PNG"
    for element in root.iterfind(".//v:Icon/bt:Image", NS):  # a button's icon of size N uses the N px image
        assert defined[element.get("resid")].get("DefaultValue").endswith(f"icon-{element.get('size')}.png")
    assert httpx.get(f"{served}/taskpane.js").headers["content-type"].startswith("text/javascript")
    assert httpx.get(f"{served}/functions.json").json()["functions"][0]["id"] == "KPI_ATTAINMENT"


def test_the_kpi_tab_holds_every_button_in_english_and_chinese(served):
    root = manifest(served)
    defined = resources(root)
    tab = root.find(".//v:ExtensionPoint[@xsi:type='PrimaryCommandSurface']/v:CustomTab", NS)
    assert etree.QName(tab[-1]).localname == "Label"  # the schema puts the tab's label after its groups
    label = defined[tab[-1].get("resid")]
    assert (label.get("DefaultValue"), label.find("bt:Override", NS).get("Value")) == ("KPI", "KPI 考核")
    namespace = defined[root.find(".//v:Namespace", NS).get("resid")]
    assert namespace.get("DefaultValue") == "KPI"  # functions read =KPI.SCORE(...)
    buttons = {}
    for control in tab.iterfind("v:Group/v:Control", NS):
        action = control.find("v:Action", NS)
        if action.get(XSI_TYPE) == "ExecuteFunction":
            string = defined[control.find("v:Label", NS).get("resid")]
            buttons[action.findtext("v:FunctionName", namespaces=NS)] = (
                string.get("DefaultValue"), string.find("bt:Override", NS).get("Value"))
        else:
            assert action.get(XSI_TYPE) == "ShowTaskpane"
    assert buttons == {name: (spec.label["en"], spec.label["zh"]) for name, spec in ACTIONS.items()}
    script = (OFFICEJS / "taskpane.js").read_text(encoding="utf-8")
    listed = json.loads(re.search(r"ACTION_NAMES = (\[.*?\]);", script).group(1))
    assert listed == list(ACTIONS)  # every ribbon function is associated by the pane


def test_the_pane_associates_exactly_the_servers_functions():
    script = (OFFICEJS / "taskpane.js").read_text(encoding="utf-8")
    listed = json.loads(re.search(r"FUNCTION_IDS = (\[.*?\]);", script).group(1))
    assert listed == list(FUNCTIONS)


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
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "taskpane.png"))
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
    header, *rows = sheet_rows(book, "Results")
    assert [r[header.index("score")] for r in rows] == pytest.approx(list(outcome.results["score"]), abs=1e-9)
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
    page.screenshot(path=str(SCREENSHOTS / "taskpane-problems.png"))
    assert errors == []


def test_custom_functions_answer_through_the_server(browser, served):
    page, errors = open_pane(browser, served, workbook_state(payload_from_sheets("x.xlsx", SMOKE_SHEETS)["sheets"]))
    assert sorted(page.evaluate("Object.keys(window.__functions)")) == sorted(FUNCTIONS)
    # 113 against 100 on linear 0.8 / 1.2: 100 + (1.13 - 1) / 0.2 * 50 = 132.5
    score = page.evaluate("window.__functions.KPI_SCORE([[113]], [[100]], null, [[0.8]], [[1.2]], null, null)")
    assert score[0][0] == pytest.approx(132.5, abs=1e-9)
    cell_error = page.evaluate("""async () => {
        const out = await window.__functions.KPI_ATTAINMENT([[50, "abc"]], [[100]], null);
        const e = out[0][1];
        return [out[0][0], e instanceof CustomFunctions.Error, e.code, e.message];
    }""")
    assert cell_error[:3] == [0.5, True, "#VALUE!"] and "abc" in cell_error[3]
    whole = page.evaluate("""async () => {
        try { await window.__functions.KPI_TOTAL([[1]], [[1]], [[1]], [[1]]); return null; }
        catch (e) { return [e instanceof CustomFunctions.Error, e.code, e.message]; }
    }""")
    assert whole[:2] == [True, "#VALUE!"] and "at most 2 arguments" in whole[2]
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
    assert press(page, "score") == "已为 3 人计分：奖金合计 10,000.00。"
    page.screenshot(path=str(SCREENSHOTS / "taskpane-zh.png"))
    assert errors == []


def test_the_pane_asks_for_the_access_key_and_then_works(browser):
    port = free_port()
    config = ServerConfig(access_key=ACCESS_KEY, base_url=f"http://127.0.0.1:{port}")
    payload = payload_from_sheets("smoke.xlsx", SMOKE_SHEETS)
    with running_server(config, port=port) as url:
        page, errors = open_pane(browser, url, workbook_state(payload["sheets"]))
        assert not page.is_visible("#access-key")
        status = press(page, "score")
        assert "access key" in status and page.is_visible("#access-key")
        assert [s["name"] for s in page.evaluate("window.__book")["sheets"]] == list(SMOKE_SHEETS)  # nothing written
        page.fill("#key-input", ACCESS_KEY)
        page.click("#key-save")
        assert not page.is_visible("#access-key")
        assert press(page, "score") == "Scored 3 people: payouts total 10,000.00."
        assert errors == []


def test_a_stopped_server_is_one_readable_sentence(browser):
    port = free_port()
    payload = payload_from_sheets("smoke.xlsx", SMOKE_SHEETS)
    with running_server(ServerConfig(dev=True, base_url=f"http://127.0.0.1:{port}"), port=port) as url:
        page, errors = open_pane(browser, url, workbook_state(payload["sheets"]))
    status = press(page, "score")  # the server is gone now
    assert status == "The kpi_xl server cannot be reached. Is kpi-xl serve running?"
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
