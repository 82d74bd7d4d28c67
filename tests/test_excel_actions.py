"""The buttons on a book built from the Office.js client's JSON payload: the values
written back equal what `kpi-xl score` writes to a file, to the cent."""

from __future__ import annotations

import base64
import copy
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kpi_xl.excel.actions import ACTIONS, XlwingsBook, run, run_payload
from kpi_xl.excel.payload import PayloadBook
from tests.conftest import SMOKE_SHEETS
from tests.payloads import payload_from_sheets, payload_from_xlsx

EXAMPLE = Path(__file__).resolve().parent.parent / "templates" / "example_company.xlsx"
OUTPUTS = ("Results", "Payouts", "Departments", "Bonus cost", "Budget variance", "Rule trace")  # the example has rules and budget lines


class Client:
    """What the Office.js client does with the actions, on the payload's sheets."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.sheets: list[tuple[str, dict[tuple[int, int], Any]]] = [
            (s["name"], {(r, c): v for r, row in enumerate(s["values"]) for c, v in enumerate(row) if v != ""})
            for s in payload["sheets"]
        ]
        self.active = payload["book"]["active_sheet_index"]
        self.formats: dict[str, dict[tuple[int, int], str]] = {}
        self.bold: dict[str, set[tuple[int, int]]] = {}
        self.opened: list[tuple[bytes, str]] = []

    def apply(self, actions: list[dict[str, Any]]) -> None:
        for a in actions:
            func, args = a["func"], a["args"]
            if func == "deleteSheet":
                self.sheets = [s for s in self.sheets if s[0] != args[0]]
            elif func == "addSheet":
                self.sheets.insert(args[0], (args[1], {}))
            elif func == "activateSheet":
                self.active = args[0]
            elif func == "createWorkbook":
                self.opened.append((base64.b64decode(args[0]), args[1]))
            else:
                name, cells = self.sheets[a["sheet_position"]]
                r0, c0 = a["start_row"], a["start_column"]
                block = [(r0 + r, c0 + c) for r in range(a["row_count"]) for c in range(a["column_count"])]
                if func == "setValues":
                    for r, row in enumerate(a["values"]):
                        for c, v in enumerate(row):
                            if isinstance(v, str) and v.startswith("'"):
                                v = v[1:]  # Excel keeps a leading apostrophe as "text", not as a character
                            if v != "":
                                cells[(r0 + r, c0 + c)] = v
                elif func == "setNumberFormat":
                    self.formats.setdefault(name, {}).update({cell: args[0] for cell in block})
                elif func == "setFontProperty":
                    assert args == ["bold", True]
                    self.bold.setdefault(name, set()).update(block)
                else:
                    assert func in ("freezePaneAtRange", "setAutofit"), func

    def names(self) -> list[str]:
        return [n for n, _ in self.sheets]

    def rows(self, name: str) -> list[list[Any]]:
        cells = dict(self.sheets)[name]
        height = max(r for r, _ in cells) + 1
        width = max(c for _, c in cells) + 1
        return [[cells.get((r, c)) for c in range(width)] for r in range(height)]


def as_stored(value: Any) -> Any:
    """A cell as the .xlsx file stores it: openpyxl writes numbers with 16 significant
    digits (Excel shows 15), so a score of 106.77083333333334 is stored as 106.7708333333333."""
    if value is None:
        return ""
    if isinstance(value, float):
        return float("%.16g" % value)
    return value


def file_rows(path: Path, sheet: str) -> list[list[Any]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [list(row) for row in book[sheet].iter_rows(values_only=True)]
    finally:
        book.close()


def test_score_button_writes_what_kpi_xl_score_writes(tmp_path):
    out = tmp_path / "example.scored.xlsx"
    done = subprocess.run(
        [sys.executable, "-m", "kpi_xl", "score", str(EXAMPLE), "-o", str(out), "-q"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    payload = payload_from_xlsx(EXAMPLE)
    answer = run_payload("score", payload)
    assert answer["ok"] is True and answer["problems"] == []
    # 487,380.42 before the example had rules; its rules R1 (1039: 6,510.00 -> 0) and R4
    # (1034: tier Meets 1.0 -> Partially meets 0.5, 18,112.50 -> 9,056.25) take 15,566.25 off;
    # Sales stays at its capped pool of 140,000.00 (R2 and R3 only move money within it).
    assert answer["status"] == "Scored 40 people: payouts total 471,814.17."
    client = Client(payload)
    client.apply(answer["actions"])
    inputs = [s["name"] for s in payload["sheets"]]
    assert client.names() == inputs + list(OUTPUTS)  # input sheets kept, in order; outputs after them
    assert client.names()[client.active] == "Results"
    for sheet in OUTPUTS:
        want = [[as_stored(v) for v in row] for row in file_rows(out, sheet)]
        got = [[as_stored(v) for v in row] for row in client.rows(sheet)]
        assert got == want, sheet  # every number identical, every note identical
    payouts = client.rows("Payouts")
    column = payouts[0].index("payout")
    assert round(sum(r[column] for r in payouts[1:]), 2) == 471814.17
    assert client.formats["Payouts"][(1, column)] == "#,##0.00"
    assert (0, 0) in client.bold["Payouts"] and (1, 0) not in client.bold["Payouts"]


def test_score_button_on_the_smoke_book_gives_the_hand_worked_payouts():
    client = Client(payload := payload_from_sheets("smoke.xlsx", SMOKE_SHEETS))
    client.apply(run_payload("score", payload)["actions"])
    rows = client.rows("Payouts")
    at = {name: rows[0].index(name) for name in rows[0]}
    payout = {r[at["employee_id"]]: r[at["payout"]] for r in rows[1:]}
    assert payout == {"1001": 7894.74, "1002": 2105.26, "1003": 0}  # see tests/conftest.py


def test_errors_go_to_the_problems_sheet_and_nothing_is_scored():
    sheets = {k: [list(r) for r in v] for k, v in SMOKE_SHEETS.items()}
    sheets["Scorecards"][1][4] = "abc"
    sheets["Scorecards"][2][1] = "COSTT"
    sheets["Results"] = [["old results"]]  # left from an earlier run: replaced
    payload = payload_from_sheets("bad.xlsx", sheets)
    answer = run_payload("score", payload)
    assert answer["ok"] is False
    assert answer["status"].startswith("2 error(s)")
    wheres = [p["where"] for p in answer["problems"]]
    assert wheres == ["Scorecards!E2", "Scorecards!B3"]
    assert "did you mean 'COST'" in answer["problems"][1]["message"]
    client = Client(payload)
    client.apply(answer["actions"])
    assert "Results" not in client.names() and "Payouts" not in client.names()
    assert client.names()[client.active] == "Problems"
    problems = client.rows("Problems")
    assert problems[0] == ["severity", "sheet", "cell", "message"]
    assert [r[2] for r in problems[1:]] == ["Scorecards!E2", "Scorecards!B3"]
    # input sheets were never written to
    written = {a["sheet_position"] for a in answer["actions"] if a["func"].startswith("set")}
    assert written == {client.names().index("Problems")}


def test_check_button_on_a_clean_book_adds_nothing():
    payload = payload_from_sheets("smoke.xlsx", SMOKE_SHEETS)
    answer = run_payload("check", payload)
    assert answer == {"ok": True, "status": "No problems found: the workbook is ready to score.", "problems": [], "actions": []}


def test_chinese_workbook_and_messages():
    payload = payload_from_sheets("smoke.xlsx", SMOKE_SHEETS, language="zh")
    answer = run_payload("score", payload)
    assert answer["status"] == "已为 3 人计分：奖金合计 10,000.00。"


def test_text_that_looks_like_a_formula_stays_text():
    sheets = {k: [list(r) for r in v] for k, v in SMOKE_SHEETS.items()}
    sheets["Employees"][1][1] = '=HYPERLINK("http://evil","Ann")'
    answer = run_payload("score", payload_from_sheets("smoke.xlsx", sheets))
    written = [v for a in answer["actions"] if a["func"] == "setValues" for row in a["values"] for v in row]
    assert "'=HYPERLINK(\"http://evil\",\"Ann\")" in written
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@")) for v in written)


def test_new_template_opens_a_workbook_in_the_users_language():
    client = Client(payload := payload_from_sheets("smoke.xlsx", SMOKE_SHEETS, language="zh"))
    answer = run_payload("new_template", payload)
    client.apply(answer["actions"])
    (data, name), = client.opened
    assert name == "kpi_template_zh.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert "指标库" in book.sheetnames


@pytest.mark.parametrize(
    "payload, message",
    [
        ([], "the request body must be a JSON object"),
        ({"book": {}, "sheets": []}, '"book" must be an object with the workbook\'s "name"'),
        ({"book": {"name": "a.xlsx"}, "sheets": []}, '"sheets" must be a list'),
        ({"book": {"name": "a.xlsx"}, "sheets": [{"values": []}]}, 'sheet 1 in "sheets" has no "name"'),
        ({"book": {"name": "a.xlsx"}, "sheets": [{"name": "KPIs", "values": "x"}]}, "\"values\" must be a list of rows"),
        ({"book": {"name": "a.xlsx"}, "sheets": [{"name": "KPIs", "values": [[{"a": 1}]]}]}, "a cell holds dict"),
        ({"book": {"name": "a.xlsx"}, "sheets": [{"name": "K", "values": [[1]]}, {"name": "K", "values": [[1]]}]}, "same name"),
    ],
)
def test_malformed_payloads_are_refused_with_a_sentence(payload, message):
    with pytest.raises(ValueError, match=None) as caught:
        PayloadBook.from_payload(payload)
    assert message in str(caught.value)


def test_every_action_has_english_and_chinese_labels():
    for spec in ACTIONS.values():
        assert set(spec.label) == set(spec.description) == {"en", "zh"}
    with pytest.raises(KeyError):
        run_payload("explode", payload_from_sheets("smoke.xlsx", SMOKE_SHEETS))


def test_the_same_button_on_xlwings_own_book_from_the_payload(monkeypatch):
    """xlwings builds a book from the same payload; the button gives the same sheets through it."""
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings' remote book is PolyForm Noncommercial
    import xlwings as xw

    payload = payload_from_xlsx(EXAMPLE)
    ours = Client(payload)
    ours.apply(run_payload("score", payload)["actions"])

    book = xw.Book(json=copy.deepcopy(payload))  # xlwings' book adds its new sheets to the payload it was given
    report = run("score", XlwingsBook(book))
    assert report.ok and report.status == "Scored 40 people: payouts total 471,814.17."
    theirs = Client(payload)
    actions = book.json()["actions"]
    for action in actions:  # xlwings fits columns with its own action name
        if action["func"] == "setSheetAutofit":
            action["func"], action["start_row"], action["start_column"] = "setAutofit", 0, 0
            action["row_count"] = action["column_count"] = 1
    theirs.apply(actions)
    for sheet in OUTPUTS:
        assert theirs.rows(sheet) == ours.rows(sheet), sheet


def test_whatif_button_writes_what_kpi_xl_whatif_computes():
    """The What-if button on the example company's payload: the Scenario results sheet equals the API's."""
    import kpi_xl

    answer = run_payload("whatif", payload_from_xlsx(EXAMPLE))
    assert answer["ok"] is True
    assert answer["status"] == (
        "What-if: 5 scenario(s) against payouts of 471,814.17 today; see the Scenario results sheet.")
    result = kpi_xl.whatif_workbook(EXAMPLE)
    spec, frame = result.sheet()
    [values] = [a["values"] for a in answer["actions"] if a["func"] == "setValues"]
    assert values[0] == [c.label("en") for c in spec.columns]
    assert values[1:] == [list(r) for r in frame.itertuples(index=False, name=None)]
    assert values[-1][2] == 471814.17  # the company total today, as kpi-xl score says
    added = [a["args"][1] for a in answer["actions"] if a["func"] == "addSheet"]
    assert added == ["Scenario results"]  # no other sheet is touched


def test_whatif_button_without_scenarios_lists_the_problem():
    answer = run_payload("whatif", payload_from_sheets("smoke.xlsx", SMOKE_SHEETS))
    assert answer["ok"] is False
    assert [a["args"][1] for a in answer["actions"] if a["func"] == "addSheet"] == ["Problems"]
    assert answer["problems"] and answer["status"].endswith("No scenario was scored.")
